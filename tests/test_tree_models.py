"""Recursive nets over trees: per-node == batched, gradchecks, metadata, DAGs, depth, errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_example

import tinygrad_rnn as tr
from tinygrad_rnn.data import Tree, Vocab, parse_tree
from tinygrad_rnn.kernels.tree import tree_gather_bwd, tree_gather_fwd
from tinygrad_rnn.nn import (
    RNTN,
    RecursiveNN,
    TreeLSTM,
    build_schedule,
    merge_schedules,
    tree_accuracy,
    tree_gather,
    tree_lstm,
    tree_rnn,
)

WORDS = [f"w{i}" for i in range(9)]
VOCAB = {w: i for i, w in enumerate(WORDS)}

MODELS = {
    "rnn": lambda: RecursiveNN(len(WORDS), dim=3, rng=1),
    "rntn": lambda: RNTN(len(WORDS), dim=3, rng=2),
    "lstm": lambda: TreeLSTM(len(WORDS), input_size=2, hidden_size=3, rng=3),
    "childsum": lambda: TreeLSTM(
        len(WORDS), input_size=2, hidden_size=3, variant="childsum", rng=4
    ),
}


def random_tree(rng, n_leaves: int, shape: str = "random", max_arity: int = 2) -> Tree:
    """Merge adjacent items until one is left: 'left'/'right' chains are the degenerate trees.

    With max_arity > 2, nodes take 1..max_arity children (unary chains included)."""

    def leaf():
        return Tree(int(rng.integers(5)), WORDS[int(rng.integers(len(WORDS)))])

    items = [leaf() for _ in range(n_leaves)]
    while len(items) > 1 or (max_arity > 2 and rng.random() < 0.2):
        k = 2 if max_arity == 2 else int(rng.integers(1, min(max_arity, len(items)) + 1))
        if shape == "left":
            i = 0
        elif shape == "right":
            i = len(items) - k
        else:
            i = int(rng.integers(len(items) - k + 1))
        items[i : i + k] = [Tree(int(rng.integers(5)), children=items[i : i + k])]
    return items[0]


def forest(seed: int, max_arity: int = 2) -> list:
    rng = np.random.default_rng(seed)
    return [
        random_tree(rng, n, shape, max_arity)
        for n, shape in [(1, "random"), (7, "random"), (6, "left"), (5, "right"), (9, "random")]
    ]


def loss_and_grads(model, sched, mode, at):
    model.zero_grad()
    loss = model.loss(sched, mode=mode, at=at)
    loss.backward()
    return loss.item(), {n: p.grad.copy() for n, p in model.named_parameters()}


# ---- schedules -------------------------------------------------------------------------------
def test_schedule_levels_order_and_depth():
    t = parse_tree("(3 (2 w0) (4 (2 w1) (3 (1 w2) (3 w3))))")
    s = build_schedule([t], VOCAB)
    assert [(lv.start, lv.stop, lv.arity) for lv in s.levels] == [
        (0, 4, 0),
        (4, 5, 2),
        (5, 6, 2),
        (6, 7, 2),
    ]
    post = t.nodes()
    assert [s.labels[i] for i in s.order] == [n.label for n in post]
    assert [s.depth[i] for i in s.order] == [1, 2, 3, 3, 2, 1, 0]
    assert s.leaf_ids.tolist() == [0, 1, 2, 3] and s.roots.tolist() == [6]
    assert s.children(6).tolist() == [0, 5] and s.children(4).tolist() == [2, 3]


def test_merge_matches_one_build():
    trees = forest(0)
    whole = build_schedule(trees, VOCAB)
    merged = merge_schedules([build_schedule([t], VOCAB) for t in trees])
    for k in (
        "height",
        "child_ptr",
        "child_ids",
        "labels",
        "word_ids",
        "tree",
        "depth",
        "order",
        "roots",
    ):
        assert np.array_equal(getattr(whole, k), getattr(merged, k)), k
    assert whole.words == merged.words


# ---- per-node vs level-batched ---------------------------------------------------------------
@pytest.mark.parametrize("at", ["nodes", "root"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_per_node_equals_batched(name, at):
    trees = forest(5, max_arity=4 if name == "childsum" else 2)
    sched = build_schedule(trees, VOCAB)
    if name == "childsum":
        assert sched.max_arity > 2  # padded child slots are exercised
    model = MODELS[name]()
    la, ga = loss_and_grads(model, sched, "per_node", at)
    lb, gb = loss_and_grads(model, sched, "batched", at)
    assert abs(la - lb) <= 1e-10 * max(1.0, abs(la))
    for k in ga:
        np.testing.assert_allclose(ga[k], gb[k], rtol=0, atol=1e-10, err_msg=k)
    logits = model(sched, mode="per_node", at=at)
    assert np.allclose(logits.data, model(sched, at=at).data, rtol=0, atol=1e-12)
    p = model.encode(sched, mode="per_node").data
    assert p.shape == (sched.num_nodes, 3)
    assert np.allclose(p, model.encode(sched).data, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_gradcheck_small_tree(name):
    tree = random_tree(np.random.default_rng(3), 4, max_arity=3 if name == "childsum" else 2)
    sched = build_schedule([tree, parse_tree("(1 (3 w1) (0 w2))")], VOCAB)
    model = MODELS[name]()
    params = model.parameters()
    assert tr.gradcheck(lambda *ps: model.loss(sched), params)
    assert tr.gradcheck(lambda *ps: model.loss(sched, mode="per_node", at="root"), params)


def test_tree_gather_kernels_match_numpy():
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        src = rng.standard_normal((5, 3)).astype(dtype)
        pos, rows = np.array([0, 3, 4, 7], np.int64), np.array([4, 4, 0, 2], np.int64)
        out = tree_gather_fwd(np.zeros((8, 3), dtype), pos, src, rows)
        ref = np.zeros((8, 3), dtype)
        ref[pos] = src[rows]
        assert np.array_equal(out, ref)
        g = rng.standard_normal((8, 3)).astype(dtype)
        back = tree_gather_bwd(np.zeros_like(src), rows, g, pos)
        ref = np.zeros_like(src)
        np.add.at(ref, rows, g[pos])  # row 4 read twice: both gradients add
        np.testing.assert_allclose(back, ref, rtol=1e-6)


# ---- metadata for pictures ---------------------------------------------------------------------
def test_per_node_metadata():
    t = parse_tree("(3 (2 w0) (4 (2 w1) (3 w2)))")
    sched = build_schedule([t], VOCAB)
    model = MODELS["rnn"]()
    graph = tr.trace(model.loss(sched, mode="per_node"))
    depths = [1, 2, 2, 1, 0]  # post-order: w0, w1, w2, (w1 w2), root
    for k, node in enumerate(t.nodes()):
        found = graph.find(tree_node=k)
        assert found and all(n.meta["depth"] == depths[k] for n in found)
        roles = {n.meta["role"] for n in found}
        assert roles == ({"leaf", "classify"} if node.is_leaf else {"compose", "classify"})
        if node.is_leaf:
            assert {n.meta.get("word") for n in found if n.meta["role"] == "leaf"} == {node.word}
    assert not graph.find(tree_node=5)
    assert len(graph.find(tree_node=3, role="compose", op="tanh")) == 1


# ---- shared subtrees (DAG) -------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["per_node", "batched"])
def test_shared_subtree_encoded_once_gradients_accumulate(mode):
    shared = parse_tree("(1 (2 w3) (0 w4))")
    dag = Tree(3, children=[shared, Tree(2, children=[Tree(2, "w5"), shared])])
    copy = parse_tree(str(dag))  # the same tree with the subtree written out twice
    s_dag, s_copy = build_schedule([dag], VOCAB), build_schedule([copy], VOCAB)
    assert (s_dag.num_nodes, s_copy.num_nodes) == (6, 9)
    for name in ("rnn", "lstm"):
        model = MODELS[name]()
        la, ga = loss_and_grads(model, s_dag, mode, "root")
        lb, gb = loss_and_grads(model, s_copy, mode, "root")
        assert abs(la - lb) < 1e-12
        for k in ga:
            np.testing.assert_allclose(ga[k], gb[k], rtol=0, atol=1e-12, err_msg=k)
    graph = tr.trace(MODELS["rnn"]().loss(s_dag, mode="per_node", at="root"))
    assert len(graph.find(op="tanh")) == 3  # three internal nodes, the shared one once


# ---- depth ---------------------------------------------------------------------------------
def test_10000_deep_tree_both_modes():
    t = Tree(1, "w0")
    for i in range(10_000):
        t = Tree(2, children=[t, Tree(3, WORDS[i % 9])])
    sched = build_schedule([t], VOCAB)
    assert len(sched.levels) == 10_001
    model = MODELS["rnn"]()
    la, ga = loss_and_grads(model, sched, "per_node", "root")
    lb, gb = loss_and_grads(model, sched, "batched", "root")
    assert abs(la - lb) < 1e-9
    np.testing.assert_allclose(ga["W"], gb["W"], rtol=1e-9, atol=1e-9)
    assert all(np.all(np.isfinite(g)) for g in gb.values())


# ---- errors ---------------------------------------------------------------------------------
def test_errors_are_clear():
    t = parse_tree("(3 (2 w0) (4 (2 unknown) (3 w2)))")
    with pytest.raises(tr.ArgumentError, match=r"tree 0, node 1 .*'unknown'.*no unknown"):
        build_schedule([t], VOCAB)
    with pytest.raises(tr.ArgumentError, match=r"tree 1, node 1 .*label 7 .*\[0, 5\)"):
        build_schedule([parse_tree("(1 w0)"), parse_tree("(1 (2 w0) (7 w1))")], VOCAB)
    sched = build_schedule([t], Vocab.from_trees([t]))
    with pytest.raises(tr.ArgumentError, match=r"RecursiveNN: word id \d .*tree 0, node \d"):
        RecursiveNN(2, dim=3)(sched)
    bad_label = r"label 3 at tree 0, node 2 in post-order \(word 'w2'\).*\[0, 3\)"
    with pytest.raises(tr.ArgumentError, match=bad_label):
        RecursiveNN(9, dim=3, num_classes=3)(sched)
    flat = build_schedule([parse_tree("(1 (2 w0) (3 w1) (4 w2))")], VOCAB)
    with pytest.raises(tr.ShapeError, match=r"binary.*tree 0, node 3 .*3 children.*binarize"):
        MODELS["rnn"]()(flat)
    MODELS["childsum"]()(flat)  # child-sum takes any arity
    with pytest.raises(tr.ArgumentError, match="mode"):
        MODELS["rnn"]()(flat, mode="fast")
    with pytest.raises(tr.DTypeError, match="TreeSchedule"):
        MODELS["rnn"]()([t])
    with pytest.raises(tr.ArgumentError, match="variant"):
        TreeLSTM(9, variant="binary")
    with pytest.raises(tr.ArgumentError, match="'dim' must be a positive int"):
        RecursiveNN(9, dim=0)
    loop = Tree(1, children=[Tree(2, "w0")])
    loop.children.append(loop)
    with pytest.raises(tr.ArgumentError, match="cycle"):
        build_schedule([loop], VOCAB)


def test_tree_gather_checks_and_accuracy():
    a = tr.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(tr.ArgumentError, match="out of range"):
        tree_gather([a], [(np.array([0]), np.array([2]))], n=1, m=1)
    with pytest.raises(tr.ArgumentError, match="picks"):
        tree_gather([a, a], [(np.array([0]), np.array([1]))], n=1, m=1)
    s = build_schedule([parse_tree("(4 (0 w0) (2 w1))")], VOCAB)
    acc = tree_accuracy(np.eye(5)[[0, 1, 4]], s)  # node order: leaves, then root
    assert acc["fine"] == pytest.approx(2 / 3) and acc["binary"] == 1.0


# ---- whole-tree fused ops ----------------------------------------------------------------------
@pytest.mark.parametrize("name,fused", [("rnn", "tree_rnn"), ("lstm", "tree_lstm"),
                                        ("rntn", None), ("childsum", None)])
def test_batched_mode_runs_one_fused_op(name, fused):
    """RecursiveNN and the binary TreeLSTM run every level as one op (a fixed op count, however
    deep the batch); RNTN and child-sum keep a gather + compose ops per level."""
    def ops(trees):
        sched = build_schedule(trees, VOCAB)
        graph = tr.trace(MODELS[name]().loss(sched), expand=False)
        return [n.op for n in graph.nodes if n.op], len(sched.levels)

    shallow, _ = ops(forest(5, max_arity=4 if name == "childsum" else 2))
    deep, depth = ops([random_tree(np.random.default_rng(0), 12, "left")])
    if fused:
        assert shallow.count(fused) == 1 and "tree_gather" not in shallow
        assert sorted(deep) == sorted(shallow)  # as many ops at depth 12 as for the forest
    else:
        assert deep.count("tree_gather") == depth - 1


def test_fused_float32_matches_per_node():
    sched = build_schedule(forest(2), VOCAB)
    for model in (RecursiveNN(9, dim=4, rng=0, dtype=np.float32),
                  TreeLSTM(9, input_size=3, hidden_size=4, rng=0, dtype=np.float32)):
        la, ga = loss_and_grads(model, sched, "per_node", "nodes")
        lb, gb = loss_and_grads(model, sched, "batched", "nodes")
        assert abs(la - lb) <= 1e-4 * abs(la)
        for k in ga:
            assert gb[k].dtype == np.float32, k
            np.testing.assert_allclose(ga[k], gb[k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_fused_op_errors_name_the_argument():
    x, w, b = (tr.Tensor(np.zeros(s), requires_grad=True) for s in [(2, 3), (3, 6), (3,)])
    ok = [(2, 3, np.array([0, 1]))]
    assert tree_rnn(x, w, b, ok).shape == (3, 3)
    with pytest.raises(tr.ShapeError, match=r"tree_rnn: argument 'weight' .*\(3, 6\).*\(6, 3\)"):
        tree_rnn(x, w.T, b, ok)
    with pytest.raises(tr.ShapeError, match=r"tree_lstm: argument 'leaves' .*\(N0, 2 H\)"):
        tree_lstm(x, w, b, ok)
    with pytest.raises(tr.ArgumentError, match=r"levels\[0\] must cover rows 2\.\..*got start 1"):
        tree_rnn(x, w, b, [(1, 3, np.array([0, 1, 0, 0]))])
    with pytest.raises(tr.ArgumentError, match=r"levels\[0\] kids must be 2 int.*\(3,\)"):
        tree_rnn(x, w, b, [(2, 3, np.array([0, 1, 1]))])
    with pytest.raises(tr.ArgumentError, match=r"levels\[1\] kids must be node ids in \[0, 3\)"):
        tree_rnn(x, w, b, ok + [(3, 4, np.array([2, 3]))])  # a node cannot be its own child


# ---- the example -----------------------------------------------------------------------------
def test_example_tree_sentiment_tiny(tmp_path, capsys):
    run_example("tree_sentiment.py", "--tiny", "--generated", "--out", str(tmp_path), "--draw",
                str(tmp_path))
    out = capsys.readouterr().out
    results = {
        line.split()[1]: dict(kv.split("=") for kv in line.split()[2:])
        for line in out.splitlines()
        if line.startswith("RESULT ")
    }
    assert set(results) == {"rnn", "rntn", "treelstm"}, out
    for name, r in results.items():
        assert float(r["fine_root"]) > 0.35 and float(r["fine_nodes"]) > 0.6, (name, r)
    assert (tmp_path / "tree_rnn.npz").exists()
    for name in results:  # one short tree per model, drawn as the tree and backward
        words = out.split(f"[{name}] drawing '")[1].split("'")[0].split()
        assert 1 <= len(words) <= 8
        for view in ("tree", "backward"):
            path = tmp_path / f"tree_{name}_{view}.svg"
            assert path.exists() and path.stat().st_size > 1000, path
        svg = (tmp_path / f"tree_{name}_tree.svg").read_text(encoding="utf-8")
        boxes = 'id="box&#45;' in svg or 'id="box-' in svg  # dot escapes the hyphen
        assert boxes and f"\u201c{words[0]}\u201d" in svg  # a box per tree node; a leaf word
