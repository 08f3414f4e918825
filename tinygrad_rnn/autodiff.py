"""Reverse-mode differentiation over the tape: iterative, in reverse creation order.

``backward`` never recurses, so a 5,000-step unroll or a 10,000-deep tree is as safe as a
3-node graph. The walk is HIPS autograd's: visit the recorded nodes newest first (creation order
is a topological order), call each node's VJP on the gradient that reached it, and hand each
input's gradient to one accumulator, :class:`~tinygrad_rnn.accumulate.Gradients`, which knows how
gradients add up (a value used twice receives the sum of what each use sends back: the seeds'
eq. 6-7, nabla_W L = sum_t nabla_{W^(t)} L) and how to do that fast.
"""

from __future__ import annotations

from operator import attrgetter

import numpy as np

from tinygrad_rnn.accumulate import Gradients
from tinygrad_rnn.errors import GradError, ShapeError
from tinygrad_rnn.tape import FREED, anomaly_enabled


def backward(root, grad=None, retain_graph: bool = False, retain_grads: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf with ``requires_grad``.

    retain_graph: keep the saved values, so backward can run through this graph again.
    retain_grads: also keep ``.grad`` on every intermediate tensor and the gradient each edge
        carried (``node.edge_grads``), for display with ``tr.trace``. Off by default: training
        loops should not pay for it.
    """
    grads = Gradients({root: _seed(root, grad)}, keep=retain_grads, check=anomaly_enabled())
    try:
        _walk(_collect(root), grads, retain_graph)
    finally:
        grads.close()


def backward_replay(seeds: dict, since: int) -> None:
    """Backward through the nodes made from creation number ``since`` on, from ``seeds``
    ({tensor: gradient}), keeping every ``.grad`` and edge gradient (as retain_grads) but
    touching nothing made before ``since``: the tensors a replay read are its boundary, and
    their gradients are the real run's. Used to open fused nodes (:mod:`tinygrad_rnn.expansion`).
    """
    grads = Gradients(seeds, keep=True, since=since)
    try:
        _walk(_collect(list(seeds), since), grads, retain_graph=True)
    finally:
        grads.close()


def _walk(tensors, grads: Gradients, retain_graph: bool) -> None:
    """Pop a node, call its VJP, hand each input's gradient to the accumulator."""
    take = grads.pending.pop
    defer, receive = grads.handlers()
    for t in tensors:
        g = take(t, None)  # all of it: every consumer of t ran before
        if g is None:
            continue
        node = t._node
        if node.saved is FREED:
            raise GradError(
                f"backward: the graph through op '{node.op.name}' ({node.where() or 'top level'})"
                f" was freed by an earlier backward(); pass retain_graph=True to the first "
                f"backward() to backpropagate through it twice")
        # a leaf weight's factors wait for one GEMM over all its uses (Gradients.close)
        op, params = node.op, node.params
        needs = node.needs if defer is None or not op.factored else defer(node, g)
        # (no ** when there are no params: an empty one costs more than half a small VJP)
        in_grads = op.vjp(g, node.saved, needs, **params) if params else op.vjp(g, node.saved,
                                                                                 needs)
        receive(t, node, g, in_grads, needs)
        if not retain_graph:
            node.saved = FREED


def _collect(root, since: int = -1) -> list:
    """Non-leaf tensors reachable from ``root`` (a Tensor or a list of them) through
    grad-requiring inputs, newest first; tensors made before creation number ``since`` are
    treated as leaves (a replay's boundary, see :func:`backward_replay`).

    Tensors hash by identity (no ``__eq__``), so they key sets and dicts directly: cheaper than
    calling ``id()`` on every edge.
    """
    stack = list(root) if isinstance(root, list) else [root]
    seen = set(stack)
    found = []
    while stack:
        t = stack.pop()
        node = t._node
        if node is None or node.seq < since:
            continue
        found.append(t)
        for x in node.inputs:
            if x.requires_grad and x not in seen:
                seen.add(x)
                stack.append(x)
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
