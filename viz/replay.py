"""Backward, one step at a time: a picture per op the tape's backward visits, and a page to
step through them.

>>> loss.backward(retain_grads=True)
>>> viz.replay(loss, "out/replay")     # frame_001.svg ... and index.html (arrow keys step)

Frame k shows the k-th op backward processes (reverse creation order: every consumer before
its inputs): its upstream gradient dL/dy, the op's local rule (tanh: dL/dx = dL/dy * (1 - y^2))
and the ``+=`` it adds into each input's gradient, with that input's running total. A weight W
used at T steps collects T contributions, one per copy W^(t); after the last one its total is
W.grad = sum_t dL/dW^(t). Ops already processed are green, the current one orange, inputs
still collecting contributions yellow, the rest white (pending) or grey (no gradient).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
import numpy as np

from tinygrad_rnn.progress import progress
from viz import _backprop as bp
from viz._dot import clean, esc, fmt, label
from viz._errors import OptionError, SummaryWarning
from viz._render import render
from viz._replay_page import page
from viz.graph_index import GraphIndex

WHO = "viz.replay"
COLORS = {"current": "#fdae6b", "done": "#c7e9c0", "partial": "#fff3b0", "pending": "#ffffff",
          "none": "#eeeeee"}
LEGEND = {"current": COLORS["current"], "done": COLORS["done"], "collecting": COLORS["partial"],
          "pending": COLORS["pending"], "no gradient": COLORS["none"]}


@dataclass
class Contribution:
    """What one backward step adds into one input: ``src`` += ``values`` (the edge's gradient);
    ``total`` is the input's gradient so far, after ``uses_done`` of its ``uses_total`` uses."""

    src: int
    name: str
    arg: int
    rule: str
    values: np.ndarray | None  # None when the trace kept only norms
    norm: float | None
    total: np.ndarray | None
    uses_done: int
    uses_total: int
    copy: str = ""  # "W^(2)" for a parameter used at several steps


@dataclass
class Frame:
    """One backward step: op node ``node`` gets its upstream gradient and sends
    ``contributions`` into its inputs. ``digraph`` is the picture, ``caption`` its text."""

    index: int  # 1-based
    total: int  # backward steps in all (frames may stop earlier: max_frames)
    node: int
    name: str
    op: str
    upstream: np.ndarray | None
    contributions: list = field(default_factory=list)
    caption: str = ""
    digraph: graphviz.Digraph | None = None


def replay_frames(graph, *, max_frames: int | None = 200, rankdir: str = "BT",
                  max_nodes: int = 500, pictures: bool = True) -> list:
    """The :class:`Frame` of every backward step, in the order the tape visits the ops.

    ``graph``: a Tensor (traced here, keeping every value), a ``tr.Graph``, its dict or JSON,
    after ``loss.backward(retain_grads=True)``. More than ``max_frames`` steps (None: no
    limit) keeps the first ``max_frames`` with a :class:`SummaryWarning`; each frame draws the
    whole graph, so a long unroll is better replayed over 2-3 time steps. ``pictures=False``
    leaves ``Frame.digraph`` None: the steps' data only, fast at any length (the inspector
    page colours its own views with it).
    """
    return _frames(graph, max_frames, rankdir, max_nodes, stacklevel=3, pictures=pictures)


def _frames(graph, max_frames, rankdir: str, max_nodes: int, stacklevel: int,
            pictures: bool = True) -> list:
    d = bp.load_traced(graph, WHO)
    gi = GraphIndex(d)
    bp.require_retained(gi, WHO)
    order = bp.backward_order(d, gi)
    n = len(order)
    if max_frames is not None and n > max_frames:
        warnings.warn(f"{WHO}: backward runs {n} steps on this graph, more than "
                      f"max_frames={max_frames}; showing the first {max_frames} (nearest the "
                      f"loss). Pass max_frames={n} for all of them, or replay a shorter "
                      "unroll", SummaryWarning, stacklevel=stacklevel)
        order = order[:max_frames]
    state = _State(gi)
    frames = []
    for k, i in enumerate(order):
        fr = _step(gi, state, k, i, n)
        if pictures:
            fr.digraph = _picture(gi, state, fr, rankdir, max_nodes)
        state.done.add(i)
        frames.append(fr)
    return frames


class _State:
    """Running totals while backward goes: per node, its gradient so far and uses seen."""

    def __init__(self, gi: GraphIndex):
        self.total: dict = {}
        self.seen = [0] * len(gi)
        self.n_uses = [len(bp.uses(gi, i)) for i in range(len(gi))]
        self.done: set = set()  # ops processed

    def add(self, src: int, values) -> np.ndarray | None:
        self.seen[src] += 1
        prev = self.total.get(src, 0.0)
        # one summary-only contribution (no values kept) leaves no exact running sum
        self.total[src] = None if values is None or prev is None else prev + values
        return self.total[src]  # a new array each time: earlier frames keep their totals


def _step(gi: GraphIndex, state: _State, k: int, i: int, n: int) -> Frame:
    nd = gi.nodes[i]
    fr = Frame(k + 1, n, i, gi.label_name(i), nd.get("op") or "op",
               bp.grad_array(nd.get("grad")))
    ins = [e for e in gi.ins[i] if e.get("kind", "data") == "data"
           and isinstance(e.get("grad"), dict)]
    for e in ins:
        s, vals = e["src"], bp.grad_array(e["grad"])
        total = state.add(s, vals)
        copy = ""
        if gi.kind(s) == "param" and state.n_uses[s] > 1:
            t = bp.step_of(gi, i)
            copy = f"{gi.label_name(s)}^({clean(t) if t is not None else state.seen[s]})"
        fr.contributions.append(Contribution(
            s, gi.label_name(s), e.get("arg", 0), bp.rule(gi, i, e.get("arg", 0)), vals,
            e["grad"].get("norm"), total, state.seen[s],
            state.n_uses[s], copy))
    fr.caption = _caption(gi, fr)
    return fr


def _caption(gi: GraphIndex, fr: Frame) -> str:
    i = fr.node
    seed = " (the seed: dL/dL = 1)" if i in gi.roots else ""
    up = bp.values_text(gi.nodes[i].get("grad"))
    lines = [f"Step {fr.index} of {fr.total}: backward through {bp.describe(gi, i)}",
             f"upstream dL/dy = {up}{seed}"]
    rules = list(dict.fromkeys(c.rule for c in fr.contributions))
    lines += [f"rule: {r}" for r in rules]
    for c in fr.contributions:
        add = _added(c, 9)
        what = f"contribution of {c.copy}" if c.copy else f"input {bp.arg_name(gi, i, c.arg)}"
        total = "-" if c.total is None else bp.array_text(c.total)
        status = "complete" if c.uses_done == c.uses_total else "so far"
        lines.append(f"{c.name}.grad += {add} ({what}); {c.name}.grad {status} = {total} "
                     f"({c.uses_done} of {c.uses_total} uses)")
    if not fr.contributions:
        lines.append("no input needs a gradient: nothing is sent further")
    return "\n".join(lines)


def _picture(gi: GraphIndex, state: _State, fr: Frame, rankdir: str, max_nodes: int):
    scene, owner = bp.base_scene(gi, "replay", rankdir, max_nodes, WHO)
    for j in range(len(gi)):
        dn = bp.own_node(scene, owner, j)
        if dn is None:
            continue
        status = _status(gi, state, fr, j)
        lines = bp.head_lines(gi, j) + [bp.data_line(gi.nodes[j], max_n=4)]
        lines.append(_grad_line(gi, state, j, status))
        dn.attrs.update(label=label(*lines), style=_style(dn.attrs, status),
                        fillcolor=COLORS[status], color="black")
        if status == "current":
            dn.attrs["penwidth"] = "3"
    bp.label_edges(scene, gi)
    sent: dict = {}  # src DOT id -> what each of its edges into the current node carried
    for c in fr.contributions:
        sent.setdefault(f"n{c.src}", []).append(
            f"{bp.arg_name(gi, fr.node, c.arg)} += {_added(c, 3)}")
    for de in scene.edges:
        if de.dst == f"n{fr.node}" and de.src in sent:
            de.attrs.update(dir="back", color="#e6550d", penwidth="2.5", fontcolor="#e6550d",
                            label=label("; ".join(sent[de.src])))
    scene.graph_attr.update(label=_graph_label(fr.caption), labelloc="t", labeljust="l")
    return scene.to_digraph()


def _added(c: Contribution, max_n: int) -> str:
    if c.values is None:
        return f"\u2016\u00b7\u2016={fmt(c.norm)}"
    return bp.array_text(c.values, max_n)


def _status(gi: GraphIndex, state: _State, fr: Frame, j: int) -> str:
    if j == fr.node:
        return "current"
    if not isinstance(gi.nodes[j].get("grad"), dict):
        return "none"
    if j in state.done or (gi.kind(j) != "op" and state.n_uses[j]
                           and state.seen[j] == state.n_uses[j]):
        return "done"
    return "partial" if state.seen[j] else "pending"


def _grad_line(gi: GraphIndex, state: _State, j: int, status: str) -> str:
    if status in ("current", "done") and gi.kind(j) == "op":
        return "grad " + bp.values_text(gi.nodes[j]["grad"], 4)
    if status in ("done", "partial"):
        tot = state.total.get(j)
        tot = "-" if tot is None else bp.array_text(tot, 4)
        return f"grad so far {tot} ({state.seen[j]}/{state.n_uses[j]})"
    return "grad pending" if status == "pending" else ""


def _style(attrs: dict, status: str) -> str:
    base = "filled,rounded" if attrs.get("shape") == "box" else "filled"
    return base + (",bold" if status == "current" else "")


def _graph_label(caption: str):
    # left-justified lines (\l), escaped like every other plain label
    return graphviz.nohtml("".join(esc(line) + "\\l" for line in caption.splitlines()))


def replay(graph, folder, format: str = "svg", *, max_frames: int | None = 200,
           rankdir: str = "BT", title: str | None = None) -> list:
    """Write one picture per backward step to ``folder`` (``frame_001.svg`` ...) and an
    ``index.html`` that steps through them (Prev/Next buttons, arrow keys, a caption per frame).

    ``format``: "svg" or "png" (what a browser shows). Without a Graphviz renderer the frames
    are written as ``.dot`` (one warning) and the page lists them. Returns the written paths,
    frames first, ``index.html`` last. See :func:`replay_frames` for ``max_frames``.
    """
    if format not in ("svg", "png"):
        raise OptionError(f"{WHO}: format={format!r}; expected 'svg' or 'png' (a browser shows "
                          "them in the page)")
    frames = _frames(graph, max_frames, rankdir, 500, stacklevel=3)
    os.makedirs(folder, exist_ok=True)
    width = max(3, len(str(len(frames))))
    paths = []
    for fr in progress(frames, desc="rendering frames", total=len(frames), unit="frame"):
        out = Path(folder) / f"frame_{fr.index:0{width}d}.{format}"
        paths.append(render(fr.digraph, out, format, missing="warn"))
    index = Path(folder) / "index.html"
    items = [{"src": p.name, "caption": fr.caption} for p, fr in zip(paths, frames)]
    total = frames[0].total if frames else 0
    text = page(items, title or "Backward, step by step", LEGEND, total)
    index.write_text(text, encoding="utf-8")
    return paths + [index]
