"""Neural-network ops: softmax, log_softmax, fused cross-entropy, embedding, dropout.

Index-heavy parts (the cross-entropy rows, the embedding scatter-add) run in Numba kernels;
validation of targets and indices happens before, in ``tinygrad_rnn.functional``.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels import scatter_add_rows, xent_bwd, xent_fwd
from tinygrad_rnn.kernels._jit import jit_enabled
from tinygrad_rnn.ops.registry import register


def _fwd_softmax(x, *, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    out = e / np.sum(e, axis=axis, keepdims=True)
    return out, out


def _vjp_softmax(g, y, needs, *, axis):
    # J^T g for y = softmax(x): y * (g - <g, y>)
    return (y * (g - np.sum(g * y, axis=axis, keepdims=True)),)


softmax = register("softmax", _fwd_softmax, _vjp_softmax, arity=1, arg_names=("x",))


def _fwd_log_softmax(x, *, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out, out


def _vjp_log_softmax(g, out, needs, *, axis):
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


log_softmax = register("log_softmax", _fwd_log_softmax, _vjp_log_softmax, arity=1,
                       arg_names=("x",))


# Which forward runs. Float32: the fused kernel at every size, its exp (``exp_f32``) vectorises
# (0.2-0.5x NumPy's time from 25 x 65 to 64 x 10000); with Numba's JIT off it would be a Python
# loop of NumPy scalar ops per logit, so NumPy then. Float64 keeps libm's scalar exp: the kernel
# (one pass per row) up to a few thousand logits or with few classes, NumPy (vectorised exp, ~8
# calls) for many wide rows. The backward has no exp and always takes the kernel
# (benchmarks/README.md, "ops/nnops.py").
XENT_KERNEL_MAX = 4096
XENT_KERNEL_CLASSES = 16


def _use_kernel(z2) -> bool:
    if z2.dtype == np.float32:
        return jit_enabled()
    return z2.size <= XENT_KERNEL_MAX or z2.shape[1] <= XENT_KERNEL_CLASSES


def xent_rows_fwd(z2, y, ignore_index):
    """Per-row loss and softmax for (N, C) logits: (loss (N,), p (N, C)); kernel or NumPy."""
    if _use_kernel(z2):
        return xent_fwd(z2, y, ignore_index)
    m = z2.max(axis=1, keepdims=True)
    p = np.exp(z2 - m)
    s = p.sum(axis=1)
    p /= s[:, None]
    keep = y != ignore_index
    picked = z2[np.arange(len(y)), np.where(keep, y, 0)]
    loss = np.where(keep, m[:, 0] + np.log(s) - picked, 0)
    return loss.astype(z2.dtype, copy=False), p


def xent_rows_bwd(p, y, g, ignore_index):
    """(p_n - 1_{y_n}) g_n per row from the forward's softmax p, zero for ignored rows."""
    if jit_enabled() or _use_kernel(p):
        return xent_bwd(p, y, g, ignore_index)
    keep = y != ignore_index
    dz = p * (g * keep)[:, None]
    rows = np.flatnonzero(keep)
    dz[rows, y[rows]] -= g[rows]
    return dz


def _fwd_cross_entropy(z, *, targets, ignore_index, reduction):
    """z: (..., C) logits; targets: (...) int64 -> loss per reduction (seed eq. 4 backward).
    Saves the row softmax p (N, C): the backward is then p - onehot, with no exp."""
    z2 = np.ascontiguousarray(z.reshape(-1, z.shape[-1]))
    y = targets.reshape(-1)
    loss, p = xent_rows_fwd(z2, y, ignore_index)
    # the number of counted targets divides the mean only (two NumPy passes saved otherwise)
    count = int(np.count_nonzero(y != ignore_index)) if reduction == "mean" else None
    if reduction == "none":
        out = loss.reshape(targets.shape)
    elif reduction == "sum":
        out = loss.sum()
    else:  # mean over the non-ignored targets; an all-padding batch gives 0, not NaN
        out = loss.sum() / max(count, 1)
    return np.asarray(out, dtype=z.dtype), (p, count, z.shape)


def _vjp_cross_entropy(g, saved, needs, *, targets, ignore_index, reduction):
    p, count, shape = saved
    n = p.shape[0]
    if reduction == "none":
        gr = np.ascontiguousarray(g, dtype=p.dtype).reshape(n)
    else:
        scale = g if reduction == "sum" else g / max(count, 1)
        gr = np.full(n, scale, dtype=p.dtype)
    return (xent_rows_bwd(p, targets.reshape(-1), gr, ignore_index).reshape(shape),)


cross_entropy = register("cross_entropy", _fwd_cross_entropy, _vjp_cross_entropy, arity=1,
                         arg_names=("logits",))


def _fwd_embedding(w, *, indices):
    # np.take along axis 0 is w[indices] without the general fancy-indexing machinery (~2.5x
    # faster at 611 x 100); indices are validated in F.embedding
    return np.take(w, indices, axis=0), w.shape


def _vjp_embedding(g, shape, needs, *, indices):
    out = np.zeros(shape, dtype=g.dtype)
    src = np.ascontiguousarray(g).reshape(-1, shape[1])
    return (scatter_add_rows(out, indices.reshape(-1), src),)


embedding = register("embedding", _fwd_embedding, _vjp_embedding, arity=1,
                     arg_names=("weight",))


def _fwd_dropout(x, *, mask, p):
    scale = np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    return x * mask * scale, scale


def _vjp_dropout(g, scale, needs, *, mask, p):
    return (g * mask * scale,)


dropout = register("dropout", _fwd_dropout, _vjp_dropout, arity=1, arg_names=("x",))
