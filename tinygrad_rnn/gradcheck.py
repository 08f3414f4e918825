"""``tr.gradcheck``: compare analytic gradients with central finite differences in float64.

Two modes. *full*: the whole Jacobian, column by column from finite differences and row by row
from backward passes, every entry compared (for tiny inputs). *projection*: the output is reduced
with a fixed random vector v to s = <v, f(x)>; backward gives grad s = J^T v, compared with
finite differences of s per element (or, for large inputs, along random directions u:
<J^T v, u> vs (s(x + eps u) - s(x - eps u)) / 2 eps). A wrong VJP is caught either way.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.errors import DTypeError, GradError
from tinygrad_rnn.tensor import Tensor

FULL_LIMIT = 64 * 64  # output size x input size up to which "auto" builds the full Jacobian
ELEMENT_LIMIT = 2000  # input elements up to which each one is perturbed in projection mode


def _run(fn, inputs) -> np.ndarray:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise DTypeError(f"gradcheck: fn must return a Tensor; got {type(out).__name__}")
    return out


def _analytic(fn, inputs, seed: np.ndarray) -> list:
    for x in inputs:
        x.grad = None
    out = _run(fn, inputs)
    if not out.requires_grad:
        raise GradError("gradcheck: fn's output does not depend on any input that requires grad")
    out.backward(seed.reshape(out.shape))
    return [np.zeros_like(x.data) if x.grad is None else x.grad.copy() for x in inputs]


def _numeric_dir(fn, inputs, k: int, direction: np.ndarray, eps: float) -> np.ndarray:
    """(f(x_k + eps d) - f(x_k - eps d)) / 2 eps, flattened: one column of J d."""
    x = inputs[k]
    orig = x.data
    try:
        x.data = orig + eps * direction
        plus = np.array(_run(fn, inputs).data, dtype=np.float64).ravel()
        x.data = orig - eps * direction
        minus = np.array(_run(fn, inputs).data, dtype=np.float64).ravel()
    finally:
        x.data = orig
    return (plus - minus) / (2 * eps)


def _fail(k, x, where, analytic, numeric) -> GradError:
    label = x.name or f"#{k}"
    return GradError(f"gradcheck: gradient of input {label} (shape {x.shape}) is wrong at "
                     f"{where}: analytic {analytic:.10g} vs numeric {numeric:.10g} "
                     f"(difference {abs(analytic - numeric):.3g})")


def _close(a, n, atol, rtol) -> bool:
    return abs(a - n) <= atol + rtol * abs(n)


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
              mode: str = "auto", seed: int = 0) -> bool:
    """Check ``fn(*inputs)``'s gradients w.r.t. every input with ``requires_grad``.

    inputs: Tensors, float64 (float32 is refused: its rounding error, ~1e-7 relative, swamps
    a finite difference). Returns True, or raises GradError naming the input, the worst
    element, and the analytic and numeric values.
    """
    inputs = list(inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise DTypeError(f"gradcheck: inputs[{k}] must be a Tensor; got {type(x).__name__}")
        if x.requires_grad and x.dtype != np.float64:
            raise DTypeError(f"gradcheck: inputs[{k}] is {x.dtype}; finite differences need "
                             f"float64 (make it with dtype=np.float64)")
    if mode not in ("auto", "full", "projection"):
        raise DTypeError(f"gradcheck: mode must be 'auto', 'full' or 'projection'; got {mode!r}")
    rng = np.random.default_rng(seed)
    out_size = _run(fn, inputs).data.size
    checked = [k for k, x in enumerate(inputs) if x.requires_grad]
    n_in = sum(inputs[k].size for k in checked)
    if mode == "full" or (mode == "auto" and out_size * n_in <= FULL_LIMIT):
        _check_full(fn, inputs, checked, out_size, eps, atol, rtol)
    else:
        _check_projection(fn, inputs, checked, out_size, eps, atol, rtol, rng)
    return True


def _check_full(fn, inputs, checked, out_size, eps, atol, rtol) -> None:
    rows = [_analytic(fn, inputs, np.eye(out_size)[r]) for r in range(out_size)]
    for k in checked:
        x = inputs[k]
        for j in range(x.size):
            e = np.zeros(x.size)
            e[j] = 1.0
            e = e.reshape(x.shape)
            column = _numeric_dir(fn, inputs, k, e, eps)
            for r in range(out_size):
                num = float(column[r])
                ana = float(rows[r][k].ravel()[j])
                if not _close(ana, num, atol, rtol):
                    idx = np.unravel_index(j, x.shape) if x.shape else ()
                    raise _fail(k, x, f"output element {r}, input element {tuple(idx)}", ana, num)


def _check_projection(fn, inputs, checked, out_size, eps, atol, rtol, rng) -> None:
    v = rng.standard_normal(out_size)
    grads = _analytic(fn, inputs, v)
    for k in checked:
        x = inputs[k]
        if x.size <= ELEMENT_LIMIT:
            worst = None
            for j in range(x.size):
                e = np.zeros(x.size)
                e[j] = 1.0
                num = float(v @ _numeric_dir(fn, inputs, k, e.reshape(x.shape), eps))
                ana = float(grads[k].ravel()[j])
                err = abs(ana - num) - rtol * abs(num)
                if worst is None or err > worst[0]:
                    worst = (err, j, ana, num)
            err, j, ana, num = worst
            if err > atol:
                idx = np.unravel_index(j, x.shape) if x.shape else ()
                raise _fail(k, x, f"element {tuple(idx)} (projected output)", ana, num)
        else:
            for d in range(3):
                u = rng.standard_normal(x.shape)
                num = float(v @ _numeric_dir(fn, inputs, k, u, eps))
                ana = float(np.vdot(grads[k], u))
                if not _close(ana, num, atol, rtol * max(1.0, np.sqrt(x.size))):
                    raise _fail(k, x, f"random direction {d}", ana, num)
