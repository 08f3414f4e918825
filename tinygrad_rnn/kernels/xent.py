"""Fused softmax + cross-entropy kernels over rows of logits.

Forward per row n (C classes): ``p_n = softmax(z_n)`` (max-shifted, stable),
``lse_n = log sum_c exp(z_nc)`` and ``loss_n = lse_n - z_{n, y_n}``; rows whose target equals
``ignore_index`` give 0. The forward keeps ``p`` for the backward (seed eq. 4):
``dz_nc = g_n (p_nc - 1[c = y_n])``, zero for ignored rows, which then needs no exp at all
(without SVML Numba's exp is scalar: recomputing it was most of the backward's time).

Numba has no vector math library on this build: ``math.exp`` is a scalar libm call and a loop
around it does not vectorise. Float32 rows therefore use :func:`exp_f32`, branch-free
arithmetic that does (the same cure as ``tanh_f32`` in :mod:`.sequence`); float64 keeps libm's
exp, whose results the tests hold to PyTorch's at 1e-10.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.kernels._jit import kernel

# exp(r) = 1 + r + r^2/2 + ... on |r| <= ln2/2 (+2e-4 slack for the rounding of k below), as
# sum _EXP_C[i] r^i. Coefficients fitted here, each rounded to float32 in turn and the rest
# refitted (weighted least squares reweighted towards the minimax fit of the relative error):
# 3.1e-9 relative in exact arithmetic, well under float32's 6e-8 half-ulp.
_EXP_C = (1.0, 1.0, 0.4999999403953552, 0.1666652113199234, 0.04166826605796814,
          0.008368674665689468, 0.001382063259370625)
_LOG2E = 1.4426950408889634
_LN2 = 0.6931471805599453
# below _EXP_LO exp rounds to 0 even as a subnormal; above _EXP_HI to inf (k = 128 still
# scales in two normal steps; the clamp keeps k in [-150, 128])
_EXP_LO, _EXP_HI = -104.0, 89.0


@kernel
def exp_f32(x):
    """exp of a float32 scalar without branches or libm, so a loop applying it vectorises (~3-5x
    faster than libm's scalar expf here). x = k ln2 + r with k = round(x / ln2) and r computed
    in float64 (float32 Cody-Waite with ln2 split hi + lo measured 4.5 ulp at x = -87 under the
    kernels' fastmath flags, 1.2 without: the reassociation may regroup k*hi + k*lo); exp(r)
    by the polynomial above; then times 2^k, built from exponent bits in two halves (k1 added
    to the bits of exp(r), times 2^(k - k1)) so each is a normal float and the one rounding
    multiply gets subnormal results and overflow right. Within 1 ulp of exp from -104 to
    overflow, subnormal results included (0.86 ulp compiled; 1.07 as plain Python, without FMA
    contraction); exp(+-0) = 1 exactly; -inf and x < -104 give 0, x > 88.73 and +inf give inf;
    NaN stays NaN (every comparison with it is false: it is clamped like any input, then put
    back)."""
    lo, hi = np.float32(_EXP_LO), np.float32(_EXP_HI)
    a = x if x > lo else lo  # NaN -> lo: no NaN reaches the int conversion
    a = a if a < hi else hi
    kf = np.floor(a * np.float32(_LOG2E) + np.float32(0.5))
    r = np.float32(np.float64(a) - np.float64(kf) * _LN2)
    p = np.float32(_EXP_C[6])
    for i in range(5, -1, -1):  # Horner; a constant trip count, unrolled by LLVM
        p = p * r + np.float32(_EXP_C[i])
    k = np.int32(kf)
    k1 = k >> 1
    pv = np.float32(p)  # one definition for .view (Numba rejects a reassigned name)
    q = np.int32(pv.view(np.int32) + (k1 << 23)).view(np.float32)
    out = q * np.int32((k - k1 + 127) << 23).view(np.float32)
    return out if x == x else x


@kernel
def exp_f32_array(x, out):
    """out (n,) = exp_f32(x) for float32 x (n,): the helper over an array, for its tests (a
    kernel elsewhere calling exp_f32 would keep a stale copy in Numba's disk cache)."""
    for i in range(x.size):
        out[i] = exp_f32(x[i])


@kernel
def xent_fwd(z, y, ignore_index):
    """z: (N, C) float; y: (N,) int64 -> (loss (N,), p (N, C) = row softmax) in z's dtype."""
    n, c = z.shape
    loss = np.zeros(n, dtype=z.dtype)
    p = np.empty_like(z)
    for i in range(n):
        zi, pi = z[i], p[i]
        m = zi[0]
        for j in range(1, c):
            if zi[j] > m:
                m = zi[j]
        if z.itemsize == 4:  # read at run time: a cheap branch per row, not per element
            s32 = np.float32(0.0)  # float32 sum: the loop then vectorises in one width
            for j in range(c):
                e = exp_f32(zi[j] - m)
                pi[j] = e
                s32 += e
            s = np.float64(s32)
        else:
            s = 0.0
            for j in range(c):
                e = math.exp(zi[j] - m)
                pi[j] = e
                s += e
        inv = 1.0 / s
        for j in range(c):
            pi[j] *= inv
        if y[i] != ignore_index:
            loss[i] = m + math.log(s) - zi[y[i]]
    return loss, p


@kernel
def xent_bwd(p, y, g, ignore_index):
    """Gradient of sum_n g_n loss_n w.r.t. the logits: (N, C) from the forward's softmax p."""
    n, c = p.shape
    dz = np.zeros_like(p)
    for i in range(n):
        if y[i] == ignore_index:
            continue
        gi = g[i]
        pi, di = p[i], dz[i]
        for j in range(c):
            di[j] = gi * pi[j]
        di[y[i]] -= gi
    return dz
