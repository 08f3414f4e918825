"""Sequence losses with padding ignored, and perplexity."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, ShapeError
from tinygrad_rnn.tensor import Tensor


def sequence_cross_entropy(logits: Tensor, targets, lengths=None, batch_first: bool = False,
                           ignore_index: int = -100) -> Tensor:
    """Mean negative log-likelihood per real (non-padded) token.

    logits: (T, B, K) (or (B, T, K) with batch_first); targets: (T, B) ints; lengths: (B,) or
    None. Steps at or beyond a sequence's length, and targets equal to ``ignore_index``, do not
    count. L = (1 / N) sum_{b, t < len_b} -log softmax(o^(t)_b)_{y^(t)_b}.
    """
    targets = np.array(targets, dtype=np.int64, copy=True)
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ShapeError(f"sequence_cross_entropy: targets must have shape logits.shape[:2] = "
                         f"{logits.shape[:2]}; got {targets.shape}")
    if lengths is not None:
        lengths = np.asarray(lengths)
        n_t = logits.shape[1 if batch_first else 0]
        if lengths.shape != (logits.shape[0 if batch_first else 1],) or lengths.max() > n_t:
            raise ArgumentError(f"sequence_cross_entropy: 'lengths' must be one length <= {n_t}"
                                f" per sequence; got {lengths.tolist()}")
        steps = np.arange(n_t)
        pad = (steps[None, :] >= lengths[:, None]) if batch_first else \
            (steps[:, None] >= lengths[None, :])
        targets[pad] = ignore_index
    return F.cross_entropy(logits, targets, ignore_index=ignore_index)


def perplexity(mean_nll) -> float:
    """exp(mean negative log-likelihood in nats): the effective branching factor."""
    value = mean_nll.item() if isinstance(mean_nll, Tensor) else float(mean_nll)
    return math.exp(value)
