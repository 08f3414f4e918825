"""Per-step fused ops: one time step of an Elman/LSTM/GRU cell as one recorded node
(``rnn_cell``, ``lstm_cell``, ``gru_cell``), and ``affine``, the composite cells' pre-activation.

They serve code that runs a cell one step at a time (cells, decoders, beam search); a whole
sequence runs as one node of :mod:`~tinygrad_rnn.ops.sequence` (at T = 1 that op is slower:
benchmarks/cell_forms.py). Inputs are PyTorch's: x (B, I), h (B, H) [, c (B, H)],
W_ih (G*H, I), W_hh (G*H, H), b_ih, b_hh (G*H,). The work stays in NumPy (two BLAS matmuls,
vectorised tanh/sigmoid); the fusion saves the Python bookkeeping of ~10-15 nodes per step.
Gate order: LSTM i, f, g, o; GRU r, z, n.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.ops.elementwise import stable_sigmoid as _sig
from tinygrad_rnn.ops.registry import register

_ARGS = ("x", "h", "weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _affine(x, h, w_ih, w_hh, b_ih, b_hh):
    z = x @ w_ih.T
    z += h @ w_hh.T
    z += b_ih
    z += b_hh
    return z


def _affine_explain(shapes, params):
    sx, sh, swi, swh, sbi, sbh = (tuple(s) for s in shapes)
    if len(sx) != 2 or len(sh) != 2 or sx[0] != sh[0]:
        return f"arguments 'x' and 'h' must be (B, I) and (B, H); got {sx} and {sh}"
    G = swi[0] if swi else None
    want = [sx, sh, (G, sx[1]), (G, sh[1]), (G,), (G,)]
    for name, w, s in zip(_ARGS, want, (sx, sh, swi, swh, sbi, sbh)):
        if s != w:
            return f"argument '{name}' must have shape {w}; got {s}"
    return None


def _affine_vjp(dzx, dzh, x, h, w_ih, w_hh, needs):
    """(gx, gh, gW_ih, gW_hh, gb_ih, gb_hh) for z_x = x W_ih^T + b_ih, z_h = h W_hh^T + b_hh."""
    nx, nh, nwi, nwh, nbi, nbh = needs
    gbi = dzx.sum(axis=0) if nbi else None
    if nbh:  # for RNN/LSTM both biases see the same dz: sum it once
        gbh = gbi if (dzh is dzx and gbi is not None) else dzh.sum(axis=0)
    return (dzx @ w_ih if nx else None, dzh @ w_hh if nh else None,
            dzx.T @ x if nwi else None, dzh.T @ h if nwh else None, gbi, gbh if nbh else None)


# ---- the composite cells' pre-activation as one node (seed eq. 1: a = b + W h + U x) --------
def _fwd_affine(x, h, w_ih, w_hh, b_ih, b_hh):
    """a (B, G) = (x W_ih^T + b_ih) + (h W_hh^T + b_hh): the same sums in the same order as
    two ``linear`` nodes and an ``add``, so composite cells keep their numbers bit for bit."""
    a = x @ w_ih.T
    a += b_ih
    ah = h @ w_hh.T
    ah += b_hh
    if ah.dtype == a.dtype:
        a += ah
    else:  # the wider float wins, as with an add node (an in-place add would keep a's dtype)
        a = a + ah
    return a, (x, h, w_ih, w_hh)


def _vjp_affine(g, saved, needs):
    x, h, w_ih, w_hh = saved
    return _affine_vjp(g, g, x, h, w_ih, w_hh, needs)


def _factor_affine(g, saved, i, shape):
    """dL/dW_ih = g^T x, dL/dW_hh = g^T h, dL/db = column sums of g (see tinygrad_rnn.deferred)."""
    x, h = saved[0], saved[1]
    if i in (4, 5):
        return (g, None) if shape == (g.shape[1],) else None
    a = x if i == 2 else h
    return (g, a) if shape == (g.shape[1], a.shape[1]) else None


affine = register("affine", _fwd_affine, _vjp_affine, arity=6, arg_names=_ARGS,
                  explain=_affine_explain, factor=_factor_affine, factored=(2, 3, 4, 5))


def _fwd_rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, *, nonlinearity):
    a = _affine(x, h, w_ih, w_hh, b_ih, b_hh)
    out = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    return out, (x, h, w_ih, w_hh, out)


def _vjp_rnn_cell(g, saved, needs, *, nonlinearity):
    x, h, w_ih, w_hh, out = saved
    da = g * (1 - out * out) if nonlinearity == "tanh" else g * (out > 0)
    return _affine_vjp(da, da, x, h, w_ih, w_hh, needs)


rnn_cell = register("rnn_cell", _fwd_rnn_cell, _vjp_rnn_cell, arity=6, arg_names=_ARGS)


def _fwd_lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """Output packs [h', c'] as (B, 2H); the layer splits it (both are needed downstream)."""
    H = h.shape[-1]
    z = _affine(x, h, w_ih, w_hh, b_ih, b_hh)
    i, f, o = _sig(z[:, :H]), _sig(z[:, H:2 * H]), _sig(z[:, 3 * H:])
    gg = np.tanh(z[:, 2 * H:3 * H])
    c2 = f * c + i * gg
    tc = np.tanh(c2)
    out = np.concatenate([o * tc, c2], axis=1)
    return out, (x, h, c, w_ih, w_hh, i, f, gg, o, tc)


def _vjp_lstm_cell(g, saved, needs):
    x, h, c, w_ih, w_hh, i, f, gg, o, tc = saved
    H = h.shape[-1]
    gh2, gc2 = g[:, :H], g[:, H:]
    dc = gc2 + gh2 * o * (1 - tc * tc)  # c' feeds h' = o tanh(c') and the next step
    dz = np.concatenate([dc * gg * i * (1 - i), dc * c * f * (1 - f),
                         dc * i * (1 - gg * gg), gh2 * tc * o * (1 - o)], axis=1)
    affine_needs = needs[:2] + needs[3:]  # c is not an input of the affine part
    gx, gh, gwi, gwh, gbi, gbh = _affine_vjp(dz, dz, x, h, w_ih, w_hh, affine_needs)
    return gx, gh, (dc * f if needs[2] else None), gwi, gwh, gbi, gbh


lstm_cell = register("lstm_cell", _fwd_lstm_cell, _vjp_lstm_cell, arity=7,
                     arg_names=("x", "h", "c") + _ARGS[2:])


def _fwd_gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, *, reset_after):
    H = h.shape[-1]
    gi = x @ w_ih.T + b_ih
    if reset_after:  # PyTorch: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        gh = h @ w_hh.T + b_hh
        r = _sig(gi[:, :H] + gh[:, :H])
        z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        hn = gh[:, 2 * H:]
        n = np.tanh(gi[:, 2 * H:] + r * hn)
    else:  # Cho et al. 2014 / the seeds: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
        ghrz = h @ w_hh[:2 * H].T + b_hh[:2 * H]
        r = _sig(gi[:, :H] + ghrz[:, :H])
        z = _sig(gi[:, H:2 * H] + ghrz[:, H:])
        hn = (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:]
        n = np.tanh(gi[:, 2 * H:] + hn)
    out = n + z * (h - n)  # = (1 - z) n + z h
    return out, (x, h, w_ih, w_hh, r, z, n, hn)


def _vjp_gru_cell(g, saved, needs, *, reset_after):
    x, h, w_ih, w_hh, r, z, n, hn = saved
    dn = g * (1 - z) * (1 - n * n)
    dz = g * (h - n) * z * (1 - z)
    if reset_after:
        dr = dn * hn * r * (1 - r)
        dzx = np.concatenate([dr, dz, dn], axis=1)
        dzh = np.concatenate([dr, dz, dn * r], axis=1)
        gx, gh, gwi, gwh, gbi, gbh = _affine_vjp(dzx, dzh, x, h, w_ih, w_hh, needs)
        gh = None if gh is None else gh + g * z
        return gx, gh, gwi, gwh, gbi, gbh
    H = h.shape[-1]
    d_rh = dn @ w_hh[2 * H:]  # gradient reaching r * h through W_hn
    dr = d_rh * h * r * (1 - r)
    dzx = np.concatenate([dr, dz, dn], axis=1)
    gx = dzx @ w_ih if needs[0] else None
    gh = (np.concatenate([dr, dz], 1) @ w_hh[:2 * H] + d_rh * r + g * z) if needs[1] else None
    gwh = None
    if needs[3]:
        gwh = np.concatenate([np.concatenate([dr, dz], 1).T @ h, dn.T @ (r * h)], axis=0)
    gbh = np.concatenate([dr, dz, dn], 1).sum(axis=0) if needs[5] else None
    return (gx, gh, dzx.T @ x if needs[2] else None, gwh,
            dzx.sum(axis=0) if needs[4] else None, gbh)


gru_cell = register("gru_cell", _fwd_gru_cell, _vjp_gru_cell, arity=6, arg_names=_ARGS)
