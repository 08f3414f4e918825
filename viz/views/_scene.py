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


@dataclass
class DNode:
    did: str
    attrs: dict
    cluster: tuple = ()  # path of (kind, value) pairs, () for the top level
    order: int = 0


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
             **attrs) -> DNode:
        """Add (or return the existing) node; ``lines`` become a plain label (or ``html``, an
        already escaped HTML-like label ``<...>``), ``tips`` the tooltip (full text)."""
        if did in self.nodes:
            return self.nodes[did]
        attrs = {"label": html if html is not None else label(*lines), **attrs}
        if tips:
            attrs["tooltip"] = tooltip(*tips)
        nd = DNode(did, attrs, tuple(cluster), len(self.nodes))
        self.nodes[did] = nd
        return nd

    def edge(self, src: str, dst: str, order=(), **attrs) -> None:
        self.edges.append(DEdge(src, dst, attrs, tuple(order)))

    def to_digraph(self) -> graphviz.Digraph:
        g = VizDigraph(self.name)
        g.attr("graph", **self.graph_attr)
        g.attr("node", fontsize="10")
        g.attr("edge", fontsize="9")
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
        return g

    def _stack(self, g: graphviz.Digraph) -> None:
        """Draw each cluster of ``stack`` after the one before it in rank order (above it for
        rankdir BT): an invisible point that every node of the first cluster points to and
        that points to every node of the next. Left-right order inside a cluster is only a
        heuristic in Graphviz; rank order is a hard constraint."""
        anchors = self._anchors()
        for k in range(len(self.stack) - 1):
            lo, hi = self.stack[k], self.stack[k + 1]
            gate = f"stack{k}"
            g.node(gate, shape="point", style="invis", width="0", height="0", label="")
            for nd in sorted(self.nodes.values(), key=lambda n: n.order):
                if nd.cluster[:len(lo)] == lo:
                    g.edge(nd.did, gate, style="invis")
                elif nd.cluster[:len(hi)] == hi:
                    g.edge(gate, nd.did, style="invis")
            for path, (_, aid) in sorted(anchors.items(), key=lambda pa: pa[1][1]):
                if path[:len(hi)] == hi:
                    g.edge(gate, aid, style="invis")

    def _chain(self, g: graphviz.Digraph) -> None:
        """Keep time order left to right (rankdir BT/TB). Graphviz may otherwise shuffle the
        step clusters, and it ignores same-rank edges between clusters. So: an invisible
        "time axis" of same-rank points at the top level, joined in order (top-level same-rank
        edges are honoured), with an invisible edge from point k to every node of cluster k;
        crossing minimisation then lines each cluster up with its point.

        That only orders top-level clusters: Graphviz orders the clusters inside a cluster on
        its own, looking only at the neighbours on the next rank. So a point for a nested
        cluster (the forward half of a step, a step inside a loop) reaches its nodes through
        an invisible anchor inside that cluster, held one rank above the point by a heavy
        edge: every level of clusters then sees the axis order right next to it."""
        points = self.axis or [[p] for p in self.chain]
        if len(points) < 2:
            return
        with g.subgraph() as axis:
            axis.attr("graph", rank="same")
            for k in range(len(points)):
                axis.node(f"axis{k}", shape="point", style="invis", width="0", height="0",
                          label="")
        for k in range(len(points) - 1):
            g.edge(f"axis{k}", f"axis{k + 1}", style="invis")
        anchors = self._anchors()
        first: dict = {}  # point -> its first anchor
        for k, aid in anchors.values():
            first.setdefault(k, aid)
            g.edge(f"axis{k}", aid, style="invis", weight="100")
        where = {p: k for k, paths in enumerate(points) for p in paths}
        for nd in sorted(self.nodes.values(), key=lambda n: n.order):
            p = next((nd.cluster[:j] for j in range(len(nd.cluster), 0, -1)
                      if nd.cluster[:j] in where), None)
            if p is None:
                continue
            g.edge(f"axis{where[p]}", nd.did, style="invis")
            aid = anchors[p][1] if p in anchors else first.get(where[p])
            if aid is not None:
                g.edge(aid, nd.did, style="invis", weight="0")

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
        anchors = self._anchors()
        for path in sorted(paths, key=lambda p: (-len(p), self._cluster_key(p))):
            sg = graphviz.Digraph(cluster_name(path))
            sg.attr("graph", **self.cluster_attr.get(path, {"label": label(path[-1][1])}))
            if path in anchors:
                sg.node(anchors[path][1], shape="point", style="invis", width="0",
                        height="0", label="")
            for nd in paths[path]:
                sg.node(nd.did, **nd.attrs)
            for kid in sorted(kids.get(path, []), key=self._cluster_key):
                sg.subgraph(built.pop(kid))
            built[path] = sg
        return built

    def _cluster_key(self, path: tuple) -> tuple:
        return (self.cluster_rank.get(path, len(self.cluster_rank)), _path_key(path))


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
    attrs = {"rankdir": rankdir, "newrank": "true", **extra, "fontsize": "12"}
    if title:
        attrs.update(label=label(title), labelloc="t")
    return attrs
