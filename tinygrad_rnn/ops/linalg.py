"""Matrix product (batched, NumPy semantics). Stays on NumPy/BLAS: no Numba loop beats it."""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.ops.registry import register


def _matmul_explain(shapes, params):
    sa, sb = shapes
    if len(sa) == 0 or len(sb) == 0:
        return f"operands must have at least 1 dimension; got shapes {sa} and {sb}"
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        which = "b.shape[0]" if len(sb) == 1 else "b.shape[-2]"
        return (f"inner dimensions differ: a.shape[-1] = {ka} (a: {sa}) but {which} = {kb} "
                f"(b: {sb}); expected them equal")
    return f"batch dimensions of a {sa[:-2]} and b {sb[:-2]} do not broadcast"


def _linear_explain(shapes, params):
    sx, sw, sb = shapes
    if len(sw) != 2 or not sx or sx[-1] != sw[1]:
        return (f"weight must be (out, in) with in = x.shape[-1] = {sx[-1] if sx else None}; "
                f"got x {sx}, weight {sw}")
    return f"bias must have shape ({sw[0]},); got {sb}"


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _mm(a, b):
    """a @ b; a stack (..., k) times a 2-D b as ONE 2-D GEMM: NumPy runs a 3-D @ 2-D product as
    one small GEMM per leading index (measured ~2-5x slower at (25, 1, 100) @ (100, 65))."""
    if a.ndim > 2 and b.ndim == 2:
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + b.shape[1:])
    return a @ b


def _fwd_matmul(a, b):
    return _mm(a, b), (a, b)


def _vjp_matmul(g, saved, needs):
    a, b = saved
    if a.ndim == 1 and b.ndim == 1:  # inner product
        return (g * b if needs[0] else None), (g * a if needs[1] else None)
    # A 1-D operand is promoted by NumPy, a (k,) -> (1, k) and b (k,) -> (k, 1), and the added axis
    # is dropped from the result; redo that on a, b and g so the 2-D rule applies:
    # dL/da = g b^T, dL/db = a^T g. Batch axes that broadcasting added are summed by the tape.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g[..., None, :] if a.ndim == 1 else (g[..., None] if b.ndim == 1 else g)
    ga = gb = None
    if needs[0]:
        ga = _mm(g2, _swap(b2))
        ga = ga[..., 0, :] if a.ndim == 1 else ga
    if needs[1]:
        gb = _swap(a2) @ g2
        gb = gb[..., 0] if b.ndim == 1 else gb
    return ga, gb


def _factor_matmul(g, saved, i, shape):
    """dL/db = a2^T g2 for a 2-D b (a2, g2: leading axes flattened); dL/da = g b^T = (g^T)^T b^T
    for 2-D a and b. None where broadcasting makes the factored form not apply."""
    a, b = saved
    if i == 1 and b.ndim == 2 and g.ndim >= 1:
        a2, g2 = a.reshape(-1, a.shape[-1]), g.reshape(-1, g.shape[-1])
        return (a2, g2) if a2.shape[0] == g2.shape[0] and shape == b.shape else None
    if i == 0 and a.ndim == 2 and b.ndim == 2 and shape == a.shape:
        return g.T, b.T
    return None


matmul = register("matmul", _fwd_matmul, _vjp_matmul, arity=2, arg_names=("a", "b"),
                  explain=_matmul_explain, factor=_factor_matmul, factored=(0, 1))


def _fwd_linear(x, w, b):
    """y = x W^T + b: x (..., in), W (out, in) (PyTorch's layout), b (out,)."""
    y = _mm(x, w.T)
    y += b  # y is a fresh array: add the bias in place, no extra temporary
    return y, (x, w)


def _vjp_linear(g, saved, needs):
    x, w = saved
    gx = _mm(g, w) if needs[0] else None
    gw = None
    if needs[1]:  # sum over every leading (batch/time) axis: dL/dW = sum_n g_n x_n^T
        gw = g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])
    gb = g.reshape(-1, g.shape[-1]).sum(axis=0) if needs[2] else None
    return gx, gw, gb


def _factor_linear(g, saved, i, shape):
    """dL/dW = g2^T x2 and dL/db = column sums of g2 (g2, x2: leading axes flattened), so backward
    can stack every use of a weight into one GEMM. None if the shapes are unusual."""
    if g.ndim == 0:
        return None
    x, _ = saved
    g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
    if i == 1:
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        return (g2, x2) if shape == (g2.shape[1], x2.shape[1]) else None
    return (g2, None) if shape == (g2.shape[1],) else None


linear = register("linear", _fwd_linear, _vjp_linear, arity=3, explain=_linear_explain,
                  arg_names=("x", "weight", "bias"), factor=_factor_linear, factored=(1, 2))
