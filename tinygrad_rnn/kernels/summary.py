"""One-pass statistics of a flat float array, for the summaries ``tr.trace`` keeps per value and
gradient (:func:`tinygrad_rnn.tracing.summarize`).

A trace summarises every node's value and gradient and every edge's gradient: ~10k mostly small
arrays for a 200-step LSTM. Four NumPy reductions cost ~3 us each on a (1, 100) array, the
kernel ~1 us for all four; and the sum of squares stays out of BLAS, whose threads turned a
(400, 100) ``a @ a`` into milliseconds on a busy machine (benchmarks/README.md, "tracing.py").
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels._jit import kernel


@kernel
def moments(a):
    """a: 1-D float32/float64 -> (min, max, sum, sum of squares) in float64, one pass.

    NaN is skipped by the min/max comparisons but reaches the sums: callers treat non-finite
    sums as "not a plain array" and recompute with NumPy (which propagates NaN everywhere)."""
    lo = np.float64(a[0])
    hi = lo
    s = 0.0
    ss = 0.0
    for i in range(a.size):
        x = np.float64(a[i])
        if x < lo:
            lo = x
        if x > hi:
            hi = x
        s += x
        ss += x * x
    return lo, hi, s, ss


@kernel
def sums(a):
    """a: 1-D float32/float64 -> (sum, sum of squares) in float64. Without min/max the loop
    vectorises (fastmath lets it reassociate the sums; min/max would need ``nnan``), so long
    arrays take their min and max from NumPy and the sums from here."""
    s = 0.0
    ss = 0.0
    for i in range(a.size):
        x = np.float64(a[i])
        s += x
        ss += x * x
    return s, ss
