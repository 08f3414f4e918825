"""Gather / scatter-add of node-state rows for level-batched tree encoders.

A level of a tree batch reads its children's states from earlier levels. ``tree_gather_fwd``
copies the rows a level needs into one (n * m, S) block (m child slots per node); its backward,
``tree_gather_bwd``, adds each slot's gradient back into the source row. A child shared by two
parents (a DAG) is gathered twice, so its gradient must *accumulate*: plain fancy assignment would
keep only one of the contributions. Indices are validated when the schedule is built.
"""

from __future__ import annotations

from tinygrad_rnn.kernels._jit import kernel


@kernel
def tree_gather_fwd(out, pos, src, rows):
    """``out[pos[i], :] = src[rows[i], :]`` for every i.

    out: (P, S) float, modified in place; pos: (N,) int64 in [0, P), distinct;
    src: (R, S) float; rows: (N,) int64 in [0, R), repeats allowed.
    """
    n = pos.shape[0]
    d = src.shape[1]
    for i in range(n):
        p = pos[i]
        r = rows[i]
        for j in range(d):
            out[p, j] = src[r, j]
    return out


@kernel
def tree_gather_bwd(gsrc, rows, g, pos):
    """``gsrc[rows[i], :] += g[pos[i], :]`` for every i, repeated rows accumulating.

    gsrc: (R, S) float, modified in place; rows: (N,) int64 in [0, R); g: (P, S) float;
    pos: (N,) int64 in [0, P).
    """
    n = rows.shape[0]
    d = g.shape[1]
    for i in range(n):
        r = rows[i]
        p = pos[i]
        for j in range(d):
            gsrc[r, j] += g[p, j]
    return gsrc
