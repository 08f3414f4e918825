"""Tape behaviour: accumulation, shared weights, long chains, no_grad, detach, freeing."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import param

import tinygrad_rnn as tr


def test_fan_out_accumulates(rng):
    x = param(rng, 3)
    y = (x * x + x * 3.0 + x.tanh()).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 3 + 1 - np.tanh(x.data) ** 2)


def test_gradients_accumulate_across_backward_calls_until_zeroed(rng):
    x = param(rng, 2)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])
    x.zero_grad()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_parameter_shared_across_100_steps_sums_per_step_contributions(rng):
    """nabla_W L = sum_t nabla_{W^(t)} L (seed eq. 7): edge contributions add up to W.grad."""
    H = 4
    W = tr.Tensor(rng.standard_normal((H, H)) * 0.3, requires_grad=True, name="W")
    h = tr.Tensor(rng.standard_normal((1, H)))
    for t in range(100):
        with tr.scope("rnn", step=t):
            h = (h @ W).tanh()
    loss = h.sum()
    loss.backward(retain_grads=True)
    g = tr.trace(loss, max_values=10**6)
    (w_node,) = g.find(name="W")
    uses = [e for e in g.edges if e.src == w_node.id]
    assert len(uses) == 100
    total = sum(np.array(e.grad["values"]).reshape(H, H) for e in uses)
    np.testing.assert_allclose(total, W.grad, rtol=1e-12, atol=1e-15)
    steps = sorted(g.nodes[e.dst].meta["step"] for e in uses)
    assert steps == list(range(100))


def test_5000_step_chain_without_recursion_error(rng):
    W = tr.Tensor(np.eye(3) * 0.9, requires_grad=True)
    h = tr.Tensor(np.ones((1, 3)))
    for t in range(5000):
        with tr.scope("rnn", step=t):
            h = (h @ W).tanh()
    h.sum().backward()
    assert W.grad is not None and np.isfinite(W.grad).all()
    g = tr.trace(h)  # the trace walk is iterative too
    assert len(g) == 2 + 2 * 5000
    g.check()


def test_no_grad_records_nothing(rng):
    x = param(rng, 3)
    with tr.no_grad():
        y = x * 2
        assert not tr.is_grad_enabled()
    assert tr.is_grad_enabled()
    assert y._node is None and not y.requires_grad


def test_detach_stops_gradient(rng):
    x = param(rng, 3)
    y = (x.detach() * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, x.data)


def test_cut_detach_is_drawn_only_when_both_sides_traced(rng):
    W = param(rng, 2, 2, name="W")
    h1 = (tr.Tensor(np.ones((1, 2))) @ W).tanh()
    h1c = h1.detach(cut=True)
    loss2 = (h1c @ W).sum()
    g = tr.trace(loss2)
    assert [n.kind for n in g.nodes].count("cut") == 1
    assert not [e for e in g.edges if e.kind == "cut"]  # the earlier chunk is not in this picture
    g2 = tr.trace(h1, loss2)
    cuts = [e for e in g2.edges if e.kind == "cut"]
    assert len(cuts) == 1 and g2.nodes[cuts[0].src].op == "tanh"
    g2.check()


def test_second_backward_on_freed_graph_is_a_clear_error(rng):
    x = param(rng, 3)
    with tr.scope("enc", step=2):
        y = x.tanh()
    loss = y.sum()
    loss.backward()
    with pytest.raises(tr.GradError, match=r"freed.*retain_graph=True") as info:
        loss.backward()
    assert "scope 'enc', step 2" in str(info.value) or "top level" in str(info.value)


def test_retain_graph_allows_a_second_backward(rng):
    x = param(rng, 3)
    loss = (x.tanh() * 2).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_non_scalar_root_needs_a_seed(rng):
    x = param(rng, 3)
    y = x * 2
    with pytest.raises(tr.GradError, match=r"shape \(3,\).*seed"):
        y.backward()
    with pytest.raises(tr.ShapeError, match="grad"):
        y.backward(np.ones(4))
    y.backward(np.ones(3))
    np.testing.assert_allclose(x.grad, 2.0)


def test_backward_on_tensor_without_grad():
    with pytest.raises(tr.GradError, match="does not require grad"):
        tr.Tensor([1.0]).sum().backward()


def test_residuals_freed_after_backward(rng):
    x = param(rng, 3)
    y = x.tanh()
    loss = y.sum()
    loss.backward()
    assert y._node.freed and not isinstance(y._node.saved, np.ndarray)


def test_retain_grads_keeps_intermediate_grads_off_by_default(rng):
    x = param(rng, 3)
    y = x.tanh()
    y.sum().backward()
    assert y.grad is None
    y2 = x.tanh()
    y2.sum().backward(retain_grads=True)
    np.testing.assert_allclose(y2.grad, np.ones(3))


def test_metadata_from_scope_stack_and_sites():
    W = tr.Tensor(np.eye(2), requires_grad=True)
    h = tr.Tensor(np.ones((1, 2)))
    outs = []
    with tr.scope("encoder"):
        for t in range(2):
            with tr.scope("cell", step=t, layer=0):
                with tr.scope(role="pre"):
                    a = h @ W
                with tr.scope(role="h"):
                    h = a.tanh() * 1.0 + a.tanh()
                outs.append(h)
    n = outs[1]._node
    assert n.frame.scope == "encoder/cell" and n.frame.meta["step"] == 1
    g = tr.trace(outs[1])
    sites = {(nd.meta.get("step"), nd.meta.get("site")) for nd in g.nodes if nd.op}
    per_step = [{s for st, s in sites if st == t} for t in (0, 1)]
    assert per_step[0] == per_step[1], "the same ops at two steps must share their sites"
    assert "encoder/cell/tanh#1" in per_step[0]
    roles = {nd.meta.get("role") for nd in g.nodes if nd.op}
    assert roles == {"pre", "h"}


def test_metadata_is_per_thread():
    import threading

    seen = {}

    def work(name):
        with tr.scope(name, step=7):
            y = tr.Tensor([1.0], requires_grad=True) * 2
        seen[name] = (y._node.frame.scope, tr.trace(y).nodes[-1].meta["site"])

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert seen == {f"t{i}": (f"t{i}", f"t{i}/mul#0") for i in range(4)}


def test_steps_record_their_loop():
    # composite cells: a fused encoder is one whole-sequence node per direction, with no steps
    m = tr.nn.Seq2Seq(5, 4, bidirectional=True, fused=False, rng=0)
    src, tgt = np.array([[1], [2], [3]]), np.array([[0], [1]])
    g = tr.trace(m(src, tgt))
    loops = {n.meta.get("loop") for n in g.nodes if n.meta.get("step") is not None}
    assert loops == {"seq2seq/encoder/l0", "seq2seq/encoder/l0_reverse", "seq2seq/decoder_step"}


def test_scope_metadata_may_be_unhashable_and_frames_are_shared_when_hashable():
    with tr.scope("x", info=[1, 2]):  # a list: not cacheable, still recorded
        y = tr.Tensor([1.0], requires_grad=True) * 2
    assert y._node.frame.meta["info"] == [1, 2]
    frames = []
    for _ in range(2):
        with tr.scope("rnn", step=1):
            frames.append((tr.Tensor([1.0], requires_grad=True) * 2)._node.frame)
    assert frames[0] is frames[1]
    with tr.scope("rnn", step=True):  # equal to 1 as a key, but another value
        z = tr.Tensor([1.0], requires_grad=True) * 2
    assert z._node.frame.meta["step"] is True
