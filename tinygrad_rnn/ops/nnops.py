"""Neural-network ops: softmax, log_softmax, fused cross-entropy, embedding, dropout.

Index-heavy parts (the cross-entropy rows, the embedding scatter-add) run in Numba kernels;
validation of targets and indices happens before, in ``tinygrad_rnn.functional``.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels import scatter_add_rows, xent_bwd, xent_fwd
from tinygrad_rnn.ops.registry import register


def _fwd_softmax(x, *, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    out = e / np.sum(e, axis=axis, keepdims=True)
    return out, out


def _vjp_softmax(g, y, needs, *, axis):
    # J^T g for y = softmax(x): y * (g - <g, y>)
    return (y * (g - np.sum(g * y, axis=axis, keepdims=True)),)


def _fwd_log_softmax(x, *, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out, out


def _vjp_log_softmax(g, out, needs, *, axis):
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


# Up to this many logits the fused Numba kernel wins (one pass, no temporaries: 0.6-0.8x NumPy's
# time at 25 x 65); above it, NumPy's vectorised exp wins (the kernel's exp is scalar without
# SVML: 1.1-1.7x slower at 128 x 65, 1.5-2.3x at 1600 x 65). Measured by
# benchmarks/core_overhead.py.
XENT_KERNEL_MAX = 4096


def xent_rows_fwd(z2, y, ignore_index):
    """Per-row loss and log-sum-exp for (N, C) logits; kernel or NumPy by size."""
    if z2.size <= XENT_KERNEL_MAX:
        return xent_fwd(z2, y, ignore_index)
    m = z2.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z2 - m).sum(axis=1))
    keep = y != ignore_index
    picked = z2[np.arange(len(y)), np.where(keep, y, 0)]
    return np.where(keep, lse - picked, 0).astype(z2.dtype), lse.astype(z2.dtype)


def xent_rows_bwd(z2, y, lse, g, ignore_index):
    """(softmax(z_n) - 1_{y_n}) g_n per row, zero for ignored rows; kernel or NumPy by size."""
    if z2.size <= XENT_KERNEL_MAX:
        return xent_bwd(z2, y, lse, g, ignore_index)
    keep = y != ignore_index
    dz = np.exp(z2 - lse[:, None])
    dz[np.arange(len(y))[keep], y[keep]] -= 1
    dz *= (g * keep)[:, None]
    return dz


def _fwd_cross_entropy(z, *, targets, ignore_index, reduction):
    """z: (..., C) logits; targets: (...) int64 -> loss per reduction (seed eq. 4 backward)."""
    z2 = np.ascontiguousarray(z.reshape(-1, z.shape[-1]))
    y = targets.reshape(-1)
    loss, lse = xent_rows_fwd(z2, y, ignore_index)
    count = int(np.count_nonzero(y != ignore_index))
    if reduction == "none":
        out = loss.reshape(targets.shape)
    elif reduction == "sum":
        out = loss.sum()
    else:  # mean over the non-ignored targets; an all-padding batch gives 0, not NaN
        out = loss.sum() / max(count, 1)
    return np.asarray(out, dtype=z.dtype), (z2, lse, count, z.shape)


def _vjp_cross_entropy(g, saved, needs, *, targets, ignore_index, reduction):
    z2, lse, count, shape = saved
    n = z2.shape[0]
    if reduction == "none":
        gr = np.ascontiguousarray(g, dtype=z2.dtype).reshape(n)
    else:
        scale = g if reduction == "sum" else g / max(count, 1)
        gr = np.full(n, scale, dtype=z2.dtype)
    return (xent_rows_bwd(z2, targets.reshape(-1), lse, gr, ignore_index).reshape(shape),)


def _fwd_embedding(w, *, indices):
    return w[indices], w.shape


def _vjp_embedding(g, shape, needs, *, indices):
    out = np.zeros(shape, dtype=g.dtype)
    src = np.ascontiguousarray(g).reshape(-1, shape[1])
    return (scatter_add_rows(out, indices.reshape(-1), src),)


def _fwd_dropout(x, *, mask, p):
    scale = np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    return x * mask * scale, scale


def _vjp_dropout(g, scale, needs, *, mask, p):
    return (g * mask * scale,)


register("softmax", _fwd_softmax, _vjp_softmax, arity=1, arg_names=("x",))
register("log_softmax", _fwd_log_softmax, _vjp_log_softmax, arity=1, arg_names=("x",))
register("cross_entropy", _fwd_cross_entropy, _vjp_cross_entropy, arity=1,
         arg_names=("logits",))
register("embedding", _fwd_embedding, _vjp_embedding, arity=1, arg_names=("weight",))
register("dropout", _fwd_dropout, _vjp_dropout, arity=1, arg_names=("x",))
