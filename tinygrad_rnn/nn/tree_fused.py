"""Whole-tree fused ops (``tree_rnn``, ``tree_lstm``): their public, validated faces.

The level-batched drivers of :class:`~tinygrad_rnn.nn.tree_models.RecursiveNN` and the binary
:class:`~tinygrad_rnn.nn.tree_models.TreeLSTM` run the whole tree batch as one recorded op
(see :mod:`tinygrad_rnn.ops.tree`) on ``tree_levels(schedule)``, skipping these checks (a
schedule's levels are valid by construction). Hand-made levels go through the checks:

>>> levels = [(2, 3, np.array([0, 1]))]            # node 2 = parent of leaves 0 and 1
>>> p = tree_rnn(leaves, W, b, levels)              # leaves (2, H) -> p (3, H)
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import ops
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.nn.tree_schedule import TreeSchedule
from tinygrad_rnn.tensor import Tensor, apply


def tree_levels(s: TreeSchedule) -> tuple:
    """``(start, stop, kids)`` per height >= 1 of a binary schedule: the ``levels`` param.

    kids: (2 (stop - start),) the children's node ids, [c1, c2] of each node in turn; they
    are a view of ``s.child_ids`` (binary levels store exactly two children per node).
    """
    ptr, ids = s.child_ptr, s.child_ids
    return tuple((lv.start, lv.stop, ids[ptr[lv.start] : ptr[lv.stop]]) for lv in s.levels[1:])


def tree_rnn(leaves: Tensor, weight: Tensor, bias: Tensor, levels) -> Tensor:
    """Every node's p = tanh(W [c1; c2] + b), level by level, as one op.

    leaves (N0, H): the leaf states (rows 0..N0-1); weight (H, 2H); bias (H,); levels as
    :func:`tree_levels` makes. Returns P (N, H), one row per node id.
    """
    return _checked(ops.tree_rnn, leaves, weight, bias, levels, state=1, gates=1)


def tree_lstm(leaves: Tensor, weight: Tensor, bias: Tensor, levels) -> Tensor:
    """Every node's h of a binary (N-ary, N = 2) Tree-LSTM, level by level, as one op.

    leaves (N0, 2H) = [h; c] of the leaves; weight U (5H, 2H) and bias (5H,) give
    [i; o; u; f1; f2] = U [h1; h2] + b; c = sigma(i) tanh(u) + sigma(f1) c1 + sigma(f2) c2,
    h = sigma(o) tanh(c). Returns h (N, H), one row per node id (c stays inside the op).
    """
    return _checked(ops.tree_lstm, leaves, weight, bias, levels, state=2, gates=5)


def _checked(op, leaves, weight, bias, levels, *, state: int, gates: int) -> Tensor:
    name = op.name
    for arg, t in (("leaves", leaves), ("weight", weight), ("bias", bias)):
        if not isinstance(t, Tensor):
            raise DTypeError(f"{name}: argument '{arg}' must be a Tensor; got {type(t).__name__}")
    if leaves.ndim != 2 or leaves.shape[1] % state:
        raise ShapeError(f"{name}: argument 'leaves' must be 2-d (N0, {state} H); got shape "
                         f"{leaves.shape}")
    H = leaves.shape[1] // state
    for arg, t, want in (("weight", weight, (gates * H, 2 * H)), ("bias", bias, (gates * H,))):
        if t.shape != want:
            raise ShapeError(f"{name}: argument '{arg}' must have shape {want} (H = {H} from "
                             f"'leaves'); got {t.shape}")
    levels = _check_levels(name, levels, leaves.shape[0])
    return apply(op, (leaves, weight, bias), {"levels": levels})


def _check_levels(name: str, levels, n0: int) -> tuple:
    """Contiguous levels from row n0 on, two children per node, every child below its level."""
    out, start = [], n0
    for k, lv in enumerate(levels):
        if len(lv) != 3:
            raise ArgumentError(f"{name}: levels[{k}] must be (start, stop, kids); got {lv!r}")
        a, z, kids = int(lv[0]), int(lv[1]), np.asarray(lv[2])
        if a != start or z <= a:
            raise ArgumentError(f"{name}: levels[{k}] must cover rows {start}..stop-1 with "
                                f"stop > {start} (levels are contiguous, from the leaf count "
                                f"{n0} on); got start {a}, stop {z}")
        if kids.dtype.kind not in "iu" or kids.shape != (2 * (z - a),):
            raise ArgumentError(f"{name}: levels[{k}] kids must be {2 * (z - a)} integers (two "
                                f"children per node); got dtype {kids.dtype}, shape {kids.shape}")
        if kids.size and (kids.min() < 0 or kids.max() >= a):
            raise ArgumentError(f"{name}: levels[{k}] kids must be node ids in [0, {a}) (a "
                                f"child lies below its parent's level); got {kids.tolist()}")
        out.append((a, z, np.ascontiguousarray(kids, dtype=np.int64)))
        start = z
    return tuple(out)


def fused(op, leaves: Tensor, weight: Tensor, bias: Tensor, s: TreeSchedule) -> Tensor:
    """The drivers' unchecked path: the schedule was validated, its levels are well formed."""
    return apply(op, (leaves, weight, bias), {"levels": tree_levels(s)})
