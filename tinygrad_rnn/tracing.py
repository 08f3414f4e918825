"""``tr.trace(*roots) -> Graph``: the recorded tape captured as plain data (see :mod:`graph`).

Ids are deterministic: a post-order walk from the roots, inputs in argument order, numbers each
node after all its inputs (a topological numbering), so the same program gives the same graph.
``order`` lists the op nodes in the order they were created; ``backward`` visits them in the
reverse of it. Fused calls are opened here (:mod:`expansion`).
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.errors import ArgumentError, DTypeError
from tinygrad_rnn.expansion import open_calls
from tinygrad_rnn.graph import Edge, Graph, Node


def jsonable(v):
    """Turn an op parameter into JSON-able data (small arrays as lists, big ones summarised)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        return v.item()
    if isinstance(v, slice):
        parts = ["" if x is None else str(x) for x in (v.start, v.stop, v.step)]
        return ":".join(parts[:2] if v.step is None else parts)
    if isinstance(v, np.ndarray):
        if v.size <= 16:
            return v.tolist()
        return {"array": list(v.shape), "dtype": str(v.dtype)}
    if isinstance(v, (tuple, list)):
        return [jsonable(x) for x in v]
    if v is Ellipsis:
        return "..."
    return repr(v)


def summarize(arr: np.ndarray, max_values: int) -> dict:
    """{shape, min, max, mean, norm} (and "values" when small) of an array, in float64.

    Runs for every node and edge of a trace, so it calls the array's own reductions (the
    ``np.min``-style wrappers cost more than the reductions themselves on small arrays), and
    :func:`trace` sets ``np.errstate`` once around all of them (entering it costs ~18 us)."""
    a = np.asarray(arr, dtype=np.float64).reshape(-1)
    d = {"shape": list(arr.shape)}
    if a.size:  # overflow in a @ a gives inf, which is the norm's honest value
        d.update(min=float(a.min()), max=float(a.max()), mean=float(a.sum() / a.size),
                 norm=float(np.sqrt(a @ a)))
    else:
        d["norm"] = 0.0
    if a.size <= max_values:
        d["values"] = a.ravel().tolist()
    return d


def _post_order(roots, resolve=None) -> list:
    """Tensors reachable from ``roots`` (all inputs, not only grad-requiring ones), each after its
    inputs; iterative, with inputs visited in argument order for determinism. ``resolve(t)``:
    the tensor that stands for input ``t`` (an opened fused call's composite output)."""
    order, done, on_stack = [], set(), set()
    for root in roots:
        stack = [(root, 0)]
        while stack:
            t, i = stack.pop()
            key = id(t)
            if key in done:
                continue
            inputs = t._node.inputs if t._node is not None else ()
            if i < len(inputs):
                stack.append((t, i + 1))
                child = inputs[i] if resolve is None else resolve(inputs[i])
                if id(child) not in done and id(child) not in on_stack:
                    on_stack.add(id(child))
                    stack.append((child, 0))
                continue
            done.add(key)
            order.append(t)
    return order


def _leaf_kind(t) -> str:
    if t._cut is not None:
        return "cut"
    if t._state is not None and t.requires_grad:
        return "state"
    return "param" if t.requires_grad else "input"


def _sites(created) -> dict:
    """Site of every op node: '<scope>/<op>#n', the n-th op of its kind (in creation order) in its
    scope and time step / tree node. The T copies of one cell op share a site, which is how the
    folded view merges them. Numbered per trace, so a graph's sites never depend on what the
    process ran before. ``created``: the op tensors in creation order."""
    counts: dict = {}
    sites = {}
    for t in created:
        f = t._node.frame
        key = (f.scope, f.meta.get("step"), f.meta.get("tree_node"), t._node.op.name)
        n = counts.get(key, 0)
        counts[key] = n + 1
        sites[id(t)] = f"{f.scope}/{key[3]}#{n}" if f.scope else f"{key[3]}#{n}"
    return sites


def _node_of(i: int, t, max_values: int, site: str | None) -> Node:
    node = t._node
    meta: dict = {}
    if node is not None:
        meta = {k: jsonable(v) for k, v in node.frame.meta.items()}
        meta["scope"] = node.frame.scope
        meta["site"] = site
    elif t._cut is not None:
        meta["cut"] = True
    elif t._state is not None:
        meta["role"] = t._state
    return Node(
        id=i, kind="op" if node is not None else _leaf_kind(t),
        op=node.op.name if node is not None else None, name=t.name,
        shape=list(t.shape), dtype=t.data.dtype.name,
        params={k: jsonable(v) for k, v in node.params.items()} if node is not None else {},
        meta=meta, value=summarize(t.data, max_values),
        grad=summarize(t.grad, max_values) if t.grad is not None else None)


def trace(*roots, max_values: int = 16, expand: bool = True) -> Graph:
    """Capture the graph behind ``roots`` (Tensors) as a :class:`Graph`.

    Run ``loss.backward(retain_grads=True)`` first to include every intermediate gradient and
    the per-edge contributions (nabla_{W^(t)} L per time step); without it only leaves that
    require grad carry gradients. ``max_values``: tensors with at most this many elements carry
    their values (micrograd-style labels); larger ones only min/max/mean/norm.

    expand=True opens every fused call (a fused RNN/LSTM/GRU layer or cell, a level-batched tree
    model) into the composite per-step, per-gate graph it stands for — the nodes, metadata,
    values and (after retain_grads) gradients that the same model with ``fused=False`` /
    ``mode="per_node"`` records — rebuilt now from the call's inputs (:mod:`expansion`).
    expand=False keeps one node per fused call.
    """
    if not roots:
        raise ArgumentError("trace: expected at least one root Tensor")
    for i, r in enumerate(roots):
        if not hasattr(r, "_node"):
            raise DTypeError(f"trace: argument #{i} must be a Tensor; got {type(r).__name__}")
    resolve, key = None, _CREATED
    if expand:
        opened = open_calls(_post_order(roots))
        if opened.subst:
            resolve, key = opened.resolve, lambda t: opened.order_key(t._node)
            roots = tuple(resolve(r) for r in roots)
    order = _post_order(roots, resolve)
    ids = {id(t): i for i, t in enumerate(order)}
    created = sorted((t for t in order if t._node is not None), key=key)
    sites = _sites(created)
    with np.errstate(all="ignore"):  # the summaries of NaN/Inf values are NaN/Inf, no warning
        g = Graph(nodes=[_node_of(i, t, max_values, sites.get(id(t)))
                         for i, t in enumerate(order)],
                  roots=[ids[id(r)] for r in roots], order=[ids[id(t)] for t in created])
        for t in order:
            _add_edges(g, t, ids, max_values, resolve)
    return g


def _CREATED(t):  # noqa: N802 - a sort key, named as the constant it is
    return t._node.seq


def _add_edges(g: Graph, t, ids: dict, max_values: int, resolve) -> None:
    """The edges into ``t``'s node: one per input (with the gradient that use sent back), or the
    cut edge into a truncated-BPTT boundary leaf."""
    node = t._node
    if node is None:
        src = t._cut() if t._cut is not None else None
        if src is not None and resolve is not None:
            src = resolve(src)
        if src is not None and id(src) in ids:  # the boundary is inside this picture
            g.edges.append(Edge(ids[id(src)], ids[id(t)], 0, kind="cut"))
        return
    grads = node.edge_grads or [None] * len(node.inputs)
    for arg, (x, gx) in enumerate(zip(node.inputs, grads)):
        eg = summarize(gx, max_values) if gx is not None else None
        x = x if resolve is None else resolve(x)
        g.edges.append(Edge(ids[id(x)], ids[id(t)], arg, grad=eg))
