"""The tree picture: backprop through structure, laid out as the parse tree.

Each tree node (``meta["tree_node"]``) is a cluster holding a text node, beside its output p,
with its depth, its word (leaves), the gradient norm of its output ||nabla_p L||, and the
contributions of the shared weights used there (the tree analogue of W^(t)). Words sit at the
leaves, children left to right in the order the parent reads them (e.g. [c1; c2] of
``concat``). Data flows up, gradients flow down.
"""

from __future__ import annotations

import warnings

import graphviz

from viz._dot import dot_id_part, fmt, label, shape_str, sort_key
from viz._errors import SummaryWarning
from viz.collapse import bfs_order
from viz.graph_index import GraphIndex
from viz.loading import load
from viz.views.scene import Scene, graph_attrs
from viz.views.unrolled import CUT_STYLE, PARAM_FILL, _kind_attrs, grad_lines


def draw_tree_boxes(*args, **kwargs):
    from viz.views.tree_boxes import draw_tree_boxes as draw  # it imports this module

    return draw(*args, **kwargs)

WORD_FILL = "#fff2cc"


def draw_tree(graph, *, expand=None, ops: bool | None = None, max_nodes: int = 500,
              title: str | None = None, rankdir: str = "BT") -> graphviz.Digraph:
    """Draw a recursive net's graph as its parse tree, words along the bottom in sentence order.

    By default one box per tree node with ‖∇p‖ and the leaf's word, the shared weights once
    (:mod:`viz.views.tree_boxes`); ``expand`` opens tree nodes (an id or a list) to their ops.
    ``expand="all"`` (or ``ops=True``) draws every op, one cluster per tree node with a summary
    of its depth, word, ‖∇p‖ and the shared weights' per-node contributions; ``ops=False``
    there draws each tree node as its output. The result has ``.members``.
    """
    gi = GraphIndex(load(graph))
    if expand != "all" and ops is None:
        dg = draw_tree_boxes(gi, gradients=False, expand=expand, title=title, rankdir=rankdir)
        if dg is not None:
            return dg
    ops = True if ops is None else ops
    tn = _tree_nodes(gi)
    kids, parent = _structure(gi, tn)
    order = _preorder(kids, parent)
    if ops and sum(1 for t in tn if t is not None) > max_nodes:
        ops = False
        warnings.warn(f"viz.draw: tree graph has more than max_nodes={max_nodes} nodes; drawing "
                      "one node per tree node", SummaryWarning, stacklevel=2)
    shown = _limit(order, kids, parent, max_nodes)
    attrs = graph_attrs("tree", rankdir, title, ordering="in")
    scene = Scene("tree", attrs)
    for rank, k in enumerate(k for k in order if k in shown):
        scene.cluster_rank[(("tree_node", k),)] = rank
    # leaves in reading order along an invisible axis: words stay left to right
    scene.chain = [(("tree_node", k),) for k in order if k in shown and not kids[k]]
    did = _assign(gi, tn, shown, ops)
    _cap(gi, did, max_nodes)
    _nodes(scene, gi, tn, did)
    _edges(scene, gi, did, kids, shown)
    _summaries(scene, gi, tn, did)
    _shared(scene, gi, tn)
    return scene.to_digraph()


def _tree_nodes(gi: GraphIndex) -> list:
    """Tree node of each node: ops from meta; a leaf (word vector, token) from its consumers
    when they all lie in one tree node; shared parameters and top-level ops get None."""
    tn = [gi.meta(i, "tree_node") if gi.kind(i) == "op" else None for i in range(len(gi))]
    for i in range(len(gi)):
        if gi.kind(i) != "op":
            cons = [tn[e["dst"]] for e in gi.outs[i] if e.get("kind", "data") == "data"]
            if cons and cons[0] is not None and all(c == cons[0] for c in cons):
                tn[i] = cons[0]
    return tn


def _structure(gi: GraphIndex, tn: list):
    """children[k] in reading order, and parent[k]: A is a child of B when B's ops read A's."""
    first: dict = {}
    for dst in range(len(gi)):
        for e in gi.ins[dst]:
            a, b = tn[e["src"]], tn[dst]
            if a is not None and b is not None and a != b and a not in first:
                first[a] = (b, dst, e.get("arg", 0))
    nodes = sorted({t for t in tn if t is not None}, key=sort_key)
    kids: dict = {k: [] for k in nodes}
    parent = {a: b for a, (b, _, _) in first.items()}
    for a in sorted(first, key=lambda a: (first[a][1], first[a][2])):
        kids[first[a][0]].append(a)
    return kids, parent


def _preorder(kids: dict, parent: dict) -> list:
    roots = [k for k in kids if k not in parent]
    order, stack = [], list(reversed(roots))
    while stack:  # iterative: trees may be thousands deep
        k = stack.pop()
        order.append(k)
        stack.extend(reversed(kids[k]))
    return order


def _limit(order: list, kids: dict, parent: dict, max_nodes: int) -> set:
    if len(order) <= max_nodes:
        return set(order)
    idx = {k: n for n, k in enumerate(order)}
    ins = [[idx[c] for c in kids[k]] for k in order]
    near = bfs_order(ins, [idx[k] for k in order if k not in parent])[:max_nodes]
    warnings.warn(f"viz.draw: {len(order)} tree nodes is more than max_nodes={max_nodes}; "
                  f"drawing the {max_nodes} nearest the root", SummaryWarning, stacklevel=3)
    return {order[n] for n in near}


def _assign(gi: GraphIndex, tn: list, shown: set, ops: bool) -> list:
    """The DOT id each node is drawn as: itself, its tree node's output (``ops=False``),
    "more" (beyond the limit), or None (a shared parameter, listed in a note instead)."""
    did: list = [None] * len(gi)
    out = _outputs(gi, tn)
    for i in range(len(gi)):
        k = tn[i]
        if k is None:
            if gi.kind(i) != "param" or any(tn[e["dst"]] is None for e in gi.outs[i]):
                did[i] = f"n{i}"
        elif k not in shown:
            did[i] = "more"
        elif gi.kind(i) != "op" or ops or i == out.get(k):
            did[i] = f"n{i}"
        else:
            did[i] = f"n{out[k]}"
    return did


def _cap(gi: GraphIndex, did: list, max_nodes: int) -> None:
    """Ops outside the tree (a huge head, or no tree at all): keep those nearest the loss."""
    if len({d for d in did if d is not None}) <= max_nodes + 1:
        return
    keep: set = {"more"}
    for i in bfs_order([[e["src"] for e in es] for es in gi.ins], gi.roots):
        if did[i] is not None and len(keep) <= max_nodes:
            keep.add(did[i])
    for i, d in enumerate(did):
        if d is not None and d not in keep:
            did[i] = "more"
    warnings.warn(f"viz.draw: more than max_nodes={max_nodes} nodes to draw; drawing the "
                  f"{max_nodes} nearest the loss", SummaryWarning, stacklevel=3)


def _nodes(scene: Scene, gi: GraphIndex, tn: list, did: list) -> None:
    for i in range(len(gi)):
        if did[i] != f"n{i}":
            continue
        k = tn[i]
        path = (("tree_node", k),) if k is not None else ()
        if path:
            scene.cluster_attr.setdefault(path, _cluster_attrs(k))
        _plain(scene, gi, i, path, word=bool(path) and gi.kind(i) != "op")
    if "more" in did:
        scene.node("more", ["\u2026 more nodes", f"{did.count('more')} nodes not drawn"],
                   shape="box", style="dashed")


def _outputs(gi: GraphIndex, tn: list) -> dict:
    """Tree node -> the op whose value leaves it (p of that node): the last op read by another
    tree node (its parent); at the root, where no parent reads it, the last op that is not the
    classifier. The classifier's logits also leave the node (to the loss), but they are not p."""
    to_parent: dict = {}
    fallback: dict = {}
    for i in range(len(gi)):
        if gi.kind(i) != "op" or tn[i] is None:
            continue
        if any(tn[e["dst"]] not in (None, tn[i]) for e in gi.outs[i]):
            to_parent[tn[i]] = i
        if gi.meta(i, "role") != "classify":
            fallback[tn[i]] = i
    return {**fallback, **to_parent}


def _summaries(scene: Scene, gi: GraphIndex, tn: list, did: list) -> None:
    """Each tree node's summary as a text node inside its cluster, on the rank of its output p.

    Not the cluster label: Graphviz does not route edges around cluster labels, and with
    rankdir BT the edges from the children pass right where the label is drawn. A node is
    routed around. The invisible edge from p (``minlen=0``) keeps it on p's rank, beside p,
    rather than on a rank of its own that would make every cluster taller."""
    out = _outputs(gi, tn)
    members: dict = {}
    for i, k in enumerate(tn):
        members.setdefault(k, []).append(i)
    for path in list(scene.cluster_attr):
        k = path[0][1]
        sid = f"summary_{dot_id_part(k)}"
        lines = _summary_lines(gi, tn, k, members[k], out.get(k))
        scene.node(sid, lines, [f"tree node {k}"], path,
                   shape="plaintext", fontcolor="gray30", margin="0.05")
        p = out.get(k)
        if p is not None and did[p] == f"n{p}":  # p drawn (not summarised away)
            scene.edge(f"n{p}", sid, (scene.nodes[sid].order,), style="invis", minlen="0")


def _cluster_attrs(k) -> dict:
    return {"label": "", "tooltip": label(f"tree node {k}"), "style": "rounded",
            "color": "gray60"}


def _summary_lines(gi: GraphIndex, tn: list, k, members: list, out) -> list:
    depth = next((gi.meta(i, "depth") for i in members if gi.meta(i, "depth") is not None), None)
    word = next((gi.meta(i, "word") for i in members if gi.meta(i, "word") is not None), None)
    lines = [f"node {k}" + (f" \u00b7 depth {depth}" if depth is not None else ""),
             f"\u201c{word}\u201d" if word is not None else None,
             f"\u2016\u2207p\u2016={fmt(gi.grad_norm(out))}" if out is not None else None]
    for i in members:
        for e in gi.ins[i]:
            p = e["src"]
            if gi.kind(p) == "param" and tn[p] is None and isinstance(e.get("grad"), dict):
                lines.append(f"\u2016\u2207{gi.label_name(p)}^({k})\u2016={fmt(e['grad']['norm'])}")
    return lines


def _plain(scene: Scene, gi: GraphIndex, i: int, path: tuple, word: bool = False) -> None:
    nd = gi.nodes[i]
    name = gi.label_name(i, with_place=not path)
    lines = [name, (f"{nd.get('op')} " if gi.kind(i) == "op" else "")
             + shape_str(nd.get("shape", []))] + grad_lines(nd, False)
    attrs = _kind_attrs(gi.kind(i))
    if word:
        attrs.update(shape="box", style="filled,rounded,bold", fillcolor=WORD_FILL)
    if i in gi.roots:
        attrs["peripheries"] = "2"
    scene.node(f"n{i}", lines, [gi.label_name(i), f"n{i}"], path, members=[i], **attrs)


def _edges(scene: Scene, gi: GraphIndex, did: list, kids: dict, shown: set) -> None:
    seen: set = set()
    for dst in range(len(gi)):
        for e in gi.ins[dst]:
            s, d = did[e["src"]], did[dst]
            if s is None or d is None or s == d or (s, d) in seen:
                continue
            seen.add((s, d))
            # ordering="in": a parent's in-edges are laid out in the order given, so the order
            # of children (arg order of the parent's ops) is left to right.
            attrs = dict(CUT_STYLE) if e.get("kind") == "cut" else {}
            scene.edge(s, d, (scene.nodes[d].order, e.get("arg", 0), scene.nodes[s].order),
                       **attrs)


def _shared(scene: Scene, gi: GraphIndex, tn: list) -> None:
    shared = [i for i in range(len(gi)) if gi.kind(i) == "param" and tn[i] is None
              and gi.outs[i] and all(tn[e["dst"]] is not None for e in gi.outs[i])]
    if not shared:
        return
    lines = ["shared parameters: \u2207 = \u03a3 over tree nodes"]
    lines += [f"{gi.label_name(p)} {shape_str(gi.nodes[p].get('shape', []))} "
              f"\u2016\u2207\u2016={fmt(gi.grad_norm(p))}" for p in shared]
    scene.node("shared", lines, [", ".join(gi.label_name(p) for p in shared)], shape="note",
               style="filled", fillcolor=PARAM_FILL)
