"""Many-to-one: read a whole sequence, emit one label (seed 001), with a choice of aggregation.

The recurrent encoder gives one state per step, o^(1..T) (T, B, F). Seed 003 lists the ways to
turn them into one vector for the classifier:

    last       z = h^(len)                   the final state (bidirectional: [h^(len); g^(1)])
    mean       z = (1/len) sum_t h^(t)       every step votes equally
    max        z_k = max_t h^(t)_k           "did feature k fire anywhere?"
    attention  a^(t) = softmax_t(q . h^(t)),  z = sum_t a^(t) h^(t)   (a learned query q)

Ragged batches: padded steps (t >= len_b) never count. "last" picks each sequence's own last real
step; "mean" divides by the true length; "max" and "attention" set padded scores to the most
negative float (via ``F.where``) before the max or the softmax, so they get weight 0.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, ShapeError
from tinygrad_rnn.nn.init import as_rng, uniform_param
from tinygrad_rnn.nn.layers import Embedding, Linear, check_size
from tinygrad_rnn.nn.models.inputs import (
    check_choice,
    check_ids,
    check_padded_ids,
    make_encoder,
)
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.recurrent import check_lengths
from tinygrad_rnn.tape import no_grad, scope
from tinygrad_rnn.tensor import Tensor

AGGREGATES = ("last", "mean", "max", "attention")


def _check_outputs(outputs, lengths, func: str):
    if not isinstance(outputs, Tensor) or outputs.ndim != 3:
        got = outputs.shape if isinstance(outputs, Tensor) else type(outputs).__name__
        raise ShapeError(f"{func}: argument 'outputs' must be a Tensor of shape (T, batch, "
                         f"features); got {got}")
    T, B = outputs.shape[:2]
    lens, mask = check_lengths(lengths, func, T, B, min_length=1)
    if lens is None:
        lens = np.full(B, T, dtype=np.int64)
    return lens, mask


def _masked(outputs: Tensor, mask, fill: float) -> Tensor:
    """outputs with padded steps replaced by ``fill`` (no node at all when nothing is padded)."""
    if mask is None or mask.all():
        return outputs
    return F.where(mask[:, :, None], outputs, fill)


def attention_weights(outputs: Tensor, query: Tensor, lengths=None) -> Tensor:
    """a^(t)_b = softmax over the real steps t of q . o^(t)_b: (T, B, F), q (F,) -> (T, B, 1).

    Padded steps get weight exactly 0; the weights of each sequence sum to 1.
    """
    _, mask = _check_outputs(outputs, lengths, "attention_weights")
    F_ = outputs.shape[2]
    if not isinstance(query, Tensor) or query.shape not in ((F_,), (1, F_)):
        got = query.shape if isinstance(query, Tensor) else type(query).__name__
        raise ShapeError(f"attention_weights: argument 'query' must be a Tensor of shape "
                         f"({F_},) (one weight per feature); got {got}")
    with scope(role="attention"):
        scores = F.linear(outputs, query.reshape(1, F_))  # (T, B, 1)
        scores = _masked(scores, mask, float(np.finfo(outputs.dtype).min))
        return F.softmax(scores, axis=0)


def aggregate(outputs: Tensor, lengths=None, method: str = "mean", num_directions: int = 1,
              query: Tensor | None = None) -> Tensor:
    """Pool per-step states (T, B, F) into one vector per sequence (B, F); see the module doc.

    method: 'last', 'mean', 'max' or 'attention' (needs ``query`` (F,)).
    num_directions: 2 when ``outputs`` come from a bidirectional layer ([h^(t); g^(t)] halves):
        'last' then takes h at each sequence's last real step and g at step 0.
    lengths: (B,) ints in [1, T], or None when no sequence is padded.
    """
    check_choice("aggregate", "method", method, AGGREGATES)
    lens, mask = _check_outputs(outputs, lengths, "aggregate")
    if num_directions not in (1, 2) or outputs.shape[2] % num_directions:
        raise ArgumentError(f"aggregate: argument 'num_directions' must be 1 or 2 and divide the "
                            f"{outputs.shape[2]} features; got {num_directions!r}")
    with scope(role=f"aggregate_{method}"):
        if method == "last":
            return _last(outputs, lens, num_directions)
        if method == "mean":
            total = _masked(outputs, mask, 0.0).sum(axis=0)
            return total / lens[:, None].astype(outputs.dtype)
        if method == "max":
            return _masked(outputs, mask, float(np.finfo(outputs.dtype).min)).max(axis=0)
    if query is None:
        raise ArgumentError("aggregate: method 'attention' needs argument 'query' (a learned "
                            "Tensor of shape (features,)); got None")
    alpha = attention_weights(outputs, query, lens if mask is not None else None)
    with scope(role="aggregate_attention"):
        return (alpha * outputs).sum(axis=0)


def _last(outputs: Tensor, lens: np.ndarray, num_directions: int) -> Tensor:
    """Forward state at len_b - 1 (and backward state at 0): the layer's h_n, from the outputs."""
    rows = np.arange(outputs.shape[1])
    forward = outputs[lens - 1, rows]  # (B, F): each sequence's own last real step
    if num_directions == 1:
        return forward
    H = outputs.shape[2] // 2
    return F.concat([forward[:, :H], outputs[0][:, H:]], axis=-1)


class SequenceClassifier(Module):
    """Embedding -> LSTM/GRU/RNN -> aggregate over time -> Linear: one label per sequence.

    Args:
        vocab_size, n_classes, embed_dim, hidden_size, cell, bidirectional, num_layers, fused,
        rng, dtype: as :class:`BiRNNTagger`.
        aggregate: 'last', 'mean', 'max' or 'attention' (see the module docstring).

    Shapes: ids (T, B) ints, lengths (B,) in [1, T] or None -> logits (B, n_classes).
    """

    def __init__(self, vocab_size: int, n_classes: int, embed_dim: int = 32,
                 hidden_size: int = 32, cell: str = "lstm", aggregate: str = "last",
                 bidirectional: bool = False, num_layers: int = 1, fused: bool = True,
                 rng=None, dtype=None):
        check_size("SequenceClassifier", vocab_size=vocab_size, n_classes=n_classes,
                   embed_dim=embed_dim, hidden_size=hidden_size, num_layers=num_layers)
        self.aggregate = check_choice("SequenceClassifier", "aggregate", aggregate, AGGREGATES)
        rng = as_rng(rng)
        self.vocab_size, self.n_classes, self.cell = vocab_size, n_classes, cell
        self.num_directions = 2 if bidirectional else 1
        features = hidden_size * self.num_directions
        self.embed = Embedding(vocab_size, embed_dim, rng=rng, dtype=dtype)
        self.rnn = make_encoder("SequenceClassifier", cell, embed_dim, hidden_size, num_layers,
                                bool(bidirectional), fused, rng, dtype)
        self.query = (uniform_param(rng, (features,), 1.0 / math.sqrt(features), "query", dtype)
                      if aggregate == "attention" else None)
        self.head = Linear(features, n_classes, rng=rng, dtype=dtype)

    def extra_repr(self) -> str:
        return (f"vocab={self.vocab_size}, classes={self.n_classes}, cell={self.cell!r}, "
                f"aggregate={self.aggregate!r}, directions={self.num_directions}")

    def features(self, ids, lengths=None) -> Tensor:
        """The pooled vector z per sequence: ids (T, B) -> (B, num_directions * hidden)."""
        ids, lens, _ = check_padded_ids(ids, lengths, "SequenceClassifier.forward",
                                        self.vocab_size, min_length=1)
        out, _ = self.rnn(self.embed(ids), lengths=lens)
        return aggregate(out, lens, self.aggregate, self.num_directions, self.query)

    def forward(self, ids, lengths=None) -> Tensor:
        """logits = V z + c: ids (T, B) -> (B, n_classes)."""
        return self.head(self.features(ids, lengths))

    def loss(self, ids, labels, lengths=None) -> Tensor:
        """Mean cross-entropy over the batch; labels (B,) ints in [0, n_classes)."""
        labels = check_ids(labels, "SequenceClassifier.loss", self.n_classes, "labels", ndim=1)
        logits = self(ids, lengths)
        if labels.shape[0] != logits.shape[0]:
            raise ShapeError(f"SequenceClassifier.loss: argument 'labels' must have one label "
                             f"per sequence, shape ({logits.shape[0]},); got {labels.shape}")
        return F.cross_entropy(logits, labels)

    def predict(self, ids, lengths=None) -> np.ndarray:
        """Most likely class per sequence, (B,) ints, computed without a tape."""
        with no_grad():
            return self(ids, lengths).data.argmax(-1)

    def attention(self, ids, lengths=None) -> np.ndarray:
        """The attention weights a^(t) (T, B) (aggregate='attention' only), without a tape."""
        if self.query is None:
            raise ArgumentError(f"SequenceClassifier.attention: needs aggregate='attention'; "
                                f"this model aggregates with {self.aggregate!r}")
        ids, lens, _ = check_padded_ids(ids, lengths, "SequenceClassifier.attention",
                                        self.vocab_size, min_length=1)
        with no_grad():
            out, _ = self.rnn(self.embed(ids), lengths=lens)
            return attention_weights(out, self.query, lens).data[:, :, 0]
