"""Whole-sequence fused GRU: one recorded node runs a whole GRU layer in one direction.

Gate order r, z, n (PyTorch). Per step, with x_t W_ih^T + b_ih = [i_r, i_z, i_n]:

    r = sigma(i_r + W_hr h + b_hr),   z = sigma(i_z + W_hz h + b_hz)
    reset_after=True  (PyTorch):   n = tanh(i_n + r * (W_hn h + b_hn))
    reset_after=False (Cho 2014, the seeds): n = tanh(i_n + W_hn (r * h) + b_hn)
    h' = (1 - z) * n + z * h  (computed as n + z * (h - n))

As in :mod:`~tinygrad_rnn.ops.sequence`, the input projection of all T steps is one GEMM (with
every bias that is not multiplied by r folded in), and after the backward loop the weight
gradients are single GEMMs over all steps; only the recurrence stays a loop (no recursion in T).
Inside the loops every value is written into preallocated per-step slices (few temporaries), and
the recurrent products are formed as (W h^T)^T, the shape OpenBLAS runs faster (benchmarks/
README.md, "ops/sequence.py"); the result is only read, so its layout costs nothing.

Inputs: X (T, B, I), h0 (B, H), W_ih (3H, I), W_hh (3H, H), b_ih, b_hh (3H,).
Params: reverse, mask ((T, B, 1) bool or None: a padded step keeps h and outputs zeros),
reset_after. Output (T+1, B, H): out[:T] = the per-step outputs h_t (zeros where padded,
readable for pictures), out[T] = h_n.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import workspace
from tinygrad_rnn.kernels.sequence import gru_step_bwd, gru_step_fwd
from tinygrad_rnn.ops.elementwise import stable_sigmoid_ as _sig_
from tinygrad_rnn.ops.registry import register
from tinygrad_rnn.ops.sequence import (
    carry,
    check_kernel_shapes,
    input_projection,
    seq_explain,
    step_order,
)
from tinygrad_rnn.workspace import buf


def _fwd_gru_seq(X, h0, w_ih, w_hh, b_ih, b_hh, *, reverse, mask, reset_after):
    """-> out (T+1, B, H) as in the module doc; saves the activated gates (T, B, 3H), h_(t-1)
    and the gate-internal term ``inner`` (T, B, H) for the backward pass."""
    T, B, _ = X.shape
    H = h0.shape[-1]
    bias = b_ih.copy()
    if reset_after:  # b_hn stays inside r * (W_hn h + b_hn)
        bias[:2 * H] += b_hh[:2 * H]
    else:
        bias += b_hh
    xp = input_projection(X, w_ih, bias, "gru_seq", states=(h0,))
    check_kernel_shapes(3, xp, w_hh, (h0,), b_hh)
    out = workspace.zeros(("gru_seq", "out"), (T + 1, B, H), xp.dtype)
    gates = buf("gru_seq", "gates", (T, B, 3 * H), xp.dtype)  # activated r, z, n
    hprev = buf("gru_seq", "hprev", (T, B, H), xp.dtype)
    # reset_after: W_hn h + b_hn (what r multiplies); else r * h (what W_hn multiplies)
    inner = buf("gru_seq", "inner", (T, B, H), xp.dtype)
    hn = np.empty((B, H), dtype=xp.dtype) if mask is not None else None
    zt = np.empty((3 * H, B), dtype=np.result_type(h0, w_hh))  # matmul's out= takes no casting
    h = h0
    for t in step_order(T, reverse):
        hprev[t] = h
        new = out[t] if mask is None else hn  # h' = n + z (h - n), straight into its slot
        if reset_after:  # one product for all three gates, one fused pass for the rest
            np.matmul(w_hh, h.T, out=zt)  # (W h^T)^T: the faster shape (module doc)
            gru_step_fwd(xp[t], zt, b_hh[2 * H:], h, xp.dtype == np.float32, gates[t],
                         inner[t], new)
        else:
            _gates(xp[t], h, w_hh, gates[t], inner[t])
            n, z = gates[t, :, 2 * H:], gates[t, :, H:2 * H]
            np.subtract(h, n, out=new)
            new *= z
            new += n
        h = carry(new, h, mask, t, out)
    out[T] = h
    return out, (X, w_ih, w_hh, gates, hprev, inner)


def _gates(x_t, h, w_hh, act, inner):
    """Cho form: fill act (B, 3H) with the activated r, z, n of one step, and inner = r * h."""
    H = h.shape[-1]
    rz, n = act[:, :2 * H], act[:, 2 * H:]
    np.add(x_t[:, :2 * H], (w_hh[:2 * H] @ h.T).T, out=rz)
    _sig_(rz)
    np.multiply(rz[:, :H], h, out=inner)
    n[:] = (w_hh[2 * H:] @ inner.T).T
    n += x_t[:, 2 * H:]
    np.tanh(n, out=n)


def _vjp_gru_seq(g, saved, needs, *, reverse, mask, reset_after):
    """g (T+1, B, H) -> gradients of (X, h0, W_ih, W_hh, b_ih, b_hh): a loop over the steps
    (t = T-1 .. 0 forward direction) for dL/dh, then single GEMMs for the weights."""
    X, w_ih, w_hh, gates, hprev, inner = saved
    T, B, G = gates.shape
    H = G // 3
    w_t = np.ascontiguousarray(w_hh.T)  # dh = (W_hh^T dz^T)^T: the faster shape, see above
    dzx = buf("gru_seq", "dzx", gates.shape, gates.dtype)  # at the input pre-activations
    dzh = buf("gru_seq", "dzh", gates.shape, gates.dtype) if reset_after else None  # W_hh
    dh = g[T].copy()  # gradient reaching the final state h_n
    dh_new, tmp = np.empty((B, H), dtype=gates.dtype), np.empty((B, H), dtype=gates.dtype)
    for t in step_order(T, not reverse):
        np.add(g[t], dh, out=dh_new)
        if mask is not None:
            dh_new *= mask[t]  # a padded step's new h reaches neither output nor state
        cell = _step_back(dh_new, gates[t], hprev[t], inner[t], w_t, dzx[t],
                          None if dzh is None else dzh[t], tmp)
        dh = cell if mask is None else cell + dh * ~mask[t]  # padded: h passes through
    gx = (dzx.reshape(-1, G) @ w_ih).reshape(X.shape) if needs[0] else None
    gwi = dzx.reshape(-1, G).T @ X.reshape(-1, X.shape[-1]) if needs[2] else None
    gbi = dzx.reshape(-1, G).sum(axis=0) if needs[4] else None
    gwh, gbh = _hidden_weight_grads(dzx, dzh, hprev, inner, needs[3], needs[5])
    return gx, (np.ascontiguousarray(dh) if needs[1] else None), gwi, gwh, gbi, gbh


def _step_back(dh_new, act, h, inner, w_t, dzx, dzh, tmp):
    """One step back from dL/dh_t = dh_new (B, H): fill dzx (B, 3H) = dL/d[r, z, n] at the
    input pre-activations (and dzh, reset_after: at the W_hh products) and return the part of
    dL/dh_(t-1) that goes through the cell (w_t = W_hh^T):

    dn = dh' (1 - z)(1 - n^2),  dz = dh' (h - n) z (1 - z),
    reset_after: dr = dn (W_hn h + b_hn) r (1 - r), dh = [dr, dz, dn r] W_hh + dh' z;
    Cho form:    d(rh) = dn W_hn, dr = d(rh) h r (1 - r), dh = [dr, dz] W_hrz + d(rh) r + dh' z.
    reset_after runs as one fused kernel and one GEMM (:func:`gru_step_bwd`); the Cho form
    writes each product into a slice it owns (``tmp`` is scratch): few temporaries.
    """
    if dzh is not None:
        gru_step_bwd(dh_new, act, h, inner, dzx, dzh, tmp)
        dh = (w_t @ dzh.T).T
        dh += tmp
        return dh
    H = h.shape[-1]
    r, z, n = act[:, :H], act[:, H:2 * H], act[:, 2 * H:]
    dr, dz, dn = dzx[:, :H], dzx[:, H:2 * H], dzx[:, 2 * H:]
    np.multiply(n, n, out=tmp)
    np.subtract(1, tmp, out=tmp)
    np.multiply(dh_new, tmp, out=dn)
    np.subtract(1, z, out=tmp)
    dn *= tmp
    np.subtract(h, n, out=dz)
    dz *= dh_new
    dz *= z
    dz *= tmp  # 1 - z
    np.subtract(1, r, out=tmp)
    tmp *= r
    d_rh = (w_t[:, 2 * H:] @ dn.T).T  # gradient reaching r * h through W_hn
    np.multiply(d_rh, h, out=dr)
    dr *= tmp
    dh = (w_t[:, :2 * H] @ dzx[:, :2 * H].T).T
    d_rh *= r
    dh += d_rh
    np.multiply(dh_new, z, out=tmp)
    dh += tmp
    return dh


def _hidden_weight_grads(dzx, dzh, hprev, inner, need_w, need_b):
    """dW_hh and db_hh as single GEMMs / sums over all T steps.

    reset_after: dW_hh = sum_t dz_h,t^T h_(t-1). Cho form: the r, z rows read h_(t-1), the n rows
    read r * h_(t-1), and every b_hh slice sees the same gradient as b_ih's."""
    G = dzx.shape[-1]
    H = G // 3
    if dzh is not None:
        d2 = dzh.reshape(-1, G)
        gw = d2.T @ hprev.reshape(-1, H) if need_w else None
        return gw, (d2.sum(axis=0) if need_b else None)
    gw = None
    if need_w:
        d2 = dzx.reshape(-1, G)
        gw = np.empty((G, H), dtype=dzx.dtype)
        np.matmul(d2[:, :2 * H].T, hprev.reshape(-1, H), out=gw[:2 * H])
        np.matmul(d2[:, 2 * H:].T, inner.reshape(-1, H), out=gw[2 * H:])
    return gw, (dzx.reshape(-1, G).sum(axis=0) if need_b else None)


gru_seq = register("gru_seq", _fwd_gru_seq, _vjp_gru_seq, arity=6, explain=seq_explain(3, 1),
                   arg_names=("x", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"))
