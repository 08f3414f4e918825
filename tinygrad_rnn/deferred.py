"""Deferred weight gradients: one GEMM per leaf parameter instead of one per use.

A weight shared by T unrolled steps gets T contributions ``g_t^T x_t`` (seed eq. 7). Computed one
by one they are T small GEMMs plus T accumulations; stacked, they are one GEMM over all rows:
``sum_t g_t^T x_t = [g_1; ...; g_T]^T [x_1; ...; x_T]``. An op opts in by declaring ``factored``
argument indices and a ``factor(g, saved, i, shape)`` that returns ``(a, b)`` with
``dL/d(input i) = a^T b``, ``(a, None)`` for the column sums of ``a`` (a bias), or ``None`` when
the factored form would not have exactly ``shape`` (then the VJP computes it as usual).

Backward defers only when nobody can see the per-use values: not with ``retain_grads`` (which
keeps every edge's gradient for the pictures) and not under ``detect_anomaly`` (which checks each
edge). Only leaves are deferred: an intermediate's gradient is needed before its own VJP runs.
"""

from __future__ import annotations

import numpy as np

# Factors held for one leaf before they are folded into .grad early, so a very long unroll keeps
# at most this much extra memory per parameter (the stacked GEMM is still large by then).
FLUSH_BYTES = 64 << 20


class _Pending:
    """The factors waiting for one leaf."""

    __slots__ = ("leaf", "pairs", "sums", "nbytes")

    def __init__(self, leaf):
        self.leaf = leaf
        self.pairs = []  # (a, b): contributes a^T b
        self.sums = []  # a: contributes a.sum(axis=0)
        self.nbytes = 0

    def add(self, a, b) -> None:
        if b is None:
            self.sums.append(a)
            self.nbytes += a.nbytes
        else:
            self.pairs.append((a, b))
            self.nbytes += a.nbytes + b.nbytes

    def flush(self) -> None:
        """Fold every held factor into ``leaf.grad`` with one GEMM (and one column sum)."""
        total = None
        if self.pairs:
            if len(self.pairs) == 1:
                a, b = self.pairs[0]
            else:
                a = np.concatenate([p[0] for p in self.pairs])
                b = np.concatenate([p[1] for p in self.pairs])
            total = a.T @ b
        if self.sums:
            s = self.sums[0] if len(self.sums) == 1 else np.concatenate(self.sums)
            s = s.sum(axis=0)
            total = s if total is None else total + s
        self.pairs, self.sums, self.nbytes = [], [], 0
        if total is None:
            return
        x = self.leaf
        if total.dtype != x.data.dtype:  # gradient dtype = value dtype, as on the per-edge path
            total = total.astype(x.data.dtype)
        if x.grad is None:
            x.grad = total  # a fresh array nobody else holds: no copy needed
        else:
            x.grad += total


class LeafGrads:
    """Per-leaf factored gradients collected during one backward walk."""

    __slots__ = ("_by_leaf",)

    def __init__(self):
        self._by_leaf: dict = {}  # leaf Tensor -> _Pending

    def defer(self, node, g) -> tuple:
        """Hold the factored gradients of ``node``'s leaf inputs; return the VJP's needs mask.

        The returned mask is ``node.needs`` with the deferred arguments switched off, so the VJP
        does not compute them.
        """
        needs = node.needs
        op, inputs, by_leaf = node.op, node.inputs, self._by_leaf  # runs once per linear/matmul
        mask = None
        factor, saved = op.factor, node.saved
        for i in op.factored:
            x = inputs[i]
            if not needs[i] or x._node is not None:
                continue
            f = factor(g, saved, i, x.data.shape)
            if f is None:
                continue
            p = by_leaf.get(x)  # tensors hash by identity
            if p is None:
                p = by_leaf[x] = _Pending(x)
            p.add(*f)
            if p.nbytes > FLUSH_BYTES:
                p.flush()
            if mask is None:
                mask = list(needs)
            mask[i] = False
        return needs if mask is None else tuple(mask)

    def flush(self) -> None:
        """Fold everything held into the leaves' ``.grad``."""
        for p in self._by_leaf.values():
            p.flush()
        self._by_leaf.clear()
