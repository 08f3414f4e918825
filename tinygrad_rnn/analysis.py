"""Gradient-flow analyses: the numbers behind the seeds' vanishing/exploding-gradient story.

* :func:`step_grad_norms` — ||dL/dh^(t)|| (or any role: c, gate_f, ...) per time step, read from a
  traced graph after ``backward(retain_grads=True)``.
* :func:`jacobian_norms` — ||dh^(t)/dh^(k)|| for every k <= t: the product of the per-step
  Jacobians, whose norm shrinks like |lambda|^(t-k) (0.3^10 ~ 6e-6) or grows (1.7^10 ~ 201).
* :func:`contribution_matrix` — C[t, k] = the gradient that the loss at step t sends to W through
  W's use at step k (the seeds' dummy copies W^(k)); sum over t and k is exactly W.grad.
* :func:`spectral_radius`, :func:`saturation` — the two causes: the recurrent matrix's largest
  |eigenvalue| and how many tanh units sit on their flat tails (1 - h^2 near 0).

All results are plain NumPy arrays; ``viz.heat_strip`` / ``viz.heat_matrix`` draw them.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.errors import ArgumentError, GradError, ShapeError
from tinygrad_rnn.expansion import open_calls
from tinygrad_rnn.tensor import Tensor
from tinygrad_rnn.tracing import _post_order


def step_grad_norms(graph, role: str = "h", scope: str | None = None) -> dict:
    """{step: ||grad||} of the last node with ``role`` at each step (optionally within ``scope``).

    Needs a graph traced after ``backward(retain_grads=True)``; the last node of a role in a step
    is the value that leaves the step (e.g. h^(t) = o * tanh(c^(t)), not the inner tanh).
    """
    last: dict = {}
    for n in graph.nodes:  # ids are topological: a later node overrides an earlier one
        m = n.meta
        if m.get("role") == role and m.get("step") is not None and n.kind == "op" and (
                scope is None or m.get("scope", "").startswith(scope)):
            last[m["step"]] = n
    if not last:
        raise ArgumentError(f"step_grad_norms: no node with role {role!r} and a step in the "
                            f"graph{'' if scope is None else f' under scope {scope!r}'}")
    if any(n.grad is None for n in last.values()):
        raise GradError("step_grad_norms: the graph carries no intermediate gradients; run "
                        "loss.backward(retain_grads=True) before tr.trace(loss)")
    return {t: last[t].grad["norm"] for t in sorted(last)}


def jacobian_norms(states, ord=2) -> np.ndarray:
    """J[t, k] = ||dh^(t)/dh^(k)|| (matrix ``ord`` norm; 2 = spectral) for k <= t, NaN above.

    states: the per-step hidden states h^(0..T-1) (Tensors of one graph, each (B, H) with B = 1
    or (H,)). Costs T * H backward passes: meant for teaching sizes.
    """
    states = list(states)
    if not states or any(not isinstance(s, Tensor) or not s.requires_grad for s in states):
        raise ArgumentError("jacobian_norms: 'states' must be Tensors recorded on the tape "
                            "(requires_grad=True), one per step")
    size = states[0].size
    if any(s.size != size for s in states) or size > 4096:
        raise ShapeError(f"jacobian_norms: every state must have the same size <= 4096; got "
                         f"{[s.size for s in states]}")
    T = len(states)
    out = np.full((T, T), np.nan)
    for t in range(T):
        rows = [[] for _ in range(t + 1)]
        for i in range(size):
            seed = np.zeros(size, dtype=states[t].dtype)
            seed[i] = 1.0
            for s in states[: t + 1]:
                s.grad = None
            states[t].backward(seed.reshape(states[t].shape), retain_graph=True,
                               retain_grads=True)
            for k in range(t + 1):
                g = states[k].grad
                rows[k].append(np.zeros(size) if g is None else np.ravel(g))
        for k in range(t + 1):
            out[t, k] = np.linalg.norm(np.array(rows[k]), ord)
    for s in states:
        s.grad = None
    return out


def _consumers(tensors, weight) -> list:
    """(node, input slot, step) for every recorded use of ``weight`` among ``tensors``."""
    found = []
    for t in tensors:
        node = t._node
        if node is None:
            continue
        for i, x in enumerate(node.inputs):
            if x is weight:
                found.append((node, i, node.frame.meta.get("step")))
    if not found:
        raise ArgumentError("contribution_matrix: 'weight' is not used by the ops behind the "
                            "losses")
    if any(step is None for _, _, step in found):
        raise ArgumentError("contribution_matrix: every use of 'weight' must run inside "
                            "tr.scope(step=t) (the recurrent layers do this)")
    return found


def contribution_matrix(losses, weight: Tensor) -> np.ndarray:
    """C[t, k] (shape (T_loss, T_use, *weight.shape)): what the loss at step t contributes to
    dL/dW through W's use at step k. Causality makes C[t, k] = 0 for k > t, and
    C.sum(axis=(0, 1)) equals W.grad of the summed loss (the seeds' eq. 7, split by t and k).

    losses: per-step scalar Tensors L^(0..T-1) of one graph (the graph is kept: retain_graph).
    A fused layer's uses are read from its composite rerun (the per-step copies W^(k) that
    ``tr.trace`` shows), seeded from what each loss sends into the fused outputs.
    """
    losses = list(losses)
    opened = open_calls(_post_order(losses), grads=False)
    uses = _consumers(_post_order(losses, opened.resolve), weight)
    steps = sorted({s for _, _, s in uses})
    col = {s: j for j, s in enumerate(steps)}
    out = np.zeros((len(losses), len(steps)) + weight.shape)
    saved = weight.grad
    for t, loss in enumerate(losses):
        for node, _, _ in uses:
            node.edge_grads = None  # a use this loss does not reach must read as zero
        for _, fast in opened.reruns:
            for f, _ in fast:
                f.grad = None  # nor may an output this loss does not reach seed its rerun
        loss.backward(retain_graph=True, retain_grads=True)
        opened.backprop()
        for node, i, step in uses:
            if node.edge_grads is not None and node.edge_grads[i] is not None:
                out[t, col[step]] += node.edge_grads[i]
    weight.grad = saved
    return out


def spectral_radius(weight) -> float:
    """max |eigenvalue| of a square (recurrent) matrix: < 1 shrinks, > 1 can blow up, per step."""
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ShapeError(f"spectral_radius: expected a square matrix; got shape {w.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(w))))


def saturation(states, threshold: float = 0.95) -> np.ndarray:
    """Per step, the fraction of tanh units with |h| > threshold (their local slope
    1 - h^2 < 0.1 lets almost no gradient through)."""
    return np.array([float(np.mean(np.abs(np.asarray(s.data if isinstance(s, Tensor) else s))
                                   > threshold)) for s in states])
