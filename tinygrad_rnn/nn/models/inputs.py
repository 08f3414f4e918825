"""What the sequence models share: argument checks, ragged batches, the encoder chosen by name.

Every check runs in Python before any op, and its message names the model, the argument, what
was expected and what came, e.g. ``"BiRNNTagger.forward: argument 'ids' must have shape
(T, batch); got (7,)"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.nn.recurrent import GRU, LSTM, RNN, check_lengths
from tinygrad_rnn.tensor import Tensor

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


def check_choice(func: str, arg: str, value, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else an ArgumentError listing them."""
    if not isinstance(value, str) or value not in choices:
        names = ", ".join(repr(c) for c in choices)
        raise ArgumentError(f"{func}: argument '{arg}' must be one of {names}; got {value!r}")
    return value


def make_encoder(func: str, cell: str, input_size: int, hidden_size: int, num_layers: int,
                 bidirectional: bool, fused: bool, rng, dtype):
    """tr.nn.LSTM / GRU / RNN chosen by name (``cell``), time-major."""
    layer = CELLS[check_choice(func, "cell", cell, tuple(CELLS))]
    return layer(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                 fused=fused, rng=rng, dtype=dtype)


def last_hidden(state) -> Tensor:
    """h_n of a recurrent layer's final state (LSTM returns (h_n, c_n))."""
    return state[0] if isinstance(state, tuple) else state


def check_ids(ids, func: str, vocab_size: int, arg: str = "ids", ndim: int = 2) -> np.ndarray:
    """Integer ids of shape (T, batch) (``ndim`` = 2) or (batch,) (``ndim`` = 1), in range."""
    arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)  # whole-number floats are accepted, as F.embedding does
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{func}: argument '{arg}' must hold integer ids; got dtype {arr.dtype}")
    if arr.ndim != ndim:
        want = "(T, batch)" if ndim == 2 else "(batch,)"
        raise ShapeError(f"{func}: argument '{arg}' must have shape {want}; got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
        pos = tuple(int(i) for i in np.argwhere((arr < 0) | (arr >= vocab_size))[0])
        raise ArgumentError(f"{func}: argument '{arg}' must be in [0, {vocab_size}); got "
                            f"{int(arr[pos])} at position {pos}")
    return arr.astype(np.int64, copy=False)


def check_padded_ids(ids, lengths, func: str, vocab_size: int, arg: str = "ids",
                     min_length: int = 0):
    """(ids (T, B) int64, lengths, mask) with padded steps set to id 0.

    Padded steps may hold anything (-1 is common): they are never looked up or scored, so only
    the real steps are range-checked. lengths/mask as
    :func:`~tinygrad_rnn.nn.recurrent.check_lengths`.
    """
    arr = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if arr.ndim != 2:
        raise ShapeError(f"{func}: argument '{arg}' must have shape (T, batch); got {arr.shape}")
    lens, mask = check_lengths(lengths, func, *arr.shape, min_length=min_length)
    if mask is not None and arr.dtype.kind in "iuf":
        arr = np.where(mask, arr, 0)
    return check_ids(arr, func, vocab_size, arg), lens, mask


def pad_sequences(seqs: Sequence, pad_value: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Time-major padded batch: B int sequences -> (ids (T, B) with T = longest, lengths (B,)).

    >>> ids, lengths = pad_sequences([[5, 6, 7], [8]])
    >>> ids.T.tolist(), lengths.tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    if isinstance(seqs, np.ndarray) and seqs.ndim == 2:
        seqs = list(seqs)
    if not len(seqs):
        raise ArgumentError("pad_sequences: argument 'seqs' is empty; expected at least one "
                            "sequence")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    out = np.full((max(int(lengths.max()), 1), len(seqs)), pad_value, dtype=np.int64)
    for b, s in enumerate(seqs):
        out[: len(s), b] = np.asarray(s, dtype=np.int64)
    return out, lengths
