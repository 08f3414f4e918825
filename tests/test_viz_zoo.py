"""The zoo (viz.zoo: the models people train) in every view that applies, through every
renderer present: exit 0 and nothing on stderr, byte-identical DOT run to run, layout within
2 s, and the smallest text at least 7 px when the SVG is fit to a 1600 x 1200 screen."""

from __future__ import annotations

import functools
import re
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
from svgtext import SVG, smallest_text_px
from test_viz_render import renderer_path

import viz
from viz import _render, zoo

RENDERERS = ["dot", "graphviz-pure"]
# The layer flag of the recurrent layers: the default (fused, None) layers, whose traces open into
# the per-step, per-gate graph, and fused=False layers, which record it while running.
FUSED = [None, False]
MIN_PX, MAX_SECONDS = 7.0, 2.0
CASES = [(name, view, fused) for name, (_, views) in zoo.ZOO.items() for view in views
         for fused in FUSED]
PURE_NOTICE = re.compile(r"^(Warning: )+no value for width of non-ASCII character \d+\. "
                         r"Falling back to width of space character$")


@functools.cache
def graph(name: str, fused) -> dict:
    return zoo.build(name, fused=fused).to_dict()  # drawn read-only


def run(exe: str, source: str, out, extra=()) -> tuple:
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "-Tsvg", "-o", str(out), *extra], input=source.encode(),
                          capture_output=True, timeout=120, check=False)
    return proc, time.perf_counter() - t0


@pytest.mark.parametrize("name, view, fused", CASES)
def test_zoo_picture_is_deterministic_and_has_ids(name, view, fused):
    dg = viz.draw(graph(name, fused), view=view)
    assert dg.source == viz.draw(graph(name, fused), view=view).source
    assert dg.members, "every picture says which graph nodes each box stands for"
    ids = re.findall(r"\bid=\"?((?:node|box)-\d+)", dg.source)
    assert len(ids) == len(set(ids)), "an SVG id is used twice"
    assert set(dg.members) <= set(ids)
    n = len(graph(name, fused)["nodes"])
    assert all(0 <= i < n for ms in dg.members.values() for i in ms)


@pytest.mark.parametrize("rname", RENDERERS)
@pytest.mark.parametrize("name, view, fused", CASES)
def test_zoo_picture_is_legible_and_silent(name, view, fused, rname, tmp_path):
    exe = renderer_path(rname)
    dg = viz.draw(graph(name, fused), view=view)
    out = tmp_path / "pic.svg"
    proc, seconds = run(exe, dg.source, out, _render.quiet(exe))  # as viz.render runs it
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    assert proc.stderr == b"", proc.stderr.decode()[-500:]
    assert seconds <= MAX_SECONDS, f"{rname} took {seconds:.2f} s"
    px = smallest_text_px(out)
    assert px >= MIN_PX, f"smallest text {px:.1f} px at 1600 x 1200"
    root = ET.parse(out).getroot()
    drawn = {g.get("id") for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert set(dg.members) <= drawn, "the renderer kept the node ids"
    cells = set(re.findall(r'ID="((?:param|use)-[\w-]+)"', dg.source))  # weights' table cells
    kept = {g.get("id")[2:] for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("a_")}
    assert cells <= kept, "the renderer kept the ids of each weight's cells in a row header"
    if rname == "graphviz-pure":  # without -q: the one notice about non-ASCII widths, no other
        loud, _ = run(exe, dg.source, tmp_path / "loud.svg")
        lines = loud.stderr.decode().strip().splitlines()
        assert all(PURE_NOTICE.match(x) for x in lines), lines


def test_expand_opens_cells_in_place():
    g = graph("lstm_char", False)
    plain = viz.draw(g)
    opened = viz.draw(g, expand={"layer": 1, "step": 3})
    gates = [i for i in opened.members if i.startswith("node-")]
    assert len(gates) > len([i for i in plain.members if i.startswith("node-")])
    assert "copy-" in opened.source and "weight_hh_l1⁽³⁾" in opened.source
    assert len(viz.draw(g, expand=3).members) > len(opened.members)  # both layers at t=3
    assert "subgraph cluster_step_11 {" in viz.draw(g, expand="all").source  # gate level
    with pytest.raises(viz.OptionError, match="expand"):
        viz.draw(g, expand={"row": 1})


def test_grid_labels_in_the_seeds_notation():
    src = viz.draw(graph("lstm_char", False)).source
    assert "h₁⁽¹¹⁾" in src and "‖∂L/∂h‖ = " in src and "‖∂L/∂c‖ = " in src
    assert "… × " not in src  # 12 steps: every one drawn
    bi = viz.draw(graph("gru_tagger", False)).source
    assert "g⁽⁷⁾" in bi and "layer 0 · reverse" in bi and "dir=back" in bi
    long = viz.draw(graph("elman", False))
    assert "… × 54 steps" in long.source and "t = 3 … 56" in long.source
    run_box = next(k for k, v in long.members.items() if len(v) >= 54 * 2)
    assert run_box.startswith("box-")
    tree = viz.draw(graph("tree_lstm", False), view="tree").source
    words = re.findall(r"label=\"“([^”]+)”", tree)
    assert " ".join(words).startswith("The film never quite finds its footing ,")


TWENTY = ("(3 (3 (2 (2 A) (2 small)) (3 (2 ,) (3 (2 quiet) (2 film)))) (3 (2 (2 that) (2 (2 never) "
          "(2 (2 once) (2 raises)))) (3 (2 (2 its) (2 voice)) (3 (2 ,) (3 (2 but) (3 (2 (2 the) "
          "(2 story)) (3 (2 (2 stays) (2 with)) (3 (2 you) (3 (2 long) (2 .))))))))))")


@pytest.mark.parametrize("rname", RENDERERS)
def test_twenty_word_tree_stays_legible(rname, tmp_path):
    g = zoo.tree_lstm(False, sentence=TWENTY)
    exe = renderer_path(rname)
    for view in ("tree", "backward"):
        proc, _ = run(exe, viz.draw(g, view=view).source, tmp_path / "t.svg", _render.quiet(exe))
        assert proc.returncode == 0 and proc.stderr == b""
        assert smallest_text_px(tmp_path / "t.svg") >= MIN_PX, view


@pytest.mark.parametrize("rname", RENDERERS)
@pytest.mark.parametrize("name, view, expand", [
    ("lstm_char", "unrolled", {"layer": 1, "step": 3}), ("gru_tagger", "backward", 3),
    ("seq2seq_attention", "unrolled", {"loop": "seq2seq/decoder_step", "step": 2}),
    ("tree_lstm", "tree", [29]), ("lstm_char", "backward", "all")])
def test_opened_cells_render_silently(name, view, expand, rname, tmp_path):
    exe = renderer_path(rname)
    dg = viz.draw(graph(name, False), view=view, expand=expand)
    proc, _ = run(exe, dg.source, tmp_path / "x.svg", _render.quiet(exe))
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()[-300:]
    ids = {g.get("id") for g in ET.parse(tmp_path / "x.svg").getroot().iter(f"{SVG}g")}
    assert set(dg.members) <= ids


@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_default_and_composite_zoo_pictures_are_equal(name):
    """A default (fused) model draws exactly as its fused=False copy (numbers rounded alike)."""
    import re

    def rounded(text):
        return re.sub(r"-?\d+\.\d+(e[-+]?\d+)?", lambda m: f"{float(m.group()):.2g}", text)

    for view in zoo.ZOO[name][1]:
        a = viz.draw(graph(name, None), view=view).source
        b = viz.draw(graph(name, False), view=view).source
        assert rounded(a) == rounded(b), (name, view)
