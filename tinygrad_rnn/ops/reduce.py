"""Reductions over axes: sum, mean, max (with ``keepdims``).

``axis`` reaches the forward already normalised to a sorted tuple of non-negative ints (or
``None`` for all axes) by the Tensor method, so the VJPs can re-insert the reduced axes.
The ops are bound to the names ``sum``, ``mean`` and ``max``: in this module those are ops, not
the builtins.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.ops.registry import register


def _expand(g, shape, axis, keepdims):
    """Give the reduced gradient its reduced axes back (size 1), ready to broadcast."""
    if not keepdims:
        g = np.expand_dims(g, axis if axis is not None else tuple(range(len(shape))))
    return g


def _reduce_explain(shapes, params):
    (shape,) = shapes
    if len(shape) == 0 and params.get("axis"):
        return "cannot reduce a 0-d tensor over an axis"
    return None


def _fwd_sum(x, *, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims), x.shape


def _vjp_sum(g, shape, needs, *, axis, keepdims):
    return (np.broadcast_to(_expand(g, shape, axis, keepdims), shape),)


sum = register("sum", _fwd_sum, _vjp_sum, arity=1, explain=_reduce_explain, arg_names=("x",))


def _fwd_mean(x, *, axis, keepdims):
    if x.size == 0:  # NaN where nothing is averaged, as PyTorch: NumPy would also warn at the user
        return np.sum(x, axis=axis, keepdims=keepdims) * np.nan, x.shape
    return np.mean(x, axis=axis, keepdims=keepdims), x.shape


def _vjp_mean(g, shape, needs, *, axis, keepdims):
    count = np.prod([shape[a] for a in (axis if axis is not None else range(len(shape)))])
    g = _expand(g, shape, axis, keepdims) / (int(count) or 1)
    return (np.broadcast_to(g, shape),)


mean = register("mean", _fwd_mean, _vjp_mean, arity=1, explain=_reduce_explain, arg_names=("x",))


def _fwd_max(x, *, axis, keepdims):
    out = np.max(x, axis=axis, keepdims=keepdims)
    return out, (x, out)


def _vjp_max(g, saved, needs, *, axis, keepdims):
    # Ties share the gradient equally (as torch.amax), so the VJP stays symmetric.
    x, out = saved
    out = _expand(out, x.shape, axis, keepdims)
    mask = x == out
    count = np.sum(mask, axis=axis, keepdims=True)
    return (_expand(g, x.shape, axis, keepdims) * mask / count,)


max = register("max", _fwd_max, _vjp_max, arity=1, explain=_reduce_explain, arg_names=("x",))
