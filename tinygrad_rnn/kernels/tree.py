"""Gather / scatter-add of node-state rows for level-batched tree encoders.

A level of a tree batch reads its children's states from earlier levels. ``tree_gather_fwd``
copies the rows a level needs into one (n * m, S) block (m child slots per node); its backward,
``tree_gather_bwd``, adds each slot's gradient back into the source row. A child shared by two
parents (a DAG) is gathered twice, so its gradient must *accumulate*: plain fancy assignment would
keep only one of the contributions. Indices are validated when the schedule is built.

The whole-tree ops (:mod:`tinygrad_rnn.ops.tree`) make one call per level besides the GEMM:
``rnn_level_fwd`` / ``rnn_level_bwd`` (RecursiveNN) and ``tree_lstm_bwd_level``. ``tanh_f32``
comes from ``kernels/sequence.py``: after changing it there, clear Numba's cache of this file
too (the cache notices changes to a kernel's own file only).
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels._jit import kernel
from tinygrad_rnn.kernels.sequence import tanh_f32


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


@kernel
def rnn_level_fwd(p, start, stop, b, f32, kids, out):
    """Finish one RecursiveNN level and gather the next level's children, in one pass.

    p (N, H): rows start..stop-1 hold the level's GEMM W [c1; c2]; they become
    tanh(. + b) in place (b (H,); :func:`tanh_f32` when ``f32``, else libm's tanh, as
    NumPy's float64 tanh). Then ``out[i, :] = p[kids[i], :]`` (kids (n,) int64 ids < the next
    level's first row, so every row read is final). One call per level instead of a gather
    kernel, a bias add and a NumPy tanh (whose float32 loop is scalar here: ~3.5 ns a value).
    """
    d = p.shape[1]
    for i in range(start, stop):
        row = p[i]
        if f32:
            for j in range(d):
                row[j] = tanh_f32(row[j] + b[j])
        else:
            for j in range(d):
                row[j] = np.tanh(row[j] + b[j])
    for i in range(kids.shape[0]):
        r = kids[i]
        for j in range(d):
            out[i, j] = p[r, j]
    return out


@kernel
def rnn_level_bwd(g, kids, dx, p, start, stop):
    """Scatter the level above, then turn the next level's dL/dp into dL/da, in one pass.

    ``g[kids[i], :] += dx[i, :]`` (the children's share of the level above, repeats
    accumulating), then ``g[i, :] *= 1 - p[i, :]**2`` for rows start..stop-1, whose parents
    have all been scattered (they lie on higher levels). g, p (N, H); dx (n, H).
    """
    d = g.shape[1]
    for i in range(kids.shape[0]):
        r = kids[i]
        for j in range(d):
            g[r, j] += dx[i, j]
    for i in range(start, stop):
        for j in range(d):
            v = p[i, j]
            g[i, j] *= 1.0 - v * v
    return g


@kernel
def tree_lstm_bwd_level(dh, dc, act, tc, ck, dz, dck):
    """Elementwise backward of one binary Tree-LSTM level (n nodes, H units), in one pass.

    dh, dc (n, H): dL/dh and dL/dc of the level's nodes; act (n, 5H) = the activated gates
    [sigma(i); sigma(o); tanh(u); sigma(f1); sigma(f2)]; tc (n, H) = tanh(c); ck (n, 2H) =
    [c1; c2]. Writes dz (n, 5H), the gates' pre-activation gradients, and dck (n, 2H) =
    [dc~ f1; dc~ f2], the children's c gradients, where dc~ = dc + dh sigma(o) (1 - tanh(c)^2).
    (NumPy needs ~20 passes and as many temporaries for this.)
    """
    n, H = tc.shape
    for r in range(n):
        # 1-D views per gate and row (as lstm_step_bwd): 126 -> 72 us at 300 x 100 float32
        a, z = act[r], dz[r]
        a_i, a_o, a_u, a_1, a_2 = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:4 * H], a[4 * H:]
        z_i, z_o, z_u, z_1, z_2 = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:4 * H], z[4 * H:]
        dhr, dcr, tcr = dh[r], dc[r], tc[r]
        c1, c2, k1, k2 = ck[r, :H], ck[r, H:], dck[r, :H], dck[r, H:]
        for j in range(H):
            si = a_i[j]
            so = a_o[j]
            tu = a_u[j]
            f1 = a_1[j]
            f2 = a_2[j]
            t = tcr[j]
            dct = dcr[j] + dhr[j] * so * (1.0 - t * t)
            z_i[j] = dct * tu * si * (1.0 - si)
            z_o[j] = dhr[j] * t * so * (1.0 - so)
            z_u[j] = dct * si * (1.0 - tu * tu)
            z_1[j] = dct * c1[j] * f1 * (1.0 - f1)
            z_2[j] = dct * c2[j] * f2 * (1.0 - f2)
            k1[j] = dct * f1
            k2[j] = dct * f2
    return dz
