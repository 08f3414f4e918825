"""The backward picture: where the gradient goes and how big it is.

Nodes are filled by ||nabla L|| on a log scale (legend included), small tensors show their data
and gradient (micrograd style), edges point the way gradients flow and carry the norm of the
gradient each use sent back, and the path from the loss to a chosen node can be highlighted.
Layout, clusters, step collapse and ``collapse="cell"`` are shared with the unrolled view.
"""

from __future__ import annotations

from collections import deque

import graphviz

from viz._dot import LogScale, legend_html
from viz._errors import OptionError
from viz.collapse import check_options, reduce
from viz.graph_index import GraphIndex
from viz.loading import load
from viz.views.grid_dot import draw_grid
from viz.views.tree import draw_tree_boxes
from viz.views.unrolled import Style, build


def draw_backward(graph, *, highlight=None, values: bool = True, expand=None,
                  collapse: str | None = None, keep_ends="auto", keep_steps=(),
                  max_nodes: int = 500, title: str | None = None,
                  rankdir: str = "BT") -> graphviz.Digraph:
    """Draw the graph coloured by gradient norm, with a legend: the grid of
    :func:`viz.draw_unrolled` with every box filled by its ‖∇‖ and every edge as wide and dark
    as the gradient it carries back, on one log scale.

    ``highlight``: a node id (int), a node name (e.g. ``"W"``) or a site (e.g.
    ``"rnn/tanh#0"``), or a list of them; the paths from the loss back to those nodes are drawn
    thick and blue. ``expand``, ``keep_ends``, ``keep_steps`` as in :func:`draw_unrolled`; with
    ``expand="all"`` (or a graph without steps) every op is drawn, its data and gradient shown
    micrograd style when ``values`` and the trace kept them, ``collapse="cell"`` and
    ``max_nodes`` as in the gate-level unrolled picture.
    """
    gi = GraphIndex(load(graph))
    on_path = path_to(gi, highlight) if highlight is not None else None
    check_options(keep_ends, keep_steps, collapse, max_nodes, "viz.draw(view='backward')")
    if expand != "all":
        dg = draw_grid(gi, gradients=True, keep_ends=keep_ends, keep_steps=keep_steps,
                       expand=expand, title=title, rankdir=rankdir, on_path=on_path,
                       name="backward")
        if dg is not None:
            return dg
        dg = draw_tree_boxes(gi, gradients=True, expand=expand, title=title, rankdir=rankdir,
                             name="backward")
        if dg is not None:
            return dg
    red = reduce(gi, keep_ends=2 if keep_ends == "auto" else keep_ends, keep_steps=keep_steps,
                 collapse=collapse, max_nodes=max_nodes)
    scale = LogScale(gi.grad_norm(i) for i in range(len(gi)))
    style = Style(copies=False, scale=scale, values=values, edge_grads=True, on_path=on_path)
    scene = build(gi, red, style, "backward", title, rankdir)
    scene.node("legend", [], html=legend_html(scale), shape="plaintext")
    return scene.to_digraph()


def find_nodes(gi: GraphIndex, target) -> list:
    """Node ids matching ``target``: an id, a name, a site, or a semantic label."""
    targets = target if isinstance(target, (list, tuple)) else [target]
    found: list = []
    for t in targets:
        if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < len(gi):
            found.append(t)
            continue
        hits = [i for i in range(len(gi)) if gi.nodes[i].get("name") == t]
        hits = hits or [i for i in range(len(gi)) if gi.meta(i, "site") == t]
        hits = hits or [i for i in range(len(gi)) if gi.label_name(i) == t]
        if not hits:
            raise OptionError(f"viz.draw(view='backward'): highlight={t!r} matches no node id, "
                              "name, site or label in this graph")
        found += hits
    return sorted(set(found))


def path_to(gi: GraphIndex, target) -> list:
    """Per node: True when it lies on a path from one of the ``target`` nodes to a root, i.e.
    on the way the loss's gradient travels to reach the target."""
    down = _reach(len(gi), find_nodes(gi, target), lambda i: (e["dst"] for e in gi.outs[i]))
    up = _reach(len(gi), gi.roots, lambda i: (e["src"] for e in gi.ins[i]))
    return [a and b for a, b in zip(down, up)]


def _reach(n: int, start, nxt) -> list:
    seen = [False] * n
    queue = deque(start)
    for s in start:
        seen[s] = True
    while queue:  # iterative: graphs can be 10,000 steps deep
        for j in nxt(queue.popleft()):
            if not seen[j]:
                seen[j] = True
                queue.append(j)
    return seen
