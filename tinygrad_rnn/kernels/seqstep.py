"""Per-step element-wise backward work of the whole-sequence RNN/LSTM ops, fused.

Only arithmetic lives here (products with saved gates, 1 - x^2): Numba has no vector math
library on this build, so tanh/exp in a jitted loop run scalar and stay on NumPy. Fusing the
arithmetic replaces ~4 (RNN) or ~20 (LSTM) NumPy calls and as many passes over memory per step
by one loop; the recurrent GEMMs stay on BLAS. ``dh`` may be any strided (B, H) view (the
recurrent product arrives as a transposed view).
"""

from __future__ import annotations

from tinygrad_rnn.kernels._jit import kernel


@kernel
def rnn_step_bwd(g, dh, h, relu, da):
    """da (B, H) = (g + dh) * f'(a), f' = 1 - h^2 (tanh) or [h > 0] (relu); h = f(a) the new
    state, g the output gradient, dh the gradient from the next step."""
    B, H = da.shape
    for b in range(B):
        for j in range(H):
            d = g[b, j] + dh[b, j]
            hj = h[b, j]
            if relu:
                da[b, j] = d if hj > 0 else 0.0 * d
            else:
                da[b, j] = d * (1.0 - hj * hj)


@kernel
def lstm_step_bwd(gh, gc, dh, dc, act, c_prev, tc, dz, dc_out):
    """One LSTM step back. act (B, 4H) = activated [i, f, g, o]; tc = tanh(c_t); gh, gc: the
    output gradients at h_t, c_t; dh, dc: from the next step. With dh' = gh + dh,
    dc' = gc + dc + dh' o (1 - tc^2):

    dz (B, 4H) = [dc' g i(1-i), dc' c_prev f(1-f), dc' i (1-g^2), dh' tc o(1-o)],
    dc_out (B, H) = dc' f  (dL/dc_(t-1) through the cell). dc_out may alias dc or gc."""
    B, H = tc.shape
    for b in range(B):
        for j in range(H):
            i = act[b, j]
            f = act[b, H + j]
            gg = act[b, 2 * H + j]
            o = act[b, 3 * H + j]
            t = tc[b, j]
            dhv = gh[b, j] + dh[b, j]
            dcv = gc[b, j] + dc[b, j] + dhv * o * (1.0 - t * t)
            dz[b, j] = dcv * gg * (i * (1.0 - i))
            dz[b, H + j] = dcv * c_prev[b, j] * (f * (1.0 - f))
            dz[b, 2 * H + j] = dcv * i * (1.0 - gg * gg)
            dz[b, 3 * H + j] = dhv * t * (o * (1.0 - o))
            dc_out[b, j] = dcv * f
