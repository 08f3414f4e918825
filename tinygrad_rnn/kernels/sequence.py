"""Kernels of the whole-sequence ops (:mod:`tinygrad_rnn.ops.sequence`).

* ``rnn_step_bwd``, ``lstm_step_bwd``: the per-step element-wise backward work, fused. Only
  arithmetic lives here (products with saved gates, 1 - x^2): Numba has no vector math library
  on this build, so tanh/exp in a jitted loop run scalar and stay on NumPy. One loop replaces ~4
  (RNN) or ~20 (LSTM) NumPy calls and as many passes over memory per step; the recurrent GEMMs
  stay on BLAS. ``dh`` may be any strided (B, H) view (the recurrent product arrives transposed).
* ``rnn_loop_fwd``, ``rnn_loop_bwd``: the whole vanilla-RNN recurrence as one compiled loop, for
  small batches (B = 1 or B * H <= :data:`SMALL`), where NumPy's per-call overhead costs as much
  as a step's arithmetic. The matrix-vector products vectorise (summed as columns of W^T in the
  forward, rows of W in the backward: no horizontal sums); only tanh stays scalar. Same equations
  as the op's NumPy path (``h_t = f(xp_t + W_hh h_(t-1))``, ``da_t = (g_t + dh_t) f'(a_t)``,
  ``dh_(t-1) = W_hh^T da_t``); the sums run in another order, so results agree to rounding
  (~1e-16 relative in float64), not bit for bit.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels._jit import kernel

#: B = 1, or B * H up to this, runs the loop kernels; above it BLAS wins (benchmarks/README.md,
#: "kernels/sequence.py").
SMALL = 256


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


@kernel
def rnn_loop_fwd(xp, w_hh_t, h0, reverse, relu, hs, acc):
    """hs[t] (T, B, H) = f(xp[t] + h_(t-1) W_hh^T), h_(-1) = h0 (B, H); t = T-1 .. 0 if reverse.

    Takes W_hh^T (H, H) contiguous: the product is summed as columns (acc += W^T[j] h_j), which
    vectorises without a horizontal sum per row (~1.3x faster than row dot products at H=100).
    acc: (H,) scratch.
    """
    T, B, H = xp.shape
    for b in range(B):
        prev = h0[b]
        for k in range(T):
            t = T - 1 - k if reverse else k
            for i in range(H):
                acc[i] = xp[t, b, i]
            for j in range(H):
                hj = prev[j]
                for i in range(H):
                    acc[i] += w_hh_t[j, i] * hj
            cur = hs[t, b]
            for i in range(H):
                s = acc[i]
                if relu:
                    cur[i] = s if s > 0 else 0.0 * s
                else:
                    cur[i] = np.tanh(s)
            prev = cur


@kernel
def rnn_loop_bwd(g, hs, w_hh, reverse, relu, da, dh):
    """Backward of :func:`rnn_loop_fwd`. g (T, B, H): output gradients; dh (B, H): in, the
    gradient at the last state; out, dL/dh0. da (T, B, H) <- dL/da_t, a_t the pre-activation."""
    T, B, H = hs.shape
    for b in range(B):
        d = dh[b]
        for k in range(T):
            t = k if reverse else T - 1 - k  # the reverse of the forward order
            a = da[t, b]
            for i in range(H):
                y = hs[t, b, i]
                v = g[t, b, i] + d[i]
                if relu:
                    a[i] = v if y > 0 else 0.0 * v
                else:
                    a[i] = v * (1.0 - y * y)
            for j in range(H):
                d[j] = 0.0
            for i in range(H):
                ai = a[i]
                for j in range(H):
                    d[j] += ai * w_hh[i, j]
