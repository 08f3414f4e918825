"""Fused softmax + cross-entropy kernels over rows of logits.

Forward per row n (C classes): ``lse_n = log sum_c exp(z_nc)`` (max-shifted, stable) and
``loss_n = lse_n - z_{n, y_n}``; rows whose target equals ``ignore_index`` give 0.
Backward (seed eq. 4): ``dz_nc = g_n (softmax(z_n)_c - 1[c = y_n])``, zero for ignored rows.
One pass over each row keeps it in cache; the row softmax never exists as a separate array.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.kernels._jit import kernel


@kernel
def xent_fwd(z, y, ignore_index):
    """z: (N, C) float; y: (N,) int64 -> (loss (N,), lse (N,)) in z's dtype."""
    n, c = z.shape
    loss = np.zeros(n, dtype=z.dtype)
    lse = np.zeros(n, dtype=z.dtype)
    for i in range(n):
        m = z[i, 0]
        for j in range(1, c):
            if z[i, j] > m:
                m = z[i, j]
        s = 0.0
        for j in range(c):
            s += math.exp(z[i, j] - m)
        lse[i] = m + math.log(s)
        if y[i] != ignore_index:
            loss[i] = lse[i] - z[i, y[i]]
    return loss, lse


@kernel
def xent_bwd(z, y, lse, g, ignore_index):
    """Gradient of sum_n g_n loss_n w.r.t. z: (N, C); g and lse: (N,)."""
    n, c = z.shape
    dz = np.zeros_like(z)
    for i in range(n):
        if y[i] == ignore_index:
            continue
        gi = g[i]
        for j in range(c):
            dz[i, j] = gi * math.exp(z[i, j] - lse[i])
        dz[i, y[i]] -= gi
    return dz
