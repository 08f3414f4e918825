"""Writing the grid (:mod:`viz.views.grid`) as DOT, in one fixed order so the same graph always
gives byte-identical source, and the public entry :func:`draw_grid`."""

from __future__ import annotations

from viz._dot import sort_key, tooltip
from viz._render import VizDigraph
from viz._style import FONT, FONT_SIZE
from viz.collapse import hidden_runs
from viz.graph_index import GraphIndex
from viz.views._cells import build_grid
from viz.views.grid import box_attrs, edge_attrs, graph_attributes, plain_label, plan_grid
from viz.views.grid_open import open_cells
from viz.views.scene import graph_attrs

AUTO_KEEP = 16  # loops of at most this many steps are drawn whole by default
AUTO_ENDS = 3  # longer ones keep this many steps at each end


def draw_grid(gi: GraphIndex, *, gradients: bool, keep_ends="auto", keep_steps=(),
              expand=None, title=None, rankdir="BT", on_path=None, name="unrolled",
              folded: bool = False):
    """The grid picture of ``gi`` as a ``VizDigraph`` with ``.members`` (box id -> node ids),
    or None when the graph has no recurrent cells (no steps recorded). ``folded``: every loop's
    steps in one box per row, recurrent edges through a delay marker (the circuit)."""
    graph_attrs(name, rankdir, None)  # validates rankdir
    grid = build_grid(gi)
    if not grid.cells:
        return None
    if folded:
        runs = [(loop, steps) for loop, steps in sorted(grid.steps.items(),
                                                         key=lambda kv: sort_key(str(kv[0])))]
    else:
        runs = _runs(grid, keep_ends, keep_steps)
    opened = open_cells(gi, grid, expand, f"viz.draw(view={name!r})")
    p = plan_grid(gi, grid, gradients=gradients, runs=runs, opened=opened, on_path=on_path,
                  folded=folded)
    return emit(p, name, title, rankdir)


def _runs(grid, keep_ends, keep_steps) -> list:
    out = []
    for loop, steps in sorted(grid.steps.items(), key=lambda kv: sort_key(str(kv[0]))):
        ends = keep_ends
        if keep_ends == "auto":
            ends = None if len(steps) <= AUTO_KEEP else AUTO_ENDS
        if ends is None:
            continue
        out += [(loop, run) for run in hidden_runs(steps, ends, keep_steps)]
    return out


def emit(p, name: str, title, rankdir: str):
    g = VizDigraph(name)
    g.attr("graph", **graph_attributes(title, rankdir, p))
    g.attr("node", fontname=FONT, fontsize=str(FONT_SIZE), margin="0.12,0.06")
    g.attr("edge", fontname=FONT, fontsize=str(FONT_SIZE), arrowsize="0.7")
    rows = _row_boxes(p)
    seen_ids: dict = {}
    for k, boxes in enumerate(rows):
        with g.subgraph(name=f"row{k}") as s:
            s.attr(rank="same")
            for b in boxes:
                _node(s, p, b, seen_ids)
    in_rows = {b.did for boxes in rows for b in boxes}
    for b in sorted(p.boxes.values(), key=lambda b: (b.stands_for, b.did)):
        if b.did not in in_rows:
            _node(g, p, b, seen_ids)
    _edges(g, p, rows)
    _align(g, p, rows)
    if p.folded:
        _delays(g, p, rows)
    g.members = {_dom(p.boxes[d], seen_ids): sorted(b.members)
                 for d, b in sorted(p.boxes.items()) if b.members}
    g.members = {k: v for k, v in g.members.items() if k.startswith(("box-", "node-"))}
    return g


def _dom(box, seen: dict) -> str:
    return seen.get(box.did, box.dom_id)


def _row_boxes(p) -> list:
    """Per grid row, its boxes left to right: the weights, then the cells by step."""
    out = []
    for k, r in enumerate(p.grid.rows):
        cells = sorted((b for b in p.boxes.values() if b.row == r and not b.did.startswith("w")),
                       key=lambda b: (b.pos, b.did))
        out.append([p.boxes[f"w{k}"]] + cells)
    return out


def _node(g, p, box, seen: dict) -> None:
    attrs = box_attrs(p, box)
    dom = attrs["id"]
    if dom in seen.values():  # a weight shared by two rows: its second header
        dom = attrs["id"] = f"{dom}-{box.did}"
    seen[box.did] = dom
    attrs["tooltip"] = tooltip(*box.tips)
    g.node(box.did, box.html if box.html is not None else plain_label(box), **attrs)


def _edges(g, p, rows) -> None:
    gi = p.gi
    pos = {b.did: (k, j) for k, boxes in enumerate(rows) for j, b in enumerate(boxes)}
    copies = {(b.copy_of[0]["src"], b.copy_of[1], b.copy_of[0].get("arg", 0)): b.did
              for b in p.boxes.values() if b.copy_of is not None}
    merged: dict = {}
    for d in range(len(gi)):
        for e in gi.ins[d]:
            s = copies.get((e["src"], d, e.get("arg", 0)), p.owner[e["src"]])
            t = p.owner[d]
            if s is None or t is None or s == t or s.startswith("w"):
                continue
            c_path = gi.meta(e["src"], "role") == "c0" or any(
                c.c == e["src"] for c in (p.grid.cells.get(p.grid.cell_of[e["src"]]),)
                if c is not None)
            key = (s, t, c_path, e.get("kind") == "cut")
            merged.setdefault(key, []).append(e)
    for (s, t, c_path, cut), es in sorted(merged.items(), key=lambda kv: _edge_order(kv[0])):
        ps, pt = pos.get(s), pos.get(t)
        recurrent = ps is not None and pt is not None and ps[0] == pt[0]
        attrs = edge_attrs(p, es, recurrent, c_path, cut)
        if recurrent and ps[1] > pt[1]:  # a reverse row: drawn left to right, arrow back
            g.edge(t, s, dir="back", **attrs)
        else:
            g.edge(s, t, **attrs)


def _edge_order(key) -> tuple:
    s, t, c_path, cut = key
    return (_num(t), _num(s), c_path, cut, s, t)


def _num(did: str) -> int:
    digits = "".join(ch if ch.isdigit() else " " for ch in did).split()
    return int(digits[0]) if digits else -1


def _align(g, p, rows) -> None:
    """Keep the rows stacked and their columns aligned: an invisible edge from each box of a
    row to the box in the same position of the next row, and between consecutive boxes of a
    row (Graphviz keeps a rank's order along its flat edges)."""
    for boxes in rows:
        for a, b in zip(boxes, boxes[1:]):
            g.edge(a.did, b.did, style="invis")
    rows = [[b for b in boxes if not b.did.startswith("init")] for boxes in rows]
    for low, high in zip(rows, rows[1:]):
        for a, b in zip(low, high):
            g.edge(a.did, b.did, style="invis", weight="8")
    inits: dict = {}  # the initial states of one loop and side: one above the other
    for b in sorted(p.boxes.values(), key=lambda b: b.did):
        if b.did.startswith("init"):
            inits.setdefault(b.col, []).append(b.did)
        for did in b.holds:  # an opened cell in its column
            g.edge(b.did, did, style="invis", weight="8")
    for dids in inits.values():
        for a, b in zip(dids, dids[1:]):
            g.edge(a, b, style="invis", weight="8")


DELAY = {"shape": "square", "style": "filled", "fillcolor": "black", "color": "black",
         "width": "0.16", "height": "0.16", "fixedsize": "true", "label": ""}


def _delays(g, p, rows) -> None:
    """Seed 000's black square on each folded row's recurrence: the value one step earlier."""
    for k, boxes in enumerate(rows):
        for b in boxes[1:]:
            if not b.did.startswith("run") or \
                    len({t for (r, t) in p.grid.cells if r == b.row}) < 2:
                continue
            d = f"delay{k}"
            g.node(d, id=f"delay-{k}", tooltip="delay: the value from the previous step", **DELAY)
            color = "#2e7d32"
            g.edge(b.did, d, arrowhead="none", color=color, penwidth="2")
            g.edge(d, b.did, color=color, penwidth="2", constraint="false")
