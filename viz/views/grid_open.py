"""Opening grid cells: which cells ``expand=`` selects, and their ops drawn one by one with the
per-use copies W⁽ᵗ⁾ of the weights they read (each carrying its own gradient, seed 000 eq. 7).

``expand`` is one of: None (no cell), ``"all"``, a step ``t`` (every cell of that step), a dict
of metadata such as ``{"layer": 1}`` or ``{"layer": 0, "step": 3}``, a list of ``(layer, step)``
pairs, or a predicate called with each member op's metadata dict (a cell opens when it is true
for one of its ops).
"""

from __future__ import annotations

from viz._dot import fmt, shape_str, sort_key
from viz._errors import OptionError
from viz._style import sup

_ROLE_STYLE = {"h": "state h", "c": "state c"}


def open_cells(gi, grid, expand, who: str = "viz.draw") -> set:
    """The cell keys ``(row, step)`` that ``expand`` selects (see the module docstring)."""
    if expand is None:
        return set()
    keys = list(grid.cells)
    if expand == "all":
        return set(keys)
    if callable(expand):
        return {k for k in keys if any(expand(dict(gi.metas[i])) for i in grid.cells[k].members)}
    if isinstance(expand, dict):
        bad = set(expand) - {"loop", "layer", "direction", "step"}
        if bad:
            raise OptionError(f"{who}: expand={expand!r}: unknown key(s) {sorted(bad)}; "
                              "expected some of loop, layer, direction, step")
        return {k for k in keys if all(_field(k, f) == v for f, v in expand.items())}
    if isinstance(expand, (list, tuple, set, frozenset)) and all(
            isinstance(x, (list, tuple)) and len(x) == 2 for x in expand):
        pairs = {(a, b) for a, b in expand}
        return {k for k in keys if (k[0][1], k[1]) in pairs}
    if isinstance(expand, (int, str)) and not isinstance(expand, bool):
        return {k for k in keys if k[1] == expand}
    raise OptionError(f"{who}: expand={expand!r}; expected None, 'all', a step, a dict such as "
                      "{'layer': 1}, a list of (layer, step) pairs, or a function of a node's "
                      "metadata")


def _field(key, name: str):
    (loop, layer, direction), step = key
    return {"loop": loop, "layer": layer, "direction": direction, "step": step}[name]


def opened_nodes(p, Box) -> None:
    """Every op of an opened cell as its own box; its weights' uses as copies W⁽ᵗ⁾."""
    gi = p.gi
    for key in sorted(p.opened, key=lambda k: (p.grid.rows.index(k[0]), sort_key(k[1]))):
        cell = p.grid.cells[key]
        step = key[1]
        for i in cell.members:
            role = gi.meta(i, "role")
            nd = gi.nodes[i]
            name = str(nd.get("name") or role or nd.get("op"))
            op = str(nd.get("op"))
            lines = [f"{name}{sup(step)}",
                     (f"{op} " if op != name else "") + shape_str(nd.get("shape", [])),
                     f"\u2016\u2207\u2016 = {fmt(gi.grad_norm(i))}"]
            kind = _ROLE_STYLE.get(str(role)) if i in (cell.h, cell.c) else None
            kind = kind or ("gate" if str(role).startswith("gate") else "op")
            box = Box(f"n{i}", i, [i], lines, [gi.label_name(i), f"n{i}"], role=kind,
                      grad=gi.grad_norm(i), col=_col(p, key))
            box.pos = sort_key(step)
            p.boxes[box.did] = box
            p.owner[i] = box.did
        _copies(p, Box, cell, key)
        _place_holder(p, Box, key)


def _place_holder(p, Box, key) -> None:
    """An invisible point in the cell's row at its step: the opened ops hang above it in their
    column, so the step is drawn between its neighbours (without it Graphviz put the opened
    column after the row's last cell)."""
    did = f"open{p.grid.cells[key].h}"  # the cell's state node: one per cell
    box = Box(did, p.grid.cells[key].h, [], [""], [], row=key[0], col=_col(p, key),
              pos=sort_key(key[1]))
    box.attrs = {"style": "invis", "shape": "point", "width": "0.01", "height": "0.01"}
    members = set(p.grid.cells[key].members)
    box.holds = [f"n{i}" for i in sorted(members)  # the cell's first ops: nothing of it below
                 if not any(e["src"] in members for e in p.gi.ins[i])]
    for e in (e for i in sorted(members) for e in p.gi.ins[i] if e["src"] not in members):
        q = e["src"]  # the cell's weight copies and input leaves sit in the row at its step
        put = f"c{q}_{e['dst']}_{e.get('arg', 0)}" if p.gi.kind(q) == "param" else \
            p.owner[q] if p.gi.kind(q) != "op" else None
        if put in p.boxes and p.boxes[put].row is None:
            p.boxes[put].row, p.boxes[put].pos = key[0], box.pos
    p.boxes[did] = box


def _col(p, key) -> str | None:
    return p.cols.get((key[0][0], key[1]))


def _copies(p, Box, cell, key) -> None:
    """One node W⁽ᵗ⁾ per use of a weight by this cell's ops, with that use's gradient."""
    gi = p.gi
    for i in cell.members:
        for e in gi.ins[i]:
            q = e["src"]
            if gi.kind(q) != "param":
                continue
            did = f"c{q}_{i}_{e.get('arg', 0)}"
            g = (e.get("grad") or {}).get("norm")
            name = gi.label_name(q)
            lines = [f"{name}{sup(key[1])}", f"\u2016\u2207\u2016 = {fmt(g)}"]
            box = Box(did, q, [], lines, [f"{name}{sup(key[1])}: the copy of {name} used by "
                                          f"n{i}", "its gradient contribution; the weight's "
                                          "gradient is the sum over its copies"],
                      role="parameter", grad=g)
            box.attrs = {"id": f"copy-{q}-{i}-{e.get('arg', 0)}", "style": "rounded,filled,dashed"}
            box.copy_of = (e, i)
            p.boxes[did] = box
