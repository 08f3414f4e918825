"""viz.replay: one frame per op backward processes, in the tape's order (reverse creation), with
running gradient sums that end at the tape's .grad; the page and determinism; the recorded
creation order in tr.trace."""

from __future__ import annotations

import json
import re
import warnings
from html.parser import HTMLParser

import numpy as np
import pytest
from test_exercise import tiny_rnn

import tinygrad_rnn as tr
import viz
from viz.replay import COLORS


def made_out_of_order():
    """r = (q + p) + k with p created before q: ids number q's side first, backward visits q
    first; k = 2 * 3 needs no gradient."""
    a = tr.Tensor(np.array(0.7), requires_grad=True, name="a")
    b = tr.Tensor(np.array(-1.2), requires_grad=True, name="b")
    c = tr.Tensor(np.array(0.3), requires_grad=True, name="c")
    p = a * b
    q = c.tanh()
    k = tr.Tensor(np.array(2.0), name="k") * 3.0  # no gradient: backward never visits it
    s = q + p
    r = s + k
    for t, n in ((p, "p"), (q, "q"), (s, "s"), (r, "r")):
        t.name = n
    r.backward(retain_grads=True)
    return r


def test_one_frame_per_processed_op_in_reverse_creation_order():
    r = made_out_of_order()
    g = tr.trace(r)
    frames = viz.replay_frames(g)
    ids = {n.name: n.id for n in g.nodes}
    assert ids["q"] < ids["p"]  # post-order ids alone would visit p before q
    ops_with_grad = [n.id for n in g.nodes if n.kind == "op" and n.grad is not None]
    assert len(frames) == len(ops_with_grad) == 4  # of 5 ops: k * 3 has no gradient
    assert [f.name for f in frames] == ["r", "s", "q", "p"]
    assert frames[0].upstream == pytest.approx(1.0) and "the seed" in frames[0].caption
    assert "dL/dx = dL/dy * (1 - y^2)" in frames[2].caption


def test_rnn_frames_count_and_order_match_the_tape():
    loss, _ = tiny_rnn()
    g = tr.trace(loss, max_values=64)
    frames = viz.replay_frames(g)
    processed = [n.id for n in g.nodes if n.kind == "op" and n.grad is not None]
    assert len(frames) == len(processed) == 29
    assert [f.node for f in frames] == [i for i in reversed(g.order) if i in processed]
    steps = [g.nodes[f.node].meta.get("step") for f in frames]
    seen = [s for s in steps if s is not None]
    assert seen == sorted(seen, reverse=True)  # the last time step is undone first
    for f in frames:  # one current node per picture, the rest coloured by state
        assert f.digraph.source.count(COLORS["current"]) == 1


def test_upstream_is_the_sum_of_what_consumers_sent():
    loss, _ = tiny_rnn()
    frames = viz.replay_frames(loss)
    sent: dict = {}
    for f in frames:
        if f.index > 1:
            np.testing.assert_allclose(f.upstream, sent[f.node])
        for c in f.contributions:
            sent[c.src] = c.values + sent.get(c.src, 0.0)
            np.testing.assert_allclose(c.total, sent[c.src])


def test_shared_weight_accumulates_to_its_grad():
    loss, P = tiny_rnn()
    frames = viz.replay_frames(loss)
    ws = [(f, c) for f in frames for c in f.contributions if c.name == "W"]
    assert [c.copy for _, c in ws] == ["W^(2)", "W^(1)", "W^(0)"]
    assert [(c.uses_done, c.uses_total) for _, c in ws] == [(1, 3), (2, 3), (3, 3)]
    np.testing.assert_allclose(sum(c.values for _, c in ws), P["W"].grad)
    np.testing.assert_allclose(ws[-1][1].total, P["W"].grad)
    # the caption a reader sees says the same, to 3 significant digits
    line = next(x for x in ws[-1][0].caption.splitlines() if x.startswith("W.grad +="))
    shown = re.search(r"W\.grad complete = \[([^\]]*)\]", line).group(1)
    np.testing.assert_allclose([float(x) for x in shown.split(",")], P["W"].grad.ravel(),
                               rtol=5e-3, atol=1e-12)
    assert "W^(0)" in line and "(3 of 3 uses)" in line


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.data, self._in_json = [], None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [a[k] for k in ("src", "href") if a.get(k)]
        self._in_json = a.get("type") == "application/json"

    def handle_data(self, data):
        if self._in_json:
            self.data, self._in_json = json.loads(data), False


def test_page_references_only_written_files(tmp_path):
    loss, _ = tiny_rnn()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no renderer: .dot frames
        paths = viz.replay(loss, tmp_path / "r")
    assert paths[-1].name == "index.html" and len(paths) == 30
    refs = _Refs()
    refs.feed(paths[-1].read_text(encoding="utf-8"))
    frames = [d["src"] for d in refs.data]
    assert frames == [p.name for p in paths[:-1]]
    for ref in refs.refs + frames:
        assert (tmp_path / "r" / ref).is_file(), ref
    assert all("<script" not in x for x in refs.refs)  # no external assets
    assert refs.data[0]["caption"].startswith("Step 1 of 29: backward through")
    if viz.find_renderers():
        assert paths[0].suffix == ".svg" and b"<svg" in paths[0].read_bytes()


def test_output_is_deterministic(tmp_path):
    outs = []
    for k in range(2):
        paths = viz.replay(made_out_of_order(), tmp_path / f"run{k}")
        outs.append({p.name: p.read_bytes() for p in paths})
    assert outs[0] == outs[1] and len(outs[0]) == 5


def test_max_frames_and_errors(tmp_path):
    loss, _ = tiny_rnn()
    with pytest.warns(viz.SummaryWarning, match=r"backward runs 29 steps.*max_frames=5"):
        frames = viz.replay_frames(loss, max_frames=5)
    assert [f.index for f in frames] == [1, 2, 3, 4, 5]
    assert frames[0].caption.startswith("Step 1 of 29:")  # of the whole backward
    with pytest.raises(viz.OptionError, match="format='pdf'"):
        viz.replay(loss, tmp_path, format="pdf")
    plain, _ = tiny_rnn(retain=False)
    with pytest.raises(viz.GraphFormatError, match=r"backward\(retain_grads=True\)"):
        viz.replay_frames(plain)


def test_trace_records_creation_order_backward_compatibly():
    g = tr.trace(made_out_of_order())
    ops = [n.id for n in g.nodes if n.kind == "op"]
    assert sorted(g.order) == ops and g.order != ops
    assert tr.Graph.from_json(g.to_json()).order == g.order
    old = g.to_dict()
    del old["order"]  # a graph saved before the field existed still loads and replays
    assert tr.Graph.from_dict(old).order == []
    assert len(viz.replay_frames(old)) == 4
    bad = g.to_dict()
    bad["order"] = [0] + bad["order"]  # node 0 is a leaf
    with pytest.raises(tr.ArgumentError, match="order"):
        tr.Graph.from_dict(bad)


def test_command_line(tmp_path, capsys):
    from viz.__main__ import main

    loss, _ = tiny_rnn()
    path = tmp_path / "g.json"
    path.write_text(tr.trace(loss, max_values=64).to_json(), encoding="utf-8")
    with pytest.warns(viz.SummaryWarning):
        assert main(["replay", str(path), str(tmp_path / "r"), "--max-frames", "2"]) == 0
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "The first 2 of 29 backward steps" in page
    out = tmp_path / "ex.svg"
    if viz.find_renderers():
        assert main(["exercise", str(path), "-o", str(out), "--blank", "W,b"]) == 0
        assert "| dL/d b (param, shape (2,)) | (2,) |" in capsys.readouterr().out
    assert main(["exercise", str(path), "-o", str(out), "--blank", "nope"]) == 1
    assert "blank contains 'nope'" in capsys.readouterr().err
