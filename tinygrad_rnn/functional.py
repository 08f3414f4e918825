"""Public functions (``tr.functional``, also ``tr.F``): one documented face per op.

Inputs are validated here, in Python, before any kernel runs: a kernel never sees an index it
could read out of bounds, and the user sees a message naming the function and the argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinygrad_rnn import ops
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.tensor import Tensor, apply


def _tensor(x, func: str, arg: str, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return like._coerce(x)
    try:
        return Tensor(x)
    except DTypeError as exc:
        raise DTypeError(f"{func}: argument '{arg}': {exc}") from None


def _int_array(x, func: str, arg: str) -> np.ndarray:
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if arr.size == 0 and arr.dtype.kind in "fb":
        arr = arr.astype(np.int64)  # an empty list arrives as float64: nothing to misread
    if arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)  # float tensors of whole numbers are accepted as indices
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{func}: argument '{arg}' must hold integers; got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_axis(axis: int, ndim: int, func: str) -> int:
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ShapeError(f"{func}: argument 'axis' must be in [{-ndim}, {ndim}); got {axis!r}")
    return int(axis) % ndim


def exp(x: Tensor) -> Tensor:
    """e^x, elementwise."""
    return _tensor(x, "exp", "x").exp()


def log(x: Tensor) -> Tensor:
    """Natural logarithm, elementwise."""
    return _tensor(x, "log", "x").log()


def tanh(x: Tensor) -> Tensor:
    """tanh(x); its VJP is g (1 - tanh(x)^2), the diag(1 - h^2) of the seeds' eq. 5."""
    return _tensor(x, "tanh", "x").tanh()


def sigmoid(x: Tensor) -> Tensor:
    """sigma(x) = 1 / (1 + e^-x), computed without overflow."""
    return _tensor(x, "sigmoid", "x").sigmoid()


def relu(x: Tensor) -> Tensor:
    """max(x, 0); gradient 0 at x = 0."""
    return _tensor(x, "relu", "x").relu()


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b with NumPy's rules: (..., n, k) @ (..., k, m) -> (..., n, m), batch axes broadcast."""
    a = _tensor(a, "matmul", "a")
    return apply(ops.matmul, (a, _tensor(b, "matmul", "b", like=a)), {})


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Affine map y = x W^T + b in one node: x (..., in), W (out, in), b (out,) -> (..., out).

    The weight layout is PyTorch's, so state dicts move both ways. In the seeds' notation
    U x^(t) + b is ``linear(x_t, U, b)``.
    """
    x = _tensor(x, "linear", "x")
    weight = _tensor(weight, "linear", "weight", like=x)
    if bias is None:
        return matmul(x, weight.T)
    return apply(ops.linear, (x, weight, _tensor(bias, "linear", "bias", like=x)), {})


def where(cond, a, b) -> Tensor:
    """Elementwise ``a if cond else b``; ``cond`` is a bool array (not differentiated).

    Used for masking padded time steps: ``h = where(mask, h_new, h_old)``.
    """
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond)
    if cond.dtype != bool:
        raise DTypeError(f"where: argument 'cond' must be a bool array; got dtype {cond.dtype}")
    a = _tensor(a, "where", "a", like=b if isinstance(b, Tensor) else None)
    b = _tensor(b, "where", "b", like=a)
    return apply(ops.where, (a, b), {"cond": cond})


def concat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; shapes must agree elsewhere."""
    ts = _many(tensors, "concat")
    axis = _check_axis(axis, ts[0].ndim, "concat") if ts[0].ndim else axis
    return apply(ops.concat, ts, {"axis": axis})


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis: T tensors (B, H) -> (T, B, H) for axis=0."""
    ts = _many(tensors, "stack")
    axis = _check_axis(axis, ts[0].ndim + 1, "stack")
    return apply(ops.stack, ts, {"axis": axis})


def _many(tensors, func: str) -> tuple:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise DTypeError(f"{func}: argument 'tensors' must be a list or tuple of Tensors; "
                         f"got {type(tensors).__name__}")
    if not tensors:
        raise ArgumentError(f"{func}: argument 'tensors' is empty; expected at least one Tensor")
    first = next((t for t in tensors if isinstance(t, Tensor)), None)
    return tuple(_tensor(t, func, f"tensors[{i}]", like=first) for i, t in enumerate(tensors))


def split(x: Tensor, sections, axis: int = 0) -> list[Tensor]:
    """Split along ``axis``: ``sections`` an int N gives N equal pieces; a list gives the sizes.

    >>> i, f, g, o = tr.split(gates, 4, axis=-1)   # (B, 4H) -> four (B, H)
    """
    x = _tensor(x, "split", "x")
    axis = _check_axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(sections, (int, np.integer)):
        if sections <= 0 or n % sections:
            raise ShapeError(f"split: axis {axis} has length {n}, which cannot be split into "
                             f"{sections} equal sections")
        sizes = [n // int(sections)] * int(sections)
    else:
        sizes = [int(s) for s in sections]
        if sum(sizes) != n or min(sizes, default=0) < 0:
            raise ShapeError(f"split: section sizes {sizes} must be >= 0 and sum to the length "
                             f"{n} of axis {axis}; they sum to {sum(sizes)}")
    out, start = [], 0
    for size in sizes:  # plain ints: np.cumsum cost more than the slicing (cells split per step)
        out.append(apply(ops.split, (x,), {"axis": axis, "start": start, "stop": start + size}))
        start += size
    return out


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """softmax(x)_i = e^{x_i} / sum_j e^{x_j} along ``axis`` (max-shifted: no overflow)."""
    x = _tensor(x, "softmax", "x")
    return apply(ops.softmax, (x,), {"axis": _check_axis(axis, x.ndim, "softmax")})


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x) = x - logsumexp(x) along ``axis``, computed stably."""
    x = _tensor(x, "log_softmax", "x")
    return apply(ops.log_softmax, (x,),
                 {"axis": _check_axis(axis, x.ndim, "log_softmax")})


def cross_entropy(logits: Tensor, targets, ignore_index: int = -100,
                  reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer ``targets`` under softmax(``logits``), fused and stable.

    logits: (..., C); targets: (...) ints in [0, C) or ``ignore_index`` (padding, contributes 0).
    reduction: 'mean' (over non-ignored targets; 0 if there are none), 'sum' or 'none'.
    Gradient w.r.t. the logits (seed eq. 4): softmax(o^(t)) - 1_{y^(t)}.
    """
    z = _tensor(logits, "cross_entropy", "logits")
    y = _int_array(targets, "cross_entropy", "targets")
    if reduction not in ("mean", "sum", "none"):
        raise ArgumentError(f"cross_entropy: argument 'reduction' must be 'mean', 'sum' or "
                            f"'none'; got {reduction!r}")
    if z.ndim < 1 or y.shape != z.shape[:-1]:
        raise ShapeError(f"cross_entropy: argument 'targets' must have shape logits.shape[:-1] = "
                         f"{z.shape[:-1]} (logits: {z.shape}); got {y.shape}")
    n_cls = z.shape[-1]
    # two reductions first; the full mask (four passes) only when something may be off
    if y.size and (y.min() < 0 or y.max() >= n_cls) and (
            bad := (y != ignore_index) & ((y < 0) | (y >= n_cls))).any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ArgumentError(f"cross_entropy: argument 'targets' must be in [0, {n_cls}) or "
                            f"ignore_index={ignore_index}; got {int(y[pos])} at position {pos}")
    params = {"targets": y, "ignore_index": int(ignore_index), "reduction": reduction}
    return apply(ops.cross_entropy, (z,), params)


def embedding(weight: Tensor, indices) -> Tensor:
    """Rows of ``weight`` (V, D) picked by integer ``indices`` (any shape) -> (*indices.shape, D).

    Backward scatter-adds into the picked rows; repeated indices accumulate.
    """
    w = _tensor(weight, "embedding", "weight")
    idx = _int_array(indices, "embedding", "indices")
    if w.ndim != 2:
        raise ShapeError(f"embedding: argument 'weight' must be 2-d (V, D); got shape {w.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        pos = tuple(int(i) for i in np.argwhere((idx < 0) | (idx >= w.shape[0]))[0])
        raise ArgumentError(f"embedding: argument 'indices' must be in [0, {w.shape[0]}) (the "
                            f"vocabulary size); got {int(idx[pos])} at position {pos}")
    return apply(ops.embedding, (w,), {"indices": idx})


def dropout(x: Tensor, p: float, rng: np.random.Generator, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (inverted dropout).

    rng: an explicit ``np.random.Generator`` (runs are reproducible; no global seed).
    """
    x = _tensor(x, "dropout", "x")
    if not 0.0 <= p < 1.0:
        raise ArgumentError(f"dropout: argument 'p' must be in [0, 1); got {p!r}")
    if not isinstance(rng, np.random.Generator):
        raise DTypeError(f"dropout: argument 'rng' must be a numpy.random.Generator; got "
                         f"{type(rng).__name__} (make one with np.random.default_rng(seed))")
    if not training or p == 0.0:
        return x
    return apply(ops.dropout, (x,), {"mask": dropout_mask(x.shape, p, rng), "p": float(p)})


def dropout_mask(shape, p: float, rng: np.random.Generator) -> np.ndarray:
    """The kept elements of :func:`dropout`: True with probability 1 - p (bool, ``shape``)."""
    return rng.random(shape) >= p
