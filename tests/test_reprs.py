"""Reprs a person reads: Tensor and Module in PyTorch's style, tr.Graph as one bounded line and
a notebook view."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr


def test_tensor_repr_pytorch_style():
    W = tr.Tensor([[0.1, 0.2]], requires_grad=True, name="W")
    assert repr(W) == "tensor([[0.1, 0.2]], requires_grad=True, name='W')"
    assert repr(W.tanh()) == "tensor([[0.0997, 0.1974]], grad_fn=<TanhBackward>)"
    assert repr(tr.Tensor(2.5)) == "tensor(2.5)"
    x = tr.Tensor(np.arange(6.0).reshape(2, 3))
    assert repr(x) == "tensor([[0., 1., 2.],\n        [3., 4., 5.]])"  # rows aligned
    assert repr(tr.Tensor(np.zeros((0, 3)))) == "tensor([], size=(0, 3))"
    cell = tr.nn.LSTM(2, 3, rng=0)(np.ones((2, 1, 2)))[0]
    assert "grad_fn=<" in repr(cell) and "Backward>" in repr(cell)


def test_tensor_repr_shows_a_dtype_that_is_not_the_default_and_summarises_big_arrays():
    f32 = tr.Tensor(np.ones(2, np.float32))
    assert repr(f32) == "tensor([1., 1.], dtype=float32)"
    before = tr.get_default_dtype()
    tr.set_default_dtype(np.float32)
    try:
        assert repr(f32) == "tensor([1., 1.])"
        assert "dtype=float64" in repr(tr.Tensor(np.ones(2)))
    finally:
        tr.set_default_dtype(before)
    big = repr(tr.Tensor(np.ones((1000, 1000))))
    assert "..." in big and len(big) < 1000  # corners only, not a million numbers


def test_module_repr_nests_like_pytorch():
    m = tr.nn.Seq2Seq(10, 10, embed=16, enc_hidden=64, dec_hidden=48, cell="gru",
                      context="both", rng=1)
    lines = repr(m).splitlines()
    assert lines[0] == "Seq2Seq(" and lines[-1] == ")"
    assert "  (src_embed): Embedding(10, 16)" in lines
    assert any(line.startswith("  (encoder): GRU(16, 64, num_layers=1") for line in lines)
    assert repr(tr.nn.LSTM(10, 20, num_layers=2, rng=0)).startswith("LSTM(10, 20, num_layers=2")

    class Outer(tr.nn.Module):
        def __init__(self):
            self.blocks = [tr.nn.Linear(2, 3, rng=0), tr.nn.Linear(3, 1, rng=0)]
            self.head = tr.nn.Linear(1, 1, rng=0)
            self.head.owner = self  # a cycle is printed once, not for ever

    assert repr(Outer()) == (
        "Outer(\n  (blocks.0): Linear(2, 3, bias=True)\n  (blocks.1): Linear(3, 1, bias=True)\n"
        "  (head): Linear(\n    1, 1, bias=True\n    (owner): Outer(...)\n  )\n)")


def _lstm_graph(T=12):
    m = tr.nn.LSTM(10, 20, num_layers=2, rng=0)
    out, _ = m(np.ones((T, 1, 10)))
    loss = out.sum()
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def test_graph_repr_is_one_bounded_line_with_the_counts():
    g = _lstm_graph()
    text = repr(g)
    assert "\n" not in text and len(text) < 200
    ops = {}
    for n in g.nodes:
        if n.kind == "op":
            ops[n.op] = ops.get(n.op, 0) + 1
    top = max(ops, key=lambda k: (ops[k], k))
    assert text.startswith(f"Graph({len(g.nodes)} nodes, {len(g.edges)} edges, ops: ")
    assert f"{top}×{ops[top]}" in text and "steps 0–11" in text
    assert text.endswith(f"roots [{g.roots[0]}])")
    assert len(repr(_lstm_graph(T=200))) < 200  # bounded, however long the unroll
    assert repr(tr.Graph()) == "Graph(0 nodes, 0 edges, roots [])"


def test_graph_html_uses_the_inspector_when_viz_has_one(monkeypatch):
    viz = pytest.importorskip("viz")
    g = _lstm_graph(T=3)

    class Page:
        def _repr_html_(self):
            return "<div>inspector</div>"
    seen = []
    monkeypatch.setattr(viz, "inspect", lambda graph: seen.append(graph) or Page(),
                        raising=False)
    assert g._repr_html_() == "<div>inspector</div>" and seen == [g]
    monkeypatch.setattr(viz, "inspect", None, raising=False)  # no inspector: the summary table
    table = g._repr_html_()
    assert table.startswith("<table>") and f"<td>{len(g.nodes)}</td>" in table
