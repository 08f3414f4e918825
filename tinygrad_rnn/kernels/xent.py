"""Fused softmax + cross-entropy kernels over rows of logits.

Forward per row n (C classes): ``p_n = softmax(z_n)`` (max-shifted, stable),
``lse_n = log sum_c exp(z_nc)`` and ``loss_n = lse_n - z_{n, y_n}``; rows whose target equals
``ignore_index`` give 0. The forward keeps ``p`` for the backward (seed eq. 4):
``dz_nc = g_n (p_nc - 1[c = y_n])``, zero for ignored rows, which then needs no exp at all
(without SVML Numba's exp is scalar: recomputing it was most of the backward's time).
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.kernels._jit import kernel


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
