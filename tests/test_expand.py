"""tr.trace opens fused calls: a default (fused) layer traces to the graph of the composite one.

For every recurrent cell and every tree model, the expanded trace of the fast model and the
trace of the same model run the composite way (``fused=False`` / ``mode="per_node"``) must have
the same nodes (kind, op, name, metadata including step, role and site), edges and creation
order, values and gradients to 1e-10, and each weight's per-use gradients must add up to its
``.grad``.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_tree_models import MODELS, VOCAB, forest

import tinygrad_rnn as tr
from tinygrad_rnn.data import Tree, parse_tree
from tinygrad_rnn.nn import build_schedule

CELLS = [
    (tr.nn.RNN, {}),
    (tr.nn.RNN, {"nonlinearity": "relu"}),
    (tr.nn.LSTM, {}),
    (tr.nn.GRU, {}),
    (tr.nn.GRU, {"reset_after": False}),
]


def _close(a, b) -> float:
    """Largest difference between two summaries (norm, min, max, and values when small)."""
    if a is None or b is None:
        assert a is None and b is None, (a, b)
        return 0.0
    assert a["shape"] == b["shape"]
    keys = ("norm", "min", "max", "mean")
    d = max(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)
    if "values" in a:
        d = max(d, float(np.max(np.abs(np.subtract(a["values"], b["values"])))))
    return d


def assert_same_graph(a: tr.Graph, b: tr.Graph, tol: float = 1e-10) -> int:
    """Same structure, metadata and order; values and gradients within ``tol``."""
    assert len(a.nodes) == len(b.nodes)
    assert a.order == b.order and a.roots == b.roots
    for na, nb in zip(a.nodes, b.nodes):
        assert (na.kind, na.op, na.name, na.shape, na.dtype, na.meta) == (
            nb.kind, nb.op, nb.name, nb.shape, nb.dtype, nb.meta), (na.id, na.op, nb.op)
        assert _close(na.value, nb.value) <= tol, na.id
        assert _close(na.grad, nb.grad) <= tol, na.id
    assert len(a.edges) == len(b.edges)
    for ea, eb in zip(a.edges, b.edges):
        assert (ea.src, ea.dst, ea.arg, ea.kind) == (eb.src, eb.dst, eb.arg, eb.kind)
        assert _close(ea.grad, eb.grad) <= tol, (ea.src, ea.dst)
    return len(a.nodes)


def assert_uses_sum_to_grad(graph: tr.Graph, params: dict) -> None:
    """Every weight's per-use edge gradients (the seeds' W^(t)) add up to its .grad."""
    by_name = {n.name: n.id for n in graph.nodes if n.kind == "param"}
    for name, p in params.items():
        if p.grad is None or name not in by_name:
            continue
        total = sum(np.reshape(e.grad["values"], p.shape) for e in graph.edges
                    if e.src == by_name[name] and e.grad is not None)
        np.testing.assert_allclose(total, p.grad, rtol=0, atol=1e-12)


def run_layer(cls, fused: bool, kw: dict, retain: bool = True):
    rng = np.random.default_rng(0)
    m = cls(3, 2, num_layers=2, bidirectional=True, fused=fused, rng=1, **kw)
    x = tr.Tensor(rng.standard_normal((5, 2, 3)), requires_grad=True, name="x")
    h0 = tr.Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True, name="h0")
    state = (h0, tr.Tensor(rng.standard_normal((4, 2, 2)), name="c0")) if cls is tr.nn.LSTM \
        else h0
    out, h_n = m(x, state, lengths=np.array([5, 3]))
    h_n = h_n[0] if isinstance(h_n, tuple) else h_n
    loss = (out * out).sum() + (h_n * tr.Tensor(rng.standard_normal(h_n.shape))).sum()
    loss.backward(retain_grads=retain)
    return m, loss


@pytest.mark.parametrize("cls,kw", CELLS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_default_layer_traces_to_the_composite_graph(cls, kw):
    assert cls(3, 2).fused  # fused is the default
    fast, loss_f = run_layer(cls, True, kw)
    slow, loss_s = run_layer(cls, False, kw)
    assert abs(loss_f.item() - loss_s.item()) < 1e-10
    g = tr.trace(loss_f, max_values=10_000)
    n = assert_same_graph(g, tr.trace(loss_s, max_values=10_000))
    assert n > 50 * (4 if cls is tr.nn.LSTM else 1)  # gates of 2 layers x 2 directions x 5 steps
    assert {nd.op for nd in g.nodes} & {"rnn_seq", "lstm_seq", "gru_seq"} == set()
    assert_uses_sum_to_grad(g, dict(fast.named_parameters()))
    folded = tr.trace(loss_f, expand=False)  # one node per layer and direction
    assert sum(nd.op in ("rnn_seq", "lstm_seq", "gru_seq") for nd in folded.nodes) == 4


def test_values_expand_without_retained_gradients():
    fast, loss_f = run_layer(tr.nn.LSTM, True, {}, retain=False)
    slow, loss_s = run_layer(tr.nn.LSTM, False, {}, retain=False)
    a, b = tr.trace(loss_f), tr.trace(loss_s)
    assert_same_graph(a, b)
    assert all(n.grad is None for n in a.nodes if n.kind == "op")


def test_expansion_does_not_touch_the_real_gradients():
    fast, loss = run_layer(tr.nn.GRU, True, {})
    before = {n: p.grad.copy() for n, p in fast.named_parameters()}
    tr.trace(loss)
    tr.trace(loss)
    for n, p in fast.named_parameters():
        np.testing.assert_array_equal(p.grad, before[n])


def test_fused_cells_open_too():
    """A decoder's per-step fused cells (Seq2Seq's default) open into their gates."""
    graphs = []
    for fused in (True, False):
        cell = tr.nn.LSTMCell(3, 2, fused=fused, rng=0)
        x = tr.Tensor(np.random.default_rng(1).standard_normal((4, 2, 3)), name="x")
        h = c = None
        total = None
        for t in range(4):
            with tr.scope("dec", step=t):
                h, c = cell(x[t], None if h is None else (h, c))
            total = h.sum() if total is None else total + h.sum()
        total.backward(retain_grads=True)
        graphs.append(tr.trace(total))
    assert_same_graph(*graphs)


def test_trained_model_pictures_are_equal():
    """The DOT text of a default layer's pictures equals the composite layer's."""
    viz = pytest.importorskip("viz")
    fast, loss_f = run_layer(tr.nn.LSTM, True, {})
    slow, loss_s = run_layer(tr.nn.LSTM, False, {})
    for view in ("unrolled", "folded", "backward"):
        a = viz.draw(tr.trace(loss_f), view=view).source
        b = viz.draw(tr.trace(loss_s), view=view).source
        assert _rounded(a) == _rounded(b), view


def _rounded(text: str) -> str:
    """Numbers printed with 3 significant digits may differ in the last digit at 1e-16."""
    import re
    return re.sub(r"-?\d+\.\d+(e[-+]?\d+)?", lambda m: f"{float(m.group()):.2g}", text)


# ---- trees -----------------------------------------------------------------------------------
def _dag() -> Tree:
    shared = parse_tree("(3 (1 w2) (4 w3))")
    return Tree(3, children=[shared, Tree(2, children=[Tree(2, "w5"), shared])])


TREES = {"random": lambda: forest(7), "degenerate": lambda: forest(8)[2:4],
         "dag": lambda: [_dag()]}


@pytest.mark.parametrize("at", ["nodes", "root"])
@pytest.mark.parametrize("shape", list(TREES))
@pytest.mark.parametrize("name", list(MODELS))
def test_level_batched_tree_traces_to_the_per_node_graph(name, shape, at):
    trees = TREES[shape]()
    if name == "childsum" and shape == "dag":
        trees = forest(9, max_arity=3)  # the child-sum form takes any arity
    sched = build_schedule(trees, VOCAB)
    graphs, models = [], []
    for mode in ("batched", "per_node"):
        models.append(MODELS[name]())
        loss = models[-1].loss(sched, mode=mode, at=at)
        loss.backward(retain_grads=True)
        graphs.append(tr.trace(loss, max_values=10_000))
    assert_same_graph(*graphs)
    assert_uses_sum_to_grad(graphs[0], dict(models[0].named_parameters()))


def test_tree_encode_opens_too():
    sched = build_schedule(forest(3), VOCAB)
    graphs = []
    for mode in ("batched", "per_node"):
        p = MODELS["lstm"]().encode(sched, mode=mode)
        loss = (p * p).sum()
        loss.backward(retain_grads=True)
        graphs.append(tr.trace(loss))
    assert_same_graph(*graphs)


def test_exercise_and_replay_of_a_default_layer_are_the_composite_ones():
    """The teaching tools read the expanded trace: the same questions, answers and frames."""
    viz = pytest.importorskip("viz")
    runs = [run_layer(tr.nn.GRU, fused, {})[1] for fused in (True, False)]
    sheets = [viz.exercise(loss, blank=6, seed=0).worksheet() for loss in runs]
    assert _rounded(sheets[0]) == _rounded(sheets[1])
    with pytest.warns(viz.SummaryWarning):  # 402 backward steps: the first 40 are compared
        frames = [viz.replay_frames(tr.trace(loss), max_frames=40) for loss in runs]
    assert [f.caption for f in frames[0]] == [f.caption for f in frames[1]]


def test_contribution_matrix_of_a_default_layer_is_the_composite_one():
    from tinygrad_rnn import analysis
    mats = []
    for fused in (True, False):
        rng = np.random.default_rng(3)
        m, head = tr.nn.RNN(3, 4, fused=fused, rng=2), tr.nn.Linear(4, 2, rng=3)
        out, _ = m(rng.standard_normal((6, 1, 3)))
        losses = [tr.F.cross_entropy(head(out[t]), [t % 2]) for t in range(6)]
        mats.append(analysis.contribution_matrix(losses, m.weight_hh_l0))
    np.testing.assert_allclose(mats[0], mats[1], rtol=0, atol=1e-12)
    assert np.abs(np.triu(mats[0].sum(axis=(2, 3)), 1)).max() == 0  # causality


@pytest.mark.parametrize("name", ["rnn", "lstm"])
def test_tree_pictures_of_a_level_batched_model_are_the_per_node_ones(name):
    viz = pytest.importorskip("viz")
    sched = build_schedule(forest(5), VOCAB)
    texts = []
    for mode in ("batched", "per_node"):
        loss = MODELS[name]().loss(sched, mode=mode)
        loss.backward(retain_grads=True)
        g = tr.trace(loss)
        texts.append([_rounded(viz.draw(g, view=v, max_nodes=5000).source)
                      for v in ("tree", "backward")])
    assert texts[0] == texts[1]


def test_dropout_between_layers_is_replayed_with_the_fused_masks():
    """In training mode the rerun applies the fused call's own dropout masks, step by step, so
    the opened graph computes the same outputs and gradients."""
    m = tr.nn.GRU(3, 4, num_layers=2, dropout=0.5, rng=0)
    x = tr.Tensor(np.random.default_rng(1).standard_normal((5, 2, 3)), requires_grad=True)
    out, _ = m(x)
    loss = (out * out).sum()
    loss.backward(retain_grads=True)
    g = tr.trace(loss, max_values=10_000)
    root = g.nodes[g.roots[0]]
    assert abs(root.value["values"][0] - loss.item()) < 1e-12
    assert sum(n.op == "dropout" for n in g.nodes) == 5  # one per step between the layers
    x_node = next(n for n in g.nodes if n.kind == "param" and n.shape == [5, 2, 3])
    uses = sum(np.reshape(e.grad["values"], x.shape) for e in g.edges if e.src == x_node.id)
    np.testing.assert_allclose(uses, x.grad, rtol=0, atol=1e-12)  # the rerun's per-step uses
