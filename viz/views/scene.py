"""A view's drawing before it becomes DOT: nodes with cluster paths, edges, cluster labels.

Views fill a :class:`Scene`; :meth:`Scene.to_digraph` writes it out in one fixed order (clusters
by their sort keys, nodes by first-seen order, edges sorted), so the same graph always gives
byte-identical DOT source. Nested clusters are built innermost first, without recursion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import graphviz

from viz._dot import dot_id_part, label, sort_key, tooltip
from viz._errors import OptionError
from viz._render import VizDigraph
from viz._style import FONT, FONT_SIZE

# an invisible zero-size point: time-axis points, their anchors, stack gates
_POINT = {"shape": "point", "style": "invis", "width": "0", "height": "0", "label": ""}


@dataclass
class DNode:
    did: str
    attrs: dict
    cluster: tuple = ()  # path of (kind, value) pairs, () for the top level
    order: int = 0
    members: tuple = ()  # the graph node ids it stands for


@dataclass
class DEdge:
    src: str
    dst: str
    attrs: dict
    order: tuple = ()


@dataclass
class Scene:
    name: str
    graph_attr: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    cluster_attr: dict = field(default_factory=dict)  # path -> attrs (label, style, ...)
    cluster_rank: dict = field(default_factory=dict)  # path -> position, else sorted by key
    chain: list = field(default_factory=list)  # top-level cluster paths to keep in this order
    # the time axis, if not one point per chain path: per point, the cluster paths whose
    # nodes hang from it (a nested path is reached through an anchor inside it, see _chain)
    axis: list = field(default_factory=list)
    stack: list = field(default_factory=list)  # cluster paths, each drawn after (above) the last

    def node(self, did: str, lines, tips=(), cluster=(), html: str | None = None,
             members=(), stands_for: int | None = None, **attrs) -> DNode:
        """Add (or return the existing) node; ``lines`` become a plain label (or ``html``, an
        already escaped HTML-like label ``<...>``), ``tips`` the tooltip (full text).
        ``members``: the graph node ids it stands for; its SVG id is ``node-<id>`` for one,
        else ``box-<stands_for>`` (default: the last member)."""
        if did in self.nodes:
            return self.nodes[did]
        attrs = {"label": html if html is not None else label(*lines), **attrs}
        if tips:
            attrs["tooltip"] = tooltip(*tips)
        members = tuple(members)
        if len(members) == 1:
            attrs.setdefault("id", f"node-{members[0]}")
        elif members:
            attrs.setdefault("id", f"box-{stands_for if stands_for is not None else members[-1]}")
        nd = DNode(did, attrs, tuple(cluster), len(self.nodes), members)
        self.nodes[did] = nd
        return nd

    def edge(self, src: str, dst: str, order=(), **attrs) -> None:
        self.edges.append(DEdge(src, dst, attrs, tuple(order)))

    def to_digraph(self) -> graphviz.Digraph:
        g = VizDigraph(self.name)
        g.attr("graph", **self.graph_attr)
        g.attr("node", fontname=FONT, fontsize=str(FONT_SIZE))
        g.attr("edge", fontname=FONT, fontsize=str(FONT_SIZE - 2))
        built = self._build_clusters()
        for path in sorted((p for p in built if len(p) == 1), key=self._cluster_key):
            g.subgraph(built[path])
        for nd in sorted(self.nodes.values(), key=lambda n: n.order):
            if not nd.cluster:
                g.node(nd.did, **nd.attrs)
        for e in sorted(self.edges, key=lambda e: (e.order, e.src, e.dst)):
            g.edge(e.src, e.dst, **e.attrs)
        self._chain(g)
        self._stack(g)
        g.members = {nd.attrs["id"]: sorted(nd.members)
                     for nd in sorted(self.nodes.values(), key=lambda n: n.order) if nd.members}
        return g

    def _stack(self, g: graphviz.Digraph) -> None:
        """Draw each cluster of ``stack`` after the one before it in rank order (above it for
        rankdir BT): an invisible point that every node of the first cluster points to and
        that points to the next cluster's anchors (which hold its nodes above them) and to its
        nodes no anchor holds. Left-right order inside a cluster is only a heuristic in
        Graphviz; rank order is a hard constraint. The upper band is reached through its
        anchors only because an edge from the one point to every node would pull all its
        steps towards one spot, outweighing the time axis."""
        anchors, held = self._anchors(), self._holders()
        for k in range(len(self.stack) - 1):
            lo, hi = self.stack[k], self.stack[k + 1]
            gate = f"stack{k}"
            g.node(gate, **_POINT)
            for nd in sorted(self.nodes.values(), key=lambda n: n.order):
                if nd.cluster[:len(lo)] == lo:
                    g.edge(nd.did, gate, style="invis")
                elif nd.cluster[:len(hi)] == hi and held.get(nd.did, (0, None))[1] is None:
                    g.edge(gate, nd.did, style="invis")
            for path, (_, aid) in sorted(anchors.items(), key=lambda pa: pa[1][1]):
                if path[:len(hi)] == hi:
                    g.edge(gate, aid, style="invis")

    def _chain(self, g: graphviz.Digraph) -> None:
        """Keep time order left to right (rankdir BT/TB). Graphviz may otherwise shuffle the
        step clusters, and it ignores same-rank edges between clusters. So: an invisible
        "time axis" of same-rank points, joined in order (same-rank edges between points of
        one cluster level are honoured), with an invisible edge from point k to every node of
        cluster k; crossing minimisation then lines each cluster up with its point.

        That only orders the clusters right next to the axis: Graphviz orders the clusters
        inside a cluster on its own, looking only at the neighbours on the next rank. So a
        point for a nested cluster (the forward half of a step, a step inside a loop) reaches
        its nodes through an invisible anchor inside that cluster, held one rank above the
        point by a heavy edge that shares the point's ``group`` (Graphviz then avoids
        crossing it). Each band of ``stack`` (a loop drawn above another) gets its own axis
        inside its cluster (:meth:`_homes`): one axis at the top level reaches the upper band
        only through long edges around the lower one, and Graphviz was seen drawing the
        decoder's steps 2, 1, 0."""
        points = self.axis or [[p] for p in self.chain]
        if len(points) < 2:
            return
        anchors, homes = self._anchors(), self._homes()
        _axis_row(g, [k for k in range(len(points)) if homes[k] == ()],
                  {k for k, _ in anchors.values()})
        for k in range(len(points) - 1):
            if homes[k] == homes[k + 1]:
                g.edge(f"axis{k}", f"axis{k + 1}", style="invis")
        for k, aid in anchors.values():
            g.edge(f"axis{k}", aid, style="invis", weight="100")
        held = self._holders()
        for nd in sorted(self.nodes.values(), key=lambda n: n.order):
            if nd.did not in held:
                continue
            k, aid = held[nd.did]
            g.edge(f"axis{k}", nd.did, style="invis")
            if aid is not None:
                g.edge(aid, nd.did, style="invis", weight="0")

    def _holders(self) -> dict:
        """Node id -> (its axis point, the anchor holding it or None), for the nodes of the
        clusters on the time axis."""
        points = self.axis or [[p] for p in self.chain]
        if len(points) < 2:
            return {}
        anchors = self._anchors()
        first: dict = {}  # point -> its first anchor
        for k, aid in anchors.values():
            first.setdefault(k, aid)
        where = {p: k for k, paths in enumerate(points) for p in paths}
        out = {}
        for nd in self.nodes.values():
            p = next((nd.cluster[:j] for j in range(len(nd.cluster), 0, -1)
                      if nd.cluster[:j] in where), None)
            if p is not None:
                out[nd.did] = (where[p], anchors[p][1] if p in anchors else first.get(where[p]))
        return out

    def _homes(self) -> list:
        """Per axis point, the ``stack`` cluster its clusters lie in (its axis is drawn inside
        that cluster), or () for the top level."""
        points = self.axis or [[p] for p in self.chain]
        if len(self.stack) < 2 or len(points) < 2:
            return [()] * len(points)
        return [next((b for b in self.stack if paths and paths[0][:len(b)] == b), ())
                for paths in points]

    def _anchors(self) -> dict:
        """Nested cluster path -> (axis point, id of the anchor inside it), for the innermost
        nested paths of each point."""
        out: dict = {}
        for k, paths in enumerate(self.axis):
            inner = [p for p in paths if len(p) > 1
                     and not any(len(q) > len(p) and q[:len(p)] == p for q in paths)]
            for j, p in enumerate(inner):
                out[p] = (k, f"axis{k}_{j}")
        return out

    def _build_clusters(self) -> dict:
        paths: dict = {}
        for nd in self.nodes.values():
            for k in range(1, len(nd.cluster) + 1):
                paths.setdefault(nd.cluster[:k], [])
        for nd in sorted(self.nodes.values(), key=lambda n: n.order):
            if nd.cluster:
                paths[nd.cluster].append(nd)
        kids: dict = {}
        for p in paths:
            kids.setdefault(p[:-1], []).append(p)
        built: dict = {}
        anchors, homes = self._anchors(), self._homes()
        held = {k for k, _ in anchors.values()}
        for path in sorted(paths, key=lambda p: (-len(p), self._cluster_key(p))):
            sg = graphviz.Digraph(cluster_name(path))
            sg.attr("graph", **self.cluster_attr.get(path, {"label": label(path[-1][1])}))
            if path in anchors:
                sg.node(anchors[path][1], group=f"axis{anchors[path][0]}", **_POINT)
            _axis_row(sg, [k for k, home in enumerate(homes) if home == path], held)
            for nd in paths[path]:
                sg.node(nd.did, **nd.attrs)
            for kid in sorted(kids.get(path, []), key=self._cluster_key):
                sg.subgraph(built.pop(kid))
            built[path] = sg
        return built

    def _cluster_key(self, path: tuple) -> tuple:
        return (self.cluster_rank.get(path, len(self.cluster_rank)), _path_key(path))


def _axis_row(g: graphviz.Digraph, points: list, held: set) -> None:
    """The same-rank points ``axis<k>`` of one time axis. A point and the anchors it holds
    (``held``) share a ``group``: Graphviz then makes the edge between them very costly to
    cross and keeps it straight, so nested clusters follow the points' order rather than
    other pulls (an encoder's last state feeding the decoder's first step, say)."""
    if not points:
        return
    with g.subgraph() as row:
        row.attr("graph", rank="same")
        for k in points:
            row.node(f"axis{k}", **({"group": f"axis{k}"} if k in held else {}), **_POINT)


def cluster_name(path: tuple) -> str:
    """``cluster_step_3_layer_0``; the loop around a step goes last, so a step cluster is
    ``cluster_step_<t>...`` in every picture (``cluster_step_0_loop_<id>`` inside a loop)."""
    inner = [(k, v) for k, v in path if k != "loop"] + [(k, v) for k, v in path if k == "loop"]
    return "cluster_" + "_".join(f"{kind}_{dot_id_part(v)}" for kind, v in inner)


def _path_key(path: tuple) -> tuple:
    return tuple((kind, sort_key(v)) for kind, v in path)


def graph_attrs(view: str, rankdir: str, title, **extra) -> dict:
    """Top-level graph attributes shared by the views (validated ``rankdir``, optional title)."""
    if rankdir not in ("BT", "TB", "LR", "RL"):
        raise OptionError(f"viz.draw(view={view!r}): rankdir={rankdir!r}; expected BT, TB, LR "
                          "or RL")
    attrs = {"rankdir": rankdir, "newrank": "true", **extra, "fontname": FONT,
             "fontsize": str(FONT_SIZE)}
    if title:
        attrs.update(label=label(title), labelloc="t")
    return attrs
