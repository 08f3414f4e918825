"""viz rendering: real SVG/PNG through every available renderer (Graphviz dot, graphviz-pure),
hostile names, the missing-renderer path, timeouts, and ``python -m viz``."""

from __future__ import annotations

import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import graphviz
import pytest
from test_viz_models import ROOT, bilstm, elman, lstm200, seq2seq, synthetic, tree3
from test_viz_views import hostile

import viz
from viz import _render

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
RENDERERS = ["dot", "graphviz-pure"]


def renderer_path(name: str) -> str:
    path = next((p for p in _render.find_renderers() if os.path.basename(p).startswith(name)),
                None)
    if path is None:
        pytest.skip(f"renderer {name!r} is not installed")
    return path


def parse_svg(path):
    """(cluster titles, node titles, all text, tooltips) of a rendered SVG."""
    root = ET.parse(path).getroot()
    clusters, nodes = [], []
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if g.get("class") == "cluster":
            clusters.append(title.text)
        elif g.get("class") == "node":
            nodes.append(title.text)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    tips = [a.get(f"{XLINK}title") or "" for a in root.iter(f"{SVG}a")]
    return clusters, nodes, texts, tips


def cluster_x(path) -> dict:
    """Cluster title -> x of its label: where Graphviz put each cluster."""
    out = {}
    for g in ET.parse(path).getroot().iter(f"{SVG}g"):
        text = g.find(f"{SVG}text")
        if g.get("class") == "cluster" and text is not None:
            out[g.find(f"{SVG}title").text] = float(text.get("x"))
    return out


def cluster_boxes(path) -> dict:
    """Cluster title -> (x_min, x_max, y_min, y_max) of the cluster's outline."""
    out = {}
    for g in ET.parse(path).getroot().iter(f"{SVG}g"):
        if g.get("class") != "cluster":
            continue
        shape = next(el for el in g.iter() if el.tag in (f"{SVG}polygon", f"{SVG}path"))
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?",
                                             shape.get("points") or shape.get("d"))]
        xs, ys = nums[0::2], nums[1::2]
        out[g.find(f"{SVG}title").text] = (min(xs), max(xs), min(ys), max(ys))
    return out


def step_of(title: str):
    m = re.search(r"_step_(\d+)(_|$)", title)
    return int(m.group(1)) if m else None


@pytest.mark.parametrize("name", RENDERERS)
def test_bidirectional_steps_in_time_order_forward_first(name, tmp_path):
    out = viz.render(viz.draw(bilstm(T=4), expand="all"), tmp_path / "bilstm.svg",
                     renderer=renderer_path(name))
    boxes = cluster_boxes(out)
    steps = {step_of(c): b for c, b in boxes.items() if re.fullmatch(r"cluster_step_\d+", c)}
    assert sorted(steps) == [0, 1, 2, 3]
    lefts = [steps[t][0] for t in range(4)]
    assert lefts == sorted(lefts) and len(set(lefts)) == 4
    for t in range(4):
        fwd, rev = (next(b for c, b in boxes.items()
                         if c.startswith(f"cluster_step_{t}_layer_0_direction_{d}_"))
                    for d in ("forward", "reverse"))
        assert fwd[1] <= rev[0], f"step {t}: forward is not left of reverse"


@pytest.mark.parametrize("name", RENDERERS)
@pytest.mark.parametrize("S, T, seed", [(3, 3, 0), (4, 5, 1)])
def test_seq2seq_encoder_below_decoder_steps_in_order(name, S, T, seed, tmp_path):
    out = viz.render(viz.draw(seq2seq(S, T, seed), expand="all"), tmp_path / "s2s.svg",
                     renderer=renderer_path(name))
    boxes = cluster_boxes(out)
    loop = {m.group(1): b for c, b in boxes.items()
            if (m := re.fullmatch(r"cluster_loop_seq2seq_(encoder|decoder_step)_[0-9a-f]+", c))}
    enc, dec = loop["encoder"], loop["decoder_step"]
    assert dec[3] < enc[2]  # rankdir BT: the decoder above the encoder it reads from
    for loop, n in (("encoder", S), ("decoder_step", T)):
        steps = sorted((b[0], step_of(c)) for c, b in boxes.items()
                       if re.fullmatch(rf"cluster_step_\d+_loop_seq2seq_{loop}_[0-9a-f]+", c))
        assert [t for _, t in steps] == list(range(n)), loop


@pytest.mark.parametrize("name", RENDERERS)
def test_unrolled_svg_has_step_clusters_in_time_order(name, tmp_path):
    exe = renderer_path(name)
    out = viz.render(viz.draw(elman(T=5), expand="all"), tmp_path / "elman.svg", renderer=exe)
    clusters, nodes, texts, _ = parse_svg(out)
    # T=5, keep_ends=2: the one middle step is drawn too ("… × 1 steps" would hide nothing)
    assert {f"cluster_step_{t}" for t in range(5)} <= set(clusters)
    assert any(t.startswith("W^(4)") for t in texts) and "rnn.h[t=0]" in texts
    xs = cluster_x(out)
    steps = sorted((xs[c], int(c.rsplit("_", 1)[1])) for c in xs if c.startswith("cluster_step"))
    assert [s for _, s in steps] == sorted(s for _, s in steps)


@pytest.mark.parametrize("name", RENDERERS)
@pytest.mark.parametrize("view", ["folded", "tree", "backward"])
def test_other_views_render_to_svg(name, view, tmp_path):
    exe = renderer_path(name)
    g = tree3() if view == "tree" else elman(T=3)
    opts = {"expand": "all"} if view in ("folded", "tree") else {}
    out = viz.render(viz.draw(g, view=view, **opts), tmp_path / f"{view}.svg", renderer=exe)
    clusters, nodes, texts, _ = parse_svg(out)
    if view == "folded":
        assert "d0" in nodes and "f0" in nodes and "rnn.h" in texts
    elif view == "tree":
        assert {f"cluster_tree_node_{k}" for k in range(5)} <= set(clusters)
        xs = {}
        for g_el in ET.parse(out).getroot().iter(f"{SVG}g"):
            t = [x for x in g_el.iter(f"{SVG}text")]
            if g_el.get("class") == "node" and t and t[0].text in ("the", "cat", "sat"):
                xs[t[0].text] = float(t[0].get("x"))
        assert xs["the"] < xs["cat"] < xs["sat"]  # words left to right
    else:
        assert "no grad" in texts  # the legend


@pytest.mark.parametrize("name", RENDERERS)
def test_long_lstm_and_huge_summary_render(name, tmp_path):
    exe = renderer_path(name)
    out = viz.render(viz.draw(lstm200(), expand="all"), tmp_path / "lstm.svg", renderer=exe)
    clusters, _, texts, _ = parse_svg(out)
    assert {"cluster_step_0", "cluster_step_199"} <= set(clusters)
    assert "… × 196 steps" in texts
    with pytest.warns(viz.SummaryWarning):
        dg = viz.draw(synthetic())
    out = viz.render(dg, tmp_path / "big.svg", renderer=exe, timeout=60)
    assert 400 < len(parse_svg(out)[1]) <= 510


@pytest.mark.parametrize("name", RENDERERS)
def test_hostile_names_render_escaped(name, tmp_path):
    exe = renderer_path(name)
    for view in ("unrolled", "folded", "backward", "tree"):
        out = viz.render(viz.draw(hostile(), view=view), tmp_path / f"h_{view}.svg",
                         renderer=exe)
        _, _, texts, tips = parse_svg(out)  # parses: the SVG is well-formed XML
        raw = out.read_text(encoding="utf-8")
        assert "&lt;html&gt;&lt;b&gt;x&lt;/b&gt;" in raw
        for want in ('say "hi"', "<html><b>x</b>", "line1⏎line2", "{a} [b]; c -> d",
                     "back\\slash\\", "\\N \\G \\l", "naïve ∇ 日本語 🙂", "&amp; <"):
            assert any(want in t for t in texts + tips), (view, want)
        assert any(t == "x" * 39 + "…" for t in texts)  # shortened label ...
        assert any("x" * 300 in t for t in tips)  # ... with the full name in the tooltip


@pytest.mark.parametrize("name", RENDERERS)
def test_heat_strip_renders(name, tmp_path):
    exe = renderer_path(name)
    out = viz.render(viz.heat_strip([0.01, 0.1, 1.0, None], title="‖∇h^(t)‖ & <co>"),
                     tmp_path / "strip.svg", renderer=exe)
    texts = parse_svg(out)[2]
    assert "t=0" in texts and "0.01" in texts and "‖∇h^(t)‖ & <co>" in texts


@pytest.mark.parametrize("name", RENDERERS)
def test_png_is_capped(name, tmp_path):
    exe = renderer_path(name)
    out = viz.render(viz.draw(lstm200()), tmp_path / "lstm.png", renderer=exe)
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width <= 40 * 96 and height <= 40 * 96


def test_pdf_with_dot_and_format_errors(tmp_path):
    if shutil.which("dot"):
        out = viz.render(viz.draw(elman(T=2)), tmp_path / "e.pdf", renderer=shutil.which("dot"))
        assert out.read_bytes()[:4] == b"%PDF"
    pure = next((p for p in _render.find_renderers() if "graphviz-pure" in p), None)
    if pure:
        with pytest.raises(viz.RenderError, match="cannot write 'pdf'"):
            viz.render(viz.draw(elman(T=2)), tmp_path / "e.pdf", renderer=pure)
    with pytest.raises(viz.OptionError, match="format 'gif'"):
        viz.render(viz.draw(elman(T=2)), tmp_path / "e.gif")
    out = viz.render(elman(T=2), tmp_path / "noext") if _render.find_renderers() else None
    assert out is None or out.name == "noext.svg"


def test_missing_renderer_writes_dot_and_explains(tmp_path, monkeypatch):
    monkeypatch.setattr(_render, "find_renderers", lambda: [])
    dg = viz.draw(elman(T=2))
    with pytest.raises(viz.RendererNotFoundError) as info:
        viz.render(dg, tmp_path / "pic.svg")
    msg = str(info.value)
    assert 'pip install "tinygrad-rnn[render]"' in msg and "apt-get install graphviz" in msg
    assert (tmp_path / "pic.dot").read_text(encoding="utf-8") == dg.source
    assert not (tmp_path / "pic.svg").exists()
    monkeypatch.setattr(_render, "_warned_missing", False)
    with pytest.warns(RuntimeWarning, match="apt-get install graphviz"):
        assert viz.render(dg, tmp_path / "w.png", missing="warn") == tmp_path / "w.dot"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        viz.render(dg, tmp_path / "w2.png", missing="warn")


def test_renderer_found_next_to_the_interpreter(tmp_path, monkeypatch):
    exe = tmp_path / "graphviz-pure"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(_render.shutil, "which", lambda name: None)
    monkeypatch.setattr(_render.sys, "executable", str(tmp_path / "python"))
    assert _render.find_renderers() == [str(exe)]


def fake_renderer(tmp_path, body: str):
    exe = tmp_path / "fake-dot"
    exe.write_text(f"#!{sys.executable}\n{body}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_renderer_timeout_and_failure_are_clear(tmp_path):
    dg = viz.draw(elman(T=2))
    slow = fake_renderer(tmp_path, "import time; time.sleep(10)")
    with pytest.raises(viz.RenderError, match="took more than 0.3 s"):
        viz.render(dg, tmp_path / "a.svg", renderer=slow, timeout=0.3)
    bad = fake_renderer(tmp_path, "import sys; sys.stderr.write('syntax error'); sys.exit(2)")
    with pytest.raises(viz.RenderError, match="exit status 2: syntax error"):
        viz.render(dg, tmp_path / "a.svg", renderer=bad)


def test_command_line_draws_saved_json(tmp_path):
    if not _render.find_renderers():
        pytest.skip("no renderer installed")
    path = tmp_path / "g.json"
    path.write_text(elman(T=3).to_json())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    proc = subprocess.run([sys.executable, "-m", "viz", str(path), "-o", str(tmp_path / "f.svg"),
                           "--view", "folded"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "delay0" in parse_svg(tmp_path / "f.svg")[1]


def test_command_line_in_process(tmp_path, capsys):
    from viz.__main__ import main

    path = tmp_path / "g.json"
    path.write_text(elman(T=2).to_json())
    assert main([str(path), "-o", str(tmp_path / "g.dot"), "--view", "backward",
                 "--highlight", "W", "--collapse", "cell"]) == 0
    assert "digraph backward" in (tmp_path / "g.dot").read_text(encoding="utf-8")
    assert main([str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.svg")]) == 1
    assert "cannot read graph file" in capsys.readouterr().err


def test_jupyter_display_uses_the_renderer(monkeypatch):
    dg = viz.draw(elman(T=2))
    assert isinstance(dg, graphviz.Digraph)
    if _render.find_renderers():
        svg = dg._repr_mimebundle_()["image/svg+xml"]
        assert svg.lstrip().startswith("<?xml") and 'id="box&#45;' in svg
    assert dg._repr_mimebundle_(include=["image/png"]) == {}
    monkeypatch.setattr(_render, "find_renderers", lambda: [])
    with pytest.raises(viz.RendererNotFoundError, match="apt-get install graphviz"):
        dg._repr_mimebundle_()
