"""Long and concurrent runs: flat memory over 10,000 steps, threads, determinism."""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np

import tinygrad_rnn as tr


def _train(seed: int, steps: int, fused: bool = True) -> tuple:
    """A small LSTM language-model loop; returns (losses, final weights)."""
    rng = np.random.default_rng(seed)
    emb = tr.nn.Embedding(11, 4, rng=seed)
    lstm = tr.nn.LSTM(4, 6, fused=fused, rng=seed + 1)
    head = tr.nn.Linear(6, 11, rng=seed + 2)
    params = emb.parameters() + lstm.parameters() + head.parameters()
    opt = tr.optim.Adam(params, lr=0.01)
    losses = []
    for _ in range(steps):
        ids = rng.integers(0, 11, (6, 2))
        out, _ = lstm(emb(ids[:-1]))
        loss = tr.F.cross_entropy(head(out), ids[1:])
        loss.backward()
        tr.optim.clip_grad_norm(params, 1.0)
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    return losses, [p.data.copy() for p in params]


def test_same_seed_same_losses_and_weights():
    a, b = _train(3, 40), _train(3, 40)
    assert a[0] == b[0]  # bit for bit
    for x, y in zip(a[1], b[1]):
        np.testing.assert_array_equal(x, y)


def test_two_threads_train_like_two_sequential_runs():
    sequential = [_train(s, 30, fused=s == 1) for s in (1, 2)]
    results = {}

    def work(seed):
        with tr.scope(f"thread{seed}"):  # metadata contexts are per thread
            results[seed] = _train(seed, 30, fused=seed == 1)

    threads = [threading.Thread(target=work, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed, (losses, weights) in zip((1, 2), sequential):
        assert results[seed][0] == losses
        for x, y in zip(results[seed][1], weights):
            np.testing.assert_array_equal(x, y)


def test_10000_training_steps_memory_is_flat():
    """Graphs are freed after each backward: the second half of 10,000 steps allocates nothing
    that stays (compare the same point of two windows; free lists fill in the first)."""
    rng = np.random.default_rng(0)
    cell = tr.nn.RNNCell(3, 5, fused=True, rng=0)
    head = tr.nn.Linear(5, 2, rng=1)
    params = cell.parameters() + head.parameters()
    opt = tr.optim.SGD(params, lr=0.01)
    xs = rng.standard_normal((8, 4, 3))
    ys = rng.integers(0, 2, (8, 4))

    def step():
        h = None
        loss = None
        for t in range(4):
            h = cell(tr.Tensor(xs[t % 8]), h)
            lt = tr.F.cross_entropy(head(h), ys[t % 8])
            loss = lt if loss is None else loss + lt
        loss.backward()
        opt.step()
        opt.zero_grad()

    tracemalloc.start()
    try:
        marks = []
        for k in range(10_000):
            step()
            if k in (4_999, 9_999):
                marks.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    grown = marks[1] - marks[0]
    assert abs(grown) < 16 * 1024, f"memory grew by {grown} bytes over the last 5,000 steps"
