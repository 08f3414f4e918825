"""The weights of the grid: each row's weights once, at the row's left, with the strip of their
per-step copies' gradients ‖∇W⁽ᵗ⁾‖ along the row; every other weight as a node of its own.

In a row's header each weight's cells carry ids (Graphviz writes them, prefixed ``a_``, on a
group around the cell, and shows the cell's tooltip on hover): ``param-<id>-<row>-name`` and
``-grad`` for its name and gradient, ``use-<id>-<dst>-<arg>`` for the strip cell of a step, the
use of the weight by op ``dst`` as input ``arg`` whose gradient the cell shows (strips of at
most ``MAX_LINKED`` steps). A page can then
tell which weight, and which of its per-step copies, was pointed at."""

from __future__ import annotations

import re

from viz._dot import fmt, h, shape_str, sort_key
from viz._style import anchor, sup, td

_LAYER_SUFFIX = re.compile(r"_l\d+(_reverse)?$")  # PyTorch's weight_hh_l0_reverse
MAX_LINKED = 200  # a strip of more steps has no id per cell (each costs ~200 bytes of SVG)


def row_title(row: tuple) -> str:
    loop, layer, direction = row
    parts = [str(loop).split("/")[-1] if loop is not None else None,
             f"layer {layer}" if layer is not None else None,
             str(direction) if direction is not None else None]
    return " \u00b7 ".join(x for x in parts if x) or "recurrence"


def _uses(p, pid: int) -> dict:
    """row -> {step: [the uses (edges) of weight ``pid`` in that cell]}."""
    out: dict = {}
    for e in p.gi.outs[pid]:
        key = p.grid.cell_of[e["dst"]]
        if key is None:
            continue
        out.setdefault(key[0], {}).setdefault(key[1], []).append(e)
    return out


def _norm(e) -> float | None:
    return (e.get("grad") or {}).get("norm")


def weight_rows(p, Box) -> None:
    """Row headers (weights with strips), and a node per weight used outside the cells."""
    gi, grid = p.gi, p.grid
    per_row: dict = {r: [] for r in grid.rows}
    uses = {pid: _uses(p, pid) for pid in grid.params}
    for pid in grid.params:
        for r in sorted(uses[pid], key=lambda r: grid.rows.index(r)):
            per_row[r].append(pid)
    for k, r in enumerate(grid.rows):
        pids = per_row[r]
        did = f"w{k}"
        box = Box(did, pids[0] if pids else -1, list(pids), [], [row_title(r)],
                  role="parameter", row=r)
        box.html = _header_html(p, k, r, pids, uses)
        box.tips += [f"{gi.label_name(q)}: \u2016\u2207\u2016={fmt(gi.grad_norm(q))}, n{q}"
                     for q in pids]
        box.attrs = {"shape": "plaintext", "style": "", "margin": "0"}
        if not pids:
            box.attrs["id"] = f"row-{k}"
        p.boxes[did] = box
        for q in pids:
            if p.owner[q] is None:
                p.owner[q] = did
    for pid in grid.params:
        if p.owner[pid] is None and any(p.owner[e["dst"]] is not None for e in gi.outs[pid]):
            nd = gi.nodes[pid]
            lines = [gi.label_name(pid), shape_str(nd.get("shape", [])),
                     f"\u2016\u2207\u2016 = {fmt(gi.grad_norm(pid))}"]
            box = Box(f"n{pid}", pid, [pid], lines, [lines[0], f"n{pid}"], role="parameter",
                      grad=gi.grad_norm(pid))
            box.row = _row_for_head(p, pid)
            box.pos = (9, pid, "")  # after the row's cells
            p.boxes[box.did] = box
            p.owner[pid] = box.did


def _row_for_head(p, pid: int):
    """The top row of the loop whose per-step outputs (o⁽ᵗ⁾ = V h⁽ᵗ⁾ + c) read weight
    ``pid``: drawn at that row's right end, so it does not land between two cells of the row
    (its outputs sit right above it), or None when it feeds anything else."""
    grid = p.grid
    cols = {grid.column[e["dst"]] for e in p.gi.outs[pid]}
    sides = {grid.side[e["dst"]] for e in p.gi.outs[pid]}
    if None in cols or sides != {"out"} or len({c[0] for c in cols}) != 1:
        return None
    loop = next(iter(cols))[0]
    rows = [r for r in grid.rows if r[0] == loop]
    return rows[-1] if rows else None


def _short(gi, pid: int) -> str:
    name = gi.label_name(pid)
    return _LAYER_SUFFIX.sub("", name) or name


LEFT, RIGHT, SPAN = ' ALIGN="LEFT"', ' ALIGN="RIGHT"', ' COLSPAN="3" ALIGN="LEFT"'
GREY = '<FONT COLOR="#555555">{}</FONT>'
GRAD = "\u2016\u2207\u2016 "
STRIPS = "strips: \u2016\u2207W\u207d\u1d57\u207e\u2016, t = {} \u2026 {}"


def _header_html(p, k: int, r, pids: list, uses: dict) -> str:
    steps = p.grid.steps.get(r[0], [])
    title = row_title(r)
    rows = [td(title, SPAN, f"<B>{h(title)}</B>")]
    for q in pids:
        name = f'{_short(p.gi, q)} {shape_str(p.gi.nodes[q].get("shape", []))}'
        tip = f"{p.gi.label_name(q)}: \u2016\u2207\u2016 = {fmt(p.gi.grad_norm(q))}"
        rows.append(td(name, LEFT + anchor(f"param-{q}-{k}-name", tip))
                    + td(GRAD + fmt(p.gi.grad_norm(q)), RIGHT + anchor(f"param-{q}-{k}-grad", tip))
                    + f"<TD>{_strip(p, q, uses[q].get(r, {}), steps)}</TD>")
    if pids and steps:
        note = STRIPS.format(steps[0], steps[-1])
        rows.append(td(note, SPAN, GREY.format(h(note))))
    border = '<TABLE BORDER="1" COLOR="#2f6f9f" STYLE="rounded" BGCOLOR="#dbe9f6" ' \
             'CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
    return f"<{border}{''.join(f'<TR>{x}</TR>' for x in rows)}</TABLE>>"


def _strip(p, q: int, by_step: dict, steps: list) -> str:
    """One small cell per step, coloured by ‖∇W⁽ᵗ⁾‖ (the largest use when a cell uses the
    weight twice); white: zero, grey: no gradient recorded."""
    width = max(3, min(10, 180 // max(len(steps), 1)))
    cells = []
    name = _short(p.gi, q)
    for t in sorted(steps, key=sort_key):
        es = by_step.get(t, [])
        known = [e for e in es if _norm(e) is not None]
        color = p.strip_scale.color(max(_norm(e) for e in known)) if known else "#e8e8e8"
        use = ""
        if es and len(steps) <= MAX_LINKED:  # the use the colour shows: the largest
            e = max(known, key=_norm) if known else es[0]
            use = anchor(f"use-{q}-{e['dst']}-{e.get('arg', 0)}",
                          f"{name}{sup(t)}: \u2016\u2207\u2016 = {fmt(_norm(e))}")
        cells.append(f'<TD BGCOLOR="{color}" WIDTH="{width}" HEIGHT="12" FIXEDSIZE="TRUE"'
                     f"{use}></TD>")
    gap = 1 if width >= 6 else 0  # thin cells: no gaps, or a long row looks hatched
    row = f"<TR>{''.join(cells)}</TR>" if cells else ""
    return (f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="{gap}" CELLPADDING="0">'
            f"{row}</TABLE>")


