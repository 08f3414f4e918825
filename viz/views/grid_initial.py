"""The grid's initial states: one box per row holding what starts its recurrence (h⁽⁰⁾, c⁽⁰⁾),
drawn in the row itself, where the recurrence enters: left of the first step, or right of the
last one for a reverse direction (it runs from t = T-1 down to 0).

What counts as an initial state is recorded, not guessed here: a leaf of kind ``state`` (marked
by ``tr.initial_state``, or found by :class:`viz.graph_index.GraphIndex` in hand-written loops),
a leaf marked without a gradient (``meta["role"]``), and the ops a layer records picking its own
slice of a stacked h0 (``meta["role"]`` ``h0``/``c0``, no step). They join a row's box when
everything they feed lies in that row's cells (or in other initial states of that row).
"""

from __future__ import annotations

from viz._dot import fmt, shape_str
from viz._style import grad_text
from viz.views._cells import direction_key

INITIAL_ROLES = ("h0", "c0")  # what recurrent layers record on their initial-state slices
BEFORE, AFTER = (-1, 0, ""), (3, 0, "")  # Box.pos: before every step's sort_key, after them


def is_initial(gi, i: int) -> bool:
    if gi.kind(i) == "param":
        return False
    if gi.kind(i) == "state":
        return True
    return gi.meta(i, "role") in INITIAL_ROLES and gi.meta(i, "step") is None


def initial_rows(gi, grid) -> dict:
    """row -> the ids of its initial states (ascending): reverse id order, so everything a node
    feeds is decided before it is."""
    row_of: dict = {}
    for i in range(len(gi) - 1, -1, -1):
        if grid.cell_of[i] is not None or not is_initial(gi, i):
            continue
        rows = {grid.cell_of[e["dst"]][0] if grid.cell_of[e["dst"]] is not None
                else row_of.get(e["dst"]) for e in gi.outs[i] if e.get("kind", "data") == "data"}
        if len(rows) == 1 and None not in rows:
            row_of[i] = rows.pop()
    out: dict = {}
    for i, r in row_of.items():
        out.setdefault(r, []).append(i)
    return {r: sorted(v) for r, v in out.items()}


def initial_boxes(p, box_class) -> None:
    """Add a box per row with initial states (see the module docstring) to plan ``p``."""
    gi, grid = p.gi, p.grid
    for r, members in initial_rows(gi, grid).items():
        reverse = direction_key(r[2])[0] == 1
        by_role: dict = {}
        for i in members:  # the last node of a role is what the cell reads
            by_role[str(gi.meta(i, "role") or gi.nodes[i].get("name") or "state")] = i
        norms = [gi.grad_norm(i) for i in by_role.values()]
        known = [g for g in norms if g is not None]
        did = f"init{grid.rows.index(r)}"
        tips = _tips(gi, r, by_role) + [gi.label_name(i) for i in members[-6:]]
        p.boxes[did] = box_class(did, members[-1], list(members), _lines(gi, by_role, norms),
                                 tips, role="input", row=r,
                                 col=f"init{'_end' if reverse else ''}_{r[0]}",
                                 grad=max(known) if known else None,
                                 pos=AFTER if reverse else BEFORE)
        for i in members:
            p.owner[i] = did


def _lines(gi, by_role: dict, norms: list) -> list:
    last = list(by_role.values())[-1]
    return [", ".join(by_role), shape_str(gi.nodes[last].get("shape", [])),
            *(grad_text(n, g) for n, g in zip(by_role, norms) if g is not None)]


def _tips(gi, r: tuple, by_role: dict) -> list:
    where = " · ".join(str(x) for x in (r[0], f"layer {r[1]}" if r[1] is not None else None,
                                        r[2]) if x is not None)
    head = f"initial state{'s' if len(by_role) > 1 else ''} of {where or 'the recurrence'}"
    return [head, *(f"{n} = n{i}, \u2016value\u2016="
                    f"{fmt((gi.nodes[i].get('value') or {}).get('norm'))}"
                    for n, i in by_role.items())]
