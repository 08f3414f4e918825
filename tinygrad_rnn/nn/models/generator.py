"""One-to-many: generate a sequence from one fixed vector v (seed 001, e.g. image captioning).

Seed 001 lists the ways to give an RNN an extra input v: as an extra input at each time step, as
the initial state h^(0), or both. The model is also conditioned on its previous outputs y^(t-1):

    condition='input':  x^(t) = [E y^(t-1); v],   h^(0) = 0
    condition='init':   x^(t) = E y^(t-1),        h^(0) = tanh(R v + r)
    condition='both':   x^(t) = [E y^(t-1); v],   h^(0) = tanh(R v + r)
    h^(t) = cell(x^(t), h^(t-1)),   o^(t) = V h^(t) + c,   y^(t) ~ softmax(o^(t))

y^(0) is a start symbol. Training uses teacher forcing (seed 001): y^(t-1) is the *true* previous
token, so all T steps run as one recurrent-layer call and the loss is the conditional maximum
likelihood. ``generate`` runs open loop: y^(t-1) is the model's own previous choice.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.nn.cells import as_input
from tinygrad_rnn.nn.init import as_rng
from tinygrad_rnn.nn.layers import Embedding, Linear, check_size
from tinygrad_rnn.nn.losses import sequence_cross_entropy
from tinygrad_rnn.nn.models.inputs import (
    check_choice,
    check_ids,
    check_padded_ids,
    make_encoder,
)
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.tape import no_grad, scope
from tinygrad_rnn.tensor import Tensor

CONDITIONS = ("input", "init", "both")


class SequenceGenerator(Module):
    """Fixed vector v (B, input_size) -> a token sequence, conditioned on y^(t-1).

    Args:
        vocab_size: output tokens (including the start and end symbols).
        input_size: size of v.
        embed_dim, hidden_size, cell ('lstm', 'gru', 'rnn'), num_layers, fused, rng, dtype: as
            :class:`BiRNNTagger` (always unidirectional: the future is what we generate).
        condition: 'input', 'init' or 'both' (see the module docstring).
        start_id: the token fed as y^(0).
    """

    def __init__(self, vocab_size: int, input_size: int, embed_dim: int = 32,
                 hidden_size: int = 64, cell: str = "gru", condition: str = "both",
                 start_id: int = 0, num_layers: int = 1, fused: bool = True, rng=None,
                 dtype=None):
        check_size("SequenceGenerator", vocab_size=vocab_size, input_size=input_size,
                   embed_dim=embed_dim, hidden_size=hidden_size, num_layers=num_layers)
        self.condition = check_choice("SequenceGenerator", "condition", condition, CONDITIONS)
        self.start_id = int(check_ids([start_id], "SequenceGenerator", vocab_size, "start_id",
                                      ndim=1)[0])
        rng = as_rng(rng)
        self.vocab_size, self.input_size, self.cell = vocab_size, input_size, cell
        self.hidden_size, self.num_layers = hidden_size, num_layers
        feeds_v = condition in ("input", "both")
        self.embed = Embedding(vocab_size, embed_dim, rng=rng, dtype=dtype)
        self.rnn = make_encoder("SequenceGenerator", cell, embed_dim + input_size * feeds_v,
                                hidden_size, num_layers, False, fused, rng, dtype)
        self.init = (Linear(input_size, hidden_size, rng=rng, dtype=dtype)
                     if condition in ("init", "both") else None)
        self.head = Linear(hidden_size, vocab_size, rng=rng, dtype=dtype)

    def extra_repr(self) -> str:
        return (f"vocab={self.vocab_size}, input={self.input_size}, cell={self.cell!r}, "
                f"condition={self.condition!r}")

    # ---- the two ways v enters -------------------------------------------------------------
    def _initial_state(self, v: Tensor):
        """h^(0) = tanh(R v + r) for every layer (LSTM: c^(0) = 0); None means zeros."""
        if self.init is None:
            return None
        with scope(role="h0"):
            h = self.init(v).tanh()
            h0 = F.stack([h] * self.num_layers, axis=0)  # (L, B, H)
        if self.cell != "lstm":
            return h0
        return h0, Tensor(np.zeros(h0.shape, dtype=h0.dtype))

    def _inputs(self, prev: np.ndarray, v: Tensor) -> Tensor:
        """x^(t) = E y^(t-1) (T, B, E), with v appended at every step when condition asks."""
        x = self.embed(prev)
        if self.condition == "init":
            return x
        with scope(role="v_every_step"):
            vs = F.stack([v] * prev.shape[0], axis=0)  # one copy of v per step: grads add up
            return F.concat([x, vs], axis=-1)

    def _v(self, v, func: str) -> Tensor:
        return as_input(v, func, self.input_size, self.head.weight.dtype, arg="v")[0]

    # ---- training: teacher forcing ----------------------------------------------------------
    def forward(self, v, targets, lengths=None) -> Tensor:
        """Teacher forcing: logits o^(t) (T, B, vocab) for targets y^(1..T) (T, B) ints.

        The input at step t is the true y^(t-1) (y^(0) = start_id), not the model's guess.
        """
        func = "SequenceGenerator.forward"
        v = self._v(v, func)
        targets, lens, _ = check_padded_ids(targets, lengths, func, self.vocab_size, "targets")
        T, B = targets.shape
        if v.shape[0] != B:
            raise ShapeError(f"{func}: argument 'v' must have one row per sequence, batch "
                             f"{B} (from 'targets' {targets.shape}); got {v.shape}")
        prev = np.concatenate([np.full((1, B), self.start_id), targets[:-1]], axis=0)
        out, _ = self.rnn(self._inputs(prev, v), self._initial_state(v), lengths=lens)
        return self.head(out)

    def loss(self, v, targets, lengths=None) -> Tensor:
        """-(1/N) sum_t log p(y^(t) | y^(<t), v) over the real steps (teacher forcing).

        targets: (T, B) ints; padded steps (t >= lengths[b]) may hold anything (e.g. -1).
        """
        func = "SequenceGenerator.loss"
        targets, lens, _ = check_padded_ids(targets, lengths, func, self.vocab_size, "targets")
        return sequence_cross_entropy(self(v, targets, lens), targets, lens)

    # ---- inference: free running ------------------------------------------------------------
    def generate(self, v, max_len: int, start_id: int | None = None, end_id: int | None = None,
                 greedy: bool = True, rng: np.random.Generator | None = None,
                 temperature: float = 1.0) -> np.ndarray:
        """Open loop: y^(t) = argmax o^(t) (greedy) or a sample of softmax(o^(t) / temperature)
        drawn with ``rng``; y^(t) is fed back as the next input. -> ids (max_len, B).

        After a sequence emits ``end_id`` the rest of its row is ``end_id``. Runs without a tape.
        """
        func = "SequenceGenerator.generate"
        if not isinstance(max_len, int) or isinstance(max_len, bool) or max_len < 1:
            raise ArgumentError(f"{func}: argument 'max_len' must be a positive int; got "
                                f"{max_len!r}")
        if not greedy and not isinstance(rng, np.random.Generator):
            raise DTypeError(f"{func}: sampling (greedy=False) needs argument 'rng', a "
                             f"numpy.random.Generator; got {type(rng).__name__}")
        if not temperature > 0:
            raise ArgumentError(f"{func}: argument 'temperature' must be > 0; got {temperature!r}")
        start = self.start_id if start_id is None else start_id
        y = check_ids([start], func, self.vocab_size, "start_id", ndim=1)
        if end_id is not None:
            check_ids([end_id], func, self.vocab_size, "end_id", ndim=1)
        with no_grad():
            v = self._v(v, func)
            return self._run_open_loop(v, np.repeat(y, v.shape[0]), max_len, end_id,
                                       None if greedy else rng, temperature)

    def _run_open_loop(self, v, y, max_len, end_id, rng, temperature) -> np.ndarray:
        state = self._initial_state(v)
        ids = np.empty((max_len, v.shape[0]), dtype=np.int64)
        done = np.zeros(v.shape[0], dtype=bool)
        for t in range(max_len):
            out, state = self.rnn(self._inputs(y[None, :], v), state)
            logits = self.head(out[0]).data / temperature  # (B, vocab)
            if rng is None:
                y = logits.argmax(-1)
            else:
                p = np.exp(logits - logits.max(-1, keepdims=True))
                p /= p.sum(-1, keepdims=True)
                u = rng.random((p.shape[0], 1))  # inverse CDF: one uniform draw per sequence
                y = np.minimum((p.cumsum(-1) < u).sum(-1), p.shape[1] - 1)
            if end_id is not None:
                y = np.where(done, end_id, y)
                done |= y == end_id
            ids[t] = y
        return ids
