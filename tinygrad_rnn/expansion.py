"""Opening fast calls: what a fused layer's nodes stand for, rebuilt when someone looks.

A fused recurrent layer records one node per layer and direction; a level-batched tree model
records one node per level. Training wants exactly that, and pictures want the opposite: every
step, every gate, every per-use copy W^(t) with its own gradient. So a fast call leaves a note
on its outputs, an :class:`Expansion`: a function that reruns the same computation the composite
way (the ``fused=False`` / per-node code) on the same input tensors. ``tr.trace`` calls it, lets
the composite outputs stand in for the fused ones, and — when backward ran with
``retain_grads=True`` — backpropagates through the rerun from the gradients that reached the fused
outputs, so every gate carries the gradient the composite run would have given it. The rerun
reads the real inputs (weights, x, h0) but writes none of their gradients
(:func:`~tinygrad_rnn.autodiff.backward_replay`). Training pays for the note only: one small
object per call.
"""

from __future__ import annotations

import weakref
from bisect import bisect_right

from tinygrad_rnn.autodiff import backward_replay
from tinygrad_rnn.tape import _anomaly, _frame, _grad_enabled, current_frame, next_seq


class Expansion:
    """One fast call: ``replay()`` -> its composite outputs, in the order of the fast ones.

    ``frame`` is the metadata context the call ran in (its composite nodes get the same scopes);
    ``anchor`` a creation number taken when the call began, so the composite nodes sort where
    the call's own nodes did in the tape's order; ``outputs`` weak references to the fast
    outputs (weak: the outputs' nodes point here, and a cycle would delay freeing them).
    """

    __slots__ = ("replay", "frame", "anchor", "outputs")

    def __init__(self, replay, frame, anchor: int, outputs):
        self.replay = replay
        self.frame = frame
        self.anchor = anchor
        self.outputs = [weakref.ref(t) for t in outputs]


def begin() -> int:
    """Call when a fast call starts; pass the result to :func:`record`."""
    return next_seq()


def record(outputs, replay, anchor: int) -> None:
    """Note on ``outputs`` (Tensors one fast call made) that ``replay()`` rebuilds them as a
    composite graph. Call it in the same metadata context the call began in."""
    exp = Expansion(replay, current_frame(), anchor, outputs)
    for k, t in enumerate(outputs):
        if t._node is not None:
            t._node.group = (exp, k)


class Opened:
    """The result of opening every fast call behind some tensors: ``resolve(t)`` gives the
    tensor that stands for ``t`` in the picture; ``order_key(node)`` sorts recorded nodes with
    the composite ones where their fast call was; ``backprop()`` (re)seeds every rerun from the
    gradients its fast outputs hold now."""

    def __init__(self):
        self.subst: dict = {}
        self.spans: list = []  # sorted (first, past-last creation number of a rerun, anchor)
        self.reruns: list = []  # (first creation number, [(fast output, composite output)])

    def resolve(self, t):
        return self.subst.get(t, t)

    def order_key(self, node) -> tuple:
        i = bisect_right(self.spans, (node.seq, float("inf"))) - 1
        if i >= 0:
            start, end, anchor = self.spans[i]
            if node.seq < end:
                return (anchor, node.seq)
        return (node.seq, -1)

    def backprop(self) -> None:
        """Backward through each rerun from its fast outputs' ``.grad`` (every output's, also
        of outputs a picture does not reach), as the composite run's backward would have."""
        for start, fast in self.reruns:
            seeds: dict = {}
            for t, c in fast:
                if t.grad is not None:
                    seeds[c] = t.grad if c not in seeds else seeds[c] + t.grad
            if seeds:
                backward_replay(seeds, start)


def calls(tensors) -> list:
    """The distinct Expansions behind ``tensors``, in the order first met."""
    found: dict = {}
    for t in tensors:
        node = t._node
        if node is not None and node.group is not None:
            found.setdefault(node.group[0], None)
    return list(found)


def open_calls(tensors, grads: bool = True) -> Opened:
    """Rerun every fast call among ``tensors`` (all the tensors of a graph) the composite way and
    map its outputs to the composite ones; with ``grads``, also backpropagate the reruns from
    the gradients the fast outputs hold (set by ``backward(retain_grads=True)``)."""
    opened = Opened()
    for exp in calls(tensors):
        start, comp = _rerun(exp)
        fast = [(ref(), c) for ref, c in zip(exp.outputs, comp)]
        fast = [(t, c) for t, c in fast if t is not None]
        opened.subst.update(fast)
        opened.reruns.append((start, fast))
        opened.spans.append((start, next_seq(), exp.anchor))
    opened.spans.sort()
    if grads:
        opened.backprop()
    return opened


def _rerun(exp: Expansion) -> tuple:
    """(first creation number of the rerun, its composite outputs), recorded in the call's
    context with recording on and anomaly checks off."""
    tokens = (_frame.set(exp.frame), _grad_enabled.set(True), _anomaly.set(False))
    try:
        start = next_seq()
        comp = exp.replay()
    finally:
        _anomaly.reset(tokens[2])
        _grad_enabled.reset(tokens[1])
        _frame.reset(tokens[0])
    return start, list(comp)
