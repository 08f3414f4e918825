"""The textbook grid of an unrolled graph: which nodes form each (layer, direction, step) cell,
which rows and columns there are, and where every other node goes.

A *row* is one recurrence: the steps of one loop, layer and direction (``meta`` loop, layer,
direction); a *column* is one step of one loop. A row is a recurrence when one of its steps reads
another's value, or when it records a state (role ``h`` or ``c``). The *cell* at (row, step) is
what computes that step's states: the ops of the step that its state outputs depend on (the
ops read by the next step, and the last op of role ``h`` and ``c``). Every other node that is
not a weight is an *extra*: of one column (x⁽ᵗ⁾ below the cells, o⁽ᵗ⁾ and L⁽ᵗ⁾ above, a
concat between two layers) when everything it reads or feeds lies in that column, else *free*
(an embedding of the whole sequence, the stacked outputs, the loss). Everything here is computed
in one or two passes over the node ids (topological order), without recursion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from viz._dot import sort_key
from viz.graph_index import GraphIndex, hv


@dataclass
class Cell:
    row: tuple  # (loop, layer, direction)
    step: object
    members: list = field(default_factory=list)  # op ids, ascending
    h: int | None = None  # the node standing for the cell: its state output h
    c: int | None = None  # an LSTM's cell state c, when recorded with role "c"


@dataclass
class Grid:
    cells: dict  # (row, step) -> Cell
    rows: list  # row keys, drawing order (bottom to top)
    steps: dict  # loop -> its steps, in time order
    cell_of: list  # node id -> (row, step) or None
    column: list  # node id -> (loop, step) for column extras, else None
    side: list  # node id -> "in" (feeds the cells) or "out", for extras
    params: list  # ids of the weights (leaves that require grad and are shared)

    def is_cell_row(self, row) -> bool:
        return any(k[0] == row for k in self.cells)


def _row_of(gi: GraphIndex, i: int, loops: list) -> tuple:
    return (loops[i], hv(gi.meta(i, "layer")), hv(gi.meta(i, "direction")))


def direction_key(v) -> tuple:
    return (0 if v in (None, "forward", "fwd", 0) else 1, sort_key(v))  # forward first


def build_grid(gi: GraphIndex) -> Grid:
    """Find the cells, rows and columns of ``gi`` (see the module docstring)."""
    loops, steps = gi.loops(), gi.places(("step",))
    step = [None if p is None else p[0] for p in steps]
    row = [_row_of(gi, i, loops) if step[i] is not None and gi.kind(i) == "op" else None
           for i in range(len(gi))]
    by_place: dict = {}
    for i in range(len(gi)):
        if row[i] is not None:
            by_place.setdefault((row[i], step[i]), []).append(i)
    recurrent = _recurrent_rows(gi, row, step)
    state_sites = _state_sites(gi, row, step)
    cells, cell_of = {}, [None] * len(gi)
    for (r, t), ops in by_place.items():
        if r not in recurrent:
            continue
        cell = _cell(gi, r, t, ops, row, step, state_sites.get(r, set()))
        cells[(r, t)] = cell
        for i in cell.members:
            cell_of[i] = (r, t)
    column, side = _extras(gi, cells, cell_of, loops, step)
    rows = sorted({r for r, _ in cells}, key=lambda r: _row_key(gi, r))
    by_loop: dict = {}
    for r, t in cells:
        by_loop.setdefault(r[0], set()).add(t)
    params = [i for i in range(len(gi)) if gi.kind(i) == "param"]
    return Grid(cells, rows, {k: sorted(v, key=sort_key) for k, v in by_loop.items()},
                cell_of, column, side, params)


def _row_key(gi: GraphIndex, r: tuple) -> tuple:
    order = {x: k for k, x in enumerate(gi.loop_order())}
    return (order.get(r[0], -1), sort_key(r[1]), direction_key(r[2]))


def _recurrent_rows(gi: GraphIndex, row: list, step: list) -> set:
    """Rows where one step reads another step's op, or that record a state role."""
    out = set()
    for d in range(len(gi)):
        if row[d] is None:
            continue
        if gi.meta(d, "role") in ("h", "c"):
            out.add(row[d])
        for e in gi.ins[d]:
            s = e["src"]
            if row[s] == row[d] and step[s] != step[d]:
                out.add(row[d])
    return out


def _state_sites(gi: GraphIndex, row: list, step: list) -> dict:
    """row -> the sites of the ops a later step reads: the same ops are the states of the last
    step too, which no step reads."""
    out: dict = {}
    for d in range(len(gi)):
        for e in gi.ins[d]:
            s = e["src"]
            if row[d] is not None and row[s] == row[d] and step[s] != step[d]:
                out.setdefault(row[d], set()).add(gi.meta(s, "site"))
    return out


def _cell(gi: GraphIndex, r, t, ops: list, row: list, step: list, sites: set) -> Cell:
    """The ops of place (r, t) recorded as one cell (``meta["cell"]``, the library's cells), or
    else those its state outputs depend on, found backwards from them (hand-written loops)."""
    last = {}
    for i in ops:  # ids ascend: the last op of a role wins
        role = gi.meta(i, "role")
        if role in ("h", "c", "mask"):
            last[role] = i
    if "h" in last and any(gi.meta(i, "cell") is not None for i in ops):
        c = last.get("c")
        members = [i for i in ops if gi.meta(i, "cell") is not None or gi.meta(i, "role") == "mask"]
        return Cell(r, t, members, last["h"], c if c != last["h"] else None)
    place = set(ops)
    # the states: the last ops of role h and c when recorded (a loss summed across steps is
    # read by the next step too, but it is no state), else what later steps read
    outs = {v for k, v in last.items() if k in ("h", "c")}
    if not outs:
        outs = {i for i in ops if any(row[e["dst"]] == r and step[e["dst"]] != t
                                      for e in gi.outs[i])}
        outs.update(i for i in ops if gi.meta(i, "site") in sites and sites - {None})
    if not outs:  # no recurrence and no roles: what leaves the place
        outs = {i for i in ops if any(e["dst"] not in place for e in gi.outs[i])} or {ops[-1]}
    keep, todo = set(outs), sorted(outs)
    while todo:
        for e in gi.ins[todo.pop()]:
            s = e["src"]
            if s in place and s not in keep:
                keep.add(s)
                todo.append(s)
    keep.update(i for i in ops if gi.meta(i, "role") == "mask")  # the padded-step update
    h = last.get("h")
    if h is None:
        rec = sorted(i for i in outs if i in keep)
        h = rec[-1]
    c = last.get("c")
    return Cell(r, t, sorted(keep), h, c if c != h else None)


def _extras(gi: GraphIndex, cells: dict, cell_of: list, loops: list, step: list):
    """The column ((loop, step)) and side ("in"/"out") of every node outside the cells that is
    not a weight; column None for a free node. A node's column is the one column of everything
    it reads (passes in id order) and feeds (passes in reverse order) through other extras."""
    n = len(gi)
    here = [None if cell_of[i] is None else (loops[i], step[i]) for i in range(n)]
    up = _reach(here, range(n), gi.ins, "src", [gi.kind(i) == "op" for i in range(n)])
    down = _reach(here, range(n - 1, -1, -1), gi.outs, "dst",
                  [gi.kind(i) != "param" for i in range(n)])
    column, side = [None] * n, [None] * n
    for i in range(n):
        if cell_of[i] is not None or gi.kind(i) == "param":
            continue
        both = up[i] | down[i]
        if gi.meta(i, "step") is not None and gi.kind(i) == "op":  # recorded in its step
            column[i] = (loops[i], step[i])
        elif len(both) == 1 and _MANY not in both:
            column[i] = next(iter(both))
        side[i] = "in" if column[i] is not None and column[i] in down[i] else "out"
    return column, side


_MANY = ("many",)  # stands for "more than one column"


def _reach(here: list, order, links: list, end: str, through: list) -> list:
    """Per node, the cell columns reached along ``links`` (``gi.ins`` with end "src", or
    ``gi.outs`` with "dst"), visiting nodes in ``order`` so that every node's far ends come
    first: a cell reaches its own column ``here[i]``; a node with ``through[i]`` reaches what its
    links reach ({_MANY} once that is more than one column); other nodes reach nothing."""
    out: list = [frozenset()] * len(here)
    for i in order:
        if here[i] is not None:
            out[i] = frozenset([here[i]])
        elif through[i]:
            acc: set = set()
            for e in links[i]:
                acc |= out[e[end]]
                if len(acc) > 1:
                    break
            out[i] = frozenset(acc) if len(acc) <= 1 else frozenset([_MANY])
    return out
