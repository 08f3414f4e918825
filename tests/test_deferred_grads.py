"""Batched leaf weight gradients (one GEMM per parameter) equal the per-edge path.

``backward(retain_grads=True)`` keeps every edge's value and so takes the per-edge path; plain
``backward()`` defers the factored gradients of leaves. Both must give the same ``.grad``.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import deferred


def _grads(params, loss_fn, retain_grads: bool, calls: int = 1) -> list:
    for p in params:
        p.grad = None
    for _ in range(calls):
        loss_fn().backward(retain_grads=retain_grads)
    return [p.grad for p in params]


def _assert_same(params, loss_fn, calls: int = 1, rtol: float = 1e-12) -> None:
    ref = _grads(params, loss_fn, True, calls)
    got = _grads(params, loss_fn, False, calls)
    for p, r, g in zip(params, ref, got):
        assert g.dtype == p.dtype and g.shape == p.shape
        np.testing.assert_allclose(g, r, rtol=rtol, atol=rtol * np.abs(r).max())


@pytest.fixture
def counted(monkeypatch):
    """Count the leaves the deferred path actually folded (so the test cannot pass vacuously)."""
    seen = []
    flush = deferred._Pending.flush

    def spy(self):
        if self.pairs or self.sums:
            seen.append(self.leaf)
        flush(self)
    monkeypatch.setattr(deferred._Pending, "flush", spy)
    return seen


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("B", [1, 3])
def test_composite_layers_match_per_edge_path(rng, kind, B, counted):
    layer = getattr(tr.nn, kind)(5, 7, fused=False)
    head = tr.nn.Linear(7, 4)
    x = tr.Tensor(rng.standard_normal((6, B, 5)))  # (T, B, F)
    params = list(layer.parameters()) + list(head.parameters())

    def loss():
        out = layer(x)
        out = out[0] if isinstance(out, tuple) else out
        return tr.F.cross_entropy(head(out), rng_targets)  # head sees a 3-D input
    rng_targets = rng.integers(0, 4, size=(6, B))
    _assert_same(params, loss)
    assert {id(p) for p in counted} >= {id(p) for p in params}


def test_gru_reset_before_slices_weight(rng):
    """W_hh[:2H] is a getitem node, not a leaf: its part stays on the per-edge path."""
    layer = tr.nn.GRU(4, 5, fused=False, reset_after=False)
    x = tr.Tensor(rng.standard_normal((5, 2, 4)))
    _assert_same(list(layer.parameters()), lambda: layer(x)[0].tanh().sum())


def test_weight_used_by_several_ops_and_twice_per_call(rng, counted):
    W = tr.Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="W")
    b = tr.Tensor(rng.standard_normal(4), requires_grad=True, name="b")
    x1 = tr.Tensor(rng.standard_normal((2, 5, 3)))
    x2 = tr.Tensor(rng.standard_normal(3))  # 1-D input
    v = tr.Tensor(rng.standard_normal((3, 2)))

    def loss():
        y = tr.F.linear(x1, W, b).tanh().sum() + tr.F.linear(x2, W, b).sum()
        y = y + (W @ v).tanh().sum() + (x1 @ W.T).sum()  # matmul of the leaf; transpose node
        return y + (W * W).sum() + b.exp().sum()  # elementwise uses: per-edge path
    _assert_same([W, b], loss)
    assert {id(W), id(b)} <= {id(p) for p in counted}


def test_weight_used_once(rng):
    W = tr.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(3), requires_grad=True)
    x = tr.Tensor(rng.standard_normal((1, 2)))
    _assert_same([W, b], lambda: tr.F.linear(x, W, b).sum())


def test_input_and_weight_same_leaf(rng):
    W = tr.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(3), requires_grad=True)
    _assert_same([W, b], lambda: tr.F.linear(W, W, b).tanh().sum())


def test_grads_accumulate_across_two_backward_calls(rng):
    layer = tr.nn.LSTM(3, 4, fused=False)
    x = tr.Tensor(rng.standard_normal((4, 2, 3)))
    params = list(layer.parameters())
    _assert_same(params, lambda: layer(x)[0].sum(), calls=2)
    once = [g.copy() for g in _grads(params, lambda: layer(x)[0].sum(), False)]
    twice = _grads(params, lambda: layer(x)[0].sum(), False, calls=2)
    for a, b in zip(once, twice):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-12)


def test_retain_graph_backward_twice(rng):
    W = tr.Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(3), requires_grad=True)
    h = tr.Tensor(rng.standard_normal((2, 2)))
    loss = tr.F.linear(h, W, b).tanh().sum()
    loss.backward(retain_graph=True)
    first = W.grad.copy(), b.grad.copy()
    loss.backward()
    np.testing.assert_allclose(W.grad, 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(b.grad, 2 * first[1], rtol=1e-12)


def test_float32_dtype_preserved(rng):
    layer = tr.nn.LSTM(3, 4, fused=False, dtype=np.float32)
    x = tr.Tensor(rng.standard_normal((5, 2, 3)), dtype=np.float32)
    _assert_same(list(layer.parameters()), lambda: layer(x)[0].sum(), rtol=1e-5)


def test_retain_grads_keeps_per_edge_values(rng):
    """The pictures' per-step copies W^(t) are still there, and sum to W.grad."""
    W = tr.Tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)
    b = tr.Tensor(np.zeros(3), requires_grad=True)
    h = tr.Tensor(rng.standard_normal((1, 3)))
    nodes = []
    for _ in range(4):
        h = tr.F.linear(h, W, b).tanh()
        nodes.append(h._node.inputs[0]._node)
    h.sum().backward(retain_grads=True)
    per_step = [n.edge_grads[1] for n in nodes]
    assert all(e is not None for e in per_step)
    np.testing.assert_allclose(sum(per_step), W.grad, rtol=1e-12)


def test_anomaly_mode_and_retain_grads_take_per_edge_path(rng, counted):
    """detect_anomaly checks every edge's gradient, so nothing may be deferred under it."""
    W = tr.Tensor(rng.standard_normal((2, 2)), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(2), requires_grad=True)
    x = tr.Tensor(rng.standard_normal((3, 2)))
    with tr.detect_anomaly():
        tr.F.linear(x, W, b).sum().backward()
    tr.F.linear(x, W, b).sum().backward(retain_grads=True)
    assert counted == []
    np.testing.assert_allclose(b.grad, [6.0, 6.0])


def test_flush_threshold_keeps_result(rng, monkeypatch):
    monkeypatch.setattr(deferred, "FLUSH_BYTES", 1)  # fold after every use
    layer = tr.nn.RNN(3, 4, fused=False)
    x = tr.Tensor(rng.standard_normal((5, 2, 3)))
    _assert_same(list(layer.parameters()), lambda: layer(x)[0].sum())
