"""``tr.trace(*roots) -> Graph``: the recorded tape captured as plain data (see :mod:`graph`).

Ids are deterministic: a post-order walk from the roots, inputs in argument order, numbers each
node after all its inputs (a topological numbering), so the same program gives the same graph.
``order`` lists the op nodes in the order they were created; ``backward`` visits them in the
reverse of it. Fused calls are opened here (:mod:`expansion`).
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager

import numpy as np

from tinygrad_rnn.errors import ArgumentError, DTypeError
from tinygrad_rnn.expansion import open_calls
from tinygrad_rnn.graph import Edge, Graph, Node
from tinygrad_rnn.kernels._jit import jit_enabled, warm
from tinygrad_rnn.kernels.summary import moments, sums


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

    Runs for every node and edge of a trace (~10k arrays for a 200-step LSTM), so float arrays
    take one Numba pass (:mod:`tinygrad_rnn.kernels.summary`) once Numba runs in the process,
    and only the rest — other dtypes, NaN/Inf, an overflowing sum, JIT off — NumPy's
    reductions, which :func:`trace` runs under one ``np.errstate`` (entering it costs ~18 us):
    NaN and Inf give the same summaries either way, finite ones agree to a few ulps."""
    n = arr.size
    stats = _kernel_stats(arr) if n else None
    if stats is None:
        if not n:
            d = {"shape": list(arr.shape), "norm": 0.0}
            if max_values >= 0:
                d["values"] = []
            return d
        a = np.asarray(arr, dtype=np.float64).reshape(-1)
        # overflow in the sum of squares gives inf, which is the norm's honest value; long
        # arrays stay out of BLAS, whose threads wait for busy cores (README, "tracing.py")
        ss = a @ a if n < _LONG else np.einsum("i,i->", a, a)
        stats = float(a.min()), float(a.max()), float(a.sum()), float(ss)
    lo, hi, s, ss = stats
    d = {"shape": list(arr.shape), "min": lo, "max": hi, "mean": s / n, "norm": math.sqrt(ss)}
    if n <= max_values:
        d["values"] = np.asarray(arr, dtype=np.float64).ravel().tolist()
    return d


_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
_LONG = 4096  # from here on NumPy's vectorised min and max beat the kernel's scalar compares


def _kernel_stats(arr: np.ndarray):
    """(min, max, sum, sum of squares) of a non-empty float32/float64 array from the kernels,
    or None when NumPy must do it (another dtype, JIT off, no kernel run yet in this process:
    loading Numba for this alone costs ~1 s, more than a 200-step trace saves; a non-finite
    sum: NaN, Inf or overflow, whose propagation the kernel's compares would not match)."""
    dt = arr.dtype  # compared, not by identity: equal dtypes need not be one object
    if (dt != _F64 and dt != _F32) or not (warm() and jit_enabled()):
        return None
    a = arr.ravel()  # contiguous: one compiled signature per dtype
    if a.size < _LONG:
        lo, hi, s, ss = moments(a)
    else:
        s, ss = sums(a)
        lo, hi = float(a.min()), float(a.max())
    if not (math.isfinite(s) and math.isfinite(ss)):
        return None
    return lo, hi, s, ss


def _post_order(roots, resolve=None) -> list:
    """Tensors reachable from ``roots`` (all inputs, not only grad-requiring ones), each after its
    inputs; iterative, with inputs visited in argument order for determinism. ``resolve(t)``:
    the tensor that stands for input ``t`` (an opened fused call's composite output).

    Each stack entry holds an iterator over the inputs still to visit, so a node is looked at
    once per input edge; Tensors hash by identity and key the set directly."""
    order, seen = [], set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, _inputs(root, resolve))]
        while stack:
            t, rest = stack[-1]
            for child in rest:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, _inputs(child, resolve)))
                    break
            else:  # every input is placed: t comes next
                stack.pop()
                order.append(t)
    return order


def _inputs(t, resolve):
    node = t._node
    if node is None:
        return iter(())
    return iter(node.inputs) if resolve is None else map(resolve, node.inputs)


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
        sites[t] = f"{f.scope}/{key[3]}#{n}" if f.scope else f"{key[3]}#{n}"
    return sites


class _Summaries:
    """summarize() for one trace, once per array: an edge's gradient is often the very array
    its source holds as ``.grad`` (a value used once: ~27% of the summaries of a 200-step
    LSTM). A repeat gets its own copy, so a graph stays plain data whose parts can be edited
    independently."""

    __slots__ = ("max_values", "done")

    def __init__(self, max_values: int):
        self.max_values = max_values
        self.done: dict = {}  # id(array) -> (array, summary); holding it keeps the id unique

    def __call__(self, arr):
        if arr is None:
            return None
        hit = self.done.get(id(arr))
        if hit is not None:
            return {k: list(v) if type(v) is list else v for k, v in hit[1].items()}
        d = summarize(arr, self.max_values)
        self.done[id(arr)] = (arr, d)
        return d


_DTYPE_NAMES: dict = {}  # dtype -> name: numpy computes ``dtype.name`` in Python on each call


def _dtype_name(dt) -> str:
    name = _DTYPE_NAMES.get(dt)
    if name is None:
        name = _DTYPE_NAMES[dt] = dt.name
    return name


def _node_of(i: int, t, summ: _Summaries, site: str | None) -> Node:
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
        shape=list(t.shape), dtype=_dtype_name(t.data.dtype),
        params={k: jsonable(v) for k, v in node.params.items()} if node is not None else {},
        meta=meta, value=summ(t.data), grad=summ(t.grad))


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
    with _collector_paused():
        return _trace(roots, max_values, expand)


def _trace(roots: tuple, max_values: int, expand: bool) -> Graph:
    resolve, key = None, _CREATED
    order = _post_order(roots)
    if expand:
        opened = open_calls(order)
        if opened.subst:  # the walk again, through the composite outputs
            resolve, key = opened.resolve, lambda t: opened.order_key(t._node)
            roots = tuple(resolve(r) for r in roots)
            order = _post_order(roots, resolve)
    ids = {t: i for i, t in enumerate(order)}  # Tensors hash by identity
    created = sorted((t for t in order if t._node is not None), key=key)
    sites = _sites(created)
    summ = _Summaries(max_values)
    with np.errstate(all="ignore"):  # the summaries of NaN/Inf values are NaN/Inf, no warning
        g = Graph(nodes=[_node_of(i, t, summ, sites.get(t)) for i, t in enumerate(order)],
                  roots=[ids[r] for r in roots], order=[ids[t] for t in created])
        for t in order:
            _add_edges(g, t, ids, summ, resolve)
    return g


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while a trace runs. A trace allocates ~50k
    objects (the graph, and a fused call's rerun, which dies with the trace) and makes no
    cyclic garbage; left on, the collector rescans them ~80 times and promotes them all to
    the oldest generation, where they bring on full collections (~0.1 s each in a process that
    has imported Numba). Restored as found: a nested or concurrent trace leaves it to the
    outermost one."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _CREATED(t):  # noqa: N802 - a sort key, named as the constant it is
    return t._node.seq


def _add_edges(g: Graph, t, ids: dict, summ: _Summaries, resolve) -> None:
    """The edges into ``t``'s node: one per input (with the gradient that use sent back), or the
    cut edge into a truncated-BPTT boundary leaf."""
    node = t._node
    if node is None:
        src = t._cut() if t._cut is not None else None
        if src is not None and resolve is not None:
            src = resolve(src)
        if src is not None and src in ids:  # the boundary is inside this picture
            g.edges.append(Edge(ids[src], ids[t], 0, kind="cut"))
        return
    grads = node.edge_grads or [None] * len(node.inputs)
    dst, edges = ids[t], g.edges
    for arg, (x, gx) in enumerate(zip(node.inputs, grads)):
        x = x if resolve is None else resolve(x)
        edges.append(Edge(ids[x], dst, arg, grad=summ(gx)))
