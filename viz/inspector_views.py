"""The pictures of an inspector page: each view of the graph, and the inside of every box.

A *box* is a drawn node that stands for several graph nodes: "… × N steps" and one-node-per-
cell groups of the unrolled and backward views, the folded view's nodes (the T copies of one
op site). Boxes with the same members are one box of the page, whichever view draws them.
The groups of steps and cells *open*: for each, the sub-graph of its members (and the values
they read from outside, drawn as inputs) is drawn with the unrolled view at gate level, or one
node per cell when it is big, whose cells open in turn. All of it is laid out when the page is
written; caps keep a huge graph's page small, with a note saying what was left out.
"""

from __future__ import annotations

import inspect as pyinspect
import re
import warnings
from collections import deque
from dataclasses import dataclass, field

from viz._model import GraphIndex
from viz.collapse import reduce
from viz.inspector_svg import Drawing, render_all, tag_svg

GATE_LIMIT = 80  # a box of at most this many nodes opens at gate level, a bigger one by cells
KEEP_ENDS = 3  # a big box opens to its first and last 3 steps and a box for the rest
MAX_BOXES = 60  # pictures of box insides pre-rendered per page
DOT_BUDGET = 200_000  # characters of DOT for all box insides (their SVG is about 5x that)
OPENS = ("steps", "cell")  # reduction groups that open; scope and "more" groups only list


@dataclass
class Box:
    key: str
    rep: int  # the node it stands for: the member whose value leaves the box
    members: list
    title: str
    opens: bool
    fold: bool = False  # the folded view's copies of one op site (not a place in time)
    drawing: Drawing | None = None
    note: str = ""


@dataclass
class Boxes:
    """The page's table of boxes; the same member set is one box in every view."""

    gi: GraphIndex
    items: dict = field(default_factory=dict)  # key -> Box
    _by: dict = field(default_factory=dict)  # tuple(members) -> key

    def add(self, members, title: str, opens: bool, fold: bool = False) -> Box:
        members = sorted(members)
        found = self._by.get(tuple(members))
        if found is not None:
            return self.items[found]
        rep = representative(self.gi, members)
        key = str(rep) if str(rep) not in self.items else f"{rep}.{len(self.items)}"
        box = Box(key, rep, members, title, opens, fold)
        self.items[key] = box
        self._by[tuple(members)] = key
        return box


def representative(gi: GraphIndex, members: list) -> int:
    """The member a box stands for: the last one whose value is read outside the box (h⁽ᵗ⁾ of
    a cell), else the last member."""
    inside = set(members)
    out = [i for i in members if i in gi.roots or any(e["dst"] not in inside for e in gi.outs[i])]
    return max(out) if out else max(members)


def views_for(gi: GraphIndex) -> list:
    """The tabs: unrolled, folded, backward, and tree when the graph has tree nodes."""
    names = ["unrolled", "folded", "backward"]
    if any(gi.meta(i, "tree_node") is not None for i in range(len(gi))):
        names.append("tree")
    return names


def accepted(view: str, options: dict) -> dict:
    """The options ``view`` takes (``keep_ends`` is meant for unrolled, not for folded)."""
    from viz import VIEWS

    params = pyinspect.signature(VIEWS[view]).parameters
    return {k: v for k, v in options.items() if k in params}


def _draw(graph, view: str, options: dict, notes: list):
    """viz.draw, its summary warnings kept as page notes instead of shown to the user."""
    from viz import draw

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dg = draw(graph, view=view, **options)
    for w in caught:
        text = str(w.message)
        if text not in notes:
            notes.append(text)
    return dg


def members_map(view: str, dg, gi: GraphIndex, options: dict) -> dict:
    """DOT name -> (members, title, opens, fold) of the boxes of one drawing. A view that says what
    its boxes hold (``dg.viz_members``: DOT name or SVG id -> member ids; the folded view today)
    is taken at its word; otherwise the unrolled and backward views' groups are those of
    :func:`viz.collapse.reduce` with the same options. The one place to change when a view
    draws its boxes differently."""
    given = getattr(dg, "viz_members", None)
    if given is not None and view == "folded":  # the T copies of one op site
        return {name: (m, f"{gi.label_name(m[0], False)} × {len(m)}", False, True)
                for name, m in given.items()}
    if given is not None:  # a grid's cells (keyed by DOT name or SVG id "box-<id>"): they open
        return {name: (m, f"{gi.label_name(representative(gi, m))} (cell)", True, False)
                for name, m in given.items()}
    if view == "tree":
        return _tree_boxes(dg, gi)
    if view not in ("unrolled", "backward"):
        return {}
    from viz import VIEWS

    defaults = {k: p.default for k, p in pyinspect.signature(VIEWS[view]).parameters.items()}
    opts = {k: options.get(k, defaults[k])
            for k in ("keep_ends", "keep_steps", "collapse", "max_nodes")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        red = reduce(gi, **opts)
    return {did: (g.members, " ".join(x for x in (g.title, g.info) if x), g.kind in OPENS, False)
            for did, g in red.groups.items()}


def _tree_boxes(dg, gi: GraphIndex) -> dict:
    """A tree picture drawn one node per tree node (a big tree) draws each as its output p:
    that node is a box of the tree node's ops, which opens like a cell."""
    drawn = set(re.findall(r"^\s*n(\d+) \[", dg.source, re.M))
    ops: dict = {}
    for i in range(len(gi)):
        k = gi.meta(i, "tree_node")
        if gi.kind(i) == "op" and k is not None:
            ops.setdefault(k, []).append(i)
    out = {}
    for k, members in ops.items():
        shown = [i for i in members if str(i) in drawn]
        if len(shown) == 1 and len(members) > 1:
            out[f"n{shown[0]}"] = (members, f"tree node {k}", True, False)
    return out


def subgraph(d: dict, gi: GraphIndex, members: list) -> tuple:
    """(graph dict, ids): ``members`` and the nodes they read, renumbered 0..n-1 in id order
    (so still topological); ``ids[k]`` is the original id of node k. An op outside the box
    becomes an input leaf named as it is drawn outside (``lstm.l0.h[t=2]``)."""
    inside = set(members)
    outside = {e["src"] for i in members for e in gi.ins[i] if e["src"] not in inside}
    ids = sorted(inside | outside)
    new = {old: k for k, old in enumerate(ids)}
    nodes = []
    for k, old in enumerate(ids):
        nd = dict(gi.nodes[old], id=k)
        if old not in inside and gi.kind(old) == "op":
            nd.update(kind="input", op=None, name=gi.label_name(old), params={}, meta={})
        nodes.append(nd)
    edges = [dict(e, src=new[e["src"]], dst=new[e["dst"]]) for i in ids if i in inside
             for e in gi.ins[i]]
    roots = [new[i] for i in sorted(inside)
             if i in gi.roots or any(e["dst"] not in inside for e in gi.outs[i])]
    order = [new[i] for i in d.get("order") or [] if i in inside]
    return {"nodes": nodes, "edges": edges, "roots": roots, "order": order}, ids


@dataclass
class Pictures:
    views: list  # [(name, Drawing)]
    boxes: Boxes
    notes: list


def build_pictures(d: dict, gi: GraphIndex, views: list, options: dict,
                   who: str = "viz.inspect") -> Pictures:
    """Draw every view and every box inside, lay all out, and tag the SVGs."""
    notes: list = []
    boxes = Boxes(gi)
    out = []
    for view in views:
        opts = accepted(view, options)
        dg = _draw(d, view, opts, notes)
        out.append((view, Drawing(dg.source, None, _register(boxes, members_map(
            view, dg, gi, opts)))))
    _insides(d, gi, boxes, notes)
    drawings = [dr for _, dr in out] + [b.drawing for b in boxes.items.values() if b.drawing]
    render_all(drawings, who)
    index = {id(e): k for k, e in enumerate(d["edges"])}
    for dr in drawings:
        dr.svg = tag_svg(dr, gi, index) if dr.svg else ""
    for name, dr in out:
        if not dr.svg:
            notes.append(f"{who}: the {name} view could not be laid out ({dr.error}); its tab "
                         "is left out")
        elif dr.error:
            notes.append(f"{who}: Graphviz could not route every edge of the {name} view "
                         f"({dr.error}); the picture leaves those edges out")
    for b in boxes.items.values():
        if b.drawing is not None and not b.drawing.svg:
            b.note = f"could not be laid out: {b.drawing.error}"
            b.drawing = None
        elif b.drawing is not None and b.drawing.error:
            b.note = f"Graphviz could not route every edge inside ({b.drawing.error})"
    return Pictures([(n, dr) for n, dr in out if dr.svg], boxes, notes)


def _register(boxes: Boxes, found: dict, ids=None) -> dict:
    """DOT name -> (key, rep, members) for one drawing, members in graph node ids."""
    out = {}
    for name, (members, title, opens, fold) in found.items():
        members = members if ids is None else [ids[i] for i in members]
        if len(members) == 1:  # one node under another name: no box
            out[name] = (None, members[0], members)
            continue
        b = boxes.add(members, title, opens, fold)
        out[name] = (b.key, b.rep, b.members)
    return out


def _insides(d: dict, gi: GraphIndex, boxes: Boxes, notes: list) -> None:
    """Draw the inside of every box that opens, breadth first (boxes drawn in views before the
    boxes inside them), within ``MAX_BOXES`` pictures and ``DOT_BUDGET``."""
    queue = deque(b for b in boxes.items.values() if b.opens)
    drawn = left = 0
    budget = DOT_BUDGET
    while queue:
        box = queue.popleft()
        if box.drawing is not None or box.note:
            continue
        sub, ids = subgraph(d, gi, box.members)
        opts = {"keep_ends": None, "max_nodes": 2 * GATE_LIMIT}
        if len(box.members) > GATE_LIMIT:
            opts.update(collapse="cell", keep_ends=KEEP_ENDS)
        dg = _draw(sub, "unrolled", opts, [])
        if drawn >= MAX_BOXES or len(dg.source) > budget:
            left += 1
            box.note = "not pre-rendered: the page would be too big"
            continue
        inner = members_map("unrolled", dg, GraphIndex(sub), opts)
        box.drawing = Drawing(dg.source, ids, _register(boxes, inner, ids))
        drawn += 1
        budget -= len(dg.source)
        queue.extend(boxes.items[k] for k, _, _ in box.drawing.boxes.values()
                     if k is not None and boxes.items[k].opens and boxes.items[k].drawing is None)
    if left:
        notes.append(f"viz.inspect: {left} of {drawn + left} boxes are not pre-rendered (at "
                     f"most {MAX_BOXES} pictures of about {5 * DOT_BUDGET // 10**6} MB in all); "
                     "draw those steps with viz.draw(graph, keep_steps=[...]) to see them")
