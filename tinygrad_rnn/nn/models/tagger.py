"""Many-to-many, same length: a (bidirectional) recurrent tagger, one label per input word.

Seed 001: a causal RNN labels word t from x^(1..t) only, so "The comedian was *entertaining*
the audience" (VERB) and "... was *entertaining* and informative" (ADJ) get the same answer: the
evidence comes after the word. A bidirectional RNN (Schuster and Paliwal, 1997) runs two
recurrences over the sentence,

    h^(t) = f(U x^(t) + W h^(t-1) + b)      forward: carries information from the past
    g^(t) = f(U' x^(t) + W' g^(t+1) + b')   backward: carries information from the future
    o^(t) = V [h^(t); g^(t)] + c,           y_hat^(t) = softmax(o^(t)),

so every output sees both its left and its right context.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.errors import ShapeError
from tinygrad_rnn.nn.init import as_rng
from tinygrad_rnn.nn.layers import Dropout, Embedding, Linear, check_size
from tinygrad_rnn.nn.losses import sequence_cross_entropy
from tinygrad_rnn.nn.models.inputs import check_padded_ids, make_encoder
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.recurrent import check_lengths
from tinygrad_rnn.tape import no_grad
from tinygrad_rnn.tensor import Tensor


class BiRNNTagger(Module):
    """Embedding -> (bi)directional LSTM/GRU/RNN -> Linear: logits for one tag per word.

    Args:
        vocab_size, n_tags: sizes of the word and tag vocabularies.
        embed_dim, hidden_size: sizes of x^(t) and of each direction's state h^(t) (and g^(t)).
        cell: 'lstm', 'gru' or 'rnn'.
        bidirectional: True for [h^(t); g^(t)]; False gives the causal tagger of seed 001.
        num_layers, dropout: stacked layers; dropout on the embeddings and on the states fed to
            the output layer (training mode only).
        fused: one recorded node per cell step (fast); False shows every gate (for pictures).
        rng: seed or ``np.random.Generator`` for the initial weights and dropout.

    Shapes: ids (T, B) ints, lengths (B,) or None -> logits (T, B, n_tags). Padded steps
    (t >= lengths[b]) change neither the real steps' logits nor any gradient.
    """

    def __init__(self, vocab_size: int, n_tags: int, embed_dim: int = 64,
                 hidden_size: int = 64, cell: str = "lstm", bidirectional: bool = True,
                 num_layers: int = 1, dropout: float = 0.0, fused: bool = True, rng=None,
                 dtype=None):
        check_size("BiRNNTagger", vocab_size=vocab_size, n_tags=n_tags, embed_dim=embed_dim,
                   hidden_size=hidden_size, num_layers=num_layers)
        rng = as_rng(rng)
        self.vocab_size, self.n_tags, self.cell = vocab_size, n_tags, cell
        self.bidirectional = bool(bidirectional)
        self.embed = Embedding(vocab_size, embed_dim, rng=rng, dtype=dtype)
        self.rnn = make_encoder("BiRNNTagger", cell, embed_dim, hidden_size, num_layers,
                                self.bidirectional, fused, rng, dtype)
        self.drop = Dropout(dropout, rng=rng)
        self.head = Linear(hidden_size * (2 if bidirectional else 1), n_tags, rng=rng,
                           dtype=dtype)

    def extra_repr(self) -> str:
        return (f"vocab={self.vocab_size}, tags={self.n_tags}, cell={self.cell!r}, "
                f"bidirectional={self.bidirectional}")

    def forward(self, ids, lengths=None) -> Tensor:
        """o^(t) = V [h^(t); g^(t)] + c for every t: ids (T, B) -> logits (T, B, n_tags).

        Padded ids (t >= lengths[b]) may be any value, -1 included.
        """
        ids, lens, _ = check_padded_ids(ids, lengths, "BiRNNTagger.forward", self.vocab_size)
        x = self.drop(self.embed(ids))
        out, _ = self.rnn(x, lengths=lens)  # (T, B, D*H); zeros at padded steps
        return self.head(self.drop(out))

    def loss(self, ids, tags, lengths=None) -> Tensor:
        """Mean cross-entropy per real word: (1/N) sum_{b, t < len_b} -log y_hat^(t)_b[tag].

        tags: (T, B) ints in [0, n_tags); padded steps may hold anything (e.g. -1).
        """
        func = "BiRNNTagger.loss"
        ids, lens, _ = check_padded_ids(ids, lengths, func, self.vocab_size)
        if np.shape(tags) != ids.shape:
            raise ShapeError(f"{func}: argument 'tags' must have the shape of 'ids' "
                             f"{ids.shape}; got {np.shape(tags)}")
        tags, _, _ = check_padded_ids(tags, lens, func, self.n_tags, "tags")
        return sequence_cross_entropy(self(ids, lens), tags, lens)

    def predict(self, ids, lengths=None) -> np.ndarray:
        """Most likely tag per word, (T, B) ints; -1 at padded steps. Runs without a tape and
        in eval mode (no dropout); the training mode is restored afterwards."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                logits = self(ids, lengths)
        finally:
            self.train(was_training)
        pred = logits.data.argmax(-1)
        _, mask = check_lengths(lengths, "BiRNNTagger.predict", *pred.shape)
        return pred if mask is None else np.where(mask, pred, -1)
