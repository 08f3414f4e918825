"""The seeds' other recurrences: output-to-hidden (Jordan) and conditioning on y^(t-1).

JordanRNN (seeds 000/001): the hidden state sees the previous *output*, not the previous state:
    a^(t) = U x^(t) + W o^(t-1) + b,  h^(t) = tanh(a^(t)),  o^(t) = V h^(t) + c.
Less powerful than the Elman RNN (o must carry everything the future needs), but with teacher
forcing each step can be trained from the targets alone.

ConditionedRNNCell (seed 001): a^(t) = U x^(t) + W h^(t-1) + R y^(t-1) + b, h^(t) = tanh(a^(t)).
With teacher forcing y^(t-1) is the true previous target; in free running, the model's own choice.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, ShapeError
from tinygrad_rnn.nn.init import as_rng, uniform_param
from tinygrad_rnn.nn.layers import check_size
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor


def _one_hot(ids, k: int, func: str, dtype) -> Tensor:
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu" or ids.ndim != 1:
        raise ShapeError(f"{func}: previous outputs must be a 1-d int array (batch,); got "
                         f"shape {ids.shape}, dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= k):
        raise ArgumentError(f"{func}: previous outputs must be in [0, {k}); got {ids.tolist()}")
    return Tensor(np.eye(k, dtype=dtype)[ids])


def _make_params(owner, rng, dtype, hidden: int, spec) -> None:
    """Attributes from (attribute, seed-notation name, shape); U(-1/sqrt(H), 1/sqrt(H)) init."""
    k = 1.0 / math.sqrt(hidden)
    for attr, name, shape in spec:
        setattr(owner, attr, uniform_param(rng, shape, k, name, dtype))


class JordanRNN(Module):
    """Output-to-hidden recurrence over a whole sequence: x (T, B, I) -> logits o (T, B, K).

    Parameters U = weight_ih (H, I), W = weight_oh (H, K), b = bias_h (H,), V = weight_ho (K, H),
    c = bias_o (K,). ``feedback``: 'output' feeds o^(t-1) (the seeds), 'target' feeds the one-hot
    true y^(t-1) given as ``targets`` (teacher forcing).
    """

    def __init__(self, input_size, hidden_size, output_size, rng=None, dtype=None):
        check_size("JordanRNN", input_size=input_size, hidden_size=hidden_size,
                   output_size=output_size)
        self.hidden_size, self.output_size = hidden_size, output_size
        _make_params(self, as_rng(rng), dtype, hidden_size, [
            ("weight_ih", "U", (hidden_size, input_size)),
            ("weight_oh", "W", (hidden_size, output_size)), ("bias_h", "b", (hidden_size,)),
            ("weight_ho", "V", (output_size, hidden_size)), ("bias_o", "c", (output_size,))])

    def forward(self, x, feedback: str = "output", targets=None) -> Tensor:
        if feedback not in ("output", "target"):
            raise ArgumentError(f"JordanRNN.forward: 'feedback' must be 'output' or 'target'; "
                                f"got {feedback!r}")
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x), dtype=self.weight_ih.dtype)
        if x.ndim != 3:
            raise ShapeError(f"JordanRNN.forward: argument 'x' must be (T, batch, input); got "
                             f"{x.shape}")
        T, B = x.shape[0], x.shape[1]
        if feedback == "target" and np.shape(targets) != (T, B):
            raise ShapeError(f"JordanRNN.forward: teacher forcing needs 'targets' of shape "
                             f"{(T, B)}; got {np.shape(targets)}")
        prev = Tensor(np.zeros((B, self.output_size), dtype=x.dtype))
        outs = []
        for t in range(T):
            with scope(step=t):
                with scope(role="h"):
                    h = (F.linear(x[t], self.weight_ih, self.bias_h)
                         + F.linear(prev, self.weight_oh, None)).tanh()
                with scope(role="o"):
                    o = F.linear(h, self.weight_ho, self.bias_o)
            outs.append(o)
            prev = (o if feedback == "output" else
                    _one_hot(np.asarray(targets)[t], self.output_size, "JordanRNN", x.dtype))
        return F.stack(outs)


class ConditionedRNNCell(Module):
    """h' = tanh(U x + W h + R y_prev + b); y_prev: int ids (B,) (one-hot inside) or a (B, K)
    Tensor (e.g. the model's softmax, for free running with gradients)."""

    def __init__(self, input_size, hidden_size, output_size, rng=None, dtype=None):
        check_size("ConditionedRNNCell", input_size=input_size, hidden_size=hidden_size,
                   output_size=output_size)
        self.hidden_size, self.output_size = hidden_size, output_size
        _make_params(self, as_rng(rng), dtype, hidden_size, [
            ("weight_ih", "U", (hidden_size, input_size)),
            ("weight_hh", "W", (hidden_size, hidden_size)),
            ("weight_yh", "R", (hidden_size, output_size)), ("bias", "b", (hidden_size,))])

    def forward(self, x: Tensor, h: Tensor, y_prev) -> Tensor:
        if not isinstance(y_prev, Tensor):
            y_prev = _one_hot(y_prev, self.output_size, "ConditionedRNNCell.forward", h.dtype)
        with scope(role="h"):
            return (F.linear(x, self.weight_ih, self.bias) + F.linear(h, self.weight_hh, None)
                    + F.linear(y_prev, self.weight_yh, None)).tanh()
