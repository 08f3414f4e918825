"""The folded picture (the seeds' circuit diagram): each op site once, each parameter once, and
every recurrent edge (from one time step to another) through a black-square delay marker: one
marker per recurrent state (per folded source), fanning out to all the ops that read it.

Merging rule, applied in topological order (ids), without recursion:

* an op inside a step or tree node -> its ``meta["site"]`` (plus layer and direction), which the
  core numbers per step, so the T copies of one cell op share it;
* an op outside any step (e.g. the running loss sum L = L^(0) + L^(1) + ...) -> its op, scope and
  the folded nodes it reads, ignoring inputs that are the same kind of op (so an accumulation
  chain of any length folds to one node with a self-loop);
* a parameter -> itself; another leaf (x^(t), h0, a cut, an initial state that requires grad)
  -> the folded (consumer, argument) pairs it feeds, so x^(0..T-1) become one x node.

None of these keys depends on T, so the folded picture has the same size for every T.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import graphviz

from viz._dot import fmt, shape_str, sort_key, sparkline
from viz._errors import OptionError, SummaryWarning
from viz.collapse import bfs_order
from viz.graph_index import GraphIndex
from viz.loading import load
from viz.views.grid_dot import draw_grid
from viz.views.scene import Scene, graph_attrs
from viz.views.unrolled import CUT_STYLE, PARAM_FILL, _cluster_labels, _kind_attrs, kind_line

# the seeds' black square on a recurrent edge: "the value from one time step earlier"
DELAY = {"shape": "square", "style": "filled", "fillcolor": "black", "color": "black",
         "width": "0.14", "height": "0.14", "fixedsize": "true"}


@dataclass
class Folded:
    """``members[k]``: unrolled node ids merged into folded node k (k in first-seen order);
    ``edges``: (k_src, k_dst, kind, recurrent) -> list of unrolled edges."""

    members: list = field(default_factory=list)
    of: list = field(default_factory=list)  # unrolled id -> folded index
    edges: dict = field(default_factory=dict)


def fold(graph) -> dict:
    """Map each folded node's DOT id (``f0``, ``f1``, ...) to the unrolled node ids it merges."""
    f = _fold(GraphIndex(load(graph)))
    return {f"f{k}": list(m) for k, m in enumerate(f.members)}


def draw_folded(graph, *, expand=None, max_nodes: int = 500, title: str | None = None,
                rankdir: str = "BT") -> graphviz.Digraph:
    """Draw the circuit diagram: each cell once, its recurrence through a delay marker.

    By default each row of the grid (a layer and direction of a loop) is one box h⁽ᵗ⁾ with
    ‖∂L/∂h⁽ᵗ⁾‖ over t (a sparkline), its weights at its left with the strip of ‖∇W⁽ᵗ⁾‖; its
    inputs, outputs and losses folded the same way. ``expand="all"`` (or a graph without
    steps, such as a tree) folds op by op instead: each op site once, recurrent edges through
    delay markers, op nodes with ||nabla L|| of their copies over t, parameters with
    ||nabla_W L|| and their per-step contributions; that result has ``.viz_members``: folded
    DOT id -> unrolled node ids. Both have ``.members``: box id -> node ids.
    """
    gi = GraphIndex(load(graph))
    if expand != "all":
        if expand is not None:
            raise OptionError(f"viz.draw(view='folded'): expand={expand!r}; the folded view "
                              "takes None (cells) or 'all' (every op)")
        dg = draw_grid(gi, gradients=False, title=title, rankdir=rankdir, name="folded",
                       folded=True)
        if dg is not None:
            return dg
    f = _fold(gi)
    keep = _limit(gi, f, max_nodes)
    attrs = graph_attrs("folded", rankdir, title)
    scene = Scene("folded", attrs)
    for k, ids in enumerate(f.members):
        if keep[k]:
            _node(scene, gi, f"f{k}", ids)
    if not all(keep):
        hidden = sum(len(m) for k, m in enumerate(f.members) if not keep[k])
        scene.node("more", ["\u2026 more nodes", f"{hidden} nodes not drawn"], shape="box",
                   style="dashed")
    _edges(scene, f, keep)
    dg = scene.to_digraph()
    dg.viz_members = {f"f{k}": list(m) for k, m in enumerate(f.members) if keep[k]}
    return dg


def _fold(gi: GraphIndex) -> Folded:
    keys: list = [None] * len(gi)
    index: dict = {}
    for i in range(len(gi)):
        if gi.kind(i) == "op":
            keys[i] = _op_key(gi, i, keys, index)
            index.setdefault(keys[i], len(index))
        elif gi.kind(i) == "param":
            keys[i] = ("param", i)
    for i in range(len(gi)):  # leaves last: they are keyed by their (folded) consumers
        if keys[i] is None:
            uses = sorted({(index[keys[e["dst"]]], e.get("arg", 0)) for e in gi.outs[i]
                           if e.get("kind", "data") == "data"})
            keys[i] = ("leaf", gi.kind(i), tuple(uses))
    f = Folded(of=[0] * len(gi))
    slot: dict = {}
    for i in range(len(gi)):
        k = slot.setdefault(keys[i], len(slot))
        if k == len(f.members):
            f.members.append([])
        f.members[k].append(i)
        f.of[i] = k
    for dst in range(len(gi)):
        for e in gi.ins[dst]:
            rec = _recurrent(gi, e["src"], dst)
            key = (f.of[e["src"]], f.of[dst], e.get("kind", "data"), rec)
            f.edges.setdefault(key, []).append(e)
    return f


def _op_key(gi: GraphIndex, i: int, keys: list, index: dict) -> tuple:
    where = (gi.meta(i, "layer"), gi.meta(i, "direction"))
    base = (gi.meta(i, "scope"), gi.nodes[i].get("op"), gi.meta(i, "role"))
    if gi.meta(i, "step") is not None or gi.meta(i, "tree_node") is not None:
        site = gi.meta(i, "site")
        return ("site", site, *where) if site is not None else ("site", *base, *where)
    ins = []
    for e in gi.ins[i]:
        k = keys[e["src"]]
        if k is None:
            k = ("leaf",)  # a leaf input: its own key is only known later
        elif k[0] == "free" and k[1:4] == base:
            continue  # same op reading itself: an accumulation chain, fold it
        ins.append(index.get(k, -1) if k[0] != "param" else k)
    return ("free", *base, *where, tuple(sorted(set(ins), key=sort_key)))


def _recurrent(gi: GraphIndex, s: int, d: int) -> bool:
    for key in ("step", "tree_node"):
        a, b = gi.meta(s, key), gi.meta(d, key)
        if a is not None and b is not None and a != b:
            return True
    return False


def _limit(gi: GraphIndex, f: Folded, max_nodes: int) -> list:
    n = len(f.members)
    if n <= max_nodes:
        return [True] * n
    ins: list = [[] for _ in range(n)]
    for s, d, _, _ in f.edges:
        if s != d:
            ins[d].append(s)
    keep = [False] * n
    for k in bfs_order(ins, sorted({f.of[r] for r in gi.roots}))[:max_nodes]:
        keep[k] = True
    warnings.warn(f"viz.draw: the folded graph has {n} nodes, more than max_nodes={max_nodes}; "
                  f"drawing the {max_nodes} nearest the loss", SummaryWarning, stacklevel=3)
    return keep


def _steps(gi: GraphIndex, i: int):
    s = gi.meta(i, "step")
    return s if s is not None else gi.meta(i, "tree_node")


def _node(scene: Scene, gi: GraphIndex, did: str, ids: list) -> None:
    i, kind = ids[0], gi.kind(ids[0])
    nd = gi.nodes[i]
    if kind == "param":
        lines = [gi.label_name(i), shape_str(nd.get("shape", [])),
                 f"\u2016\u2207\u2016={fmt(gi.grad_norm(i))}"]
        contrib = sorted(((_steps(gi, e["dst"]), (e.get("grad") or {}).get("norm"))
                          for e in gi.outs[i]), key=lambda x: sort_key(x[0]))
        if len(contrib) > 1:
            lines.append(f"\u2016\u2207{lines[0]}^(t)\u2016: " + sparkline([c for _, c in contrib]))
        scene.node(did, lines, [lines[0], f"n{i}"], members=[i], shape="box",
                   style="filled,rounded,bold", fillcolor=PARAM_FILL)
        return
    name = gi.label_name(i, False) if kind == "op" else _merge_names(gi, ids)
    head = (f"{nd.get('op')} " if kind == "op" else "") + shape_str(nd.get("shape", []))
    lines = [name, head + (f" \u00d7{len(ids)}" if len(ids) > 1 else ""), kind_line(kind)]
    norms = [gi.grad_norm(j) for j in sorted(ids, key=lambda j: sort_key(_steps(gi, j)))]
    if any(x is not None for x in norms):
        lines.append(("\u2016\u2207\u2016 over t: " if len(ids) > 1 else "\u2016\u2207\u2016=")
                     + sparkline(norms))
    site = gi.meta(i, "site")
    tips = [name, f"site {site}" if site else None, f"{len(ids)} copies: "
            + " ".join(f"n{j}" for j in ids[:40])]
    path = tuple((k, gi.meta(i, k)) for k in ("layer", "direction") if gi.meta(i, k) is not None)
    _cluster_labels(scene, path)
    scene.node(did, lines, tips, path if kind == "op" else (), members=ids, **_kind_attrs(kind))


def _merge_names(gi: GraphIndex, ids: list) -> str:
    """x[0], x[1], ... -> x[t]: one name for the leaves a folded node stands for."""
    names = sorted({gi.label_name(j) for j in ids})
    if len(names) == 1:
        return names[0]
    general = {re.sub(r"\d+", "t", n) for n in names}
    return general.pop() if len(general) == 1 else names[0] + " \u2026"


def _edges(scene: Scene, f: Folded, keep: list) -> None:
    delays: dict = {}  # source DOT id -> its delay marker
    for (s, d, kind, rec) in sorted(f.edges):
        src = f"f{s}" if keep[s] else "more"
        dst = f"f{d}" if keep[d] else "more"
        if src == dst == "more":
            continue
        order = (scene.nodes[dst].order, scene.nodes[src].order)
        if kind == "cut":
            scene.edge(src, dst, order, **CUT_STYLE)
        elif rec:
            scene.edge(_delay(scene, delays, src, order), dst, order, constraint="false")
        elif src == dst:
            scene.edge(src, dst, order, label="\u03a3", tooltip="accumulates over steps")
        else:
            scene.edge(src, dst, order)


def _delay(scene: Scene, delays: dict, src: str, order: tuple) -> str:
    """The delay marker of ``src``'s value: one per recurrent state, fanning out to every op
    that reads the previous step's value (a GRU reads h^(t-1) in several gates), as in the
    seeds' circuit diagrams. Markers are numbered in edge order, so ids are deterministic."""
    if src not in delays:
        did = delays[src] = f"d{len(delays)}"
        scene.node(did, [], ["delay: the value from the previous step (or child node)"],
                   **DELAY)
        scene.edge(src, did, order, arrowhead="none")
    return delays[src]
