"""The pictures of an inspector page: each view of the graph, and the inside of every box.

A *box* is a drawn node that stands for several graph nodes: what a view's digraph lists in
``.members`` under an SVG id ``box-<id>`` (the grid's cells, its "… × N steps" runs and groups
of inputs or outputs, a row's weights, the folded view's rows, the tree's nodes). Boxes with the
same members are one box of the page, whichever view draws them. A box holding several ops
*opens*: the sub-graph of its members (the values they read from outside drawn as inputs) is
drawn

* for a cell (or a few): as the grid with every cell opened, each op and the per-use copies
  W⁽ᵗ⁾ of its weights, as ``viz.draw(..., expand=...)`` opens a cell in place;
* for a run of many steps: as the grid of those steps, whose cells open in turn;
* for a folded row: as its circuit op by op (``view="folded", expand="all"``);
* for a tree node: its ops (``view="tree", expand="all"``).

All of it is laid out when the page is written; caps keep a huge graph's page small, with a
note saying what was left out.
"""

from __future__ import annotations

import inspect as pyinspect
import re
import warnings
from collections import deque
from dataclasses import dataclass, field

from viz._dot import sort_key
from viz._style import sub, sup
from viz.graph_index import GraphIndex
from viz.inspector_svg import Drawing, render_all, tag_svg

GATE_LIMIT = 80  # a box of at most this many nodes opens at gate level, a bigger one by cells
RUN_LIMIT = 60  # an opened run of at most this many steps shows each; a longer one its ends
RUN_ENDS = 8
MAX_BOXES = 90  # pictures of box insides pre-rendered per page
DOT_BUDGET = 450_000  # characters of DOT for all box insides (their SVG is about 3x that)
_ID = re.compile(r"^(?:box|node)-(\d+)")  # the views' ids: the node a drawn element stands for


def every_cell(meta: dict) -> bool:
    """``expand=`` that opens every cell of a grid."""
    return True


@dataclass
class Found:
    """One drawn element of a view that stands for ``members`` (graph ids of that drawing)."""

    members: list
    rep: int  # the node it stands for (the grid's id says which: a cell's h)
    title: str = ""
    inside: str | None = None  # how it opens: "grid", "circuit", "tree"; None: it only lists
    fold: bool = False  # the folded view's copies over time (a click at step t: that copy)


@dataclass
class Box:
    key: str
    rep: int
    members: list
    title: str
    inside: str | None
    fold: bool = False
    drawing: Drawing | None = None
    note: str = ""


@dataclass
class Boxes:
    """The page's table of boxes; the same member set is one box in every view."""

    gi: GraphIndex
    items: dict = field(default_factory=dict)  # key -> Box
    _by: dict = field(default_factory=dict)  # tuple(members) -> key

    def add(self, f: Found) -> Box:
        members = sorted(f.members)
        found = self._by.get(tuple(members))
        if found is not None:
            return self.items[found]
        key = str(f.rep) if str(f.rep) not in self.items else f"{f.rep}.{len(self.items)}"
        box = Box(key, f.rep, members, f.title, f.inside, f.fold)
        self.items[key] = box
        self._by[tuple(members)] = key
        return box


def representative(gi: GraphIndex, members: list) -> int:
    """The member a box stands for when its id does not say: the last one whose value is read
    outside the box (h⁽ᵗ⁾ of a cell), else the last member."""
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
    """The options ``view`` takes (``keep_ends`` is meant for unrolled, not for folded; the
    folded view opens all or nothing, so a chosen cell to ``expand`` is not for it)."""
    from viz import VIEWS

    params = pyinspect.signature(VIEWS[view]).parameters
    out = {k: v for k, v in options.items() if k in params}
    if view == "folded" and out.get("expand") not in (None, "all"):
        del out["expand"]
    return out


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
    """SVG id -> :class:`Found` for every element of one drawing that the view's ``.members``
    lists (``node-<id>``: one node; ``box-<id>``: a box standing for node id, e.g. a cell's h).
    The one place that decides which boxes open, and how."""
    out = {}
    ops_level = options.get("expand") == "all"
    for did, members in (getattr(dg, "members", None) or {}).items():
        m = _ID.match(did)
        rep = int(m.group(1)) if m else representative(gi, members)
        if len(members) == 1:
            out[did] = Found(list(members), members[0])
        else:
            out[did] = _classify(view, gi, list(members), rep, ops_level)
    return out


def _classify(view: str, gi: GraphIndex, members: list, rep: int, ops_level: bool) -> Found:
    ops = [i for i in members if gi.kind(i) == "op"]
    if not ops and all(gi.kind(i) == "param" for i in members):
        names = ", ".join(gi.label_name(i) for i in members[:4])
        return Found(members, rep, f"weights {names}" + (" …" if len(members) > 4 else ""))
    if view == "folded":
        sites = {(gi.meta(i, "site"), gi.meta(i, "layer"), gi.meta(i, "direction")) for i in ops}
        if ops_level or len(sites) < 2:  # the copies of one op site (or leaf) over time
            return Found(members, rep, f"{gi.label_name(members[0], False)} × {len(members)}",
                         fold=True)
        return Found(members, rep, f"{gi.label_name(rep, False)} over t, op by op", "circuit",
                     fold=True)
    trees = {gi.meta(i, "tree_node") for i in ops}
    if len(trees) == 1 and None not in trees:
        return Found(members, rep, f"tree node {trees.pop()}", "tree")
    steps = {gi.meta(i, "step") for i in ops if gi.meta(i, "step") is not None}
    where = gi.label_name(rep) if len(steps) < 2 else \
        f"{gi.label_name(rep, False)}, t = {_span(gi, ops)}"
    return Found(members, rep, f"{where} · {len(members)} nodes",
                 "grid" if len(ops) >= 2 else None)


def _span(gi: GraphIndex, ops: list) -> str:
    steps = sorted({gi.meta(i, "step") for i in ops if gi.meta(i, "step") is not None},
                   key=sort_key)
    return f"{steps[0]} … {steps[-1]}"


def outside_name(gi: GraphIndex, i: int) -> str:
    """How a value read from outside a box is labelled inside it: a state as the grid labels
    it (h₁⁽³⁾, c₀⁽²⁾; g for a reverse direction), anything else by its name."""
    from viz.views.grid import state_letter

    role, step, layer = (gi.meta(i, k) for k in ("role", "step", "layer"))
    if role not in ("h", "c") or step is None:
        return gi.label_name(i)
    letter = "c" if role == "c" else state_letter((None, None, gi.meta(i, "direction")))
    return letter + (sub(layer) if layer is not None else "") + sup(step)


def subgraph(d: dict, gi: GraphIndex, members: list) -> tuple:
    """(graph dict, ids): ``members`` and the nodes they read, renumbered 0..n-1 in id order
    (so still topological); ``ids[k]`` is the original id of node k. An op outside the box
    becomes an input leaf named as the grid draws it (h₀⁽⁴⁾) or by its place
    (``attention.context[t=2]``)."""
    inside = set(members)
    outside = {e["src"] for i in members for e in gi.ins[i] if e["src"] not in inside}
    ids = sorted(inside | outside)
    new = {old: k for k, old in enumerate(ids)}
    nodes = []
    for k, old in enumerate(ids):
        nd = dict(gi.nodes[old], id=k)
        if old not in inside and gi.kind(old) == "op":
            nd.update(kind="input", op=None, name=outside_name(gi, old), params={}, meta={})
        nodes.append(nd)
    edges = [dict(e, src=new[e["src"]], dst=new[e["dst"]]) for i in ids if i in inside
             for e in gi.ins[i]]
    roots = [new[i] for i in sorted(inside)
             if i in gi.roots or any(e["dst"] not in inside for e in gi.outs[i])]
    order = [new[i] for i in d.get("order") or [] if i in inside]
    return {"nodes": nodes, "edges": edges, "roots": roots, "order": order}, ids


def inside_view(box: Box, sub_gi: GraphIndex) -> tuple:
    """(view, options) that draw the inside of ``box`` from its sub-graph."""
    if box.inside == "circuit":
        return "folded", {"expand": "all", "max_nodes": 2 * GATE_LIMIT}
    if box.inside == "tree":
        return "tree", {"expand": "all"}
    opts = {"keep_ends": None, "max_nodes": 2 * GATE_LIMIT}
    if len(box.members) <= GATE_LIMIT:
        return "unrolled", dict(opts, expand=every_cell)
    steps = {sub_gi.meta(i, "step") for i in range(len(sub_gi)) if sub_gi.kind(i) == "op"}
    if len(steps) > RUN_LIMIT:
        opts["keep_ends"] = RUN_ENDS
    return "unrolled", opts


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
    """SVG id -> (key, rep, members) for one drawing, in graph node ids (``ids``: those of a
    sub-graph's nodes); key None for a single node."""
    out = {}
    for name, f in found.items():
        if ids is not None:
            f = Found([ids[i] for i in f.members], ids[f.rep], f.title, f.inside, f.fold)
        if len(f.members) == 1:  # one node under another name: no box
            out[name] = (None, f.members[0], f.members)
            continue
        b = boxes.add(f)
        out[name] = (b.key, b.rep, b.members)
    return out


def _insides(d: dict, gi: GraphIndex, boxes: Boxes, notes: list) -> None:
    """Draw the inside of every box that opens, breadth first (boxes drawn in views before the
    boxes inside them), within ``MAX_BOXES`` pictures and ``DOT_BUDGET``."""
    queue = deque(b for b in boxes.items.values() if b.inside)
    drawn = left = 0
    budget = DOT_BUDGET
    while queue:
        box = queue.popleft()
        if box.drawing is not None or box.note:
            continue
        sub_d, ids = subgraph(d, gi, box.members)
        sub_gi = GraphIndex(sub_d)
        view, opts = inside_view(box, sub_gi)
        dg = _draw(sub_d, view, opts, [])
        if drawn >= MAX_BOXES or len(dg.source) > budget:
            left += 1
            box.note = "not pre-rendered: the page would be too big"
            continue
        inner = members_map(view, dg, sub_gi, opts)
        box.drawing = Drawing(dg.source, ids, _register(boxes, inner, ids))
        drawn += 1
        budget -= len(dg.source)
        queue.extend(boxes.items[k] for k, _, _ in box.drawing.boxes.values()
                     if k is not None and boxes.items[k].inside
                     and boxes.items[k].drawing is None)
    if left:
        notes.append(f"viz.inspect: {left} of {drawn + left} boxes are not pre-rendered (at "
                     f"most {MAX_BOXES} pictures, {DOT_BUDGET // 1000}k characters of DOT in "
                     "all); draw those steps with viz.draw(graph, expand=...) to see them")
