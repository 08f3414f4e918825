"""Elementwise ops: arithmetic, exp/log, activations, where. NumPy ufuncs do the work (vectorised
and SIMD; a Numba loop of tanh/exp is scalar without a vector math library: see
benchmarks/README.md, "ops/elementwise.py").
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.ops.registry import broadcast_explain, register

_BINARY = ("a", "b")
_UNARY = ("x",)


def _fwd_add(a, b):
    return a + b, None


def _vjp_add(g, saved, needs):
    return g, g


add = register("add", _fwd_add, _vjp_add, arity=2, explain=broadcast_explain, arg_names=_BINARY)


def _fwd_sub(a, b):
    return a - b, None


def _vjp_sub(g, saved, needs):
    return g, (-g if needs[1] else None)


sub = register("sub", _fwd_sub, _vjp_sub, arity=2, explain=broadcast_explain, arg_names=_BINARY)


def _fwd_mul(a, b):
    return a * b, (a, b)


def _vjp_mul(g, saved, needs):
    a, b = saved
    return (g * b if needs[0] else None), (g * a if needs[1] else None)


mul = register("mul", _fwd_mul, _vjp_mul, arity=2, explain=broadcast_explain, arg_names=_BINARY)


def _fwd_div(a, b):
    return a / b, (a, b)


def _vjp_div(g, saved, needs):
    a, b = saved
    ga = g / b if needs[0] else None
    gb = -g * a / (b * b) if needs[1] else None
    return ga, gb


div = register("div", _fwd_div, _vjp_div, arity=2, explain=broadcast_explain, arg_names=_BINARY)


def _fwd_pow(a, b):
    out = a**b
    return out, (a, b, out)


def _vjp_pow(g, saved, needs):
    a, b, out = saved
    ga = g * b * a ** (b - 1) if needs[0] else None
    gb = None
    if needs[1]:  # d(a^b)/db = a^b log a, defined for a > 0; 0 elsewhere (as PyTorch)
        pos = a > 0
        gb = g * np.where(pos, out * np.log(np.where(pos, a, 1)), 0)
    return ga, gb


pow = register("pow", _fwd_pow, _vjp_pow, arity=2, explain=broadcast_explain, arg_names=_BINARY)


def _fwd_neg(a):
    return -a, None


def _vjp_neg(g, saved, needs):
    return (-g,)


neg = register("neg", _fwd_neg, _vjp_neg, arity=1, arg_names=_UNARY)


def _fwd_exp(a):
    out = np.exp(a)
    return out, out


def _vjp_exp(g, out, needs):
    return (g * out,)


exp = register("exp", _fwd_exp, _vjp_exp, arity=1, arg_names=_UNARY)


def _fwd_log(a):
    return np.log(a), a


def _vjp_log(g, a, needs):
    return (g / a,)


log = register("log", _fwd_log, _vjp_log, arity=1, arg_names=_UNARY)


def _fwd_tanh(a):
    out = np.tanh(a)
    return out, out


def _vjp_tanh(g, out, needs):
    return (g * (1 - out * out),)  # seed eq. 5: diag(1 - h^2)


tanh = register("tanh", _fwd_tanh, _vjp_tanh, arity=1, arg_names=_UNARY)


def stable_sigmoid(a):
    """sigma(a) as 0.5 (1 + tanh(a/2)): exact, and never overflows (1 / (1 + exp(-a)) does for
    a << 0). The sigmoid op, the fused cells and the hand BPTT all use this one formula."""
    return 0.5 * (1 + np.tanh(0.5 * a))


def stable_sigmoid_(a):
    """:func:`stable_sigmoid` in place, as 0.5 tanh(a/2) + 0.5: the same bits (halving commutes
    with rounding), no temporaries, for the sequence and tree ops' loops. Returns ``a``."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _fwd_sigmoid(a):
    out = stable_sigmoid(a)
    return out, out


def _vjp_sigmoid(g, out, needs):
    return (g * out * (1 - out),)


sigmoid = register("sigmoid", _fwd_sigmoid, _vjp_sigmoid, arity=1, arg_names=_UNARY)


def _fwd_relu(a):
    mask = a > 0
    return a * mask, mask


def _vjp_relu(g, mask, needs):
    return (g * mask,)


relu = register("relu", _fwd_relu, _vjp_relu, arity=1, arg_names=_UNARY)


def _where_explain(shapes, params):
    return broadcast_explain([np.shape(params["cond"]), *shapes], params)


def _fwd_where(a, b, *, cond):
    return np.where(cond, a, b), None


def _vjp_where(g, saved, needs, *, cond):
    zero = np.zeros((), dtype=g.dtype)
    return (np.where(cond, g, zero) if needs[0] else None,
            np.where(cond, zero, g) if needs[1] else None)


where = register("where", _fwd_where, _vjp_where, arity=2, explain=_where_explain,
                 arg_names=_BINARY)
