"""Token vocabularies: count tokens, keep the frequent ones, map tokens <-> integer ids.

>>> from tinygrad_rnn.data.vocab import Vocab
>>> v = Vocab([["the", "cat"], ["the", "dog"]], pad="<pad>")
>>> v.itos
['<unk>', '<pad>', 'the', 'cat', 'dog']
>>> v.encode(["the", "bird"]).tolist()
[2, 0]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError

__all__ = ["Vocab"]


def _count(tokens: Iterable, lower: bool) -> Counter:
    """Count an iterable of tokens or of token sequences (the two may be mixed)."""
    if isinstance(tokens, str):
        raise DTypeError("Vocab: argument 'tokens' must be an iterable of str or of lists of str, "
                         "not a single str (use list(text) for a character vocabulary)")
    counts: Counter = Counter()
    for i, item in enumerate(tokens):
        if isinstance(item, str):
            counts[item.lower() if lower else item] += 1
            continue
        if not isinstance(item, Iterable):
            raise DTypeError(f"Vocab: tokens[{i}] must be a str or a list of str; "
                             f"got {type(item).__name__}")
        for j, tok in enumerate(item):
            if not isinstance(tok, str):
                raise DTypeError(f"Vocab: tokens[{i}][{j}] must be a str; got {type(tok).__name__}")
            counts[tok.lower() if lower else tok] += 1
    return counts


class Vocab:
    """A token <-> id mapping with special tokens first, then tokens by count (desc), ties by
    token string (asc), so the same corpus always gives the same ids.

    Args:
        tokens: an iterable of tokens, or of token lists (sentences); a bare str is refused.
        min_count: drop tokens seen fewer times than this.
        max_size: at most this many entries *including* the special tokens (the size of an
            embedding table); ``None`` for no limit.
        unk: the unknown token, id 0; ``None`` for a closed vocabulary (tags, labels) where
            encoding an unseen token raises :class:`ArgumentError`.
        pad: an optional padding token, placed right after ``unk``.
        specials: more reserved tokens, placed after ``unk`` and ``pad`` in the given order.
        lower: lowercase tokens when building and when encoding.

    >>> v = Vocab("a b a c a b".split(), min_count=2)
    >>> v.stoi
    {'<unk>': 0, 'a': 1, 'b': 2}
    >>> v.decode([1, 2, 0])
    ['a', 'b', '<unk>']
    """

    def __init__(self, tokens: Iterable = (), *, min_count: int = 1, max_size: int | None = None,
                 unk: str | None = "<unk>", pad: str | None = None,
                 specials: Sequence[str] = (), lower: bool = False):
        reserved = [s for s in (unk, pad) if s is not None] + list(specials)
        self._check_args(min_count, max_size, reserved)
        self.lower = bool(lower)
        self.counts: Counter = _count(tokens, self.lower)
        skip = set(reserved)  # a special token seen in the data keeps its reserved id
        ranked = sorted((t for t, c in self.counts.items() if c >= min_count and t not in skip),
                        key=lambda t: (-self.counts[t], t))
        if max_size is not None:
            ranked = ranked[:max_size - len(reserved)]
        self.itos: list[str] = reserved + ranked
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        self.unk, self.pad = unk, pad
        self.unk_id: int | None = None if unk is None else self.stoi[unk]
        self.pad_id: int | None = None if pad is None else self.stoi[pad]

    @staticmethod
    def _check_args(min_count: object, max_size: object, reserved: list) -> None:
        for name, value in (("min_count", min_count), ("max_size", max_size)):
            if (value is not None or name == "min_count") and (
                    not isinstance(value, int) or isinstance(value, bool)):
                raise DTypeError(f"Vocab: argument '{name}' must be an int; "
                                 f"got {type(value).__name__}")
        if min_count < 1:
            raise ArgumentError(f"Vocab: argument 'min_count' must be >= 1; got {min_count}")
        for s in reserved:
            if not isinstance(s, str):
                raise DTypeError(f"Vocab: special tokens must be str; got {type(s).__name__}")
        if len(set(reserved)) != len(reserved):
            raise ArgumentError(f"Vocab: special tokens must be distinct; got {reserved}")
        if max_size is not None and max_size < len(reserved):
            raise ArgumentError(f"Vocab: argument 'max_size' must be >= the {len(reserved)} "
                                f"special tokens {reserved}; got {max_size}")

    @classmethod
    def from_trees(cls, trees: Iterable, **kwargs) -> Vocab:
        """A vocabulary of the leaf words of ``trees`` (any objects with ``.leaves()``).

        >>> from tinygrad_rnn.data.trees import parse_tree
        >>> Vocab.from_trees([parse_tree("(3 (2 It) (3 good))")]).itos
        ['<unk>', 'It', 'good']
        """
        return cls((tree.leaves() for tree in trees), **kwargs)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        if isinstance(token, str) and self.lower:
            token = token.lower()
        return token in self.stoi

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:5])
        more = ", ..." if len(self.itos) > 5 else ""
        return f"Vocab(size={len(self)}, [{head}{more}])"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Ids of ``tokens`` as a 1-D int64 array; unknown tokens get ``unk_id``.

        >>> Vocab(["a", "b"]).encode(["b", "zzz"]).tolist()
        [2, 0]
        """
        if isinstance(tokens, str):
            raise DTypeError("Vocab.encode: argument 'tokens' must be a list of str, not a str "
                             "(use list(text) to encode characters)")
        ids = []
        for i, tok in enumerate(tokens):
            if not isinstance(tok, str):
                raise DTypeError(f"Vocab.encode: tokens[{i}] must be a str; "
                                 f"got {type(tok).__name__}")
            key = tok.lower() if self.lower else tok
            idx = self.stoi.get(key, self.unk_id)
            if idx is None:
                raise ArgumentError(f"Vocab.encode: tokens[{i}] = {tok!r} is not in the "
                                    "vocabulary and it has no unk token")
            ids.append(idx)
        return np.asarray(ids, dtype=np.int64)

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        """Tokens for a 1-D sequence of ids.

        >>> v = Vocab(["a", "b"])
        >>> v.decode(v.encode(["a", "b", "c"]))
        ['a', 'b', '<unk>']
        """
        arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
        if arr.ndim != 1:
            raise ShapeError(f"Vocab.decode: argument 'ids' must be 1-D; got shape {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise DTypeError(f"Vocab.decode: argument 'ids' must hold integers; got {arr.dtype}")
        bad = np.flatnonzero((arr < 0) | (arr >= len(self.itos))) if arr.size else []
        if len(bad):
            raise ArgumentError(f"Vocab.decode: ids[{bad[0]}] = {arr[bad[0]]} is out of range "
                                f"for a vocabulary of size {len(self.itos)}")
        return [self.itos[i] for i in arr.tolist()]
