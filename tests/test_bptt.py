"""TBPTT(k1, k2): full BPTT as the limit, the chunked form, overlapping windows vs brute force."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.bptt import tbptt, truncation_cost

T, B, I, H, K = 9, 2, 3, 4, 3


def _setup(seed=0, kind="RNNCell"):
    rng = np.random.default_rng(seed)
    cell = getattr(tr.nn, kind)(I, H, rng=seed)
    head = tr.nn.Linear(H, K, rng=seed + 1)
    xs = rng.standard_normal((T, B, I))
    ys = rng.integers(0, K, (T, B))

    def step(x, state, t):
        return cell(tr.Tensor(x), state)

    def loss(state, t):
        h = state[0] if isinstance(state, tuple) else state
        return tr.F.cross_entropy(head(h), ys[t])

    h0 = tr.Tensor(np.zeros((B, H)))
    if kind == "LSTMCell":
        h0 = (h0, tr.Tensor(np.zeros((B, H))))
    return cell.parameters() + head.parameters(), step, loss, xs, h0


def _grads(params):
    out = [np.zeros_like(p.data) if p.grad is None else p.grad.copy() for p in params]
    for p in params:
        p.grad = None
    return out


def _full(params, step, loss, xs, h0):
    state, total = h0, None
    for t in range(T):
        state = step(xs[t], state, t)
        total = loss(state, t) if total is None else total + loss(state, t)
    total.backward()
    return _grads(params)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell"])
@pytest.mark.parametrize("k1", [1, 2, 4, T])
def test_k2_at_least_T_equals_full_bptt(kind, k1):
    params, step, loss, xs, h0 = _setup(kind=kind)
    full = _full(params, step, loss, xs, h0)
    tbptt(step, loss, xs, h0, k1, T)
    for a, b in zip(_grads(params), full):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("k", [1, 3, 9])  # k divides T
def test_k1_equals_k2_is_the_chunked_detach_form(k):
    params, step, loss, xs, h0 = _setup(1)
    state = h0
    for s in range(0, T, k):
        state = state.detach()
        total = None
        for t in range(s, min(s + k, T)):
            state = step(xs[t], state, t)
            total = loss(state, t) if total is None else total + loss(state, t)
        total.backward()
    chunked = _grads(params)
    res = tbptt(step, loss, xs, h0, k, k)
    assert res.window_ends == list(range(k, T + 1, k))
    for a, b in zip(_grads(params), chunked):
        np.testing.assert_allclose(a, b, atol=1e-12)


def _states_by_full_forward(step, xs, h0):
    states = [h0]
    with tr.no_grad():
        for t in range(T):
            states.append(step(xs[t], states[-1], t))
    return states


@pytest.mark.parametrize("k1,k2", [(1, 3), (2, 5), (3, 4)])
def test_overlapping_windows_equal_brute_force(k1, k2):
    """Brute force: for every window end t, rebuild steps t-k2..t-1 from the exact state (from a
    separate full forward pass), backprop the losses of the last k1 steps; sum over windows."""
    params, step, loss, xs, h0 = _setup(2)
    states = _states_by_full_forward(step, xs, h0)
    ends = list(range(k1, T, k1)) + [T]
    prev = 0
    for end in ends:
        start = max(0, end - k2)
        state = tr.Tensor(states[start].data)
        total = None
        for t in range(start, end):
            state = step(xs[t], state, t)
            if t >= prev:
                total = loss(state, t) if total is None else total + loss(state, t)
        total.backward()
        prev = end
    brute = _grads(params)
    tbptt(step, loss, xs, h0, k1, k2)
    for a, b in zip(_grads(params), brute):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_window_gradient_is_derivative_with_start_state_frozen():
    """Finite differences of one window's loss, the state at the window start held fixed."""
    params, step, loss, xs, h0 = _setup(3)
    states = _states_by_full_forward(step, xs, h0)
    W = params[1]  # weight_hh
    start, end, first_loss = 2, 6, 4  # TBPTT(2, 4): the window ending at 6

    def window(w):
        saved = W.data
        W.data = w.data
        state, total = tr.Tensor(states[start].data), None
        for t in range(start, end):
            state = step(xs[t], state, t)
            if t >= first_loss:
                total = loss(state, t) if total is None else total + loss(state, t)
        W.data = saved
        return total

    w = tr.Tensor(W.data.copy(), requires_grad=True)
    numeric = []
    for idx in np.ndindex(W.shape):
        e = np.zeros(W.shape)
        e[idx] = 1e-6
        numeric.append((window(tr.Tensor(w.data + e)).item()
                        - window(tr.Tensor(w.data - e)).item()) / 2e-6)
    hits = []
    tbptt(step, loss, xs, h0, 2, 4, on_window=lambda r, t: hits.append((t, W.grad.copy())))
    (grad6,) = [g for t, g in hits if t == 6]
    (grad4,) = [g for t, g in hits if t == 4]
    np.testing.assert_allclose((grad6 - grad4).ravel(), numeric, atol=1e-7)


def test_cut_is_recorded_and_memory_bounded():
    params, step, loss, xs, h0 = _setup(4)
    res = tbptt(step, loss, xs, h0, 3, 3)
    g = tr.trace(res.last_loss)
    assert [n.kind for n in g.nodes].count("cut") == 1
    assert {n.meta.get("step") for n in g.nodes if n.op} >= {6, 7, 8}
    assert 5 not in {n.meta.get("step") for n in g.nodes if n.op}


def test_truncation_cost_and_errors():
    params, step, loss, xs, h0 = _setup(5)
    cost = truncation_cost(step, loss, params, xs, h0, 1, 1)
    assert abs(cost["weight"]["cosine"] - 1) < 1e-12  # the output layer is not truncated
    assert cost["weight_hh"]["cosine"] < 0.999
    assert all(p.grad is None for p in params)
    for k1, k2, pat in [(0, 2, "k1"), (2, -1, "k2"), (3, 2, "k2 .* must be >= k1")]:
        with pytest.raises(tr.ArgumentError, match=pat):
            tbptt(step, loss, xs, h0, k1, k2)
