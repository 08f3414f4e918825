"""The op registry: every op defined once, as a forward and a VJP, registered by name.

Each op module binds what :func:`register` returns (``tanh = register("tanh", ...)``), and code
that runs an op imports that object (``ops.tanh``). :data:`REGISTRY` is the index by name, for
what only has a name: tests that cover every op, a saved graph's node labels.

``forward(*arrays, **params) -> (out, saved)`` computes the result and whatever the VJP needs.
``vjp(g, saved, needs, **params) -> tuple`` returns one gradient per input (``None`` where
``needs[i]`` is false or the input is not differentiable). A VJP may return a gradient with the
*broadcast* shape; the tape reduces it with the one shared :func:`unbroadcast`.
``factor(g, saved, i, shape)`` (optional, for the arguments listed in ``factored``) returns the
gradient of input ``i`` in factored form, so backward can batch a shared weight's uses into one
GEMM; see :mod:`tinygrad_rnn.deferred`.
``explain(shapes, params) -> str | None`` is only called after a forward failed, to turn NumPy's
message into one that says which argument was expected to look how: the happy path pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from tinygrad_rnn import workspace


@dataclass(frozen=True)
class Op:
    name: str
    forward: Callable
    vjp: Callable
    arity: int | None  # number of tensor inputs; None = variadic (concat, stack)
    explain: Callable | None = None
    arg_names: tuple = ()
    factor: Callable | None = None
    factored: tuple = ()  # argument indices ``factor`` may handle

    def __repr__(self) -> str:
        return f"<op {self.name}>"


REGISTRY: dict[str, Op] = {}


def register(name, forward, vjp, *, arity, explain=None, arg_names=(), factor=None,
             factored=()) -> Op:
    if name in REGISTRY:
        raise RuntimeError(f"op {name!r} registered twice")
    op = Op(name, forward, vjp, arity, explain, tuple(arg_names), factor, tuple(factored))
    REGISTRY[name] = op
    return op


@contextmanager
def patched(op: Op, **fields):
    """Replace some of ``op``'s fields (e.g. ``vjp=...``) in place for the ``with`` block, then
    restore them. In place, because every importer holds the same object: tests swap in a
    wrong VJP, the profiler wraps forward and VJP in timers."""
    saved = {k: getattr(op, k) for k in fields}
    try:
        for k, v in fields.items():
            object.__setattr__(op, k, v)  # Op is frozen against accidental writes, not this
        yield op
    finally:
        for k, v in saved.items():
            object.__setattr__(op, k, v)


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes NumPy broadcasting added or stretched, giving ``shape``.

    The VJP of ``y = f(a, b)`` with broadcasting is the VJP without it, summed over every axis
    along which ``a`` was repeated: leading axes ``a`` lacked, and axes where ``a`` had size 1.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def broadcast_explain(shapes, params):
    """Shared explanation for elementwise ops whose operands do not broadcast."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        got = " and ".join(str(s) for s in shapes)
        return (f"operands of shapes {got} do not broadcast: expected each axis, aligned from "
                f"the right, to be equal or 1")
    return None


class SliceGrad:
    """A VJP's gradient that is zero except in ``index`` (a basic index) of an array of ``shape``.

    Returned by ops that read a slice of their input (getitem, split). Materialising it would
    cost a zero-filled copy of the whole input per use: T slices of a (T, B, G) input projection
    would write T times (T, B, G), and an LSTM's four gate slices of (B, 4H) four times (B, 4H).
    The tape instead adds ``value`` into one gradient buffer per input, in place
    (:class:`tinygrad_rnn.accumulate.Gradients`); :meth:`dense` gives the plain array where one is
    needed (leaf gradients of another dtype, kept per-edge gradients, anomaly checks).
    """

    __slots__ = ("shape", "index", "value", "dtype")

    def __init__(self, shape: tuple, index, value: np.ndarray):
        self.shape, self.index, self.value, self.dtype = shape, index, value, value.dtype

    def dense(self) -> np.ndarray:
        # a recycled buffer (freed only when nothing refers to it): a fresh zero-filled one of
        # this size is faulted in page by page (3.3 MB, the outputs of a (T=50, B=32, H=256)
        # LSTM: 3 ms of a 70 ms training step, 0.4 ms recycled)
        out = workspace.zeros(("slice_grad", self.shape, self.dtype.str), self.shape, self.dtype)
        out[self.index] = self.value
        return out

    def add_to(self, out: np.ndarray) -> np.ndarray:
        """out[index] += value, in place; returns ``out``."""
        out[self.index] += self.value
        return out
