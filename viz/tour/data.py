"""Data the tour generates, and the small models it trains on them.

* digit reversal for the encoder-decoder: "30721" -> "127" (reversed, zeros dropped), so source
  and target lengths differ;
* sentiment trees from a tiny grammar with negation ("not good" is negative), so the label of a
  phrase depends on its structure, not only on its words.
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn.data import Tree
from tinygrad_rnn.data import toy as P

PAD, BOS, EOS, VOCAB = P.PAD, P.BOS, P.EOS, P.REVERSAL_VOCAB
pair_of, batch = P.reversal_pair, P.seq2seq_batch


def digit_pairs(n: int, seed: int, max_len: int = 7) -> list:
    return P.reversal_pairs(n, np.random.default_rng(seed), max_len)


def sample(pairs: list, rng: np.random.Generator, k: int) -> list:
    return [pairs[j] for j in rng.integers(0, len(pairs), k)]


def seq2seq_model():
    """GRU encoder (64) -> context C -> GRU decoder (48), fused: tr.trace opens every gate."""
    return tr.nn.Seq2Seq(VOCAB, VOCAB, embed=16, enc_hidden=64, dec_hidden=48, cell="gru",
                         context="both", rng=1)


def seq2seq_loss(model, pairs: list, teacher_forcing: float, rng):
    src, lens, tin, tout = batch(pairs)
    logits = model(src, tin, src_lengths=lens, teacher_forcing=teacher_forcing, rng=rng)
    return tr.F.cross_entropy(logits, tout, ignore_index=PAD)


def token_error(model, pairs: list, teacher_forcing: float) -> float:
    """Per-token error, the decoder fed the truth (1.0) or its own outputs (0.0)."""
    src, lens, tin, tout = batch(pairs)
    with tr.no_grad():
        pred = model(src, tin, src_lengths=lens, teacher_forcing=teacher_forcing).data.argmax(-1)
    mask = tout != PAD
    return float(np.mean(pred[mask] != tout[mask]))


# ---- sentiment trees with negation --------------------------------------------------------
POSITIVE = ("good", "fine", "great", "nice")
NEGATIVE = ("bad", "dull", "awful", "weak")
NEUTRAL = ("film", "plot", "movie", "cast")
WORDS = POSITIVE + NEGATIVE + NEUTRAL + ("not", "very")


def _phrase(rng: np.random.Generator, depth: int) -> Tree:
    """A random binary phrase; labels 0 (negative), 1 (neutral), 2 (positive) by composition:
    "not X" flips X, "very X" keeps it, a pair takes the sign of its non-neutral parts."""
    kind = rng.integers(0, 5) if depth > 0 else 0
    if kind == 0:
        word = str(rng.choice(WORDS[:12]))
        label = 2 if word in POSITIVE else 0 if word in NEGATIVE else 1
        return Tree(label, word=word)
    if kind in (1, 2):
        child = _phrase(rng, depth - 1)
        mod = "not" if kind == 1 else "very"
        label = (2 - child.label) if mod == "not" else child.label
        return Tree(label, children=[Tree(1, word=mod), child])
    left, right = _phrase(rng, depth - 1), _phrase(rng, depth - 1)
    score = (left.label - 1) + (right.label - 1)
    return Tree(1 + int(np.sign(score)), children=[left, right])


def sentiment_trees(n: int, seed: int, depth: int = 3) -> list:
    rng = np.random.default_rng(seed)
    return [_phrase(rng, depth) for _ in range(n)]


def word_ids() -> dict:
    return {w: i for i, w in enumerate(WORDS)}
