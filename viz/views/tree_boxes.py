"""The parse tree as boxes: one box per tree node with ‖∂L/∂p‖ (filled by it in the gradient
view), the words in sentence order along the bottom, each leaf's word in its box, the shared
weights once with the strip of their per-node contributions ‖∇W⁽ᵏ⁾‖ (the tree analogue of
W⁽ᵗ⁾). ``expand`` opens tree nodes: their ops drawn one by one in their place.

Layout for Graphviz 2.43 and graphviz-pure alike: no clusters; the leaves are one ``rank=same``
row kept in reading order by invisible flat edges; parents rank above their children through
the data edges. A node read by many tree nodes (the loss over every node's classifier) gets no
edge from each: its label says how many it reads.
"""

from __future__ import annotations

from viz._dot import LogScale, fmt, h, label, shape_str, tooltip
from viz._errors import OptionError
from viz._render import VizDigraph
from viz._style import (
    CUT_COLOR,
    FONT,
    FONT_SIZE,
    ROLES,
    anchor,
    box_width,
    edge_style,
    legend,
    sup,
    td,
)
from viz.graph_index import GraphIndex, role_name
from viz.views.scene import graph_attrs
from viz.views.tree import _outputs, _preorder, _structure, _tree_nodes

FAN_IN = 4  # a free node reading more tree nodes than this gets no edge from each


def draw_tree_boxes(gi: GraphIndex, *, gradients: bool, expand=None, title=None,
                    rankdir="BT", name="tree"):
    """One box per tree node; None when the graph records no tree nodes."""
    graph_attrs(name, rankdir, None)  # validates rankdir
    tn = _tree_nodes(gi)
    if all(t is None for t in tn):
        return None
    kids, parent = _structure(gi, tn)
    order = _preorder(kids, parent)
    opened = _opened(expand, order)
    out = _outputs(gi, tn)
    norms = [gi.grad_norm(i) for i in range(len(gi))]
    scale = LogScale(norms + [(e.get("grad") or {}).get("norm") for es in gi.ins for e in es])
    owner, boxes = _boxes(gi, tn, order, kids, out, opened)
    g = VizDigraph(name)
    leaves = [k for k in order if not kids[k]]
    g.attr("graph", rankdir=rankdir, nodesep="0.2", ranksep="0.4", fontname=FONT,
           fontsize=str(FONT_SIZE), ordering="in", labelloc="t",
           label=_legend(boxes, scale, gradients, title))
    g.attr("node", fontname=FONT, fontsize=str(FONT_SIZE), shape="box", style="rounded,filled",
           margin="0.1,0.05")
    g.attr("edge", arrowsize="0.7")
    _emit(g, boxes, [owner_of(k, out, owner) for k in leaves],
          [owner_of(k, out, owner) for k in order if k not in parent],
          scale if gradients else None)
    _edges(g, gi, owner, boxes, scale if gradients else None)
    g.members = {b["id"]: sorted(b["members"]) for b in boxes.values()
                 if b["members"] and b["id"].startswith(("box-", "node-"))}
    return g


def _emit(g, boxes: dict, leaf_dids: list, roots: list, scale) -> None:
    """The words in one row, in reading order; the other boxes; the loss above the roots."""
    with g.subgraph(name="words") as s:
        s.attr(rank="same")
        for did in leaf_dids:
            _node(s, boxes[did], scale)
    for did, b in boxes.items():
        if did not in leaf_dids:
            _node(g, b, scale)
    for a, b in zip(leaf_dids, leaf_dids[1:]):
        g.edge(a, b, style="invis")
    for did, b in boxes.items():  # the loss over every node: above the tree, not beside it
        if any(x.startswith("reads all") for x in b["lines"]):
            for r in roots:
                g.edge(r, did, style="invis")


def owner_of(k, out: dict, owner: list) -> str:
    return owner[out[k]]


def _opened(expand, order) -> set:
    if expand is None:
        return set()
    if expand == "all":
        return set(order)
    if isinstance(expand, (list, tuple, set)):
        return {k for k in order if k in set(expand)}
    if isinstance(expand, int) and not isinstance(expand, bool):
        return {expand} & set(order)
    if callable(expand):
        return set()
    raise OptionError(f"viz.draw(view='tree'): expand={expand!r}; expected None, 'all', a tree "
                      "node id or a list of them")


def _boxes(gi: GraphIndex, tn: list, order: list, kids: dict, out: dict, opened: set):
    owner: list = [None] * len(gi)
    boxes: dict = {}
    members: dict = {}
    for i, k in enumerate(tn):
        if k is not None:
            members.setdefault(k, []).append(i)
    for k in order:
        if k in opened:
            for i in members[k]:
                _single(gi, boxes, owner, i, f"{_op_name(gi, i)}{sup(k)}")
            continue
        p = out.get(k, members[k][-1])
        did = f"b{p}"
        word = next((gi.meta(i, "word") for i in members[k] if gi.meta(i, "word") is not None),
                    None)
        lines = [f"\u201c{word}\u201d" if word is not None else f"p{sup(k)}",
                 f"\u2016\u2207p\u2016 = {fmt(gi.grad_norm(p))}"]
        depth = gi.meta(p, "depth")
        tips = [f"tree node {k}" + (f", depth {depth}" if depth is not None else ""),
                f"p = n{p}, {len(members[k])} nodes"] + _contributions(gi, tn, k, members[k])
        role = "input" if not kids[k] else "state h"
        boxes[did] = {"did": did, "id": f"box-{p}", "members": list(members[k]), "lines": lines,
                      "tips": tips, "role": role, "grad": gi.grad_norm(p)}
        for i in members[k]:
            owner[i] = did
    _free(gi, tn, boxes, owner)
    return owner, boxes


TREE_ROLES = ("leaf", "compose", "classify")  # where in the tree; other roles: what in a node


def _op_name(gi: GraphIndex, i: int) -> str:
    """``f_gate · sigmoid`` for an op recorded with a role inside a node, else its op name."""
    nd = gi.nodes[i]
    what = str(nd.get("name") or nd.get("op") or gi.kind(i))
    role = gi.meta(i, "role")
    if gi.kind(i) == "op" and role is not None and role not in TREE_ROLES:
        return f"{role_name(str(role))} \u00b7 {what}"
    return what


def _single(gi, boxes: dict, owner: list, i: int, name: str) -> None:
    kind = gi.kind(i)
    role = "parameter" if kind == "param" else ("input" if kind != "op" else "op")
    if i in gi.roots:
        role = "loss"
    lines = [name, shape_str(gi.nodes[i].get("shape", [])),
             f"\u2016\u2207\u2016 = {fmt(gi.grad_norm(i))}"]
    boxes[f"n{i}"] = {"did": f"n{i}", "id": f"node-{i}", "members": [i], "lines": lines,
                      "tips": [gi.label_name(i), f"n{i}"], "role": role,
                      "grad": gi.grad_norm(i)}
    owner[i] = f"n{i}"


def _contributions(gi: GraphIndex, tn: list, k, members: list) -> list:
    out = []
    for i in members:
        for e in gi.ins[i]:
            q = e["src"]
            if gi.kind(q) == "param" and tn[q] is None and isinstance(e.get("grad"), dict):
                out.append(f"\u2016\u2207{gi.label_name(q)}{sup(k)}\u2016="
                           f"{fmt(e['grad'].get('norm'))}")
    return out


def _free(gi: GraphIndex, tn: list, boxes: dict, owner: list) -> None:
    """Nodes outside the tree: the loss and its ops one by one; the shared weights together."""
    shared = [i for i in range(len(gi)) if gi.kind(i) == "param" and tn[i] is None]
    for i in range(len(gi)):
        if tn[i] is None and gi.kind(i) != "param":
            _single(gi, boxes, owner, i, _op_name(gi, i) if i not in gi.roots else "L")
            reads = {tn[e["src"]] for e in gi.ins[i] if tn[e["src"]] is not None}
            if len(reads) > FAN_IN:
                boxes[f"n{i}"]["lines"].insert(1, f"reads all {len(reads)} tree nodes")
    if shared:
        lines = ["shared weights: \u2207 = \u03a3 over tree nodes"]
        lines += [f"{gi.label_name(q)} {shape_str(gi.nodes[q].get('shape', []))} "
                  f"\u2016\u2207\u2016 = {fmt(gi.grad_norm(q))}" for q in shared]
        did = f"w{shared[0]}"
        # a cell per weight (id param-<id>-0-name): a page tells which one was pointed at
        rows = [td(lines[0])] + [td(x, anchor(f"param-{q}-0-name", x))
                                 for q, x in zip(shared, lines[1:])]
        boxes[did] = {"did": did, "id": f"box-{shared[0]}", "members": shared, "lines": lines,
                      "tips": [f"{gi.label_name(q)}: n{q}" for q in shared],
                      "role": "parameter", "grad": None,
                      "html": '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
                              + "".join(f"<TR>{r}</TR>" for r in rows) + "</TABLE>>"}
        for q in shared:
            owner[q] = did


def _node(g, b: dict, scale) -> None:
    line, fill = ROLES.get(b["role"], ROLES["op"])
    attrs = {"id": b["id"], "color": line, "fillcolor": fill, "penwidth": "1.5",
             "width": box_width(b["lines"]), "tooltip": tooltip(*b["tips"])}
    if scale is not None and b["role"] != "parameter":
        attrs.update(fillcolor=scale.color(b["grad"]), fontcolor=scale.font(b["grad"]))
    g.node(b["did"], b.get("html") or label(*b["lines"]), **attrs)


def _edges(g, gi: GraphIndex, owner: list, boxes: dict, scale) -> None:
    merged: dict = {}
    for d in range(len(gi)):
        for e in gi.ins[d]:
            s, t = owner[e["src"]], owner[d]
            if s is None or t is None or s == t or s.startswith("w"):
                continue
            if any(x.startswith("reads all") for x in boxes[t]["lines"]) \
                    and boxes[s]["role"] in ("input", "state h"):
                continue
            merged.setdefault((s, t), []).append(e)
    for (s, t), es in sorted(merged.items(), key=lambda kv: (_num(kv[0][1]), _num(kv[0][0]))):
        norms = [(e.get("grad") or {}).get("norm") for e in es]
        norms = [x for x in norms if x is not None]
        attrs = {"color": "#7a7a7a", "penwidth": "1.2"}
        if scale is not None:
            attrs = edge_style(scale, max(norms) if norms else None)
        if any(e.get("kind") == "cut" for e in es):
            attrs = {"color": CUT_COLOR, "style": "dashed", "penwidth": "2"}
        g.edge(s, t, **attrs)


def _num(did: str) -> int:
    return int("".join(ch for ch in did if ch.isdigit()) or -1)


def _legend(boxes: dict, scale, gradients: bool, title) -> str:
    roles = {b["role"] for b in boxes.values()}
    leg = legend(roles, scale if scale.any else None, False, edges=gradients)
    head = f"<TR><TD>{h(title)}</TD></TR>" if title else ""
    return f'<<TABLE BORDER="0">{head}<TR><TD>{leg[1:-1]}</TD></TR></TABLE>>'

