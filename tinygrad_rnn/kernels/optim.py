"""Fused optimizer updates and gradient-clipping loops on flat (1-D, contiguous) arrays.

Each update kernel makes one pass over a parameter: it reads ``p``, ``g`` and the state buffers
once, writes them once and creates no temporaries, where the NumPy equivalent makes one pass (and
often one temporary array) per arithmetic operation. The formulas and their order follow
PyTorch's ``torch.optim`` so results can be compared; the equations are documented in
:mod:`tinygrad_rnn.optim`.

Callers pass scalars in the arrays' precision (``np.float32(lr)`` for float32 arrays, Python
floats for float64) and precompute constants such as ``1 - beta``: a float64 scalar in a float32
loop would promote its arithmetic to float64 and make it ~2.7x slower (PyTorch, too, computes
float32 updates in float32). Shapes, dtypes and contiguity are checked by the callers, never here.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.kernels._jit import kernel


@kernel
def sgd_update(p, g, buf, lr, momentum, weight_decay, nesterov):
    """SGD step; ``buf`` is the momentum buffer (unused, may be empty, when momentum == 0).

    d = g + wd p;  b <- mu b + d;  d <- d + mu b (nesterov) or b;  p <- p - lr d
    """
    for i in range(p.size):
        d = g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        if momentum != 0:
            b = momentum * buf[i] + d
            buf[i] = b
            d = d + momentum * b if nesterov else b
        p[i] -= lr * d


@kernel
def adagrad_update(p, g, sum_sq, clr, eps, weight_decay, eps_inside_sqrt):
    """Adagrad step: s <- s + d^2;  p <- p - clr d / (sqrt(s) + eps)  [or / sqrt(s + eps)]."""
    for i in range(p.size):
        d = g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        s = sum_sq[i] + d * d
        sum_sq[i] = s
        if eps_inside_sqrt:
            p[i] -= clr * d / math.sqrt(s + eps)
        else:
            p[i] -= clr * d / (math.sqrt(s) + eps)


@kernel
def adam_update(
    p, g, m, v, step_size, one_m_beta1, beta2, one_m_beta2, eps, weight_decay, bc2_sqrt
):
    """Adam step: m <- m + (1-b1)(d-m);  v <- b2 v + (1-b2) d^2;
    p <- p - step_size m / (sqrt(v) / bc2_sqrt + eps),
    with step_size = lr / (1 - b1^t) and bc2_sqrt = sqrt(1 - b2^t) computed by the caller.
    """
    for i in range(p.size):
        d = g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        mi = m[i] + one_m_beta1 * (d - m[i])
        vi = beta2 * v[i] + one_m_beta2 * d * d
        m[i] = mi
        v[i] = vi
        p[i] -= step_size * mi / (math.sqrt(vi) / bc2_sqrt + eps)


@kernel
def rmsprop_update(p, g, square_avg, buf, lr, alpha, one_m_alpha, eps, momentum, weight_decay):
    """RMSprop step: a <- alpha a + (1-alpha) d^2;  u = d / (sqrt(a) + eps);
    b <- mu b + u;  p <- p - lr (b if mu else u).  ``buf`` is unused (may be empty) if mu == 0.
    """
    for i in range(p.size):
        d = g[i]
        if weight_decay != 0:
            d = d + weight_decay * p[i]
        a = alpha * square_avg[i] + one_m_alpha * d * d
        square_avg[i] = a
        d = d / (math.sqrt(a) + eps)
        if momentum != 0:
            b = momentum * buf[i] + d
            buf[i] = b
            d = b
        p[i] -= lr * d


@kernel
def sum_squares(x):
    """sum_i x_i^2 accumulated in float64 whatever the dtype of x (returns a float64)."""
    s = 0.0
    for i in range(x.size):
        xi = np.float64(x[i])
        s += xi * xi
    return s


@kernel
def clamp_inplace(x, lo, hi):
    """x <- min(max(x, lo), hi), in place; NaN stays NaN (both comparisons are false).

    Selects and an unconditional store, not ``if``/``elif`` stores: LLVM vectorises this form
    (3.3x faster at 10,000 float32 or float64 elements)."""
    for i in range(x.size):
        v = x[i]
        v = hi if v > hi else v
        v = lo if v < lo else v
        x[i] = v


# ---- several parameters per call ---------------------------------------------------------------
# A kernel call costs ~2-3 us of dispatch (Numba types every argument), as much as updating a
# small parameter; a char-RNN has 6 parameters, clipped then updated: 12 calls per step. These
# take a tuple of GROUP flat arrays of one dtype (short groups padded with empty arrays, so each
# compiles once per dtype, not once per parameter count) and run the one-array kernel on each.

#: Arrays per call of the ``*_many`` kernels.
GROUP = 8


def groups(arrays: list) -> list[tuple]:
    """``arrays`` (flat, one dtype) as GROUP-tuples, the last padded with empty arrays."""
    pad = arrays[0][:0]
    out = []
    for i in range(0, len(arrays), GROUP):
        chunk = arrays[i:i + GROUP]
        out.append(tuple(chunk) + (pad,) * (GROUP - len(chunk)))
    return out


@kernel
def clamp_many(xs, lo, hi):
    """:func:`clamp_inplace` on every array of the tuple ``xs``."""
    for k in range(len(xs)):
        clamp_inplace(xs[k], lo, hi)


@kernel
def adagrad_many(ps, gs, sums, clr, eps, weight_decay, eps_inside_sqrt):
    """:func:`adagrad_update` on each (ps[k], gs[k], sums[k])."""
    for k in range(len(ps)):
        adagrad_update(ps[k], gs[k], sums[k], clr, eps, weight_decay, eps_inside_sqrt)
