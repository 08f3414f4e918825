"""Shape ops: reshape, transpose, getitem (basic and integer-array), concat, stack, split."""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels import scatter_add_rows
from tinygrad_rnn.ops.registry import SliceGrad, register


def _fwd_reshape(x, *, shape):
    return x.reshape(shape), x.shape


def _vjp_reshape(g, in_shape, needs, *, shape):
    return (g.reshape(in_shape),)


reshape = register(
    "reshape", _fwd_reshape, _vjp_reshape, arity=1, arg_names=("x",),
    explain=lambda s, p: f"cannot reshape a tensor of shape {s[0]} into {p['shape']}")


def _fwd_transpose(x, *, axes):
    return np.transpose(x, axes), None


def _vjp_transpose(g, saved, needs, *, axes):
    return (np.transpose(g, None if axes is None else np.argsort(axes)),)


transpose = register(
    "transpose", _fwd_transpose, _vjp_transpose, arity=1, arg_names=("x",),
    explain=lambda s, p: f"axes {p['axes']} are not a permutation of range({len(s[0])})")


def is_basic_index(index) -> bool:
    """True for ints, slices, None and Ellipsis only: those never select an element twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items)


def _getitem_explain(shapes, params):
    return f"index {params['index']!r} does not fit a tensor of shape {shapes[0]}"


def _fwd_getitem(x, *, index):
    return x[index], x.shape


def _vjp_getitem(g, shape, needs, *, index):
    if is_basic_index(index):
        return (SliceGrad(shape, index, g),)  # the tape adds g into index (no full zeros)
    out = np.zeros(shape, dtype=g.dtype)
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu" and len(shape) >= 1:
        # rows gathered by one integer array (embedding-style): the Numba scatter-add is ~40x
        # faster than np.add.at; repeated rows accumulate.
        rows = np.where(index < 0, index + shape[0], index).ravel().astype(np.int64)
        flat = out.reshape(shape[0], -1)
        scatter_add_rows(flat, rows, np.ascontiguousarray(g).reshape(rows.size, -1))
    else:
        np.add.at(out, index, g)  # general advanced indexing: correct with repeats
    return (out,)


getitem = register("getitem", _fwd_getitem, _vjp_getitem, arity=1, arg_names=("x",),
                   explain=_getitem_explain)


def _multi_explain(shapes, params):
    axis = params["axis"]
    got = ", ".join(str(s) for s in shapes)
    return f"all tensors must have the same shape except along axis {axis}; got shapes {got}"


def _fwd_concat(*xs, axis):
    return np.concatenate(xs, axis=axis), np.cumsum([x.shape[axis] for x in xs])[:-1]


def _vjp_concat(g, bounds, needs, *, axis):
    return tuple(np.split(g, bounds, axis=axis))


concat = register("concat", _fwd_concat, _vjp_concat, arity=None, explain=_multi_explain)


def _fwd_stack(*xs, axis):
    if len(xs) == 1:  # a one-layer RNN's h_n: a view with the new axis, ~10x cheaper than a copy
        return np.expand_dims(xs[0], axis), None
    return np.stack(xs, axis=axis), None


def _vjp_stack(g, saved, needs, *, axis):
    return tuple(np.moveaxis(g, axis, 0))


stack = register("stack", _fwd_stack, _vjp_stack, arity=None, explain=_multi_explain)


def _fwd_split(x, *, axis, start, stop):
    index = (slice(None),) * axis + (slice(start, stop),)
    return x[index], x.shape


def _vjp_split(g, shape, needs, *, axis, start, stop):
    return (SliceGrad(shape, (slice(None),) * axis + (slice(start, stop),), g),)


split = register("split", _fwd_split, _vjp_split, arity=1, arg_names=("x",))
