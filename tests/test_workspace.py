"""Recycled work buffers: handed out again only when no array made from them is alive."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import workspace


def _addr(a):
    return a.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def _fresh_pool(monkeypatch):
    workspace.clear()
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)  # the small arrays below are pooled too
    yield
    workspace.clear()


def test_arrays_under_min_bytes_are_not_pooled(monkeypatch):
    monkeypatch.setattr(workspace, "MIN_BYTES", 64)
    small = workspace.empty("k", (15,), np.float32)  # 60 bytes
    assert small.shape == (15,) and workspace.pooled_bytes() == 0
    big = workspace.empty("k", (16,), np.float32)
    assert big.shape == (16,) and workspace.pooled_bytes() == 64


def test_a_dead_buffer_is_reused_a_live_one_or_its_views_are_not():
    a = workspace.empty("k", (3, 4), np.float32)
    where = _addr(a)
    del a
    b = workspace.empty("k", (3, 4), np.float32)
    assert _addr(b) == where  # reused
    view = b.T[1:]
    del b
    c = workspace.empty("k", (3, 4), np.float32)
    assert _addr(c) != where  # a view of the old array is alive
    assert not np.shares_memory(c, view)
    z = workspace.zeros("other", (5,), np.float64)
    assert z.dtype == np.float64 and z.shape == (5,) and not z.any()


def test_pool_is_bounded_and_clear_releases_it():
    live = [workspace.empty("k", (1000,), np.float64) for _ in range(workspace.KEEP + 3)]
    assert workspace.pooled_bytes() == workspace.KEEP * 8000
    del live
    workspace.clear()
    assert workspace.pooled_bytes() == 0
    big = workspace.empty("k", (10,), np.float64)
    del big
    bigger = workspace.empty("k", (20,), np.float64)  # the free, smaller buffer is replaced
    assert bigger.shape == (20,) and workspace.pooled_bytes() == 160


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch", [1, 8])
def test_outputs_and_saved_values_survive_later_calls(kind, batch):
    """A kept output, and a graph kept for a second backward, are not overwritten by the next
    training steps of the same layer (which reuse the buffers of graphs that died)."""
    rng = np.random.default_rng(0)
    layer = getattr(tr.nn, kind)(3, 16, fused=True, rng=0)
    x = tr.Tensor(rng.standard_normal((5, batch, 3)))
    kept, _ = layer(x)
    kept_copy = kept.data.copy()
    loss = (kept * kept).sum()
    for _ in range(3):  # other steps in between, each with its own backward
        out, _ = layer(tr.Tensor(rng.standard_normal((5, batch, 3))))
        out.sum().backward()
    np.testing.assert_array_equal(kept.data, kept_copy)
    layer.zero_grad()
    loss.backward(retain_graph=True)
    first = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    out, _ = layer(tr.Tensor(rng.standard_normal((5, batch, 3))))
    out.sum().backward()
    layer.zero_grad()
    loss.backward()  # the kept graph's saved values are intact
    for p, g in zip(layer.parameters(), first):
        np.testing.assert_array_equal(p.grad, g)


def test_training_reaches_a_steady_pool():
    layer = tr.nn.LSTM(4, 8, fused=True, rng=0)
    x = tr.Tensor(np.random.default_rng(1).standard_normal((6, 2, 4)))
    sizes = []
    for _ in range(6):
        out, _ = layer(x)
        out.sum().backward()
        layer.zero_grad()
        sizes.append(workspace.pooled_bytes())
    assert sizes[-1] == sizes[2] > 0  # grows for two steps, then every buffer is recycled


def test_threads_running_the_same_op_get_their_own_buffers():
    """Two threads training their own LSTM layers at once: each gets the numbers it gets alone
    (a buffer handed to one thread is never handed to the other while it is in use)."""
    import threading

    rng = np.random.default_rng(2)
    xs = [tr.Tensor(rng.standard_normal((7, 4, 3))) for _ in range(2)]
    layers = [tr.nn.LSTM(3, 24, fused=True, rng=k) for k in range(2)]

    def run(k, rounds):
        out = []
        for _ in range(rounds):
            h, _ = layers[k](xs[k])
            (h * h).sum().backward()
            out.append(layers[k].weight_hh_l0.grad.copy())
            layers[k].zero_grad()
        return out

    alone = [run(k, 1)[0] for k in range(2)]
    results = [None, None]
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, run(k, 30)))
               for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(2):
        for got in results[k]:
            np.testing.assert_array_equal(got, alone[k])


def test_the_count_rule_is_probed_and_reuse_stops_where_it_does_not_hold(monkeypatch):
    assert workspace._probe() == workspace._FREE is not None  # holds on this interpreter
    a = workspace.empty("k", (4,), np.float64)
    where = _addr(a)
    del a
    monkeypatch.setattr(workspace, "_FREE", None)  # as on an interpreter where it fails
    b = workspace.empty("k", (4,), np.float64)
    assert _addr(b) != where and b.shape == (4,)


def test_a_view_kept_across_training_steps_keeps_its_values():
    """Only a slice of a fused layer's output is kept (the tensor itself dies): later steps,
    which recycle the dead graphs' buffers, must not write into it."""
    rng = np.random.default_rng(2)
    layer = tr.nn.LSTM(3, 8, rng=0)
    out, _ = layer(tr.Tensor(rng.standard_normal((6, 4, 3))))
    view = out.data[2:5, 1]
    expected = view.copy()
    del out
    for _ in range(4):
        o, _ = layer(tr.Tensor(rng.standard_normal((6, 4, 3))))
        o.sum().backward()
    np.testing.assert_array_equal(view, expected)
