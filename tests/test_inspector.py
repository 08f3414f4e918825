"""viz.inspect, the Python side: the page's data (rules, per-use gradients, replay), the node ids
on every drawn element, the boxes that open, the page's size and shape, the CLI, and errors.
The page in a real browser: test_inspector_browser.py."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from test_viz_models import elman, lstm, synthetic, tree3

import tinygrad_rnn as tr
import viz
from tinygrad_rnn.ops import REGISTRY
from viz.inspector_rules import RULES, rule_of
from viz.inspector_svg import Drawing, node_ref, tag_svg

ROOT = Path(__file__).resolve().parents[1]
HAS_RENDERER = bool(viz.find_renderers())
needs_renderer = pytest.mark.skipif(not HAS_RENDERER, reason="no Graphviz renderer")
DATA = re.compile(r'<script type="application/json" class="tri-data">(.*?)</script>', re.S)


def page_data(text: str) -> dict:
    return json.loads(DATA.search(text).group(1))


def nodes_of(svg: str) -> list:
    """The opening tags of the node elements of an SVG text."""
    return re.findall(r'<g class="node"[^>]*>', svg)


# ---- rules ----------------------------------------------------------------------------------
def test_every_registered_op_has_a_rule_per_input():
    missing = sorted(set(REGISTRY) - set(RULES))
    assert not missing, f"ops without a derivative rule in viz/inspector_rules.py: {missing}"
    for name, op in REGISTRY.items():
        forward, rules = RULES[name]
        assert forward and all(rules)
        if op.arity is None:  # variadic: one template for input k
            assert len(rules) == 1 and "_k" in rules[0], name
        else:
            assert len(rules) == op.arity, f"{name}: {len(rules)} rules for {op.arity} inputs"


def test_rules_use_the_seeds_notation():
    assert RULES["tanh"][1] == ["∂L/∂a = ∂L/∂h ⊙ (1 − h²)"]
    assert rule_of("mul", 2)["inputs"] == ["∂L/∂a = ∂L/∂y ⊙ b", "∂L/∂b = ∂L/∂y ⊙ a"]
    stack = rule_of("stack", 1000)
    assert stack["inputs"] == [] and stack["each"] == "∂L/∂x_k = ∂L/∂y[k]"  # one template
    generic = "∂L/∂(input 1) = the VJP of no_such_op applied to ∂L/∂y"
    assert rule_of("no_such_op", 2)["inputs"][1] == generic
    assert rule_of(None, 0) is None


# ---- the node-id convention ------------------------------------------------------------------
def test_node_ref_reads_the_views_ids_and_dot_names():
    assert node_ref("node-12", "whatever") == ("node", 12)
    assert node_ref("box-7", "g3") == ("box", "box-7")
    assert node_ref("copy-5-9-1", "c5_9_1") == ("copy", 5, 9, 1)  # an opened cell's W^(t)
    assert node_ref("a_param-5-0-name", "") == ("node", 5)  # a weight's cell in a row header
    assert node_ref("a_use-5-9-1", "") == ("copy", 5, 9, 1)  # its strip cell of one step
    assert node_ref("node3", "n5") == ("node", 5)  # Graphviz's own id: the DOT name decides
    assert node_ref(None, "n5_9_0") == ("copy", 5, 9, 0)
    assert node_ref(None, "n5_g3") == ("copy", 5, "g3")
    assert node_ref(None, "d0") == ("other", "d0")


def test_tag_svg_reads_node_and_box_ids():
    """The views write id="node-<id>" and id="box-<id>"; the tagger takes them."""
    g = elman(T=2)
    gi = viz.graph_index.GraphIndex(g.to_dict())
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><g id="graph0" '
           'class="graph"><g id="node-3" class="node"><title>anything</title><ellipse/></g>'
           '<g id="box-9" class="node"><title>cell</title><polygon/></g></g></svg>')
    dr = Drawing("", None, {"box-9": ("9", 9, [7, 8, 9])}, svg)
    out = tag_svg(dr, gi, {})
    assert 'data-node-id="3"' in out and 'data-box="9"' in out and 'data-node-id="9"' in out
    assert "<title>" not in out and 'id="' not in out.replace("data-node-id", "")


def test_the_views_member_maps_are_taken():
    """``.members`` of the grid's digraphs says what each box holds and which node it stands
    for (its id); cells open to their gates, a folded row to its circuit, weights only list."""
    from viz.inspector_views import members_map

    g = elman(T=3)
    gi = viz.graph_index.GraphIndex(g.to_dict())
    dg = viz.draw(g)
    found = members_map("unrolled", dg, gi, {})
    assert set(found) == set(dg.members)
    for did, f in found.items():
        assert f.members == dg.members[did] and f.rep == int(did.split("-")[1])
    cells = [f for f in found.values() if len(f.members) > 1 and gi.meta(f.rep, "role") == "h"]
    assert len(cells) == 3 and all(f.inside == "grid" and not f.fold for f in cells)
    weights = [f for f in found.values() if len(f.members) > 1
               and all(gi.kind(i) == "param" for i in f.members)]
    assert weights and all(f.inside is None for f in weights)
    folded = members_map("folded", viz.draw(g, view="folded"), gi, {})
    row = next(f for f in folded.values() if gi.meta(f.rep, "role") == "h")
    assert row.inside == "circuit" and row.fold and len(row.members) == 3 * len(cells[0].members)


# ---- the page's data ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def elman_page():
    if not HAS_RENDERER:
        pytest.skip("no Graphviz renderer")
    g = elman(T=8, H=3)
    return g, viz.inspect(g)


def test_every_drawn_graph_node_carries_its_id(elman_page):
    g, ins = elman_page
    n = len(g.nodes)
    for v in ins.data["views"]:
        tags = nodes_of(v["svg"])
        ids = [int(m) for t in tags for m in re.findall(r'data-node-id="(\d+)"', t)]
        assert ids and all(0 <= i < n for i in ids), v["name"]
        helpers = [t for t in tags if "data-node-id" not in t]
        assert all(re.search(r'data-helper="(legend|shared|summary_\w+)"', t) for t in helpers)
        assert not re.search(r'\sid="', v["svg"]), "Graphviz ids would clash between views"
    unrolled = ins.data["views"][0]["svg"]
    drawn = {int(i) for i in re.findall(r'data-node-id="(\d+)"', unrolled)}
    boxed = {m for b in ins.data["boxes"].values() for m in b["members"]}
    assert drawn | boxed == set(range(n))  # every node is drawn, or inside a box


def test_copies_carry_their_use(elman_page):
    """The strip of W's per-step gradients in its row's header: one cell per step, each the use
    W^(t) of that step; inside an opened cell, the copy W^(t) drawn as a node."""
    g, ins = elman_page
    W = next(nd.id for nd in g.nodes if nd.name == "W")
    svg = ins.data["views"][0]["svg"]
    strip = re.findall(rf'<g data-node-id="{W}" data-copy="1" data-edge="(\d+)"', svg)
    assert len(strip) == 8
    steps = {g.nodes[g.edges[int(k)].dst].meta["step"] for k in strip}
    assert steps == set(range(8))
    assert re.search(rf'<g data-node-id="{W}">', svg)  # its name and gradient: the weight
    insides = [b["svg"] for b in ins.data["boxes"].values() if b["svg"]]
    copies = [k for x in insides for k in re.findall(
        rf'<g class="node" data-node-id="{W}" data-copy="1" data-edge="(\d+)"', x)]
    assert copies
    for k in strip + copies:
        e = g.edges[int(k)]
        assert e.src == W and g.nodes[e.dst].op == "matmul"


def test_per_use_gradients_add_up_to_the_weights_grad(elman_page):
    g, ins = elman_page
    W = next(nd for nd in g.nodes if nd.name == "W")
    u = ins.data["uses"][str(W.id)]
    uses = [e for e in g.edges if e.src == W.id]
    assert len(u["uses"]) == len(uses) == 8
    assert [x[1] for x in u["uses"]] == [f"t={t}" for t in range(8)]  # in step order
    for k, _, norm in u["uses"]:
        assert g.edges[k].src == W.id and norm == g.edges[k].grad["norm"]
    total = np.sum([np.reshape(e.grad["values"], W.shape) for e in uses], axis=0)
    assert u["sum_norm"] == pytest.approx(np.linalg.norm(total))
    assert u["sum_norm"] == pytest.approx(W.grad["norm"], rel=1e-12)
    assert u["sum_mean"] == pytest.approx(u["grad_mean"], abs=1e-15)


def test_replay_follows_the_tapes_order(elman_page):
    g, ins = elman_page
    frames = ins.data["replay"]["frames"]
    assert frames[0]["node"] == g.roots[0]
    assert [f["node"] for f in frames] == [i for i in reversed(g.order)
                                          if g.nodes[i].grad is not None][:len(frames)]
    for f in frames:
        for src, k, done, total, _ in f["c"]:
            assert g.edges[k].src == src and g.edges[k].dst == f["node"] and 1 <= done <= total


def test_boxes_open_to_their_members(elman_page):
    g, ins = elman_page
    boxes = [b for b in ins.data["boxes"].values() if b["svg"]]
    cells = [b for b in boxes if g.nodes[b["rep"]].meta.get("role") == "h" and not b["fold"]]
    assert len(cells) == 8, "each cell h^(t) opens"
    for b in cells:  # at gate level: its ops drawn one by one
        inside = {int(i) for i in re.findall(r'data-node-id="(\d+)"', b["svg"])}
        assert set(b["members"]) <= inside
    for b in boxes:
        inside = {int(i) for i in re.findall(r'data-node-id="(\d+)"', b["svg"])}
        reads = {e.src for e in g.edges if e.dst in set(b["members"])}
        assert inside and inside <= set(b["members"]) | reads
        assert b["rep"] in b["members"]


def test_info_labels_and_steps(elman_page):
    g, ins = elman_page
    info = ins.data["info"]
    assert len(info) == len(g.nodes)
    tanh = next(i for i, nd in enumerate(g.nodes) if nd.op == "tanh")
    assert info[tanh]["label"].endswith("[t=0]") and info[tanh]["step"] == 0
    assert ins.data["rules"][info[tanh]["rule"]] == {
        "forward": "h = tanh(a)", "inputs": ["∂L/∂a = ∂L/∂h ⊙ (1 − h²)"], "each": None}
    assert ins.data["steps"] == list(range(8))


# ---- the page ---------------------------------------------------------------------------------
@needs_renderer
def test_saved_page_is_self_contained_and_deterministic(tmp_path, elman_page):
    g, ins = elman_page
    a, b = ins.save(tmp_path / "a"), viz.inspect(g).save(tmp_path / "b.html")
    assert a.suffix == ".html" and a.read_bytes() == b.read_bytes()
    text = a.read_text(encoding="utf-8")
    assert text.count('id="inspector-panel"') == 1
    assert not re.search(r'\s(src|href)="(?!#)', text), "nothing is fetched"
    assert not re.search(r"https?://(?!www\.w3\.org/)", text)
    data = page_data(text)
    assert data["graph"]["nodes"][0]["id"] == 0 and data["views"][0]["svg"] is None  # inline
    assert len(data["views"]) == 3 and tr.Graph.from_dict(data["graph"]).check() is None


@needs_renderer
def test_repr_html_gives_each_inspector_its_own_ids(elman_page):
    _, ins = elman_page
    one, two = ins._repr_html_(), ins._repr_html_()
    ids = [re.findall(r'\sid="([^"]+)"', x) for x in (one, two)]
    assert set(ids[0]).isdisjoint(ids[1])
    assert 'id="inspector-panel"' not in one and 'class="tri-panel inspector-panel"' in one
    assert "<style>" in one and ".tri-root" in one  # CSS inline, scoped
    assert page_data(one) == page_data(two)


@needs_renderer
def test_json_block_survives_script_breakers_and_nan():
    x = tr.Tensor(np.array([1.0, np.nan]), requires_grad=True, name="</script><!--x")
    loss = (x * 2.0).sum()
    loss.backward(retain_grads=True)
    text = viz.inspect(loss).page()
    block = DATA.search(text).group(1)
    assert "</" not in block and "<!--" not in block

    def strict(c):
        raise ValueError(c)
    data = json.loads(block, parse_constant=strict)  # what JSON.parse accepts
    assert data["graph"]["nodes"][0]["name"] == "</script><!--x"


@needs_renderer
def test_tree_graph_gets_a_tree_tab():
    ins = viz.inspect(tree3(), view="tree")
    assert [v["name"] for v in ins.data["views"]] == ["tree", "unrolled", "folded", "backward"]


@needs_renderer
def test_a_trees_nodes_are_boxes_that_open():
    g = tree3()
    ins = viz.inspect(g, view="tree", views=["tree"])
    boxes = ins.data["boxes"]
    opened = {k: b for k, b in boxes.items() if b["svg"]}
    assert {b["title"] for b in opened.values()} == {f"tree node {k}" for k in range(5)}
    for key, b in opened.items():
        assert f'data-box="{key}"' in ins.data["views"][0]["svg"]
        assert all(g.nodes[i].meta["tree_node"] == int(b["title"].split()[-1])
                   for i in b["members"] if g.nodes[i].kind == "op")
        inside = {int(i) for i in re.findall(r'data-node-id="(\d+)"', b["svg"])}
        assert {i for i in b["members"] if g.nodes[i].kind == "op"} <= inside
    shared = {nd.id for nd in g.nodes if nd.name in ("W", "b")}  # one cell each in their box
    cells = re.findall(r'<g data-node-id="(\d+)">', ins.data["views"][0]["svg"])
    assert {int(i) for i in cells} == shared


@needs_renderer
def test_a_cell_opened_in_place_is_drawn_op_by_op():
    """``expand`` as for viz.draw: the unrolled view opens the cell of step 1 in place (its ops
    and the copies W^(1) as nodes); the folded view, which opens all or nothing, is drawn whole."""
    g = elman(T=3)
    ins = viz.inspect(g, views=["unrolled", "folded"], expand=1)
    unrolled = ins.data["views"][0]["svg"]
    W = next(nd.id for nd in g.nodes if nd.name == "W")
    step1 = {nd.id for nd in g.nodes if nd.kind == "op" and nd.meta.get("step") == 1
             and nd.meta.get("role") == "h"}
    drawn = {int(i) for i in re.findall(r'<g class="node" data-node-id="(\d+)">', unrolled)}
    assert step1 <= drawn
    assert re.search(rf'<g class="node" data-node-id="{W}" data-copy="1" data-edge="\d+"',
                     unrolled)
    assert not re.search(r'<g class="node"[^>]*data-copy', ins.data["views"][1]["svg"])


@needs_renderer
def test_views_chooses_the_tabs():
    ins = viz.inspect(elman(T=2), view="gradients", views="folded")
    assert [v["name"] for v in ins.data["views"]] == ["backward", "folded"]


@needs_renderer
def test_graph_without_retained_grads_still_opens():
    ins = viz.inspect(lstm(T=2, retain=False))
    assert ins.data["replay"] is None
    assert any("retain_grads=True" in n for n in ins.notes)


@needs_renderer
@pytest.mark.slow
def test_huge_graph_opens_summarised_with_a_note():
    d = synthetic(n=6000)
    ins = viz.inspect(d)
    assert any("summary" in n for n in ins.notes)
    assert len(ins.page()) < 8e6
    assert all(len(nodes_of(v["svg"])) <= 520 for v in ins.data["views"])


@needs_renderer
@pytest.mark.slow
def test_zoo_lstm_page_is_under_3_mb():
    sys.path.insert(0, str(ROOT))
    from benchmarks.inspector_zoo import model

    text = viz.inspect(model("lstm_char")).page()
    assert len(text.encode("utf-8")) <= 3_000_000


# ---- CLI and errors ---------------------------------------------------------------------------
@needs_renderer
def test_cli_writes_the_page(tmp_path, capsys):
    from viz.__main__ import main

    src = tmp_path / "g.json"
    src.write_text(elman(T=3).to_json(), encoding="utf-8")
    assert main(["inspect", str(src), "-o", str(tmp_path / "p.html"), "--view", "folded"]) == 0
    text = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert page_data(text)["views"][0]["name"] == "folded"
    assert main(["inspect", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.html")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: viz.inspect") and "missing.json" in err


def test_errors_name_the_function_and_the_argument(tmp_path):
    g = elman(T=2)
    with pytest.raises(viz.OptionError, match=r"viz\.inspect: view='nope'; expected one of "):
        viz.inspect(g, view="nope")
    with pytest.raises(viz.OptionError, match=r"view='tree'.*no tree nodes"):
        viz.inspect(g, view="tree")
    with pytest.raises(viz.OptionError, match=r"views='tree'.*no tree nodes"):
        viz.inspect(g, views=["unrolled", "tree"])
    with pytest.raises(viz.OptionError, match=r"unknown option\(s\) colour"):
        viz.inspect(g, colour="red")
    with pytest.raises(viz.OptionError, match=r"max_frames=0"):
        viz.inspect(g, max_frames=0)
    with pytest.raises(viz.GraphFormatError, match=r"viz\.inspect: expected a tr\.Graph"):
        viz.inspect(42)


@needs_renderer
def test_save_into_a_missing_folder_says_so(tmp_path, elman_page):
    with pytest.raises(viz.OptionError, match="does not exist"):
        elman_page[1].save(tmp_path / "no" / "page.html")


@needs_renderer
def test_a_picture_the_renderer_rejects_is_reported():
    from viz.inspector_svg import render_all

    bad, good = Drawing("digraph { a -> "), Drawing("digraph { a -> b }")
    render_all([bad, good])
    assert bad.svg == "" and bad.error  # the view's tab is left out, with this as its note
    assert "<svg" in good.svg and not good.error


def test_no_renderer_is_explained(monkeypatch):
    import viz._render as render
    import viz.inspector_svg as svg

    monkeypatch.setattr(render, "find_renderers", lambda: [])
    monkeypatch.setattr(svg, "find_renderers", lambda: [])
    with pytest.raises(viz.RendererNotFoundError, match=r"viz\.inspect: .*Graphviz"):
        viz.inspect(elman(T=2))


def test_static_files_are_package_data():
    from viz.inspector import STATIC, _static

    for name in STATIC + ("inspector.css", "inspector_body.html"):
        text = _static(name)
        assert len(text) > 200 and "http" not in text.replace("http://www.w3.org", "")
    toml = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'viz = ["static/*"]' in toml
