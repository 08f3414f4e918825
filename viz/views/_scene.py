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
        return g

    def _chain(self, g: graphviz.Digraph) -> None:
        """Keep time order left to right (rankdir BT/TB). Graphviz may otherwise shuffle the
        step clusters, and it ignores same-rank edges between clusters. So: an invisible
        "time axis" of same-rank points at the top level, joined in order (top-level same-rank
        edges are honoured), with an invisible edge from point k to every node of cluster k;
        crossing minimisation then lines each cluster up with its point."""
        if len(self.chain) < 2:
            return
        with g.subgraph() as axis:
            axis.attr("graph", rank="same")
            for k in range(len(self.chain)):
                axis.node(f"axis{k}", shape="point", style="invis", width="0", height="0",
                          label="")
        for k in range(len(self.chain) - 1):
            g.edge(f"axis{k}", f"axis{k + 1}", style="invis")
        where = {p: k for k, p in enumerate(self.chain)}
        for nd in sorted(self.nodes.values(), key=lambda n: n.order):
            k = where.get(nd.cluster[:1])
            if k is not None:
                g.edge(f"axis{k}", nd.did, style="invis")

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
        for path in sorted(paths, key=lambda p: (-len(p), self._cluster_key(p))):
            sg = graphviz.Digraph(cluster_name(path))
            sg.attr("graph", **self.cluster_attr.get(path, {"label": label(path[-1][1])}))
            for nd in paths[path]:
                sg.node(nd.did, **nd.attrs)
            for kid in sorted(kids.get(path, []), key=self._cluster_key):
                sg.subgraph(built.pop(kid))
            built[path] = sg
        return built

    def _cluster_key(self, path: tuple) -> tuple:
        return (self.cluster_rank.get(path, len(self.cluster_rank)), _path_key(path))


def cluster_name(path: tuple) -> str:
    return "cluster_" + "_".join(f"{kind}_{dot_id_part(v)}" for kind, v in path)


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
