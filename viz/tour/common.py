"""Small helpers the tour's chapters share: a training loop, accuracy, generated id data."""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn.progress import progress


def fit(model, loss_fn, steps: int, lr: float = 1e-2, clip: float = 5.0) -> list:
    """Adam for ``steps`` steps on ``loss_fn(step) -> scalar loss``; returns the losses."""
    opt = tr.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for i in progress(range(steps), desc="training", unit="step"):
        loss = loss_fn(i)
        loss.backward()
        tr.optim.clip_grad_norm(model.parameters(), clip)
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    return losses


def accuracy(logits, targets, mask=None) -> float:
    """Fraction of argmax(logits, -1) == targets (over ``mask`` when given)."""
    arr = logits.data if isinstance(logits, tr.Tensor) else np.asarray(logits)
    hit = arr.argmax(-1) == np.asarray(targets)
    return float(hit[mask].mean() if mask is not None else hit.mean())


def mean_curve(losses: list, parts: int = 4) -> list:
    """The loss curve as ``parts`` means (first part .. last part), for a numbers table."""
    chunks = np.array_split(np.asarray(losses, dtype=float), parts)
    return [float(c.mean()) for c in chunks if len(c)]


def repeats(rng: np.random.Generator, T: int, B: int, vocab: int = 6):
    """ids (T, B) in 1..vocab-1 and tags (T, B): 1 where the id equals the one before it."""
    ids = rng.integers(1, vocab, (T, B))
    tags = np.zeros((T, B), dtype=np.int64)
    tags[1:] = ids[1:] == ids[:-1]
    return ids, tags
