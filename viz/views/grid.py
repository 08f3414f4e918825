"""The textbook grid: time steps left to right, layers bottom to top, a reverse direction as a
row of its own (seed 001's bidirectional figure), one box per (layer, direction, step) cell.

Each cell box is labelled h⁽ᵗ⁾ (g⁽ᵗ⁾ for a reverse direction) with ‖∂L/∂h‖ (and ‖∂L/∂c‖ for an
LSTM); the recurrent edges join the boxes of a row; inputs sit below, per-step outputs and losses
above. A row's weights are drawn once, at its left, each with a strip of its per-step copies'
gradients ‖∇W⁽ᵗ⁾‖ (seed 000 eqs. 6-7). Long loops keep their first and last steps and draw the
rest as one "… × N steps" box per row. ``expand`` opens chosen cells: their ops are drawn one by
one, with the per-use copies W⁽ᵗ⁾, in their place in the grid.

Layout, chosen to work in Graphviz 2.43 and graphviz-pure alike: no clusters around rows or
steps, each row one ``rank=same`` subgraph whose left-to-right order comes from its recurrent
(flat) edges (a reverse row's are written t -> t+1 with ``dir=back``), columns held by ``group``
and invisible edges between the rows. Nothing is labelled on an edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from viz._dot import LogScale, fmt, h, label, shape_str, sort_key, sparkline, tooltip
from viz._style import (
    CUT_COLOR,
    FONT,
    FONT_SIZE,
    ROLES,
    TITLE_SIZE,
    box_width,
    edge_style,
    grad_text,
    legend,
    sub,
    sup,
)
from viz.graph_index import GraphIndex
from viz.views._cells import Grid, direction_key
from viz.views.grid_initial import initial_boxes
from viz.views.grid_open import opened_nodes
from viz.views.grid_weights import weight_rows


@dataclass
class Box:
    """One drawn node: a graph node (``node-<id>``) or a box for several (``box-<id>``)."""

    did: str
    stands_for: int
    members: list
    lines: list
    tips: list
    role: str = "op"
    grad: float | None = None  # the norm the fill shows in gradient views
    row: tuple | None = None  # rank=same row it sits in
    col: str | None = None  # column group
    attrs: dict = field(default_factory=dict)
    html: str | None = None
    pos: tuple = ()  # left-to-right order inside its row
    copy_of: tuple | None = None  # a copy W^(t): (its edge, the op that reads it)
    holds: list = field(default_factory=list)  # boxes kept right above this one (invisible)

    @property
    def dom_id(self) -> str:
        return (f"node-{self.stands_for}" if self.members == [self.stands_for]
                else f"box-{self.stands_for}")


@dataclass
class Plan:
    gi: GraphIndex
    grid: Grid
    scale: LogScale | None  # gradient view: fills and edges on this scale
    strip_scale: LogScale
    boxes: dict = field(default_factory=dict)  # did -> Box
    owner: list = field(default_factory=list)  # node id -> did or None
    hidden: dict = field(default_factory=dict)  # (loop, step) -> run index
    runs: list = field(default_factory=list)  # [(loop, [steps])]
    opened: set = field(default_factory=set)  # cell keys drawn op by op
    on_path: list | None = None
    cols: dict = field(default_factory=dict)  # (loop, step) -> column group
    folded: bool = False  # every step of every loop in one run: the circuit diagram


def plan_grid(gi: GraphIndex, grid: Grid, *, gradients: bool, runs: list, opened: set,
              on_path=None, folded: bool = False) -> Plan:
    """Decide every drawn box and which graph nodes it stands for."""
    norms = [gi.grad_norm(i) for i in range(len(gi))]
    norms += [(e.get("grad") or {}).get("norm") for es in gi.ins for e in es]
    scale = LogScale(norms)
    p = Plan(gi, grid, scale if gradients else None, scale, owner=[None] * len(gi),
             runs=runs, opened=opened, on_path=on_path, folded=folded)
    for k, (_, steps) in enumerate(runs):
        for t in steps:
            p.hidden[(runs[k][0], t)] = k
    p.cols = _columns(p)
    _cell_boxes(p)
    initial_boxes(p, Box)
    _extra_boxes(p)
    opened_nodes(p, Box)
    weight_rows(p, Box)
    return p


def col_id(loop_rank: int, index: int) -> str:
    return f"col{loop_rank}_{index}"


def _columns(p: Plan) -> dict:
    """(loop, step) -> column group name; hidden steps share their run's."""
    out = {}
    for lr, (loop, steps) in enumerate(sorted(p.grid.steps.items(),
                                              key=lambda kv: _loop_rank(p, kv[0]))):
        j = 0
        for t in steps:
            k = p.hidden.get((loop, t))
            if k is not None and p.runs[k][1][0] != t:
                out[(loop, t)] = out[(loop, p.runs[k][1][0])]
                continue
            out[(loop, t)] = col_id(lr, j)
            j += 1
    return out


def _loop_rank(p: Plan, loop) -> int:
    order = p.gi.loop_order()
    return order.index(loop) if loop in order else -1


def state_letter(row: tuple) -> str:
    return "g" if direction_key(row[2])[0] else "h"


def _cell_boxes(p: Plan) -> None:
    gi, grid = p.gi, p.grid
    cols = p.cols
    layers = {r[1] for r in grid.rows}
    for (r, t), cell in sorted(grid.cells.items(), key=lambda kv: sort_key(kv[0][1])):
        if (r, t) in p.opened:
            continue
        k = p.hidden.get((r[0], t))
        did = f"run{k}_{grid.rows.index(r)}" if k is not None else f"b{cell.h}"
        box = p.boxes.get(did)
        new = box is None
        if new:
            box = p.boxes[did] = Box(did, cell.h, [], [], [], role="state h", row=r,
                                     col=cols[(r[0], t)], pos=sort_key(t))
        box.members += cell.members
        if k is None:
            _cell_label(gi, box, cell, r, t, len(layers) > 1)
        else:
            box.stands_for = max(box.stands_for, cell.h)
            if new:  # a run's label reads all its steps: once per run, not once per step
                _run_label(p, box, cell, k)
        for i in cell.members:
            p.owner[i] = did


def _cell_label(gi: GraphIndex, box: Box, cell, r, t, layered: bool) -> None:
    name = state_letter(r) + (sub(r[1]) if layered and r[1] is not None else "") + sup(t)
    box.lines = [name, grad_text(state_letter(r), gi.grad_norm(cell.h))]
    if cell.c is not None:
        box.lines.append(grad_text("c", gi.grad_norm(cell.c)))
    box.grad = gi.grad_norm(cell.h)
    where = " · ".join(str(x) for x in (r[0], f"layer {r[1]}" if r[1] is not None else None,
                                        r[2]) if x is not None)
    box.tips = [f"{name}: {where or 'cell'}, step {t}",
                f"{len(cell.members)} ops ({', '.join(_roles(gi, cell.members))})",
                f"h = n{cell.h}" + (f", c = n{cell.c}" if cell.c is not None else ""),
                f"\u2016value\u2016={fmt((gi.nodes[cell.h].get('value') or {}).get('norm'))}"]


def _roles(gi: GraphIndex, members: list) -> list:
    return list(dict.fromkeys(str(gi.meta(i, "role")) for i in members
                              if gi.meta(i, "role") is not None)) or ["no roles"]


def _run_label(p: Plan, box: Box, cell, k: int) -> None:
    loop, steps = p.runs[k]
    gi = p.gi
    hs = [gi.grad_norm(p.grid.cells[(cell.row, t)].h) for t in steps
          if (cell.row, t) in p.grid.cells]
    known = [x for x in hs if x is not None]
    letter = state_letter(cell.row)
    box.grad = max(known) if known else None
    if p.folded:
        layer = cell.row[1]
        box.lines = [letter + (sub(layer) if len({r[1] for r in p.grid.rows}) > 1
                               and layer is not None else "") + "\u207d\u1d57\u207e",
                     f"t = {steps[0]} \u2026 {steps[-1]}"]
        if known:
            box.lines.append(f"\u2016\u2202L/\u2202{letter}\u2016: {sparkline(hs)}")
        box.role = "state h"
        box.tips = [f"{letter}(t) of {len(steps)} steps folded into one cell"]
        return
    box.lines = [f"\u2026 \u00d7 {len(steps)} steps", f"t = {steps[0]} \u2026 {steps[-1]}"]
    if known:
        box.lines.append(f"\u2016\u2202L/\u2202{letter}\u2016 {fmt(min(known))} \u2013 "
                         f"{fmt(max(known))}")
    box.tips = [f"{len(steps)} steps not drawn one by one (keep_ends=...)",
                f"t = {steps[0]}..{steps[-1]}"]
    box.role = "op"


# recorded roles drawn under the seeds' names: seq2seq's context C and attention's memory
ROLE_NAMES = {"context": "C", "memory": "memory (attended)"}


def extra_name(gi: GraphIndex, members: list, first_row: bool) -> tuple:
    """(name, role) of a box of extras: x for what feeds the lowest cells, L for a loss, a
    leaf's own name, a role, else the module (last scope part) and the op."""
    ops = [i for i in members if gi.kind(i) == "op"]
    if any(gi.nodes[i].get("op") == "cross_entropy" for i in ops) or \
            any(i in gi.roots for i in members):
        return "L", "loss"
    if any(gi.kind(i) == "cut" for i in members):
        return "cut", "cut"
    names = sorted({re.sub(r"\d+", "t", str(gi.nodes[i].get("name"))) if len(members) > 1
                    else str(gi.nodes[i].get("name")) for i in members
                    if gi.kind(i) != "op" and gi.nodes[i].get("name")})
    if not ops and names:
        return ", ".join(names)[:24], "input"
    if first_row:
        return "x", "input"
    if not ops:
        return "input", "input"
    i = ops[-1]
    role = gi.meta(i, "role")
    if role is not None:
        return ROLE_NAMES.get(role, str(role)), "op"
    return op_name(gi, ops if len(ops) > 1 else [i]), "op"


def op_name(gi: GraphIndex, ops: list) -> str:
    """``attention`` for several ops of one module, ``head · linear`` for one op."""
    scope = str(gi.meta(ops[-1], "scope") or "").split("/")[-1]
    op = str(gi.nodes[ops[-1]].get("name") or gi.nodes[ops[-1]].get("op"))
    if len(ops) > 1:
        return scope or op
    return op if scope in ("", op) else f"{scope} \u00b7 {op}"


def _extra_boxes(p: Plan) -> None:
    """Column extras grouped by (column, side, scope, role); free ops one by one; a leaf joins
    the group of the ops it feeds when they are all in one (a constant such as -1e9)."""
    gi, grid = p.gi, p.grid
    lowest = {grid.rows[0]} if grid.rows else set()
    groups: dict = {}
    of: dict = {}
    leaves = []
    for i in range(len(gi)):
        if grid.cell_of[i] is not None or gi.kind(i) == "param" or p.owner[i] is not None:
            continue
        if gi.kind(i) != "op":
            leaves.append(i)
            continue
        key = _extra_key(p, i)
        if key[0] == "free":  # an accumulation chain (L = L0 + L1 + ...) is one box
            same = [of[e["src"]] for e in gi.ins[i] if of.get(e["src"], ("",))[0] == "free"
                    and _op_kind(gi, e["src"]) == _op_kind(gi, i)]
            key = same[0] if same else key
        groups.setdefault(key, []).append(i)
        of[i] = key
    for i in leaves:
        keys = {of.get(e["dst"], ("cell",)) for e in gi.outs[i]}
        key = next(iter(keys)) if len(keys) == 1 and ("cell",) not in keys else \
            _extra_key(p, i)
        groups.setdefault(key, []).append(i)
    for key, members in groups.items():
        _extra_box(p, key, sorted(members), p.cols, lowest)


def _op_kind(gi: GraphIndex, i: int) -> tuple:
    return (gi.nodes[i].get("op"), gi.meta(i, "scope"), gi.meta(i, "role"))


def _extra_key(p: Plan, i: int) -> tuple:
    gi, grid = p.gi, p.grid
    col = grid.column[i]
    if col is None or col not in p.cols:
        return ("free", i)
    k = p.hidden.get(col)
    where = ("run", k) if k is not None else col
    kind = "op" if gi.kind(i) == "op" else \
        "leaf " + re.sub(r"\d+", "#", str(gi.nodes[i].get("name")))  # x[3], x[4]: one kind
    return (where, grid.side[i], kind, gi.meta(i, "scope"), gi.meta(i, "role"), i in gi.roots)


def _extra_box(p: Plan, key, members: list, cols: dict, lowest: set) -> None:
    gi, grid = p.gi, p.grid
    feeds_low = key[0] != "free" and key[1] == "in" and any(
        grid.cell_of[e["dst"]] is not None and grid.cell_of[e["dst"]][0] in lowest
        for i in members for e in gi.outs[i])
    name, role = extra_name(gi, members, feeds_low)
    last = members[-1]
    if key[0] == "free":
        col, did, tag = None, f"n{last}", ""
    elif key[0][0] == "run":
        loop, steps = p.runs[key[0][1]]
        col, did = cols[(loop, steps[0])], f"b{last}"
        tag = "\u207d\u1d57\u207e" if p.folded else f"\u207d{steps[0]}\u2026{steps[-1]}\u207e"
    else:
        col, did, tag = cols[key[0]], (f"n{last}" if len(members) == 1 else f"b{last}"), \
            sup(key[0][1])
    if any(i in gi.roots for i in members) or (
            gi.kind(last) != "op" and gi.nodes[last].get("name") and name[:1] == str(
                gi.nodes[last].get("name"))[:1]):
        tag = ""  # the loss is the whole sum; a named leaf (x[3], h0) says where it is
    g = gi.grad_norm(last)
    lines = [name + tag, shape_str(gi.nodes[last].get("shape", []))]
    if g is not None:
        lines.append(grad_text(name, g) if len(name) <= 2 else f"\u2016\u2207\u2016 = {fmt(g)}")
    tips = [gi.label_name(i) for i in members[:6]] + [
        f"{len(members)} nodes: " + " ".join(f"n{i}" for i in members[:24])]
    p.boxes[did] = Box(did, last, list(members), lines, tips, role=role, col=col, grad=g)
    for i in members:
        p.owner[i] = did


def box_attrs(p: Plan, box: Box) -> dict:
    """Shape, outline and fill of a box in this view (fill by gradient in gradient views)."""
    line, fill = ROLES.get(box.role, ROLES["op"])
    attrs = {"id": box.dom_id, "color": line, "fillcolor": fill, "style": "rounded,filled",
             "shape": "box", "penwidth": "1.5"}
    if box.html is None:
        attrs["width"] = box_width(box.lines)
    if box.role == "state h" or box.did.startswith("run"):
        attrs["penwidth"] = "2"
    if box.did.startswith("run") and not p.folded:
        attrs["style"] = "rounded,filled,dashed"
    if box.role == "cut":
        attrs.update(color=CUT_COLOR, style="rounded,filled,dashed", fillcolor="#ffffff")
    if p.scale is not None and box.html is None:
        attrs["fillcolor"] = p.scale.color(box.grad)
        attrs["fontcolor"] = p.scale.font(box.grad)
    if p.on_path is not None and any(p.on_path[i] for i in box.members):
        attrs.update(color="#1f5fbf", penwidth="3.5")
    if box.col is not None:
        attrs["group"] = box.col
    attrs.update(box.attrs)
    return attrs


def graph_attributes(title, rankdir: str, p: Plan) -> dict:
    roles = {b.role for b in p.boxes.values()} | {"parameter"}
    cut = any(e.get("kind") == "cut" for es in p.gi.ins for e in es)
    head = f'<TR><TD><FONT POINT-SIZE="{TITLE_SIZE}">{h(title)}</FONT></TD></TR>' \
        if title else ""
    leg = legend(roles, p.strip_scale if p.strip_scale.any else None, cut,
                 edges=p.scale is not None)
    return {"rankdir": rankdir, "nodesep": "0.3", "ranksep": "0.45", "fontname": FONT,
            "fontsize": str(FONT_SIZE), "labelloc": "t",
            "label": f'<<TABLE BORDER="0">{head}<TR><TD>{leg[1:-1]}</TD></TR></TABLE>>'}


def edge_attrs(p: Plan, es: list, recurrent: bool, c_path: bool, cut: bool) -> dict:
    if cut:
        return {"style": "dashed", "color": CUT_COLOR, "penwidth": "2",
                "tooltip": tooltip("truncated BPTT: no gradient flows back here")}
    norms = [(e.get("grad") or {}).get("norm") for e in es]
    norms = [x for x in norms if x is not None]
    attrs = {"color": "#7a7a7a", "penwidth": "1.2"}
    if recurrent:
        attrs.update(color=ROLES["state c" if c_path else "state h"][0], penwidth="2.2")
    if p.scale is not None:
        attrs.update(edge_style(p.scale, max(norms) if norms else None))
        if recurrent:
            attrs["penwidth"] = f"{float(attrs['penwidth']) + 0.8:.2f}"
    tip = [f"n{e['src']} \u2192 n{e['dst']}" for e in es[:6]]
    if norms:
        tip.append("\u2016\u2207\u2016 sent back: " + ", ".join(fmt(x) for x in norms[:6]))
    attrs["tooltip"] = tooltip(*tip)
    if p.on_path is not None and es and all(p.on_path[e["src"]] and p.on_path[e["dst"]]
                                            for e in es):
        attrs.update(color="#1f5fbf", penwidth="3.5")
    return attrs


def plain_label(box: Box):
    return label(*box.lines)
