"""Reverse-mode differentiation over the tape: iterative, in reverse creation order.

``backward`` never recurses, so a 5,000-step unroll or a 10,000-deep tree is as safe as a
3-node graph. Gradients *accumulate*: a value used twice (fan-out, or a weight shared by every
time step) receives the sum of what each use sends back, which is the seeds' eq. 6-7
(nabla_W L = sum_t nabla_{W^(t)} L). For a leaf weight that sum is taken as one stacked GEMM
after the walk (:mod:`tinygrad_rnn.deferred`) unless per-use values are kept or checked.
"""

from __future__ import annotations

from operator import attrgetter

import numpy as np

from tinygrad_rnn.deferred import LeafGrads
from tinygrad_rnn.errors import AnomalyError, GradError, ShapeError
from tinygrad_rnn.ops.registry import SliceGrad, unbroadcast
from tinygrad_rnn.tape import FREED, anomaly_enabled


def _collect(root, since: int = -1) -> list:
    """Non-leaf tensors reachable from ``root`` (a Tensor or a list of them) through
    grad-requiring inputs, newest first; tensors made before creation number ``since`` are
    treated as leaves (a replay's boundary, see :func:`backward_replay`).

    Tensors hash by identity (no ``__eq__``), so they key sets and dicts directly: cheaper than
    calling ``id()`` on every edge.
    """
    stack = list(root) if isinstance(root, list) else [root]
    seen = set(stack)
    add = seen.add
    push = stack.append
    pop = stack.pop
    found = []
    keep = found.append
    while stack:
        t = pop()
        node = t._node
        if node is None or node.seq < since:
            continue
        keep(t)
        for x in node.inputs:
            if x.requires_grad and x not in seen:
                add(x)
                push(x)
    # creation order is a topological order; its reverse visits every consumer before its inputs
    found.sort(key=_SEQ, reverse=True)
    return found


_SEQ = attrgetter("_node.seq")  # a C-level key: the sort is called once per tensor of the graph


def _seed(root, grad) -> np.ndarray:
    if not root.requires_grad:
        raise GradError(
            "backward: this tensor does not require grad (no input of the ops that made it has "
            "requires_grad=True, or it was made under no_grad() or by detach())")
    if grad is None:
        if root.data.size != 1:
            raise GradError(
                f"backward: the root has shape {root.shape}; a seed gradient is needed for a "
                f"non-scalar root: call backward(grad) with an array of shape {root.shape}, or "
                f"reduce it first (e.g. loss.sum())")
        return np.ones_like(root.data)
    g = np.asarray(grad.data if hasattr(grad, "data") else grad, dtype=root.dtype)
    if g.shape != root.shape:
        raise ShapeError(f"backward: argument 'grad' must have the root's shape {root.shape}; "
                         f"got {g.shape}")
    return g


def _check_finite(arr, node, what: str) -> None:
    if not np.all(np.isfinite(arr)):
        loc = node.where() or "top level"
        raise AnomalyError(f"detect_anomaly: {what} of op '{node.op.name}' ({loc}) contains "
                           f"NaN/Inf; inputs: {describe_inputs(node.inputs)}")


def describe_inputs(tensors) -> str:
    parts = []
    for i, t in enumerate(tensors):
        d = t.data
        with np.errstate(all="ignore"):
            stats = (f"min {np.nanmin(d):.3g}, max {np.nanmax(d):.3g}"
                     if d.size and not np.all(np.isnan(d)) else "all NaN or empty")
        n_bad = int(d.size - np.count_nonzero(np.isfinite(d)))
        parts.append(f"#{i} {t.label()} shape {d.shape}: {stats}, {n_bad} non-finite")
    return "; ".join(parts)


def _add_slice(x, sg: SliceGrad, grads: dict, owned: set) -> None:
    """Add a slice gradient into x's pending gradient in place: one zero-filled buffer per
    input however many slices of it are used (T time steps, four gates)."""
    if x._node is None:  # leaf: into .grad
        if x.grad is None:
            x.grad = sg.dense()
        else:
            sg.add_to(x.grad)
        return
    prev = grads.get(x)
    if prev is None:
        grads[x] = sg.dense()
    elif x in owned:
        sg.add_to(prev)
        return
    else:  # prev may alias another edge's gradient or a saved value: copy before adding
        grads[x] = sg.add_to(np.array(prev, copy=True))
    owned.add(x)


def _accumulate(x, g, grads: dict) -> None:
    if g.dtype != x.data.dtype:
        g = g.astype(x.data.dtype)
    if x._node is None:  # leaf: .grad accumulates across backward() calls until zeroed
        if x.grad is None:
            x.grad = np.array(g, copy=True)  # g may alias another input's gradient
        else:
            x.grad += g
    else:
        prev = grads.get(x)
        grads[x] = g if prev is None else prev + g  # new array: never mutate an alias


def backward(root, grad=None, retain_graph: bool = False, retain_grads: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf with ``requires_grad``.

    retain_graph: keep the saved values, so backward can run through this graph again.
    retain_grads: also keep ``.grad`` on every intermediate tensor and the gradient each edge
        carried (``node.edge_grads``), for display with ``tr.trace``. Off by default: training
        loops should not pay for it.
    """
    grads = {root: _seed(root, grad)}
    check = anomaly_enabled()
    # per-use weight gradients are observable only through edge_grads and the anomaly check;
    # otherwise a leaf's uses are batched into one GEMM when the walk ends
    deferred = None if (retain_grads or check) else LeafGrads()
    try:
        _walk(root, grads, deferred, check, retain_graph, retain_grads)
    finally:  # also on an error mid-walk: leaves get what reached them, as without deferral
        if deferred is not None:
            deferred.flush()


def _walk(root, grads: dict, deferred, check: bool, retain_graph: bool,
          retain_grads: bool) -> None:
    """The reverse sweep: every node's VJP, newest first, accumulating into ``grads``/``.grad``.

    Runs once per recorded node, so the common case (nothing observed: no retain_grads, no
    anomaly check; an input of the same shape and dtype as its gradient) is inlined here rather
    than going through ``unbroadcast``/``_accumulate``; observed walks take :func:`_observed`.
    """
    pop = grads.pop
    get = grads.get
    owned = set()  # intermediates whose pending gradient is a fresh sum made below
    observed = check or retain_grads  # then deferred is None (see backward)
    defer = deferred.defer if deferred is not None else None
    for t in _collect(root):
        g = pop(t, None)
        if g is None:
            continue
        node = t._node
        saved = node.saved
        op = node.op
        if saved is FREED:
            raise GradError(
                f"backward: the graph through op '{op.name}' ({node.where() or 'top level'})"
                f" was freed by an earlier backward(); pass retain_graph=True to the first "
                f"backward() to backpropagate through it twice")
        if observed:
            _observed(t, node, g, grads, owned, check, retain_grads)
        else:
            needs = defer(node, g) if op.factored else node.needs
            params = node.params
            in_grads = op.vjp(g, saved, needs, **params) if params else op.vjp(g, saved, needs)
            for x, gi, need in zip(node.inputs, in_grads, needs):
                if gi is None or not need:
                    continue
                xd = x.data
                if type(gi) is SliceGrad:
                    if gi.dtype == xd.dtype:
                        _add_slice(x, gi, grads, owned)
                        continue
                    gi = gi.dense()
                if gi.shape != xd.shape:
                    gi = unbroadcast(gi, xd.shape)
                if x._node is None or gi.dtype != xd.dtype:
                    _accumulate(x, gi, grads)
                    continue
                prev = get(x)  # _add_pending, inlined: this runs once per edge
                if prev is None:
                    grads[x] = gi
                elif x in owned:
                    prev += gi
                else:
                    grads[x] = prev + gi
                    owned.add(x)
        if not retain_graph:
            node.saved = FREED


def _observed(t, node, g, grads: dict, owned: set, check: bool, retain_grads: bool,
              since: int = -1) -> None:
    """One node's VJP when someone watches: every edge's gradient is kept (retain_grads) or
    checked for NaN/Inf (anomaly mode), so slices are materialised and nothing is deferred.
    Inputs made before creation number ``since`` only get the edge (a replay's boundary)."""
    if retain_grads:
        t.grad = g
    needs = node.needs
    in_grads = node.op.vjp(g, node.saved, needs, **node.params)
    edges = [None] * len(needs) if retain_grads else None
    for i, (x, gi, need) in enumerate(zip(node.inputs, in_grads, needs)):
        if gi is None or not need:
            continue
        xd = x.data
        if type(gi) is SliceGrad:
            gi = gi.dense()  # observed: a plain array
        if gi.shape != xd.shape:
            gi = unbroadcast(gi, xd.shape)
        if check:
            _check_finite(gi, node, f"backward gradient for input #{i}")
        if edges is not None:
            edges[i] = gi
        if since >= 0 and (x._node is None or x._node.seq < since):
            continue
        if x._node is None or gi.dtype != xd.dtype:
            _accumulate(x, gi, grads)
        else:
            _add_pending(x, gi, grads, owned)
    if retain_grads:
        node.edge_grads = edges


def _add_pending(x, gi, grads: dict, owned: set) -> None:
    """x's pending gradient += gi (what the hot loop of :func:`_walk` does inline)."""
    prev = grads.get(x)
    if prev is None:
        grads[x] = gi  # may alias a saved value or another edge's gradient: not ours
    elif x in owned:
        prev += gi  # a sum this walk allocated: nobody else holds it
    else:
        grads[x] = prev + gi
        owned.add(x)


def backward_replay(seeds: dict, since: int) -> None:
    """Backward through the nodes made from creation number ``since`` on, from ``seeds``
    ({tensor: gradient}), keeping every ``.grad`` and edge gradient (as retain_grads) but
    touching nothing made before ``since``: the tensors a replay read are its boundary, and
    their gradients are the real run's. Used to open fused nodes (:mod:`tinygrad_rnn.expansion`).
    """
    grads = dict(seeds)
    owned: set = set()
    for t in _collect(list(seeds), since):
        g = grads.pop(t, None)
        if g is not None:
            _observed(t, t._node, g, grads, owned, False, True, since)
