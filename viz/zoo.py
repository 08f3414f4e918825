"""A zoo of the models people train, traced after one backward pass, to try the views on.

Each builder returns a fresh ``tr.Graph`` (``loss.backward(retain_grads=True)`` first, so every
value carries its gradient; the values of tensors of up to ``max_values`` elements are kept: 64
is what ``viz.inspect(loss)`` keeps). ``fused`` is handed to the recurrent layers: ``False``
records every gate as a node, ``None`` keeps the library's default, ``True`` asks for fused
layers (whose trace the core opens into the same per-step, per-gate graph). Sizes are those of
small real models: a dozen steps, two layers, batches, a 17-word sentence; the widths are kept
small so a trace takes milliseconds.

>>> g = viz.zoo.build("lstm_char", fused=False)
>>> viz.render(viz.draw(g, view="unrolled"), "lstm.svg")  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr

TEXT = "hello, world!"  # 13 characters: 12 inputs, 12 next-character targets
# An SST-style binarised parse (labels 0-4) of a 17-word sentence written for these tests.
SENTENCE = ("(3 (2 (2 The) (2 film)) (3 (3 (2 (2 never) (2 quite)) (3 (2 finds) (2 (2 its) "
            "(2 footing)))) (2 (2 ,) (3 (2 but) (3 (2 (2 the) (2 cast)) (3 (2 (2 keeps) (2 it)) "
            "(3 (3 (2 warm) (2 and)) (3 funny))))))))")


def _layer(fused):
    return {} if fused is None else {"fused": bool(fused)}


def _finish(loss, max_values: int) -> tr.Graph:
    loss.backward(retain_grads=True)
    return tr.trace(loss, max_values=max_values)


def lstm_char(fused=None, T: int = 12, seed: int = 0, max_values: int = 16) -> tr.Graph:
    """Character model: Embedding -> 2-layer LSTM -> Linear, cross-entropy of the next
    character at each of T steps (batch 1)."""
    chars = sorted(set(TEXT))
    ids = np.array([chars.index(c) for c in (TEXT * 8)[:T + 1]])
    emb = tr.nn.Embedding(len(chars), 8, rng=seed)
    rnn = tr.nn.LSTM(8, 16, num_layers=2, rng=seed + 1, **_layer(fused))
    head = tr.nn.Linear(16, len(chars), rng=seed + 2)
    out, _ = rnn(emb(ids[:-1].reshape(T, 1)))
    return _finish(tr.F.cross_entropy(head(out).reshape(T, len(chars)), ids[1:]), max_values)


def gru_tagger(fused=None, T: int = 8, batch: int = 2, seed: int = 0,
               max_values: int = 16) -> tr.Graph:
    """Part-of-speech tagger: a bidirectional GRU over T words, batch 2, one tag per word."""
    rng = np.random.default_rng(seed)
    m = tr.nn.BiRNNTagger(40, 12, embed_dim=16, hidden_size=16, cell="gru",
                          bidirectional=True, rng=seed, **_layer(fused))
    ids, tags = rng.integers(0, 40, (T, batch)), rng.integers(0, 12, (T, batch))
    return _finish(m.loss(ids, tags), max_values)


def seq2seq_attention(fused=None, S: int = 6, T: int = 5, seed: int = 0,
                      max_values: int = 16) -> tr.Graph:
    """A GRU encoder-decoder with dot-product attention: source 6, target 5 (batch 1)."""
    m = tr.nn.Seq2Seq(12, 10, embed=8, enc_hidden=16, dec_hidden=16, cell="gru",
                      attention=True, rng=seed, **_layer(fused))
    rng = np.random.default_rng(seed)
    src, tgt = rng.integers(1, 12, (S, 1)), rng.integers(1, 10, (T + 1, 1))
    logits = m(src, tgt[:-1])
    return _finish(tr.F.cross_entropy(logits.reshape(T, 10), tgt[1:, 0]), max_values)


def tree_lstm(fused=None, sentence: str = SENTENCE, seed: int = 0,
              max_values: int = 16) -> tr.Graph:
    """A binary Tree-LSTM on one parsed sentence, loss at every node. ``fused=False`` runs
    node by node (every node's ops recorded in its ``tree_node`` scope); otherwise level
    batched, the library's default."""
    tree = tr.data.parse_tree(sentence)
    vocab = tr.data.Vocab.from_trees([tree])
    sched = tr.nn.build_schedule([tree], vocab)
    m = tr.nn.TreeLSTM(len(vocab), input_size=8, hidden_size=8, rng=seed)
    return _finish(m.loss(sched, mode="per_node" if fused is False else "batched"),
                   max_values)


def elman(fused=None, T: int = 60, seed: int = 0, max_values: int = 16) -> tr.Graph:
    """An Elman RNN (tanh) over T = 60 steps, a linear read-out and a loss at every step."""
    rng = np.random.default_rng(seed)
    rnn = tr.nn.RNN(4, 8, rng=seed, **_layer(fused))
    head = tr.nn.Linear(8, 3, rng=seed + 1)
    out, _ = rnn(rng.standard_normal((T, 1, 4)))
    return _finish(tr.F.cross_entropy(head(out).reshape(T, 3), rng.integers(0, 3, T)),
                   max_values)


# name -> (builder, the views that apply)
ZOO = {
    "lstm_char": (lstm_char, ("unrolled", "folded", "backward")),
    "gru_tagger": (gru_tagger, ("unrolled", "folded", "backward")),
    "seq2seq_attention": (seq2seq_attention, ("unrolled", "folded", "backward")),
    "tree_lstm": (tree_lstm, ("tree", "backward")),
    "elman": (elman, ("unrolled", "folded", "backward")),
}


def build(name: str, fused=None, max_values: int = 16) -> tr.Graph:
    """The traced graph of zoo model ``name`` (one of :data:`ZOO`)."""
    if name not in ZOO:
        from viz._errors import OptionError

        raise OptionError(f"viz.zoo.build: name={name!r}; expected one of {', '.join(ZOO)}")
    return ZOO[name][0](fused, max_values=max_values)
