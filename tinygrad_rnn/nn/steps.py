"""One time step of each recurrent cell, as functions of tensors (used by cells and layers).

Composite steps record every gate as its own node, tagged with a ``role`` (``gate_i``, ``c``,
``h``, ...) for the pictures; fused steps record one node (``rnn_cell``/``lstm_cell``/
``gru_cell``) and give the same numbers. Notation (seeds 000/001, PyTorch layout):
U = weight_ih (G*H, I), W = weight_hh (G*H, H), b = bias_ih + bias_hh.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import expansion, ops
from tinygrad_rnn import functional as F
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor, apply


def bias_or_zeros(b, w) -> Tensor:
    """bias=False modules still feed the fused ops a (constant, grad-free) zero bias."""
    return b if b is not None else Tensor._make(np.zeros(w.shape[0], dtype=w.dtype), None)


def _named(tensors, names):
    """Give the pieces of a split readable names (the pictures label nodes by them)."""
    for t, n in zip(tensors, names):
        t.name = n
    return tensors


def activate(gates) -> list:
    """[(name, pre-activation, "sigmoid" | "tanh")] -> the activations, each recorded with role
    ``gate_<name>`` (the pictures colour and name gates by it)."""
    out = []
    for name, z, fn in gates:
        with scope(role=f"gate_{name}"):
            out.append(getattr(z, fn)())
    return out


def _affine(x, h, p):
    """a = (x W_ih^T + b_ih) + (h W_hh^T + b_hh) as one ``affine`` node (seed eq. 1), whose
    inputs are x, h and the four parameters: half the nodes of two linears and an add, the same
    numbers. Inputs with other than (B, I) / (B, H) shapes take the two linears."""
    w_ih, w_hh, b_ih, b_hh = p
    args = (x, h, w_ih, w_hh, bias_or_zeros(b_ih, w_ih), bias_or_zeros(b_hh, w_hh))
    if x.ndim == 2 and h.ndim == 2:
        return apply(ops.affine, args, {})
    return F.linear(x, w_ih, args[4]) + F.linear(h, w_hh, args[5])


def rnn_step(x: Tensor, h: Tensor, p: tuple, nonlinearity: str = "tanh", fused: bool = False):
    """Elman: a^(t) = U x^(t) + W h^(t-1) + b,  h^(t) = tanh(a^(t))  (or relu). -> (B, H)."""
    if fused:
        anchor = expansion.begin()
        args = (x, h, p[0], p[1], bias_or_zeros(p[2], p[0]), bias_or_zeros(p[3], p[1]))
        out = apply(ops.rnn_cell, args, {"nonlinearity": nonlinearity})
        expansion.record([out], lambda: [rnn_step(x, h, p, nonlinearity)], anchor)
        return out
    with scope(cell="rnn"):  # the ops of one cell: the grid's box
        with scope(role="a"):
            a = _affine(x, h, p)
        with scope(role="h"):
            return a.tanh() if nonlinearity == "tanh" else a.relu()


def lstm_step(x: Tensor, h: Tensor, c: Tensor, p: tuple, fused: bool = False):
    """LSTM (gate order i, f, g, o as PyTorch; seeds' eqs. 8-12 with s = c, q = o):

    i = sigma(U_i x + W_i h + b_i), f = sigma(...), g = tanh(...), o = sigma(...)
    c^(t) = f * c^(t-1) + i * g,   h^(t) = o * tanh(c^(t)).   -> (h, c), each (B, H).
    """
    if fused:
        anchor = expansion.begin()
        args = (x, h, c, p[0], p[1], bias_or_zeros(p[2], p[0]), bias_or_zeros(p[3], p[1]))
        hc = apply(ops.lstm_cell, args, {})
        with scope(role="h"):
            h2, c2 = F.split(hc, 2, axis=-1)
        expansion.record([h2, c2], lambda: lstm_step(x, h, c, p), anchor)
        return h2, c2
    with scope(cell="lstm"):  # the ops of one cell: the grid's box
        with scope(role="gates"):
            z = _affine(x, h, p)
            zi, zf, zg, zo = _named(F.split(z, 4, axis=-1), ("z_i", "z_f", "z_g", "z_o"))
        i, f, g, o = activate([("i", zi, "sigmoid"), ("f", zf, "sigmoid"), ("g", zg, "tanh"),
                               ("o", zo, "sigmoid")])
        with scope(role="c"):
            keep, write = _named([f * c, i * g], ("f*c_prev", "i*g"))
            c2 = keep + write
        with scope(role="h"):
            h2 = o * c2.tanh()
        return h2, c2


def gru_step(x: Tensor, h: Tensor, p: tuple, reset_after: bool = True, fused: bool = False):
    """GRU (gate order r, z, n as PyTorch). reset_after=True (PyTorch):
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); reset_after=False (Cho 2014, the seeds):
    n = tanh(W_in x + b_in + W_hn (r * h) + b_hn). Then h^(t) = (1 - z) * n + z * h^(t-1).
    """
    if fused:
        anchor = expansion.begin()
        args = (x, h, p[0], p[1], bias_or_zeros(p[2], p[0]), bias_or_zeros(p[3], p[1]))
        out = apply(ops.gru_cell, args, {"reset_after": bool(reset_after)})
        expansion.record([out], lambda: [gru_step(x, h, p, reset_after)], anchor)
        return out
    with scope(cell="gru"):  # the ops of one cell: the grid's box
        with scope(role="gates"):
            ir, iz, i_n, hr, hz, h_n = _gru_projections(x, h, p, reset_after)
        with scope(role="gate_r"):
            r = (ir + hr).sigmoid()
        with scope(role="gate_z"):
            z = (iz + hz).sigmoid()
        with scope(role="gate_n"):
            if reset_after:
                n = (i_n + r * h_n).tanh()
            else:  # Cho form: W_hn reads r * h
                w_hh, b_hh = p[1], bias_or_zeros(p[3], p[1])
                H = w_hh.shape[1]
                n = (i_n + F.linear(r * h, w_hh[2 * H:], b_hh[2 * H:])).tanh()
        with scope(role="h"):
            return n + z * (h - n)


def _gru_projections(x, h, p, reset_after: bool) -> tuple:
    """The GRU's x- and h-projections split per gate: (x_r, x_z, x_n, h_r, h_z, h_n); h_n is
    None for reset_after=False (W_hn multiplies r * h there, after the reset gate)."""
    w_ih, w_hh, b_ih, b_hh = p
    H = w_hh.shape[1]
    xs = _named(F.split(F.linear(x, w_ih, bias_or_zeros(b_ih, w_ih)), 3, axis=-1),
                ("x_r", "x_z", "x_n"))
    if reset_after:
        hs = _named(F.split(F.linear(h, w_hh, bias_or_zeros(b_hh, w_hh)), 3, axis=-1),
                    ("h_r", "h_z", "h_n"))
        return (*xs, *hs)
    b_rz = bias_or_zeros(b_hh, w_hh)[: 2 * H]
    hs = _named(F.split(F.linear(h, w_hh[: 2 * H], b_rz), 2, -1), ("h_r", "h_z"))
    return (*xs, *hs, None)
