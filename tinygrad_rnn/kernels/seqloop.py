"""Whole-loop kernels of the vanilla RNN layer for small batches (B * H small).

At B = 1 a time step is a (1, H) x (H, H) product plus H tanh: a few microseconds of work, and
NumPy spends as long again on each call it makes (the product, the add, the tanh, the views).
Here the whole recurrence is one compiled loop: the matrix-vector products vectorise (summed as
columns of W^T in the forward, rows of W in the backward: no horizontal sums), and only the tanh
stays scalar (no vector math library on this build; a polynomial tanh that vectorises measured
slower than libm's at H = 100). Measured at T = 25, H = 100, float64, one thread: forward
46 us vs 78 us for the NumPy loop, backward 36 us vs 105 us. For wide batches BLAS wins, so
the op uses these only below :data:`SMALL` (see :func:`tinygrad_rnn.ops.seqcells.use_loop_kernels`).

Same equations as the op's NumPy path (``h_t = f(xp_t + W_hh h_(t-1))``,
``da_t = (g_t + dh_t) f'(a_t)``, ``dh_(t-1) = W_hh^T da_t``); the sums run in another order, so
results agree to rounding (~1e-16 relative in float64), not bit for bit.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels._jit import kernel

#: B = 1, or B * H up to this, runs the loop kernels. Measured (T = 25, forward + backward,
#: loop / NumPy): B = 1: 0.6 (H = 64, 100) to 0.8-0.95 (H = 256, 512); B = 2, H = 100: 0.83;
#: B = 4, H = 64: 0.88; but B = 4, H = 128: 2.0 and B = 16, H = 32: 1.8 (BLAS wins).
SMALL = 256


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
