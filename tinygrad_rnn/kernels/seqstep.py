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
def lstm_step_bwd(g_t, dh, dc, act, c_prev, tc, dz, dc_out):
    """One LSTM step back. g_t (B, 2H) = [gh | gc], the output gradients at h_t and c_t;
    act (B, 4H) = activated [i, f, g, o]; tc = tanh(c_t); dh, dc: from the next step. With
    dh' = gh + dh, dc' = gc + dc + dh' o (1 - tc^2):

    dz (B, 4H) = [dc' g i(1-i), dc' c_prev f(1-f), dc' i (1-g^2), dh' tc o(1-o)],
    dc_out (B, H) = dc' f  (dL/dc_(t-1) through the cell). dc_out may alias dc.

    Every argument should be C-contiguous: the loop below vectorises only then (one 1-D view
    per gate and row; with strided views or act[b, k * H + j] indexing it ran 2.8x slower at
    B=32, H=256 float32). Other layouts still give the right numbers."""
    B, H = tc.shape
    for b in range(B):
        a_i, a_f, a_g, a_o = act[b, :H], act[b, H:2 * H], act[b, 2 * H:3 * H], act[b, 3 * H:]
        z_i, z_f, z_g, z_o = dz[b, :H], dz[b, H:2 * H], dz[b, 2 * H:3 * H], dz[b, 3 * H:]
        ghb, gcb, dhb, dcb = g_t[b, :H], g_t[b, H:], dh[b], dc[b]
        cpb, tcb, dco = c_prev[b], tc[b], dc_out[b]
        for j in range(H):
            i = a_i[j]
            f = a_f[j]
            gg = a_g[j]
            o = a_o[j]
            t = tcb[j]
            dhv = ghb[j] + dhb[j]
            dcv = gcb[j] + dcb[j] + dhv * o * (1.0 - t * t)
            z_i[j] = dcv * gg * (i * (1.0 - i))
            z_f[j] = dcv * cpb[j] * (f * (1.0 - f))
            z_g[j] = dcv * i * (1.0 - gg * gg)
            z_o[j] = dhv * t * (o * (1.0 - o))
            dco[j] = dcv * f
