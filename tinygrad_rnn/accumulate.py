"""Where gradients go during one backward walk: :class:`Gradients`, the one accumulator.

The walk (:mod:`tinygrad_rnn.autodiff`) pops a node, calls its VJP and hands each input's
gradient here. Every way a gradient can arrive is this object's business:

* a plain add: ``pending[x] += g`` (gradients *accumulate*: the seeds' eq. 6-7);
* a slice (:class:`~tinygrad_rnn.ops.registry.SliceGrad`: T per-step reads, four gate slices)
  is added in place into one buffer per input instead of a zero-filled full-size array each;
* aliases: a VJP may return an array it does not own (a saved value, another edge's gradient),
  so a pending sum is copied before its first in-place add; ``owned`` lists the sums this walk
  allocated;
* deferred weight gradients: a leaf weight's uses are held as factors and folded into ``.grad``
  as one GEMM when the walk ends (:mod:`tinygrad_rnn.deferred`);
* observed mode (``retain_grads``, ``detect_anomaly``): every intermediate's ``.grad`` and every
  edge's gradient are kept as plain arrays, or checked for NaN/Inf, so nothing is deferred;
* a boundary (``since``): inputs made before that creation number get their edge recorded and
  nothing else (a replay of a fused call must not touch the real run's gradients).
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.deferred import LeafGrads
from tinygrad_rnn.errors import AnomalyError
from tinygrad_rnn.ops.registry import SliceGrad, unbroadcast


class Gradients:
    """The pending gradients of one walk, seeded with ``{tensor: gradient}``.

    keep: retain_grads (set ``.grad`` on intermediates and ``node.edge_grads``); check: the
    anomaly check; since: the replay boundary (see the module docstring). The walk pops from
    ``pending``, asks ``defer`` (None when nothing may be deferred) which leaf weights' factors
    to hold, and hands each VJP's result to ``receive``.
    """

    __slots__ = ("pending", "owned", "deferred", "defer", "keep", "check", "since", "receive")

    def __init__(self, seeds: dict, *, keep: bool = False, check: bool = False,
                 since: int = -1):
        self.pending = dict(seeds)
        self.owned: set = set()  # intermediates whose pending gradient is a sum made here
        self.keep, self.check, self.since = keep, check, since
        # per-use values are observable only through kept edges and the anomaly check
        watched = keep or check or since >= 0
        self.deferred = None if watched else LeafGrads()
        self.defer = None if watched else self.deferred.defer
        self.receive = self._observed if watched else self._plain

    def close(self) -> None:
        """Fold the deferred weight gradients into the leaves' ``.grad`` (also after an error
        mid-walk: leaves get what reached them)."""
        if self.deferred is not None:
            self.deferred.flush()
        # ``receive`` is a bound method of self: a reference cycle that would keep this walk's
        # tensors (``owned``) alive until the cyclic GC ran; break it so they go now
        self.receive = self.defer = None

    def _plain(self, t, node, g, in_grads, needs) -> None:
        """Add each input's gradient to what it has: slices in place into one buffer, sums
        owned, leaves into ``.grad``. Runs once per edge of every training step, so the common
        case (same shape and dtype, an intermediate) is written out here."""
        pending, owned = self.pending, self.owned
        for x, gi, need in zip(node.inputs, in_grads, needs):
            if gi is None or not need:
                continue
            xd = x.data
            if type(gi) is SliceGrad:
                if gi.dtype == xd.dtype:
                    _add_slice(x, gi, pending, owned)
                    continue
                gi = gi.dense()
            if gi.shape != xd.shape:
                gi = unbroadcast(gi, xd.shape)
            if x._node is None or gi.dtype != xd.dtype:
                _add_cast(x, gi, pending)
                continue
            prev = pending.get(x)
            if prev is None:
                pending[x] = gi  # may alias a saved value or another edge's gradient: not ours
            elif x in owned:
                prev += gi  # a sum this walk allocated: nobody else holds it
            else:
                pending[x] = prev + gi
                owned.add(x)

    def _observed(self, t, node, g, in_grads, needs) -> None:
        """Watched: every edge's gradient as a plain array, kept and/or checked, then added as
        unwatched ones are (less what crosses the replay boundary)."""
        if self.keep:
            t.grad = g
        dense = [None] * len(needs)
        for i, (x, gi, need) in enumerate(zip(node.inputs, in_grads, needs)):
            if gi is None or not need:
                continue
            if type(gi) is SliceGrad:
                gi = gi.dense()
            if gi.shape != x.data.shape:
                gi = unbroadcast(gi, x.data.shape)
            if self.check:
                check_finite(gi, node, f"backward gradient for input #{i}")
            dense[i] = gi
        if self.keep:
            node.edge_grads = list(dense)
        if self.since >= 0:  # the real run owns the gradients of what the replay read
            dense = [None if x._node is None or x._node.seq < self.since else gi
                     for x, gi in zip(node.inputs, dense)]
        self._plain(t, node, g, dense, needs)


def _add_slice(x, sg: SliceGrad, pending: dict, owned: set) -> None:
    """Add a slice gradient into x's gradient in place: one zero-filled buffer per input however
    many slices of it are used."""
    if x._node is None:  # leaf: into .grad
        if x.grad is None:
            x.grad = sg.dense()
        else:
            sg.add_to(x.grad)
        return
    prev = pending.get(x)
    if prev is None:
        pending[x] = sg.dense()
    elif x in owned:
        sg.add_to(prev)
        return
    else:  # prev may alias another edge's gradient or a saved value: copy before adding
        pending[x] = sg.add_to(np.array(prev, copy=True))
    owned.add(x)


def _add_cast(x, g, pending: dict) -> None:
    """A leaf's ``.grad`` (which accumulates across backward calls until zeroed), or a gradient
    of another dtype than its value (cast: gradients have the dtype of their value)."""
    if g.dtype != x.data.dtype:
        g = g.astype(x.data.dtype)
    if x._node is None:
        if x.grad is None:
            x.grad = np.array(g, copy=True)  # g may alias another input's gradient
        else:
            x.grad += g
    else:
        prev = pending.get(x)
        pending[x] = g if prev is None else prev + g  # new array: never mutate an alias


def check_finite(arr, node, what: str) -> None:
    if not np.all(np.isfinite(arr)):
        loc = node.where() or "top level"
        raise AnomalyError(f"detect_anomaly: {what} of op '{node.op.name}' ({loc}) contains "
                           f"NaN/Inf; inputs: {describe_inputs(node.inputs)}")


def describe_inputs(tensors) -> str:
    """One line per input for an anomaly message: label, shape, range, non-finite count."""
    parts = []
    for i, t in enumerate(tensors):
        d = t.data
        with np.errstate(all="ignore"):
            stats = (f"min {np.nanmin(d):.3g}, max {np.nanmax(d):.3g}"
                     if d.size and not np.all(np.isnan(d)) else "all NaN or empty")
        n_bad = int(d.size - np.count_nonzero(np.isfinite(d)))
        parts.append(f"#{i} {t.label()} shape {d.shape}: {stats}, {n_bad} non-finite")
    return "; ".join(parts)
