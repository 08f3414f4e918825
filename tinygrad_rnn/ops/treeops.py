"""``tree_gather``: the children of one tree level, read from the levels below, side by side.

Inputs are the level tensors a level reads from (each (R_k, S): one row per node state). The
output has one row per node of the level, its m child slots laid side by side,
``[s_{c1}; s_{c2}; ...; s_{cm}]`` of shape (n, m * S); a slot a node does not use (fewer than m
children) stays zero. ``picks[k] = (pos, rows)`` says which flat slots (node * m + slot) come from
which rows of input k. Backward scatter-adds each slot's gradient into its source row, so a
subtree read twice (a DAG) accumulates both contributions.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels.tree_kernels import tree_gather_bwd, tree_gather_fwd
from tinygrad_rnn.ops.registry import register


def _fwd_tree_gather(*sources, picks, n, m):
    width = sources[0].shape[1]
    out = np.zeros((n * m, width), dtype=np.result_type(*sources))
    for src, (pos, rows) in zip(sources, picks):
        tree_gather_fwd(out, pos, np.ascontiguousarray(src, dtype=out.dtype), rows)
    return out.reshape(n, m * width), tuple(s.shape for s in sources)


def _vjp_tree_gather(g, shapes, needs, *, picks, n, m):
    flat = np.ascontiguousarray(g).reshape(n * m, -1)
    grads = []
    for need, shape, (pos, rows) in zip(needs, shapes, picks):
        if not need:
            grads.append(None)
            continue
        grads.append(tree_gather_bwd(np.zeros(shape, dtype=g.dtype), rows, flat, pos))
    return tuple(grads)


def _tree_gather_explain(shapes, params):
    widths = sorted({s[1] if len(s) == 2 else None for s in shapes}, key=str)
    return (
        f"every source must be 2-d (rows, S) with the same S; got shapes "
        f"{', '.join(str(s) for s in shapes)} (widths {widths})"
    )


tree_gather = register("tree_gather", _fwd_tree_gather, _vjp_tree_gather, arity=None,
                       explain=_tree_gather_explain)
