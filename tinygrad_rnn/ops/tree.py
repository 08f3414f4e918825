"""Tree ops: the per-level child gather, and whole-tree ops that run a binary net in one node.

``tree_gather``: the children of one tree level, read from the levels below, side by side.
Inputs are the level tensors a level reads from (each (R_k, S): one row per node state). The
output has one row per node of the level, its m child slots laid side by side,
``[s_{c1}; s_{c2}; ...; s_{cm}]`` of shape (n, m * S); a slot a node does not use (fewer than m
children) stays zero. ``picks[k] = (pos, rows)`` says which flat slots (node * m + slot) come from
which rows of input k. Backward scatter-adds each slot's gradient into its source row, so a
subtree read twice (a DAG) accumulates both contributions.

``tree_rnn``, ``tree_lstm``: one recorded node runs a binary recursive net over every tree level,
the tree analogue of the whole-sequence ops (:mod:`~tinygrad_rnn.ops.sequence`). Node ids are
level-major (leaves first, then height 1, ...), so one (N, S) buffer holds every node state,
each level is a contiguous row block of it, and a level reads only rows below its own. Per
level the forward is one gather + one GEMM + the activations; the backward walks the levels in
reverse, and the weight gradients are ONE GEMM over all levels' stacked (dZ, X) at the end,
instead of one small GEMM (and one gradient accumulation) per level.

Param ``levels``: a tuple of ``(start, stop, kids)``, one per height >= 1: the nodes
``start .. stop-1``, and ``kids`` (2 (stop - start),) int64, their children's node ids as
[c1, c2] of each node in turn, every id < start. The first start is the number of leaf rows,
each next start the previous stop (validated by :mod:`tinygrad_rnn.nn.tree_fused`).
A child read by two parents (a DAG) gets both gradients: child rows are scatter-*added*.
The per-batch arrays (~1 MB each) are recycled across batches (:mod:`tinygrad_rnn.workspace`):
fresh pages for them cost more than the gathers.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import workspace
from tinygrad_rnn.kernels.scatter import gather_rows, scatter_add_rows
from tinygrad_rnn.kernels.tree import (
    rnn_level_bwd,
    rnn_level_fwd,
    tree_gather_bwd,
    tree_gather_fwd,
    tree_lstm_bwd_level,
)
from tinygrad_rnn.ops.elementwise import stable_sigmoid_ as _sig_
from tinygrad_rnn.ops.registry import register
from tinygrad_rnn.workspace import buf


def _tree_gather_explain(shapes, params):
    widths = sorted({s[1] if len(s) == 2 else None for s in shapes}, key=str)
    return (
        f"every source must be 2-d (rows, S) with the same S; got shapes "
        f"{', '.join(str(s) for s in shapes)} (widths {widths})"
    )


def _fwd_tree_gather(*sources, picks, n, m):
    width = sources[0].shape[1]
    out = np.zeros((n * m, width), dtype=np.result_type(*sources))
    for src, (pos, rows) in zip(sources, picks):
        tree_gather_fwd(out, pos, np.ascontiguousarray(src, dtype=out.dtype), rows)
    return out.reshape(n, m * width), tuple(s.shape for s in sources)


def _vjp_tree_gather(g, shapes, needs, *, picks, n, m):
    flat = np.ascontiguousarray(g).reshape(n * m, -1)
    return tuple(tree_gather_bwd(np.zeros(shape, dtype=g.dtype), rows, flat, pos) if need else None
                 for need, shape, (pos, rows) in zip(needs, shapes, picks))


tree_gather = register("tree_gather", _fwd_tree_gather, _vjp_tree_gather, arity=None,
                       explain=_tree_gather_explain)


def _states(op, name, leaves, levels, dtype):
    """(N, S) node states, the leaf rows (0..N0-1) filled; N = the last level's stop."""
    n = levels[-1][1] if levels else leaves.shape[0]
    states = buf(op, name, (n, leaves.shape[1]), dtype)
    states[: leaves.shape[0]] = leaves
    return states


def _widest(levels) -> int:
    """The largest level's node count: the rows of per-level scratch buffers."""
    return max((z - a for a, z, _ in levels), default=0)


def _explain(state: int, gates: int):
    """``explain`` for a whole-tree op: leaves (N0, state H), weight (gates H, 2H), bias."""

    def explain(shapes, params):
        sl, sw, sb = (tuple(s) for s in shapes)
        if len(sl) != 2 or sl[1] % state:
            return f"argument 'leaves' must be (N0, {state} H); got {sl}"
        H = sl[1] // state
        for arg, want, got in (("weight", (gates * H, 2 * H), sw), ("bias", (gates * H,), sb)):
            if got != want:
                return f"argument '{arg}' must have shape {want} (H = {H}); got {got}"
        return ("param 'levels' does not fit the leaves (build it with "
                "tinygrad_rnn.nn.tree_fused.tree_levels)")

    return explain


# ---- RecursiveNN: p = tanh(W [c1; c2] + b) -------------------------------------------------
def _fwd_tree_rnn(leaves, w, b, *, levels):
    """leaves (N0, H), W (H, 2H), b (H,) -> P (N, H): every node's p in node-id order.

    Saves X (M, 2H), the gathered [c1; c2] of the M internal nodes (rows in node-id order).
    Per level: one GEMM into the level's rows, then one kernel that adds b, applies tanh and
    gathers the next level's children (rows of P are contiguous, so the (2n, H) gather *is*
    the (n, 2H) [c1; c2] block).
    """
    dtype = np.result_type(leaves, w, b)
    H = leaves.shape[1]
    P = _states("tree_rnn", "P", leaves, levels, dtype)
    n0 = leaves.shape[0]
    M = P.shape[0] - n0
    X = buf("tree_rnn", "X", (M, 2 * H), dtype)
    wT = np.ascontiguousarray(w.T, dtype=dtype)  # BLAS is ~20% faster on X W^T without a 'T'
    bias, f32 = np.ascontiguousarray(b, dtype=dtype), dtype == np.float32
    done = (n0, n0)  # the rows whose GEMM is in P and still need + b, tanh
    for a, z, kids in levels:
        x = X[a - n0 : z - n0]
        rnn_level_fwd(P, done[0], done[1], bias, f32, kids, x.reshape(-1, H))
        np.dot(x, wT, out=P[a:z])
        done = (a, z)
    rnn_level_fwd(P, done[0], done[1], bias, f32, _NO_KIDS, X[:0].reshape(-1, H))
    return P, (w, P, X)


def _vjp_tree_rnn(g, saved, needs, *, levels):
    """dA = dP (1 - p^2) level by level from the top; children get dA W (scatter-added);
    dW = sum over internal nodes of dA^T [c1; c2] (one GEMM), db = sum of dA."""
    w, P, X = saved
    M, H = X.shape[0], P.shape[1]
    n0 = P.shape[0] - M
    G = buf("tree_rnn", "G", P.shape, P.dtype)  # dL/dP; each level's rows become its dA
    G[...] = g
    scratch = buf("tree_rnn", "scratch", (_widest(levels), 2 * H), P.dtype)
    kids_above, dx_above = _NO_KIDS, scratch[:0].reshape(-1, H)
    for a, z, kids in reversed(levels):
        # the level above scatters into G; then rows a..z-1 are complete: dA = dP (1 - p^2)
        rnn_level_bwd(G, kids_above, dx_above, P, a, z)
        dx = scratch[: z - a]
        np.dot(G[a:z], w, out=dx)
        kids_above, dx_above = kids, dx.reshape(-1, H)
    rnn_level_bwd(G, kids_above, dx_above, P, n0, n0)  # the lowest level's into the leaves
    dA = G[n0:]
    gw = dA.T @ X if needs[1] else None
    gb = dA.sum(axis=0) if needs[2] else None
    return (G[:n0] if needs[0] else None), gw, gb


_NO_KIDS = np.zeros(0, dtype=np.int64)


tree_rnn = register("tree_rnn", _fwd_tree_rnn, _vjp_tree_rnn, arity=3, explain=_explain(1, 1),
                    arg_names=("leaves", "weight", "bias"))


# ---- binary Tree-LSTM: [i; o; u; f1; f2] = U [h1; h2] + b ------------------------------------
def _fwd_tree_lstm(leaves, u, b, *, levels):
    """leaves (N0, 2H) = [h; c], U (5H, 2H), b (5H,) -> h (N, H) of every node.

        c = sigma(i) tanh(u) + sigma(f1) c1 + sigma(f2) c2,   h = sigma(o) tanh(c)

    Only h leaves the op (the classifier reads h; c lives on in the saved children's c).
    Saves Hk, Ck (M, 2H) (the children's h and c side by side), the activated gates
    A (M, 5H) = [sigma(i); sigma(o); tanh(u); sigma(f1); sigma(f2)] and tanh(c) (M, H).
    """
    dtype = np.result_type(leaves, u, b)
    H = leaves.shape[1] // 2
    Hs = _states("tree_lstm", "h", leaves[:, :H], levels, dtype)
    Cs = _states("tree_lstm", "c", leaves[:, H:], levels, dtype)  # c is not returned
    n0 = leaves.shape[0]
    M = Hs.shape[0] - n0
    Hk, Ck = (buf("tree_lstm", k, (M, 2 * H), dtype) for k in ("Hk", "Ck"))
    A, TC = buf("tree_lstm", "A", (M, 5 * H), dtype), buf("tree_lstm", "TC", (M, H), dtype)
    uT = np.ascontiguousarray(u.T, dtype=dtype)
    for a, z, kids in levels:
        r, n = slice(a - n0, z - n0), z - a
        gather_rows(Hs, kids, Hk[r].reshape(2 * n, H))
        gather_rows(Cs, kids, Ck[r].reshape(2 * n, H))
        act = A[r]
        np.dot(Hk[r], uT, out=act)
        act += b
        _sig_(act[:, : 2 * H])
        np.tanh(act[:, 2 * H : 3 * H], out=act[:, 2 * H : 3 * H])
        _sig_(act[:, 3 * H :])
        c = Cs[a:z]
        np.multiply(act[:, :H], act[:, 2 * H : 3 * H], out=c)
        fc = act[:, 3 * H :] * Ck[r]  # (n, 2H): f1 c1 | f2 c2
        c += fc[:, :H] + fc[:, H:]  # same association as the per-node ops: i u + (f1c1 + f2c2)
        np.tanh(c, out=TC[r])
        np.multiply(act[:, H : 2 * H], TC[r], out=Hs[a:z])
    return Hs, (u, Hk, Ck, A, TC)


def _vjp_tree_lstm(g, saved, needs, *, levels):
    """Per level from the top: gate grads dZ and the children's c grads dc~ f_l (one Numba
    pass), the children's h grads dZ U, both scatter-added; then dU = sum dZ^T [h1; h2] (one
    GEMM), db = sum of dZ; the leaves get [dh; dc] (N0, 2H)."""
    u, Hk, Ck, A, TC = saved
    M, H = TC.shape
    Gh = buf("tree_lstm", "Gh", g.shape, A.dtype)  # dL/dh of every node, parent by parent
    Gh[...] = g
    Gc = workspace.zeros(("tree_lstm", "Gc"), g.shape, A.dtype)  # dL/dc: only parents send
    n0 = Gh.shape[0] - M
    dZ = buf("tree_lstm", "dZ", A.shape, A.dtype)
    dhk, dck = (buf("tree_lstm", k, (_widest(levels), 2 * H), A.dtype) for k in ("dhk", "dck"))
    for a, z, kids in reversed(levels):
        r, n = slice(a - n0, z - n0), z - a
        tree_lstm_bwd_level(Gh[a:z], Gc[a:z], A[r], TC[r], Ck[r], dZ[r], dck[:n])
        np.dot(dZ[r], u, out=dhk[:n])
        scatter_add_rows(Gh, kids, dhk[:n].reshape(2 * n, H))
        scatter_add_rows(Gc, kids, dck[:n].reshape(2 * n, H))
    gu = dZ.T @ Hk if needs[1] else None
    gb = dZ.sum(axis=0) if needs[2] else None
    gl = np.concatenate([Gh[:n0], Gc[:n0]], axis=1) if needs[0] else None
    return gl, gu, gb


tree_lstm = register("tree_lstm", _fwd_tree_lstm, _vjp_tree_lstm, arity=3, explain=_explain(2, 5),
                     arg_names=("leaves", "weight", "bias"))
