"""Single-step recurrent cells: RNNCell, LSTMCell, GRUCell (PyTorch names, shapes, gate order).

Each takes ``fused=False`` (every gate a visible node: for pictures and teaching) or
``fused=True`` (one node per step: faster); both give the same outputs and gradients.
Initialisation as PyTorch: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.errors import ArgumentError, ShapeError
from tinygrad_rnn.nn.init import as_rng, uniform_param
from tinygrad_rnn.nn.layers import check_size
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.steps import gru_step, lstm_step, rnn_step
from tinygrad_rnn.tensor import Tensor


def make_cell_params(owner, suffix, gates, input_size, hidden_size, bias, rng, dtype):
    """Create weight_ih{suffix} (G*H, I), weight_hh{suffix} (G*H, H), bias_ih/bias_hh (G*H,)."""
    k = 1.0 / math.sqrt(hidden_size)
    G = gates * hidden_size
    shapes = [("weight_ih", (G, input_size)), ("weight_hh", (G, hidden_size))]
    if bias:
        shapes += [("bias_ih", (G,)), ("bias_hh", (G,))]
    for name, shape in shapes:
        setattr(owner, name + suffix, uniform_param(rng, shape, k, name + suffix, dtype))
    if not bias:
        setattr(owner, "bias_ih" + suffix, None)
        setattr(owner, "bias_hh" + suffix, None)


def cell_params(owner, suffix="") -> tuple:
    return tuple(getattr(owner, n + suffix) for n in ("weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh"))


def as_input(x, func: str, size: int, dtype, arg: str = "x") -> tuple:
    """(x as a 2-d Tensor (B, I), whether the caller gave an unbatched (I,) vector)."""
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x), dtype=dtype)
    if x.ndim not in (1, 2) or x.shape[-1] != size:
        raise ShapeError(f"{func}: argument '{arg}' must have shape (batch, {size}) or ({size},); "
                         f"got {x.shape}")
    return (x.reshape(1, size), True) if x.ndim == 1 else (x, False)


def as_state(h, func: str, arg: str, batch: int, hidden: int, dtype, unbatched: bool) -> Tensor:
    if h is None:
        return Tensor._make(np.zeros((batch, hidden), dtype=dtype), None)
    if not isinstance(h, Tensor):
        h = Tensor(np.asarray(h), dtype=dtype)
    want = (hidden,) if unbatched else (batch, hidden)
    if h.shape != want:
        raise ShapeError(f"{func}: argument '{arg}' must have shape {want}; got {h.shape}")
    return h.reshape(1, hidden) if unbatched else h


class _Cell(Module):
    GATES = 1

    def __init__(self, input_size, hidden_size, bias=True, fused=False, rng=None, dtype=None):
        check_size(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.input_size, self.hidden_size, self.fused = input_size, hidden_size, bool(fused)
        make_cell_params(self, "", self.GATES, input_size, hidden_size, bias, as_rng(rng), dtype)

    def _prep(self, x, states):
        func = f"{type(self).__name__}.forward"
        dtype = self.weight_ih.dtype
        x, unbatched = as_input(x, func, self.input_size, dtype)
        return x, unbatched, [as_state(s, func, n, x.shape[0], self.hidden_size, dtype, unbatched)
                              for n, s in states]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, fused={self.fused}"


def _squeeze(t: Tensor, unbatched: bool) -> Tensor:
    return t.reshape(t.shape[-1]) if unbatched else t


class RNNCell(_Cell):
    """Elman cell: h' = tanh(x U^T + b_ih + h W^T + b_hh) (or relu). x (B, I), h (B, H) -> (B, H).

    Parameters: weight_ih = U (H, I), weight_hh = W (H, H), bias_ih, bias_hh (H,).
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", fused=False,
                 rng=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: argument 'nonlinearity' must be 'tanh' or 'relu'; "
                                f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, fused, rng, dtype)

    def forward(self, x, h=None) -> Tensor:
        x, unbatched, (h,) = self._prep(x, [("h", h)])
        out = rnn_step(x, h, cell_params(self), self.nonlinearity, self.fused)
        return _squeeze(out, unbatched)


class LSTMCell(_Cell):
    """LSTM cell, gates (i, f, g, o) stacked in weight_ih (4H, I), weight_hh (4H, H), biases (4H,).

    forward(x, (h, c)) -> (h', c'). ``forget_bias``: if given, bias_ih's forget-gate slice is set
    to it and bias_hh's to 0 (the seeds: "initialize to ~1" so gradients flow through c early on).
    """

    GATES = 4

    def __init__(self, input_size, hidden_size, bias=True, fused=False, forget_bias=None,
                 rng=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, fused, rng, dtype)
        if forget_bias is not None:
            set_forget_bias(self, "", hidden_size, forget_bias)

    def forward(self, x, state=None) -> tuple:
        h, c = (None, None) if state is None else state
        x, unbatched, (h, c) = self._prep(x, [("h", h), ("c", c)])
        h2, c2 = lstm_step(x, h, c, cell_params(self), self.fused)
        return _squeeze(h2, unbatched), _squeeze(c2, unbatched)


def set_forget_bias(owner, suffix: str, hidden: int, value: float) -> None:
    b_ih, b_hh = getattr(owner, "bias_ih" + suffix), getattr(owner, "bias_hh" + suffix)
    if b_ih is None:
        raise ArgumentError("LSTM: 'forget_bias' needs bias=True")
    b_ih.data[hidden:2 * hidden] = value
    b_hh.data[hidden:2 * hidden] = 0.0


class GRUCell(_Cell):
    """GRU cell, gates (r, z, n) stacked in weight_ih (3H, I), weight_hh (3H, H), biases (3H,).

    reset_after=True is PyTorch's form; False is Cho et al. 2014 (the seeds), r * h inside the
    matmul. forward(x, h) -> h'.
    """

    GATES = 3

    def __init__(self, input_size, hidden_size, bias=True, reset_after=True, fused=False,
                 rng=None, dtype=None):
        self.reset_after = bool(reset_after)
        super().__init__(input_size, hidden_size, bias, fused, rng, dtype)

    def forward(self, x, h=None) -> Tensor:
        x, unbatched, (h,) = self._prep(x, [("h", h)])
        out = gru_step(x, h, cell_params(self), self.reset_after, self.fused)
        return _squeeze(out, unbatched)
