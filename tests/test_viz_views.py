"""viz views: golden DOT files, determinism, semantic labels, folding, collapse, summaries.

Golden files live in tests/golden/viz/; regenerate them with ``UPDATE_GOLDEN=1 pytest``.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_viz_models import bilstm, birnn, elman, lstm, lstm200, seq2seq, synthetic, tree3

import tinygrad_rnn as tr
import viz
from viz.graph_index import GraphIndex, loop_group

GOLDEN = Path(__file__).parent / "golden" / "viz"


def check_golden(name: str, source: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.encode("utf-8"))
        return
    assert path.exists(), f"missing golden file {name}: run the tests with UPDATE_GOLDEN=1"
    assert source == path.read_bytes().decode("utf-8"), (
        f"DOT differs from golden {name}; if the change is intended, rerun with UPDATE_GOLDEN=1")


def node_ids(source: str) -> list:
    """DOT ids of the node statements (not edges, not graph/node/edge defaults)."""
    return re.findall(r"^\t+([A-Za-z_][A-Za-z0-9_]*) \[", source, flags=re.M)


def line_of(source: str, did: str) -> str:
    return next(ln for ln in source.splitlines() if ln.strip().startswith(f"{did} ["))


@pytest.mark.parametrize("name, build, view, opts", [
    ("elman_unrolled.dot", lambda: elman(T=2), "unrolled", {"expand": "all"}),
    ("elman_folded.dot", lambda: elman(T=2), "folded", {"expand": "all"}),
    ("lstm_unrolled.dot", lambda: lstm(T=2), "unrolled", {"expand": "all"}),
    ("tree3_tree.dot", tree3, "tree", {"expand": "all"}),
    ("tree3_boxes.dot", tree3, "tree", {}),
    ("elman_grid.dot", lambda: elman(T=3), "unrolled", {}),
    ("birnn_grid_backward.dot", lambda: birnn(T=3), "backward", {}),
])
def test_golden_dot(name, build, view, opts):
    check_golden(name, viz.draw(build(), view=view, **opts).source)


@pytest.mark.parametrize("view, opts", [("unrolled", {}), ("folded", {}), ("backward", {}),
                                        ("backward", {"collapse": "cell", "highlight": "W"}),
                                        ("tree", {})])
def test_same_model_twice_gives_identical_dot(view, opts):
    build = tree3 if view == "tree" else (lambda: elman(T=6))
    assert viz.draw(build(), view=view, **opts).source == viz.draw(build(), view=view,
                                                                     **opts).source


def test_every_input_form_gives_the_same_picture(tmp_path):
    g = elman(T=2)
    path = tmp_path / "g.json"
    path.write_text(g.to_json())
    want = viz.draw(g).source
    for form in (g.to_dict(), str(path), path, g.to_json()):
        assert viz.draw(form).source == want
    loss = tr.Tensor([1.0, 2.0], requires_grad=True, name="a").sum()
    loss.backward()
    assert "sum" in viz.draw(loss).source


def test_bad_inputs_and_options_raise_clear_errors():
    with pytest.raises(viz.GraphFormatError, match="expected a tr.Graph"):
        viz.draw(42)
    with pytest.raises(viz.GraphFormatError, match="node ids"):
        viz.draw({"nodes": [{"id": 3}], "edges": []})
    with pytest.raises(viz.GraphFormatError, match="src < dst"):
        viz.draw({"nodes": [{"id": 0}, {"id": 1}], "edges": [{"src": 1, "dst": 0}]})
    g = elman(T=2)
    with pytest.raises(viz.OptionError, match="view='sideways'"):
        viz.draw(g, view="sideways")
    with pytest.raises(viz.OptionError, match="colour"):
        viz.draw(g, view="folded", colour="red")
    with pytest.raises(viz.OptionError, match="collapse"):
        viz.draw(g, collapse="layer")
    with pytest.raises(viz.OptionError, match="rankdir"):
        viz.draw(g, rankdir="up")
    with pytest.raises(viz.OptionError, match="highlight='nope'"):
        viz.draw(g, view="backward", highlight="nope")


def test_unrolled_has_step_clusters_semantic_names_and_weight_copies():
    g = elman(T=2)
    src = viz.draw(g, expand="all").source
    assert "subgraph cluster_step_0 {" in src and "subgraph cluster_step_1 {" in src
    assert "rnn.h[t=1]\\ntanh (3,)" in src and "rnn.o[t=0]" in src
    W = g.find(name="W")[0]
    for e in (e for e in g.edges if e.src == W.id):  # one copy W^(t) per use, own gradient
        t = g.nodes[e.dst].meta["step"]
        copy = line_of(src, f"n{W.id}_{e.dst}_{e.arg}")
        assert f"W^({t})\\n‖∇‖={viz._dot.fmt(e.grad['norm'])}" in copy
        assert f"n{W.id} -> n{W.id}_{e.dst}_{e.arg} [" in src
    assert f"‖∇‖={viz._dot.fmt(W.grad['norm'])}" in line_of(src, f"n{W.id}")


def test_lstm_labels_use_roles():
    src = viz.draw(lstm(T=2), expand="all").source
    for name in ("lstm.f_gate[t=1]", "lstm.i_gate[t=0]", "lstm.g_gate[t=0]", "lstm.o_gate[t=1]",
                 "lstm.c[t=0]", "lstm.h[t=1]", "lstm.c.mul[t=0]"):
        assert name in src


def test_layers_and_directions_nest_inside_steps():
    src = viz.draw(birnn(T=3), expand="all").source
    step = src.index("subgraph cluster_step_0 {")
    layer = src.index("subgraph cluster_step_0_layer_0 {")
    fwd = src.index("subgraph cluster_step_0_layer_0_direction_forward_")
    rev = src.index("subgraph cluster_step_0_layer_0_direction_reverse_")
    assert step < layer < min(fwd, rev)
    assert "birnn.l0.reverse.h[t=2]" in src


def test_cut_edges_are_dashed_red_and_labelled():
    g = elman(T=3, cut_at=2)
    for view in ("unrolled", "folded", "backward"):
        src = viz.draw(g, view=view, expand="all").source
        cut = [ln for ln in src.splitlines() if "cut (TBPTT)" in ln]
        assert len(cut) == 1 and "style=dashed" in cut[0] and "color=red" in cut[0]


def test_folded_merges_steps_and_marks_recurrence():
    g = elman(T=4)
    dg = viz.draw(g, view="folded", expand="all")
    members = dg.viz_members
    assert members == viz.fold(g)
    assert sorted(i for ids in members.values() for i in ids) == list(range(len(g.nodes)))
    tanh = [k for k, ids in members.items() if g.nodes[ids[0]].op == "tanh"]
    assert len(tanh) == 1 and len(members[tanh[0]]) == 4
    src = dg.source
    assert "rnn.h\\ntanh (3,) ×4\\n‖∇‖ over t: " in src
    assert "x[t]" in src and "‖∇W^(t)‖: " in src
    assert len(re.findall(r"^\td\d+ \[.*fillcolor=black", src, flags=re.M)) == 1  # one delay
    assert re.search(rf"\t{tanh[0]} -> d0 \[arrowhead=none\]", src)


@pytest.mark.parametrize("build", [elman, lstm, birnn])
def test_folded_size_does_not_depend_on_T(build):
    for opts in ({"expand": "all"}, {}):
        small = viz.draw(build(T=5), view="folded", **opts)
        big = viz.draw(build(T=50), view="folded", **opts)
        assert len(node_ids(small.source)) == len(node_ids(big.source))
        assert len(small.members) == len(big.members)


def test_tree_view_clusters_words_and_child_order():
    src = viz.draw(tree3(), view="tree", expand="all").source
    for k in range(5):
        assert f"subgraph cluster_tree_node_{k} {{" in src
    assert "“the”" in src and "‖∇p‖=" in src and "‖∇W^(4)‖=" in src
    # clusters are written in pre-order and leaves left to right: the, cat, then sat
    order = [int(k) for k in re.findall(r"subgraph cluster_tree_node_(\d+) \{", src)]
    assert order == [4, 3, 0, 1, 2]
    assert "ordering=in" in src and "shared parameters" in src
    small = viz.draw(tree3(), view="tree", ops=False).source
    assert len(node_ids(small)) < len(node_ids(src))


def test_backward_colours_legend_values_and_highlight():
    g = elman(T=2)
    src = viz.draw(g, view="backward", highlight="W", expand="all").source
    assert "legend [label=<<TABLE" in src and "no grad" in src
    assert "data [" in src and "grad [" in src and "dir=back" in src
    W, U = g.find(name="W")[0].id, g.find(name="U")[0].id
    assert "penwidth=2.5" in line_of(src, f"n{W}")
    assert "penwidth=2.5" not in line_of(src, f"n{U}")
    root = g.roots[0]
    assert "penwidth=2.5" in line_of(src, f"n{root}")
    by_site = viz.draw(g, view="backward", highlight="rnn/tanh#0", expand="all").source
    tanh1 = g.find(op="tanh", step=1)[0].id
    assert "penwidth=2.5" in line_of(by_site, f"n{tanh1}")
    by_id = viz.draw(g, view="backward", highlight=tanh1, expand="all").source
    assert "penwidth=2.5" in line_of(by_id, f"n{tanh1}")
    tanh0 = g.find(op="tanh", step=0)[0].id  # on the path to the site's t=0 copy, not to t=1
    assert "penwidth=2.5" in line_of(by_site, f"n{tanh0}")
    assert "penwidth=2.5" not in line_of(by_id, f"n{tanh0}")


def test_collapse_cell_draws_one_node_per_step():
    src = viz.draw(lstm(T=3), view="backward", collapse="cell", expand="all").source
    cells = [ln for ln in src.splitlines() if "shape=box3d" in ln]
    assert len(cells) == 3 and "lstm[t=0]" in src and "lstm.h ‖∇‖=" in src


def test_long_unroll_collapses_middle_steps():
    g = lstm200()
    t0 = time.perf_counter()
    src = viz.draw(g, expand="all").source
    elapsed = time.perf_counter() - t0
    steps = sorted(int(s) for s in re.findall(r"subgraph cluster_step_(\d+) \{", src))
    assert steps == [0, 1, 198, 199]
    assert "… × 196 steps" in src and "t=2…197" in src
    assert len(node_ids(src)) < 200, elapsed
    kept = viz.draw(g, keep_steps=[100], keep_ends=1, expand="all").source
    steps = sorted(int(s) for s in re.findall(r"subgraph cluster_step_(\d+) \{", kept))
    assert steps == [0, 100, 199] and "… × 99 steps" in kept and "… × 98 steps" in kept
    with pytest.warns(viz.SummaryWarning, match="middle steps"):  # all steps asked: too many
        every = viz.draw(g, keep_ends=None, expand="all").source
    assert "… × 196 steps" in every
    assert len(node_ids(viz.draw(g, keep_ends=None, max_nodes=10_000,
                                 expand="all").source)) > 3000


def test_huge_graph_is_summarised_with_a_warning():
    d = synthetic()
    for view in ("unrolled", "backward", "folded", "tree"):
        with pytest.warns(viz.SummaryWarning, match="max_nodes=500"):
            src = viz.draw(d, view=view).source
        assert len(node_ids(src)) <= 510
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.draw(elman(T=3))  # small graphs: no warning


def test_hostile_names_stay_inside_quotes():
    src = viz.draw(hostile()).source
    for ln in src.splitlines():  # every label is one quoted DOT string or an HTML label
        assert ln.count('label="') <= 1
    assert '\\"hi\\"' in src and "line1⏎line2" in src and "back\\\\slash\\\\" in src
    assert "<html>" in src and "x" * 39 + "…" in src and "x" * 300 in src  # tooltip: full


def hostile():
    names = ['say "hi"', "<html><b>x</b>", "line1\nline2", "{a} [b]; c -> d", "back\\slash\\",
             "\\N \\G \\l", "x" * 300, "naïve ∇ 日本語 🙂", "&amp; <"]
    ps = [tr.Tensor([0.5, -0.5], requires_grad=True, name=n) for n in names]
    with tr.scope('sc"ope<i>', step='s"1', role="r\n{x}"):
        y = ps[0]
        for p in ps[1:]:
            y = (y * p).tanh()
    loss = y.sum()
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def test_heat_strip_colours_cells():
    dg = viz.heat_strip([0.12, 0.40, 1.1, None], title="‖∇h^(t)‖ <b>")
    src = dg.source
    assert src.count("BGCOLOR=") == 4 and "t=3" in src and ">-<" in src
    assert "&lt;b&gt;" in src
    with pytest.raises(viz.OptionError, match="labels"):
        viz.heat_strip([1.0, 2.0], labels=["a"])
    many = viz.heat_strip([float(k + 1) for k in range(1000)]).source
    assert many.count("BGCOLOR=") == 200 and "t=999" in many


def test_graph_json_round_trip_through_file(tmp_path):
    g = tree3()
    path = tmp_path / "tree.json"
    path.write_text(json.dumps(g.to_dict()))
    assert viz.draw(path, view="tree").source == viz.draw(g, view="tree").source


def test_graph_without_gradients_still_draws():
    W = tr.Tensor([[0.5]], requires_grad=True, name="W")
    h = tr.Tensor([[1.0]])
    for t in range(3):
        with tr.scope("rnn", step=t):
            h = (h @ W).tanh()
    g = tr.trace(h)  # no backward: only values
    for view in ("unrolled", "folded", "backward"):
        src = viz.draw(g, view=view, expand="all").source
        assert "rnn.tanh[t=2]" in src or "rnn.tanh" in src
    legend = line_of(viz.draw(g, view="backward", expand="all").source, "legend")
    assert "no grad" in legend and "≥" not in legend


def _nn_lstm_graph(T, seed=0):
    rng = np.random.default_rng(seed)
    m = tr.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    out, _ = m(tr.Tensor(rng.standard_normal((T, 2, 3))))
    loss = (out ** 2).mean()
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def test_nn_lstm_layers_nest_per_layer_and_direction():
    g = _nn_lstm_graph(T=3)
    src = viz.draw(g, expand="all").source
    assert "subgraph cluster_step_2_layer_1 {" in src
    assert "subgraph cluster_step_2_layer_1_direction_reverse_" in src
    assert "lstm.l0.f_gate[t=1]" in src and "lstm.l1_reverse.h[t=0]" in src
    big = viz.draw(_nn_lstm_graph(T=12), view="folded", expand="all")
    assert len(big.viz_members) == len(viz.draw(g, view="folded", expand="all").viz_members)


def test_loop_groups_drop_the_layer_and_direction_of_a_layer():
    assert loop_group("seq2seq/encoder/l0_reverse") == "seq2seq/encoder"
    assert loop_group("lstm/l1") == "lstm" and loop_group("rnn") == "rnn"
    assert loop_group(None) is None
    # one layer's directions are one loop; a per-step head (same t) joins its RNN's loop
    assert set(GraphIndex(bilstm().to_dict()).loops()) == {None}
    assert set(GraphIndex(birnn().to_dict()).loops()) == {None}


def test_seq2seq_draws_encoder_and_decoder_apart():
    src = viz.draw(seq2seq(), expand="all").source
    enc = re.search(r"subgraph cluster_(loop_seq2seq_encoder_\w+) \{", src)
    dec = re.search(r"subgraph cluster_(loop_seq2seq_decoder_step_\w+) \{", src)
    assert enc and dec and enc.start() < dec.start()  # the encoder ran first
    for loop, t in ((enc, 0), (enc, 2), (dec, 0), (dec, 2)):  # steps inside their loop
        at = src.index(f"subgraph cluster_step_{t}_{loop.group(1)} {{")
        assert loop.start() < at and (loop is dec or at < dec.start())
    assert "subgraph cluster_step_0 {" not in src  # no step shared by both loops
    assert "label=encoder" in src and "label=decoder_step" in src
    fwd = src.index(f"cluster_step_1_layer_0_direction_forward_12453a88_{enc.group(1)}")
    assert fwd < src.index(f"cluster_step_1_layer_0_direction_reverse_e205a8c5_{enc.group(1)}")
    assert "stack0" in src  # the decoder is ranked after the encoder


def test_long_seq2seq_collapses_steps_per_loop():
    src = viz.draw(seq2seq(S=6, T=7), expand="all").source
    # S=6, T=7, keep_ends=2: the encoder hides t=2..3 and the decoder t=2..4, separately
    assert src.count('label="\u2026 \u00d7 2 steps') == 1
    assert src.count('label="\u2026 \u00d7 3 steps') == 1
    assert re.search(r"subgraph cluster_steps_2_loop_seq2seq_encoder_\w+ \{", src)
    assert re.search(r"subgraph cluster_steps_2_loop_seq2seq_decoder_step_\w+ \{", src)


def test_graph_saved_without_loops_draws_as_before():
    d = seq2seq().to_dict()
    old = json.loads(json.dumps(d))
    for nd in old["nodes"]:
        (nd.get("meta") or {}).pop("loop", None)
    src = viz.draw(old, expand="all").source
    assert "cluster_loop" not in src and "subgraph cluster_step_0 {" in src
    assert "stack0" not in src
