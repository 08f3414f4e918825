"""The tape: recorded op applications and the metadata context they are recorded in.

An :class:`OpNode` is created for every op application whose inputs need gradients (and only
then). It keeps the op, its input tensors, its parameters, the values its VJP needs (``saved``),
and the metadata :class:`Frame` that was current when it ran. Frames come from a ``ContextVar``,
so metadata is per thread and per asyncio task, and is never passed by hand.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from contextvars import ContextVar

_seq = itertools.count()


def next_seq() -> int:
    """A creation number nothing else gets: a mark in the tape's order (see expansion.py)."""
    return next(_seq)


class Frame:
    """One level of the metadata context: the scope path and the metadata dict (immutable).

    Frames are shared: every node recorded in the same context points at the same Frame, and a
    parent caches its children, so re-entering ``scope(role="gate_f")`` each step reuses one
    Frame instead of merging a dict per op (nobody mutates ``meta``; readers copy it).
    """

    __slots__ = ("scope", "meta", "_kids")

    def __init__(self, scope: str, meta: dict):
        self.scope = scope
        self.meta = meta
        self._kids = None

    def child(self, name: str | None, meta: dict) -> Frame:
        try:  # the types too: step=1 and step=True are equal keys but must stay distinct
            key = (name, *meta.items(), *map(type, meta.values()))
            hash(key)  # an unhashable value fails here, before anything is cached
            kids = self._kids
            if kids is not None:
                hit = kids.get(key)
                if hit is not None:
                    return hit
        except TypeError:  # an unhashable metadata value: build the frame, do not cache it
            key = None
        scope = self.scope if not name else (f"{self.scope}/{name}" if self.scope else name)
        merged = {**self.meta, **meta}
        if "step" in meta and "loop" not in meta:
            # which unrolled loop this step belongs to (an encoder's t=3 is not its decoder's)
            merged["loop"] = scope
        frame = Frame(scope, merged)
        if key is not None:
            if self._kids is None:
                self._kids = {}
            if len(self._kids) < _MAX_KIDS:  # bounded: e.g. one child per tree node is not kept
                self._kids[key] = frame
        return frame

    def where(self) -> str:
        """Human-readable location for error messages: "scope 'rnn/cell', step 3"."""
        parts = [f"scope '{self.scope}'"] if self.scope else []
        parts += [f"{k.replace('_', ' ')} {self.meta[k]}" for k in ("step", "tree_node", "layer")
                  if self.meta.get(k) is not None]
        return ", ".join(parts)


# Children cached per frame; past this a frame builds new children on each entry (still correct).
_MAX_KIDS = 256


_ROOT = Frame("", {})
_frame: ContextVar[Frame] = ContextVar("tinygrad_rnn_frame", default=_ROOT)
_grad_enabled: ContextVar[bool] = ContextVar("tinygrad_rnn_grad", default=True)
_anomaly: ContextVar[bool] = ContextVar("tinygrad_rnn_anomaly", default=False)


def current_frame() -> Frame:
    return _frame.get()


class scope:  # noqa: N801 - used as a function: ``with tr.scope("rnn", step=t):``
    """Record every op run inside under scope ``name`` (nested with '/') and metadata ``meta``.

    Known keys: ``step`` (time index t), ``tree_node``, ``depth``, ``role`` (e.g. ``'gate_f'``),
    ``layer``, ``direction``; any other key is kept too and shows up in ``tr.trace``. Setting
    ``step`` also records ``loop`` = the scope path that owns the unrolled loop (e.g.
    ``seq2seq/encoder/l0`` vs ``seq2seq/decoder_step``), unless ``loop`` is given.

    >>> with tr.scope("rnn", step=3):
    ...     h = (W @ h + U @ x).tanh()     # both nodes carry scope 'rnn', step 3

    A plain class, not a generator context manager: recurrent cells enter one per gate per step,
    and the generator machinery cost more than the op it labelled.
    """

    __slots__ = ("_name", "_meta", "_token")

    def __init__(self, name: str | None = None, **meta):
        self._name = name
        self._meta = meta

    def __enter__(self) -> None:
        self._token = _frame.set(_frame.get().child(self._name, self._meta))

    def __exit__(self, *exc) -> None:
        _frame.reset(self._token)


@contextmanager
def _setting(var: ContextVar, value):
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def no_grad():
    """Context: run ops without recording them (results have ``requires_grad=False``)."""
    return _setting(_grad_enabled, False)


def is_grad_enabled() -> bool:
    return _grad_enabled.get()


def detect_anomaly():
    """Context: check every forward result and every backward gradient for NaN/Inf.

    The first op that produces one raises :class:`~tinygrad_rnn.errors.AnomalyError` naming the op,
    its scope/step/tree node and statistics of its inputs. Slow: use it to hunt a NaN, not to train.
    NumPy's own floating-point warnings are silenced inside: the error says it better.
    """
    return _anomaly_checks()


@contextmanager
def _anomaly_checks():
    import numpy as np  # the tape itself needs no NumPy

    with _setting(_anomaly, True), np.errstate(all="ignore"):
        yield


def anomaly_enabled() -> bool:
    return _anomaly.get()


FREED = object()  # marks ``saved`` released by backward (``None`` is a valid saved value)


class OpNode:
    """One recorded op application (the creator of exactly one output tensor)."""

    __slots__ = ("op", "inputs", "params", "saved", "needs", "frame", "seq", "edge_grads",
                 "group")

    def __init__(self, op, inputs, params, saved, needs, frame):
        self.op = op
        self.inputs = inputs
        self.params = params
        self.saved = saved
        self.needs = needs
        self.frame = frame
        self.seq = next(_seq)  # creation order: a valid topological order of the tape
        self.edge_grads = None  # per-input gradient contributions, kept on request
        self.group = None  # (Expansion, k): output k of a fast call that tr.trace can open

    @property
    def freed(self) -> bool:
        """True once backward (without retain_graph) released the saved values."""
        return self.saved is FREED

    def where(self) -> str:
        return self.frame.where()

    def __repr__(self) -> str:
        loc = self.where()
        return f"<OpNode {self.op.name}{' at ' + loc if loc else ''}>"
