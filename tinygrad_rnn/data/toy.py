"""Generated data for the sequence models (:mod:`tinygrad_rnn.nn.models`): tasks where the
architecture choice decides.

* :func:`ambiguous_tagging_corpus` -- seed 001's "The comedian was entertaining ...": the tag of
  an ambiguous word (VERB or ADJ) is decided only by the words *after* it, so a causal tagger is
  right half the time on those words and a bidirectional one can be right always.
* :func:`aggregation_task` -- many-to-one tasks where one aggregation of seed 003 fits best:
  'contains' (is token 1 anywhere? max / attention), 'majority' (more positive than negative
  tokens? mean), 'last' (the class of the last token: last).
* :func:`reversal_pairs` -- encoder-decoder: reverse a digit string and drop its zeros, so input
  and output lengths differ; :func:`seq2seq_batch` pads a batch of pairs.

Everything is drawn from an explicit ``np.random.Generator``: same seed, same data.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.errors import ArgumentError, DTypeError

LEXICON = {
    "DET": ("the", "a", "every", "this"),
    "ADJ": ("funny", "old", "young", "famous", "quiet", "tired", "new"),
    "NOUN": ("comedian", "audience", "dog", "teacher", "crowd", "child", "singer", "class"),
    "AUX": ("was", "is"),
    "CCONJ": ("and",),
    "ADJ_AFTER": ("informative", "loud", "kind", "clever", "short"),
}
AMBIGUOUS_WORDS = ("entertaining", "boring", "amusing", "interesting", "annoying", "charming")
AGGREGATION_TASKS = ("contains", "majority", "last")


def _check(func: str, n, rng) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ArgumentError(f"{func}: argument 'n' must be a positive int; got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise DTypeError(f"{func}: argument 'rng' must be a numpy.random.Generator; got "
                         f"{type(rng).__name__} (make one with np.random.default_rng(seed))")


def _noun_phrase(rng) -> list[tuple[str, str]]:
    """DET ADJ* NOUN, with zero to two adjectives."""
    words = [(str(rng.choice(LEXICON["DET"])), "DET")]
    words += [(str(rng.choice(LEXICON["ADJ"])), "ADJ") for _ in range(int(rng.integers(0, 3)))]
    return words + [(str(rng.choice(LEXICON["NOUN"])), "NOUN")]


def ambiguous_tagging_corpus(n: int, rng: np.random.Generator) -> list:
    """n sentences (words, tags) of the two forms of seed 001, each with probability 1/2:

        NP AUX <ambiguous> NP            "the comedian was entertaining the audience"  (VERB)
        NP AUX <ambiguous> and ADJ       "the comedian was entertaining and informative" (ADJ)

    The words before the ambiguous one are drawn the same way in both forms, so nothing to its
    left tells the two readings apart.
    """
    _check("ambiguous_tagging_corpus", n, rng)
    out = []
    for _ in range(n):
        pairs = _noun_phrase(rng) + [(str(rng.choice(LEXICON["AUX"])), "AUX")]
        word = str(rng.choice(AMBIGUOUS_WORDS))
        if rng.random() < 0.5:
            pairs += [(word, "VERB")] + _noun_phrase(rng)
        else:
            pairs += [(word, "ADJ"), ("and", "CCONJ"),
                      (str(rng.choice(LEXICON["ADJ_AFTER"])), "ADJ")]
        out.append(([w for w, _ in pairs], [t for _, t in pairs]))
    return out


def _label_and_tokens(task: str, L: int, rng, vocab_size: int):
    half = (vocab_size - 1) // 2  # ids 1..half are "positive"/class 0, the rest class 1
    if task == "contains":  # token 1 at a uniform position in half of the sequences
        seq = rng.integers(2, vocab_size, L)
        label = int(rng.random() < 0.5)
        if label:
            seq[rng.integers(0, L)] = 1
        return seq, label
    seq = rng.integers(1, vocab_size, L)
    if task == "majority":
        label = int(np.sum(seq <= half) > np.sum(seq > half))
    else:
        label = int(seq[-1] > half)
    return seq, label


def aggregation_task(task: str, n: int, rng: np.random.Generator, min_len: int = 5,
                     max_len: int = 20, vocab_size: int = 20) -> tuple[list, np.ndarray]:
    """n ragged sequences of ids in [1, vocab_size) (0 is left free for padding) and labels (n,).

    task 'contains': label 1 iff token 1 occurs (at a uniformly random position).
    task 'majority': label 1 iff more tokens are in [1, half] than in (half, vocab_size);
        lengths are odd, so there are no ties.
    task 'last': label 1 iff the last token is in (half, vocab_size).
    """
    func = "aggregation_task"
    _check(func, n, rng)
    if task not in AGGREGATION_TASKS:
        raise ArgumentError(f"{func}: argument 'task' must be one of 'contains', 'majority', "
                            f"'last'; got {task!r}")
    if not 1 <= min_len <= max_len or vocab_size < 4:
        raise ArgumentError(f"{func}: need 1 <= min_len <= max_len and vocab_size >= 4; got "
                            f"min_len={min_len}, max_len={max_len}, vocab_size={vocab_size}")
    seqs, labels = [], np.empty(n, dtype=np.int64)
    for i in range(n):
        L = int(rng.integers(min_len, max_len + 1))
        if task == "majority" and L % 2 == 0:
            L = L + 1 if L < max_len else L - 1  # an odd count cannot tie
        seq, labels[i] = _label_and_tokens(task, L, rng, vocab_size)
        seqs.append(seq)
    return seqs, labels


# ---- encoder-decoder: digit reversal ------------------------------------------------------
PAD, BOS, EOS = 0, 1, 2  # ids of the reversal task; the digits 0-9 are ids 3..12
REVERSAL_VOCAB = 13


def reversal_pair(digits) -> tuple:
    """Digits -> (source ids, target ids): reversed with the zeros dropped ("30721" -> "127"),
    so source and target lengths differ; a target that would be empty is [1]."""
    out = [int(d) for d in list(digits)[::-1] if d != 0] or [1]
    return [int(d) + 3 for d in digits], [d + 3 for d in out]


def reversal_pairs(n: int, rng: np.random.Generator, max_len: int = 7) -> list:
    """n (source, target) pairs of 2..max_len random digits (see :func:`reversal_pair`)."""
    _check("reversal_pairs", n, rng)
    return [reversal_pair(rng.integers(0, 10, rng.integers(2, max_len + 1))) for _ in range(n)]


def seq2seq_batch(pairs: list) -> tuple:
    """Time-major padded batch of (source, target) id lists:
    src (S, B), src lengths (B,), tgt_in (T, B) = BOS y, tgt_out (T, B) = y EOS (PAD-padded)."""
    S, T = max(len(s) for s, _ in pairs), max(len(t) for _, t in pairs) + 1
    src = np.full((S, len(pairs)), PAD)
    tin, tout = np.full((T, len(pairs)), PAD), np.full((T, len(pairs)), PAD)
    for b, (s, t) in enumerate(pairs):
        src[: len(s), b] = s
        tin[: len(t) + 1, b] = [BOS] + list(t)
        tout[: len(t) + 1, b] = list(t) + [EOS]
    return src, np.array([len(s) for s, _ in pairs]), tin, tout
