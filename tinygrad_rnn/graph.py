"""``tr.Graph``: the recorded tape as plain, JSON-serialisable data (made by ``tr.trace``,
:mod:`tinygrad_rnn.tracing`).

The Graph is what every picture is drawn from (``viz`` reads only this, or its ``to_dict()``):

* a node per recorded op (its output value included) and per leaf (``param`` if it requires grad,
  ``input`` otherwise, ``cut`` for a truncated-BPTT boundary made by ``detach(cut=True)``,
  ``state`` for an initial state that receives a gradient, marked by ``tr.initial_state``);
* an edge per *use* of a value, carrying the gradient that use contributed when backward ran with
  ``retain_grads=True``. For a weight W shared over T steps these are the seeds' per-step copies:
  edge t carries nabla_{W^(t)} L, and the W node's grad is their sum (eq. 6-7).

Ids are topological (every node after its inputs); ``order`` lists the op nodes in the order they
were created, and ``backward`` visits them in the reverse of it (ids alone do not say so:
``b + a`` gets ``b``'s ops first even when ``a`` ran first).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from tinygrad_rnn.errors import ArgumentError, DTypeError, GraphFormatError
from tinygrad_rnn.graph_io import check_fields, check_schema, parse_graph_json, read_graph_file

SCHEMA_VERSION = 1


@dataclass
class Node:
    id: int
    kind: str  # "op" | "param" | "input" | "cut" | "state"
    op: str | None
    name: str | None
    shape: list
    dtype: str
    params: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    value: dict = field(default_factory=dict)  # min/max/mean/norm, and "values" when small
    grad: dict | None = None  # norm (and "values" when small), if a gradient was kept


@dataclass
class Edge:
    src: int
    dst: int
    arg: int  # which input of dst this edge feeds
    kind: str = "data"  # "data" | "cut"
    grad: dict | None = None  # the gradient this use sent back to src


@dataclass
class Graph:
    """Plain data: ``nodes`` (topologically numbered), ``edges``, ``roots`` (node ids), and
    ``order``: the op node ids in creation order (empty in graphs saved before it existed)."""

    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    roots: list = field(default_factory=list)
    order: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        """One line, however big the graph: ``Graph(412 nodes, 530 edges, ops: matmul×48
        add×36 tanh×12 …, steps 0–11, roots [411])``."""
        return summary_line(self)

    def _repr_html_(self) -> str:
        """In a notebook: the interactive inspector (``viz.inspect``) when ``viz`` has it, else
        a table of the summary. ``viz`` is imported here only: the core never needs it."""
        try:
            import viz
        except ImportError:
            return summary_html(self)
        inspect = getattr(viz, "inspect", None)  # a viz without it has the stdlib module there
        if not callable(inspect):
            return summary_html(self)
        page = inspect(self)
        show = getattr(page, "_repr_html_", None)
        return show() if callable(show) else summary_html(self)

    def to_dict(self) -> dict:
        """Plain dicts (shallow: the nested summaries are shared, not copied: asdict's deep copy
        made this 10x slower on a 4,000-node graph)."""
        return {"schema": SCHEMA_VERSION, "nodes": [dict(vars(n)) for n in self.nodes],
                "edges": [dict(vars(e)) for e in self.edges], "roots": list(self.roots),
                "order": list(self.order)}

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: dict) -> Graph:
        """The Graph of ``to_dict()``'s output; a malformed dict raises ``GraphFormatError``
        naming the field and the node (or edge) index, a newer schema says so."""
        if not isinstance(d, dict):
            raise DTypeError("Graph.from_dict: expected a dict with 'nodes' and 'edges' (the "
                             f"output of Graph.to_dict()); got {type(d).__name__}")
        return cls._checked(d, "Graph.from_dict")

    @classmethod
    def from_json(cls, text, *, max_bytes: int | None = None) -> Graph:
        """The Graph of ``to_json()``'s output (``str``, or UTF-8 ``bytes``). Text over
        ``max_bytes`` (default 512 MB), not UTF-8, not JSON, nested too deeply or from a newer
        version raises ``GraphFormatError`` saying which."""
        source = "Graph.from_json: the graph JSON"
        return cls._checked(parse_graph_json(text, source=source, max_bytes=max_bytes), source)

    @classmethod
    def from_file(cls, path, *, max_bytes: int | None = None) -> Graph:
        """The Graph in a JSON file written with ``to_json()``; every problem with the file
        (missing, over ``max_bytes``, truncated, not UTF-8, ...) is a ``GraphFormatError``
        naming it."""
        d = read_graph_file(path, max_bytes=max_bytes)
        return cls._checked(d, f"Graph.from_file: graph file {os.fspath(path)!r}")

    @classmethod
    def _checked(cls, d: dict, source: str) -> Graph:
        check_schema(d, SCHEMA_VERSION, source)
        check_fields(d, source, required=True)
        g = cls([Node(**n) for n in d["nodes"]], [Edge(**e) for e in d["edges"]],
                list(d.get("roots") or []), list(d.get("order") or []))
        try:
            g.check()
        except ArgumentError as exc:
            raise GraphFormatError(f"{source}: {exc}") from None
        return g

    def in_edges(self, node_id: int) -> list:
        return sorted((e for e in self.edges if e.dst == node_id), key=lambda e: e.arg)

    def find(self, **meta) -> list:
        """Nodes whose metadata (or op/kind/name) match every given key, e.g. ``find(step=3)``."""
        def ok(n):
            return all((n.meta.get(k) if k not in ("op", "kind", "name") else getattr(n, k)) == v
                       for k, v in meta.items())
        return [n for n in self.nodes if ok(n)]

    def check(self) -> None:
        """Validate: ids 0..n-1, no dangling edges, acyclic, per-edge gradient shapes match."""
        n = len(self.nodes)
        if [nd.id for nd in self.nodes] != list(range(n)):
            raise ArgumentError("Graph.check: node ids must be 0..n-1 in order")
        indeg = [0] * n
        out = [[] for _ in range(n)]
        for e in self.edges:
            if not (0 <= e.src < n and 0 <= e.dst < n):
                raise ArgumentError(f"Graph.check: edge {e.src}->{e.dst} points outside 0..{n - 1}")
            if e.grad is not None and e.grad.get("shape") not in (None, self.nodes[e.src].shape):
                raise ArgumentError(f"Graph.check: edge {e.src}->{e.dst} carries a gradient of "
                                    f"shape {e.grad['shape']}; its source has shape "
                                    f"{self.nodes[e.src].shape}")
            indeg[e.dst] += 1
            out[e.src].append(e.dst)
        _check_args(self)
        _check_order(self)
        ready = [i for i in range(n) if indeg[i] == 0]
        seen = 0
        while ready:  # Kahn's algorithm: iterative, so any depth is fine
            i = ready.pop()
            seen += 1
            for j in out[i]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    ready.append(j)
        if seen != n:
            raise ArgumentError("Graph.check: the graph has a cycle")


def _op_counts(g: Graph) -> list:
    """[(op, count)], most frequent first (ties by name, so the order is deterministic)."""
    counts: dict = {}
    for n in g.nodes:
        if getattr(n, "kind", None) == "op":
            counts[n.op] = counts.get(n.op, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))


def _steps(g: Graph) -> tuple | None:
    steps = [n.meta.get("step") for n in g.nodes if isinstance(getattr(n, "meta", None), dict)]
    steps = [s for s in steps if isinstance(s, int) and not isinstance(s, bool)]
    return (min(steps), max(steps)) if steps else None


def _roots(g: Graph, most: int = 5) -> str:
    shown = ", ".join(str(r) for r in g.roots[:most])
    return f"[{shown}{', …' if len(g.roots) > most else ''}]"


def summary_line(g: Graph, most_ops: int = 6) -> str:
    """The one-line summary of :meth:`Graph.__repr__` (at most ``most_ops`` op kinds shown)."""
    ops = _op_counts(g)
    parts = [f"{len(g.nodes)} nodes", f"{len(g.edges)} edges"]
    if ops:
        shown = " ".join(f"{op}×{k}" for op, k in ops[:most_ops])
        parts.append(f"ops: {shown}{' …' if len(ops) > most_ops else ''}")
    steps = _steps(g)
    if steps is not None:
        parts.append(f"steps {steps[0]}–{steps[1]}" if steps[0] != steps[1]
                     else f"step {steps[0]}")
    parts.append(f"roots {_roots(g)}")
    return f"Graph({', '.join(parts)})"


def summary_html(g: Graph) -> str:
    """A small HTML table of the summary (the fallback of :meth:`Graph._repr_html_`)."""
    import html

    steps = _steps(g)
    rows = [("nodes", len(g.nodes)), ("edges", len(g.edges)),
            ("steps", "—" if steps is None else f"{steps[0]}–{steps[1]}"),
            ("roots", _roots(g, 20))]
    rows += [(f"op {op}", k) for op, k in _op_counts(g)[:20]]
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table><caption>tr.Graph</caption>{body}</table>"


def _check_args(g: Graph) -> None:
    args: dict = {}
    for e in g.edges:
        if e.kind == "data":
            args.setdefault(e.dst, []).append(e.arg)
    for nd in g.nodes:
        got = sorted(args.get(nd.id, []))
        if nd.kind == "op" and got != list(range(len(got))):
            raise ArgumentError(f"Graph.check: op node {nd.id} ({nd.op}) has inputs {got}; "
                                f"expected 0..k-1 each once")
        if nd.kind != "op" and got:
            raise ArgumentError(f"Graph.check: leaf node {nd.id} has incoming data edges")


def _check_order(g: Graph) -> None:
    if not g.order:
        return  # saved before the creation order was recorded
    n = len(g.nodes)
    bad = [i for i in g.order if not (isinstance(i, int) and 0 <= i < n)
           or g.nodes[i].kind != "op"]
    if bad or len(set(g.order)) != len(g.order):
        raise ArgumentError(f"Graph.check: 'order' must list op node ids, each once; got "
                            f"{bad[:5] or 'duplicates'}")
