"""Keep big pictures readable: decide which nodes are drawn as themselves and which are merged.

A :class:`Reduction` says, for every node of the graph, the DOT id it is drawn as: ``n<id>`` for
itself, or the id of a group node ("… × N steps", one node per cell, one per scope, or a final
"… N more nodes"). Reductions are applied in order of increasing loss of detail, and a graph is
never handed to Graphviz with more than about ``max_nodes`` nodes.
"""

from __future__ import annotations

import warnings
from collections import deque
from dataclasses import dataclass, field

from viz._dot import clean, sort_key
from viz._errors import OptionError, SummaryWarning
from viz.graph_index import GraphIndex


@dataclass
class Group:
    did: str
    kind: str  # "steps" | "cell" | "scope" | "more"
    title: str
    members: list = field(default_factory=list)
    place: tuple | None = None  # cells stay in their step's cluster
    loop: str | None = None  # and in their loop's (GraphIndex.loops)
    info: str = ""


@dataclass
class Reduction:
    owner: list  # per node id: the DOT id it is drawn as
    groups: dict = field(default_factory=dict)  # did -> Group, in creation order

    def group(self, kind: str, title: str, place=None, info: str = "", loop=None) -> Group:
        g = Group(f"g{len(self.groups)}", kind, title, place=place, loop=loop, info=info)
        self.groups[g.did] = g
        return g

    def assign(self, i: int, g: Group) -> None:
        self.owner[i] = g.did  # members are collected once, in finish(): moves stay O(1)

    def count(self) -> int:
        return len({o for o in self.owner if o is not None})

    def finish(self) -> None:
        for g in self.groups.values():
            g.members = []
        for i, o in enumerate(self.owner):
            if o in self.groups:
                self.groups[o].members.append(i)
        self.groups = {k: g for k, g in self.groups.items() if g.members}


def identity(gi: GraphIndex) -> Reduction:
    return Reduction([f"n{i}" for i in range(len(gi))])


def hidden_runs(steps: list, keep_ends: int, keep_steps=()) -> list:
    """Runs (lists) of consecutive steps to hide: all but the first/last ``keep_ends`` steps and
    ``keep_steps``. A run of a single step is kept: "… × 1 steps" would hide nothing."""
    keep = set(keep_steps)
    runs, cur = [], []
    for k, s in enumerate(steps):
        if k < keep_ends or k >= len(steps) - keep_ends or s in keep:
            if len(cur) > 1:
                runs.append(cur)
            cur = []
        else:
            cur.append(s)
    if len(cur) > 1:
        runs.append(cur)
    return runs


def collapse_steps(gi: GraphIndex, red: Reduction, keep_ends: int, keep_steps=()) -> None:
    """Merge the middle time steps into one "… × N steps" node per hidden run, separately for
    each loop (an encoder's steps never merge with a decoder's)."""
    places, loops = gi.places(("step",)), gi.loops()
    steps: dict = {}  # loop -> its steps; loops in order of first appearance
    for i, p in enumerate(places):
        if p is not None:
            steps.setdefault(loops[i], set()).add(p[0])
    of_step = {}
    for loop, seen in steps.items():
        for run in hidden_runs(sorted(seen, key=sort_key), keep_ends, keep_steps):
            g = red.group("steps", f"\u2026 \u00d7 {len(run)} steps", place=(run[0],),
                          info=f"t={clean(run[0])}\u2026{clean(run[-1])}", loop=loop)
            for s in run:
                of_step[(loop, s)] = g
    if not of_step:
        return
    for i, p in enumerate(places):
        if p is not None and (loops[i], p[0]) in of_step:
            red.assign(i, of_step[(loops[i], p[0])])


def collapse_cells(gi: GraphIndex, red: Reduction) -> None:
    """One node per cell application: ops sharing scope and step (or tree node, layer, ...)."""
    keys = ("scope", "step", "tree_node", "layer", "direction")
    cells: dict = {}
    places, loops = gi.places(), gi.loops()
    for i in range(len(gi)):
        if gi.kind(i) != "op" or red.owner[i] != f"n{i}":
            continue
        k = tuple(gi.meta(i, x) for x in keys)
        if k[1] is None and k[2] is None:
            continue  # not part of a step or tree node: nothing to group with
        if k not in cells:
            scope = ".".join(p for p in str(k[0] or "").split("/") if p) or "cell"
            cells[k] = red.group("cell", scope + gi.place_suffix(i), place=places[i],
                                 loop=loops[i])
        red.assign(i, cells[k])


def collapse_scopes(gi: GraphIndex, red: Reduction) -> None:
    """Coarsest summary that keeps structure: one node per scope; roots stay. A leaf (weight,
    input) joins the scope of its consumers when they agree, so no group fans out to all."""
    by: dict = {}
    roots = set(gi.roots)
    scope = [gi.meta(i, "scope") or "" if gi.kind(i) == "op" else None for i in range(len(gi))]
    for i in range(len(gi)):
        if scope[i] is None:
            cons = [scope[e["dst"]] for e in gi.outs[i]]
            scope[i] = cons[0] if cons and all(c == cons[0] for c in cons) else "(shared)"
    for i in range(len(gi)):
        if i in roots or red.owner[i] is None:
            continue
        if scope[i] not in by:
            by[scope[i]] = red.group("scope", scope[i] or "(top level)")
        red.assign(i, by[scope[i]])


def bfs_order(ins: list, roots: list) -> list:
    """Node ids by breadth-first distance from ``roots`` over input lists ``ins[i]`` (source
    ids); iterative, so any depth is fine. Unreachable nodes follow in id order."""
    visited = [False] * len(ins)
    order = []
    queue: deque = deque()
    for r in roots:
        if not visited[r]:
            visited[r] = True
            queue.append(r)
    while queue:
        i = queue.popleft()
        order.append(i)
        for j in ins[i]:
            if not visited[j]:
                visited[j] = True
                queue.append(j)
    return order + [i for i in range(len(ins)) if not visited[i]]


def keep_nearest(gi: GraphIndex, red: Reduction, max_nodes: int) -> None:
    """Last resort: keep the ``max_nodes`` drawn nodes closest to the roots, merge the rest."""
    seen: set = set()
    for i in bfs_order([[e["src"] for e in es] for es in gi.ins], gi.roots):
        o = red.owner[i]
        if o is not None and len(seen) < max_nodes:
            seen.add(o)
    more = red.group("more", "\u2026 more nodes")
    hidden = 0
    for i, o in enumerate(red.owner):
        if o is not None and o not in seen:
            red.assign(i, more)
            hidden += 1
    more.info = f"{hidden} nodes not drawn"


def reduce(gi: GraphIndex, *, keep_ends=2, keep_steps=(), collapse=None, max_nodes=500,
           who="viz.draw") -> Reduction:
    """The reduction a view draws: step collapse (unless ``keep_ends`` is None), cells when
    ``collapse == "cell"``, then coarser summaries (with a :class:`SummaryWarning`) while more
    than ``max_nodes`` nodes would be drawn."""
    check_options(keep_ends, keep_steps, collapse, max_nodes, who)
    red = identity(gi)
    if keep_ends is not None:
        collapse_steps(gi, red, keep_ends, keep_steps)
    if collapse == "cell":
        collapse_cells(gi, red)
    n0, done = red.count(), []
    stages = [("one node per cell", collapse_cells), ("one node per scope", collapse_scopes)]
    if keep_ends is None:  # the caller asked for every step, but there are too many
        stages.insert(0, ("middle steps", lambda g, r: collapse_steps(g, r, 2, keep_steps)))
    for name, stage in stages:  # least detail lost first
        if red.count() <= max_nodes:
            break
        stage(gi, red)
        done.append(name)
    if red.count() > max_nodes:
        keep_nearest(gi, red, max_nodes)
        done.append(f"the {max_nodes} nodes nearest the loss")
    red.finish()
    if done:
        warnings.warn(f"{who}: {n0} nodes to draw is more than max_nodes={max_nodes}; drawing a "
                      f"summary instead ({', '.join(done)}: {red.count()} nodes). Pass "
                      "keep_steps=[...], collapse='cell' or a larger max_nodes to see more.",
                      SummaryWarning, stacklevel=3)
    return red


def check_options(keep_ends, keep_steps, collapse, max_nodes, who) -> None:
    """Raise :class:`OptionError` for a bad ``keep_ends``, ``keep_steps``, ``collapse`` or
    ``max_nodes``."""
    if collapse not in (None, "cell"):
        raise OptionError(f"{who}: collapse={collapse!r}; expected None or 'cell'")
    if keep_ends not in (None, "auto") and (not isinstance(keep_ends, int) or keep_ends < 0):
        raise OptionError(f"{who}: keep_ends={keep_ends!r}; expected an int >= 0, 'auto' or "
                          "None")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise OptionError(f"{who}: max_nodes={max_nodes!r}; expected an int >= 1")
    if isinstance(keep_steps, (str, bytes)) or not hasattr(keep_steps, "__iter__"):
        raise OptionError(f"{who}: keep_steps={keep_steps!r}; expected a list of steps")
