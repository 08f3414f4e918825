"""Whole-sequence fused ops: one recorded node runs a whole RNN/LSTM layer in one direction.

What the per-step fused cells cannot avoid, these hoist out of the time loop: the input
projection X W_ih^T + b for all T steps is one GEMM, and the weight gradients are one GEMM each
after the backward loop (dW_hh = sum_t dz_t^T h_(t-1), dW_ih = sum_t dz_t^T x_t) instead of T
small products accumulated one by one. Only the recurrence itself stays a loop.

Inputs: X (T, B, I), h0 (B, H) [, c0 (B, H)], W_ih (G*H, I), W_hh (G*H, H), b_ih, b_hh (G*H,).
Params: reverse (run t = T-1 .. 0), mask ((T, B, 1) bool or None: a padded step keeps the state
and outputs zeros), nonlinearity (RNN). The single output packs everything downstream needs:
out[:T, :, :H] = the per-step outputs, out[T, :, :H] = h_n, and for the LSTM out[T, :, H:] = c_n
(out[:T, :, H:] holds c_t, readable for pictures).
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.ops.elementwise import stable_sigmoid as _sig
from tinygrad_rnn.ops.registry import register


def _order(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _weight_grads(dz, X, Hprev, needs):
    """One GEMM per weight over all steps; the two biases share one sum."""
    G = dz.shape[-1]
    dz2 = dz.reshape(-1, G)
    gwi = dz2.T @ X.reshape(-1, X.shape[-1]) if needs[0] else None
    gwh = dz2.T @ Hprev.reshape(-1, Hprev.shape[-1]) if needs[1] else None
    gb = dz2.sum(axis=0) if (needs[2] or needs[3]) else None
    return gwi, gwh, gb, gb


def _fwd_rnn_seq(X, h0, w_ih, w_hh, b_ih, b_hh, *, reverse, mask, nonlinearity):
    T, B, _ = X.shape
    H = h0.shape[-1]
    xp = X @ w_ih.T
    xp += b_ih + b_hh
    out = np.zeros((T + 1, B, H), dtype=xp.dtype)
    hprev = np.empty((T, B, H), dtype=xp.dtype)
    hnew = np.empty((T, B, H), dtype=xp.dtype)
    h = h0
    for t in _order(T, reverse):
        hprev[t] = h
        a = xp[t] + h @ w_hh.T
        hn = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
        hnew[t] = hn
        h = hn if mask is None else np.where(mask[t], hn, h)
        out[t] = hn if mask is None else hn * mask[t]
    out[T] = h
    return out, (X, w_ih, w_hh, hprev, hnew)


def _vjp_rnn_seq(g, saved, needs, *, reverse, mask, nonlinearity):
    X, w_ih, w_hh, hprev, hnew = saved
    T = X.shape[0]
    da = np.empty_like(hnew)
    dh = g[T].copy()  # gradient reaching the final state h_n
    for t in _order(T, not reverse):
        d_new = g[t] + (dh if mask is None else np.where(mask[t], dh, 0))
        a_grad = d_new * (1 - hnew[t] ** 2) if nonlinearity == "tanh" else d_new * (hnew[t] > 0)
        if mask is not None:
            a_grad = a_grad * mask[t]
        da[t] = a_grad
        dh = a_grad @ w_hh + (0 if mask is None else np.where(mask[t], 0, dh))
    gwi, gwh, gbi, gbh = _weight_grads(da, X, hprev, needs[2:])
    gx = (da.reshape(-1, da.shape[-1]) @ w_ih).reshape(X.shape) if needs[0] else None
    return gx, (dh if needs[1] else None), gwi, gwh, gbi, gbh


def _fwd_lstm_seq(X, h0, c0, w_ih, w_hh, b_ih, b_hh, *, reverse, mask):
    T, B, _ = X.shape
    H = h0.shape[-1]
    xp = X @ w_ih.T
    xp += b_ih + b_hh
    out = np.zeros((T + 1, B, 2 * H), dtype=xp.dtype)
    gates = np.empty((T, B, 4 * H), dtype=xp.dtype)  # activated i, f, g, o
    hprev = np.empty((T, B, H), dtype=xp.dtype)
    cprev = np.empty((T, B, H), dtype=xp.dtype)
    tcs = np.empty((T, B, H), dtype=xp.dtype)
    h, c = h0, c0
    for t in _order(T, reverse):
        hprev[t], cprev[t] = h, c
        z = xp[t] + h @ w_hh.T
        act = gates[t]
        act[:, :2 * H] = _sig(z[:, :2 * H])
        act[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
        act[:, 3 * H:] = _sig(z[:, 3 * H:])
        cn = act[:, H:2 * H] * c + act[:, :H] * act[:, 2 * H:3 * H]
        tcs[t] = np.tanh(cn)
        hn = act[:, 3 * H:] * tcs[t]
        out[t, :, H:] = cn
        if mask is None:
            h, c = hn, cn
            out[t, :, :H] = hn
        else:
            h, c = np.where(mask[t], hn, h), np.where(mask[t], cn, c)
            out[t, :, :H] = hn * mask[t]
    out[T, :, :H], out[T, :, H:] = h, c
    return out, (X, w_ih, w_hh, gates, hprev, cprev, tcs)


def _vjp_lstm_seq(g, saved, needs, *, reverse, mask):
    X, w_ih, w_hh, gates, hprev, cprev, tcs = saved
    T, _, G = gates.shape
    H = G // 4
    dz = np.empty_like(gates)
    dh, dc = g[T, :, :H].copy(), g[T, :, H:].copy()
    for t in _order(T, not reverse):
        i, f, gg, o = (gates[t, :, k * H:(k + 1) * H] for k in range(4))
        m = 1 if mask is None else mask[t]
        dh_new = (g[t, :, :H] + dh) * m
        dc_new = dc * m + g[t, :, H:] + dh_new * o * (1 - tcs[t] ** 2)  # c_t slot: unmasked
        dzt = dz[t]
        dzt[:, :H] = dc_new * gg * i * (1 - i)
        dzt[:, H:2 * H] = dc_new * cprev[t] * f * (1 - f)
        dzt[:, 2 * H:3 * H] = dc_new * i * (1 - gg * gg)
        dzt[:, 3 * H:] = dh_new * tcs[t] * o * (1 - o)
        keep = 0 if mask is None else (1 - mask[t])  # a padded step passes h and c through
        dh = dzt @ w_hh + dh * keep
        dc = dc_new * f + dc * keep
    gwi, gwh, gbi, gbh = _weight_grads(dz, X, hprev, needs[3:])
    gx = (dz.reshape(-1, G) @ w_ih).reshape(X.shape) if needs[0] else None
    return gx, (dh if needs[1] else None), (dc if needs[2] else None), gwi, gwh, gbi, gbh


_ARGS = ("x", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh")
register("rnn_seq", _fwd_rnn_seq, _vjp_rnn_seq, arity=6, arg_names=_ARGS)
register("lstm_seq", _fwd_lstm_seq, _vjp_lstm_seq, arity=7,
         arg_names=("x", "h0", "c0") + _ARGS[2:])
