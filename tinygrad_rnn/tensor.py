"""``Tensor``: a thin handle on a NumPy array that records the ops applied to it.

The handle holds ``data`` (an ndarray), ``grad``, ``requires_grad``, an optional ``name`` and the
:class:`~tinygrad_rnn.tape.OpNode` that created it (``None`` for leaves). Every operator is an
explicit method that calls :func:`apply` with an op object (``ops.add``, ...).
"""

from __future__ import annotations

import weakref

import numpy as np

from tinygrad_rnn import autodiff, ops
from tinygrad_rnn.accumulate import describe_inputs
from tinygrad_rnn.dtypes import as_float_array, get_default_dtype
from tinygrad_rnn.errors import AnomalyError, ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.tape import OpNode, _anomaly, _frame, _grad_enabled, current_frame

_new = object.__new__
_FORWARD_ERRORS = (ValueError, IndexError, TypeError, FloatingPointError)


def _forward_error(op, inputs, params, exc) -> Exception:
    shapes = [t.data.shape for t in inputs]
    detail = op.explain(shapes, params) if op.explain is not None else None
    where = current_frame().where()
    msg = f"{op.name}: {detail or exc}"
    if not detail:
        names = op.arg_names or [f"#{i}" for i in range(len(inputs))]
        msg += " (input shapes: " + ", ".join(f"{n} {s}" for n, s in zip(names, shapes)) + ")"
    if where:
        msg += f" [at {where}]"
    kind = ShapeError if isinstance(exc, ValueError) or detail else ArgumentError
    return kind(msg)


def _anomaly_error(op, inputs) -> AnomalyError:
    return AnomalyError(f"detect_anomaly: forward of op '{op.name}' "
                        f"({current_frame().where() or 'top level'}) produced NaN/Inf; "
                        f"inputs: {describe_inputs(inputs)}")


def apply(op, inputs: tuple, params: dict) -> Tensor:
    """Run ``op`` forward on the inputs' arrays; record an OpNode if any input needs grad.

    The hot path of every training loop: the unrolled 1-, 2- and 3-input cases save ~15% of the
    per-node cost (benchmarks/README.md, "tensor.apply").
    """
    n = len(inputs)
    try:
        if n == 1:
            a = inputs[0]
            out, saved = op.forward(a.data, **params)
            needs = (a.requires_grad,)
        elif n == 2:
            a, b = inputs
            out, saved = op.forward(a.data, b.data, **params)
            needs = (a.requires_grad, b.requires_grad)
        elif n == 3:  # linear (x, W, b): once per layer per step
            a, b, c = inputs
            out, saved = op.forward(a.data, b.data, c.data, **params)
            needs = (a.requires_grad, b.requires_grad, c.requires_grad)
        else:
            out, saved = op.forward(*[t.data for t in inputs], **params)
            needs = tuple([t.requires_grad for t in inputs])
    except _FORWARD_ERRORS as exc:
        raise _forward_error(op, inputs, params, exc) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # full reductions return NumPy scalars
    if _anomaly.get() and not np.all(np.isfinite(out)):
        raise _anomaly_error(op, inputs)
    # Tensor._make inlined: this runs once per op
    t = _new(Tensor)
    t.data = out
    t.grad = t.name = t._cut = t._state = None
    if True in needs and _grad_enabled.get():
        t.requires_grad = True
        t._node = OpNode(op, inputs, params, saved, needs, _frame.get())
    else:
        t.requires_grad = False
        t._node = None
    return t


def _norm_axis(axis, ndim: int, func: str):
    """None -> None; int or sequence -> sorted tuple of non-negative axes (checked)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise ShapeError(f"{func}: argument 'axis' must be an int, a tuple of ints or None; got "
                         f"{axis!r}")
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ShapeError(f"{func}: argument 'axis' must be in [{-ndim}, {ndim}) for a "
                             f"{ndim}-d tensor; got {axis!r}")
        out.append(int(a) % ndim)
    return tuple(sorted(set(out)))


def _norm_index(index):
    """Lists become int/bool arrays; Tensors are refused (an index is data, not a value)."""
    items = index if isinstance(index, tuple) else (index,)
    fixed = []
    for i in items:
        if isinstance(i, Tensor):
            raise DTypeError("getitem: index must be ints, slices or an integer/bool array; got a "
                             "Tensor (use t.numpy().astype(int) if you mean its values)")
        if isinstance(i, list):
            i = np.asarray(i)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
            raise DTypeError(f"getitem: index arrays must be integer or bool; got {i.dtype}")
        fixed.append(i)
    return tuple(fixed) if isinstance(index, tuple) else fixed[0]


class Tensor:
    """An n-d float array that remembers how it was computed.

    >>> x = tr.Tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> y = (x * x).sum(); y.backward(); x.grad      # dy/dx = 2x
    array([2., 4.])

    data: ndarray (float64 by default, float32 supported; see ``tinygrad_rnn.dtypes``).
    grad: ndarray of the same shape after ``backward()``, accumulated until zeroed.
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_node", "_cut", "_state", "__weakref__")
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False, name: str | None = None, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_float_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._node = None
        self._cut = None
        self._state = None  # a leaf's role as an initial state: tr.initial_state

    @classmethod
    def _make(cls, data: np.ndarray, node) -> Tensor:
        t = object.__new__(cls)
        t.data = data
        t.grad = t.name = t._cut = t._state = None
        t.requires_grad = node is not None
        t._node = node
        return t

    # ---- introspection -------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Shape of ``data``.")
    dtype = property(lambda self: self.data.dtype, doc="dtype of ``data``.")
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._node is None, doc="Not made by a recorded op.")

    def __len__(self) -> int:
        return len(self.data)

    def label(self) -> str:
        """Name if set, else the creating op's name, else 'input'/'param' (for messages)."""
        if self.name:
            return repr(self.name)
        if self._node is not None:
            return f"<{self._node.op.name}>"
        return "<param>" if self.requires_grad else "<input>"

    def __repr__(self) -> str:
        """PyTorch's style: ``tensor([[0.1, 0.2]], requires_grad=True, name='W')`` for a leaf,
        ``tensor(..., grad_fn=<TanhBackward>)`` for an op's result; the dtype only when it is not
        the default; NumPy's printing (4 digits, big arrays summarised by their corners)."""
        body = np.array2string(self.data, precision=4, threshold=1000, edgeitems=3,
                               separator=", ", prefix="tensor(")
        extra = []
        if self.data.dtype != get_default_dtype():
            extra.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            name = "".join(w.capitalize() for w in self._node.op.name.split("_"))
            extra.append(f"grad_fn=<{name}Backward>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        if self.data.size == 0:  # "[]" alone does not say the shape
            extra.insert(0, f"size={self.shape}")
        return f"tensor({', '.join([body, *extra])})"

    def numpy(self) -> np.ndarray:
        """The underlying array (not a copy)."""
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ShapeError(f"item: tensor must have exactly one element; got shape {self.shape}")
        return float(self.data.reshape(()))

    # ---- autodiff ------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False, retain_grads: bool = False):
        """Backpropagate from this tensor; see :func:`tinygrad_rnn.autodiff.backward`."""
        autodiff.backward(self, grad, retain_graph=retain_graph, retain_grads=retain_grads)

    def detach(self, cut: bool = False) -> Tensor:
        """Same values, no history: gradients stop here.

        cut=True marks a truncated-BPTT boundary: the result remembers (weakly, so old graphs can
        still be freed) where it came from, and ``tr.trace`` draws that edge as a cut.
        """
        t = Tensor._make(self.data, None)
        if cut:
            t._cut = weakref.ref(self)
        return t

    def zero_grad(self) -> None:
        self.grad = None

    # ---- arithmetic ----------------------------------------------------------------------
    def _coerce(self, other) -> Tensor:
        if isinstance(other, Tensor):
            return other
        arr = np.asarray(other)
        if arr.dtype.kind != "f":  # Python ints/floats/bools adopt this tensor's dtype
            arr = as_float_array(arr, self.dtype, "operator", "other")
        elif arr.ndim == 0 and not isinstance(other, np.ndarray):
            arr = arr.astype(self.dtype)
        return Tensor._make(arr, None)

    def _bin(self, op, other, reflected=False) -> Tensor:
        if type(other) is not Tensor:
            other = self._coerce(other)
        pair = (other, self) if reflected else (self, other)
        return apply(op, pair, {})

    def __add__(self, o): return self._bin(ops.add, o)
    def __radd__(self, o): return self._bin(ops.add, o, True)
    def __sub__(self, o): return self._bin(ops.sub, o)
    def __rsub__(self, o): return self._bin(ops.sub, o, True)
    def __mul__(self, o): return self._bin(ops.mul, o)
    def __rmul__(self, o): return self._bin(ops.mul, o, True)
    def __truediv__(self, o): return self._bin(ops.div, o)
    def __rtruediv__(self, o): return self._bin(ops.div, o, True)
    def __pow__(self, o): return self._bin(ops.pow, o)
    def __rpow__(self, o): return self._bin(ops.pow, o, True)
    def __matmul__(self, o): return self._bin(ops.matmul, o)
    def __rmatmul__(self, o): return self._bin(ops.matmul, o, True)
    def __neg__(self): return apply(ops.neg, (self,), {})

    # ---- elementwise functions ------------------------------------------------------------
    def exp(self) -> Tensor: return apply(ops.exp, (self,), {})
    def log(self) -> Tensor: return apply(ops.log, (self,), {})
    def tanh(self) -> Tensor: return apply(ops.tanh, (self,), {})
    def sigmoid(self) -> Tensor: return apply(ops.sigmoid, (self,), {})
    def relu(self) -> Tensor: return apply(ops.relu, (self,), {})

    # ---- reductions -----------------------------------------------------------------------
    def _reduce(self, op, axis, keepdims) -> Tensor:
        axis = _norm_axis(axis, self.ndim, op.name)
        return apply(op, (self,), {"axis": axis, "keepdims": bool(keepdims)})

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (int, tuple or None for all)."""
        return self._reduce(ops.sum, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        return self._reduce(ops.mean, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        if self.size == 0:
            raise ShapeError(f"max: cannot reduce an empty tensor (shape {self.shape})")
        return self._reduce(ops.max, axis, keepdims)

    # ---- shape ------------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
            raise DTypeError(f"reshape: the new shape must be ints; got {shape!r}")
        return apply(ops.reshape, (self,), {"shape": tuple(int(s) for s in shape)})

    def transpose(self, *axes) -> Tensor:
        axes = tuple(axes[0]) if len(axes) == 1 and not isinstance(axes[0], int) else axes
        return apply(ops.transpose, (self,), {"axes": tuple(axes) or None})

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, index) -> Tensor:
        return apply(ops.getitem, (self,), {"index": _norm_index(index)})

    # Tensors are compared by identity (they are graph nodes); use .data for values.
    __hash__ = object.__hash__


def initial_state(x, role: str = "h0"):
    """Say that leaf ``x`` starts a recurrence (h^(0), c^(0), a Hopfield net's start pattern):
    ``tr.trace`` records it with kind ``"state"`` (``"input"`` when it needs no gradient) and
    ``meta["role"] = role``, so pictures draw it as an input that receives a gradient, not as a
    weight shared by every step. Returns ``x``. The recurrent layers mark the h0/c0 they are
    given; hand-written loops may call this (unmarked, ``viz`` infers it from the graph).

    >>> h = tr.initial_state(tr.Tensor(np.zeros(H), requires_grad=True, name="h0"))
    """
    if not isinstance(x, Tensor):
        raise DTypeError(f"initial_state: argument 'x' must be a Tensor; got {type(x).__name__}")
    if x._node is not None:
        raise ArgumentError("initial_state: argument 'x' must be a leaf (made by tr.Tensor); got "
                            f"the output of op '{x._node.op.name}' (it is recorded where it was "
                            "made: no mark needed)")
    if not isinstance(role, str) or not role:
        raise ArgumentError(f"initial_state: argument 'role' must be a non-empty str; got {role!r}")
    x._state = role
    return x
