"""viz layout details: tree-node summaries clear of edges, initial states drawn as inputs,
one delay marker per recurrent state in the folded picture."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from test_viz_models import _param, elman, tree3
from test_viz_render import SVG, renderer_path

import tinygrad_rnn as tr
import viz
from viz.views.unrolled import PARAM_FILL


def cluster_block(src: str, name: str) -> str:
    """The DOT text of one (unnested) cluster subgraph."""
    start = src.index(f"subgraph {name} {{")
    return src[start:src.index("\n\t}", start)]


# -- 1. tree view: the summary of a tree node is a node, so edges are routed around it

def test_tree_summaries_are_nodes_not_cluster_labels():
    src = viz.draw(tree3(), view="tree", expand="all").source
    for k, depth in ((3, 1), (4, 0)):
        block = cluster_block(src, f"cluster_tree_node_{k}")
        assert 'label=""' in block  # the cluster itself carries no text
        assert re.search(rf'summary_{k} \[label="node {k} · depth {depth}\\n‖∇p‖=', block)
    assert "‖∇W^(4)‖=" in cluster_block(src, "cluster_tree_node_4")


def text_boxes(svg_root, titles: set) -> list:
    """Rough boxes (x0, x1, y0, y1) of the text of the given nodes and clusters."""
    boxes = []
    for g in svg_root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if title is None or title.text not in titles:
            continue
        for t in g.iter(f"{SVG}text"):
            x, y, size = float(t.get("x")), float(t.get("y")), float(t.get("font-size"))
            half = 0.25 * size * len(t.text or "")  # Times averages about half an em
            boxes.append((x - half, x + half, y - 0.8 * size, y + 0.1 * size))
    return boxes


def edge_points(svg_root) -> list:
    """Points along every drawn edge (its cubic Bezier segments, 20 samples each)."""
    pts = []
    for g in svg_root.iter(f"{SVG}g"):
        if g.get("class") != "edge":
            continue
        path = g.find(f"{SVG}path")
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
        xy = list(zip(nums[0::2], nums[1::2]))
        for k in range(0, len(xy) - 3, 3):
            p0, p1, p2, p3 = xy[k:k + 4]
            for j in range(21):
                s = j / 20
                w = ((1 - s) ** 3, 3 * s * (1 - s) ** 2, 3 * s * s * (1 - s), s ** 3)
                pts.append((sum(c * p[0] for c, p in zip(w, (p0, p1, p2, p3))),
                            sum(c * p[1] for c, p in zip(w, (p0, p1, p2, p3)))))
    return pts


def test_tree_summaries_are_clear_of_edges(tmp_path):
    """Graphviz routes edges around nodes, not around cluster labels: with the summary in a
    cluster label, the edges from the children ran through its text."""
    exe = renderer_path("dot")
    out = viz.render(viz.draw(tree3(), view="tree", expand="all"), tmp_path / "tree.svg",
                     renderer=exe)
    root = ET.parse(out).getroot()
    names = {f"summary_{k}" for k in range(5)} | {f"cluster_tree_node_{k}" for k in range(5)}
    boxes = text_boxes(root, names)
    assert len(boxes) >= 15  # every tree node's lines were found
    hits = [(x, y) for x, y in edge_points(root)
            for x0, x1, y0, y1 in boxes if x0 < x < x1 and y0 < y < y1]
    assert not hits, f"edges cross tree-node summaries at {hits[:3]}"


# -- 2. an initial state that requires grad is an input, not a weight with copies

def hopfield(steps=3, n=8):
    net = tr.nn.HopfieldNetwork(n).store(np.sign(np.random.default_rng(0).standard_normal((2, n))))
    s0 = tr.Tensor(np.linspace(-1, 1, n), requires_grad=True, name="s0")
    loss = net(s0, steps=steps)[steps - 1].sum()
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def test_hopfield_initial_state_is_an_input_with_gradient():
    g = hopfield()
    src = viz.draw(g, view="unrolled", expand="all").source
    s0 = g.find(name="s0")[0].id
    line = next(ln for ln in src.splitlines() if ln.strip().startswith(f"n{s0} ["))
    assert "initial state (input with ∇)" in line and "‖∇‖=" in line
    assert PARAM_FILL not in line and "s0^(" not in src  # not a weight, no per-step copies
    assert f"n{s0} [" in cluster_block(src, "cluster_step_1")  # drawn inside its step
    assert all(f"W^({t})" in src for t in (1, 2, 3))  # the shared W keeps its copies
    assert "initial state" in viz.draw(g, view="folded", expand="all").source


def test_weights_used_at_every_step_or_once_in_a_head_stay_weights():
    src = viz.draw(elman(T=3), view="unrolled", expand="all").source
    for name in ("U", "W", "V", "b", "c"):
        assert all(f"{name}^({t})" in src for t in range(3)), name
    assert "initial state" not in src
    # many-to-one: V is read at the last step only, but not where a recurrence is: a weight
    rng = np.random.default_rng(0)
    W, V = _param(rng, "W", 2, 2), _param(rng, "V", 1, 2)
    h = tr.Tensor(np.ones(2), requires_grad=True, name="h0")
    for t in range(3):
        with tr.scope("rnn", step=t):
            h = (W @ h).tanh()
            y = V @ h if t == 2 else None
    y.sum().backward(retain_grads=True)
    src = viz.draw(tr.trace(y.sum()), view="unrolled", expand="all").source
    assert "V^(2)" in src and "h0^(" not in src and "initial state" in src


# -- 3. folded view: one delay marker per recurrent state

def delays(src: str) -> dict:
    """Delay marker -> the folded nodes it feeds."""
    out = {d: set() for d in re.findall(r"^\t(d\d+) \[.*fillcolor=black", src, flags=re.M)}
    for d, dst in re.findall(r"^\t(d\d+) -> (\w+)", src, flags=re.M):
        out[d].add(dst)
    return out


def recurrent_net(cls, T=3):
    rng = np.random.default_rng(0)
    net = cls(2, 2, fused=False, rng=0)
    out = net(tr.Tensor(rng.standard_normal((T, 1, 2))))
    loss = ((out[0] if isinstance(out, tuple) else out) ** 2).sum()
    loss.backward(retain_grads=True)
    return tr.trace(loss)


@pytest.mark.parametrize("cls, states", [(tr.nn.GRU, 1), (tr.nn.LSTM, 2), (tr.nn.RNN, 1)])
def test_folded_has_one_delay_per_recurrent_state(cls, states):
    src = viz.draw(recurrent_net(cls), view="folded", expand="all").source
    marks = delays(src)
    assert len(marks) == states
    for d in marks:  # each marker hangs from one source
        assert len(re.findall(rf"^\t\w+ -> {d} ", src, flags=re.M)) == 1
    if cls is tr.nn.GRU:  # h^(t-1) feeds several gate ops through the one marker
        assert len(marks["d0"]) >= 2


# -- an opened step stays between its neighbours --------------------------------------------------

def test_an_opened_step_is_drawn_in_its_place_with_its_copies_in_the_row():
    src = viz.draw(elman(T=4), view="unrolled", expand=1).source
    row = src.split("subgraph row0")[1].split("}")[0]
    order = [ln.strip().split(" ")[0] for ln in row.splitlines()
             if ln.strip().startswith(("b", "open", "c", "n", "init"))]
    steps = [k for k, did in enumerate(order) if did.startswith(("b", "open"))]
    assert [order[k][:4] for k in steps][1] == "open", order  # h(0), [step 1], h(2), h(3)
    k = order.index(next(d for d in order if d.startswith("open")))
    copies = [d for d in order if d.startswith("c")]
    assert copies and all(order.index(d) < k for d in copies)  # W^(1), U^(1), b^(1): there too
    assert all(order.index(d) > steps[0] for d in copies)  # ... after h(0)
