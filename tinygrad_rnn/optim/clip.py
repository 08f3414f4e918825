"""Gradient clipping, the usual cure for exploding gradients in recurrent nets (seeds: clipping).

Both functions work in place on ``.grad`` of the given parameters and skip those whose grad is
None. Sums of squares use a Numba loop accumulating in float64 whatever the dtype: as fast as
BLAS ``np.dot``, single-threaded so it does not slow down when the cores are busy, and its
summation order, hence its result, does not depend on the BLAS thread count. ``max |g|`` stays
NumPy (its reduction beat the loop, which has to check for NaN). Clamping uses a Numba loop
(faster than ``np.clip``; benchmarks/README.md, "optim/").
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.errors import GradError
from tinygrad_rnn.kernels import optim as K
from tinygrad_rnn.optim.base import (
    check_real,
    collect_params,
    positive,
    scalar_type,
    use_kernel,
)


def _grads(params, where: str) -> list[np.ndarray]:
    """The non-None grads, each tensor once (a shared tensor listed twice is clipped once)."""
    items = collect_params(params, where, optimizer=False)
    if len(set(map(id, items))) == len(items):  # the usual case: no tensor listed twice
        return [p.grad for p in items if p.grad is not None]
    seen, out = set(), []
    for p in items:
        if p.grad is not None and id(p) not in seen:
            seen.add(id(p))
            out.append(p.grad)
    return out


def _norm_type(q, where: str) -> float:
    if isinstance(q, str) and q.strip().lower() == "inf":
        return math.inf
    return check_real(where, "norm_type", q, "a number > 0 or inf", lambda x: x > 0)


def _sum_squares(g: np.ndarray) -> float:
    if use_kernel(g):
        return K.sum_squares(g.reshape(-1))
    r = g.reshape(-1).astype(np.float64, copy=False)
    return float(np.dot(r, r))


def _max_abs(g: np.ndarray) -> float:
    return float(np.max(np.abs(g))) if g.size else 0.0  # NaN propagates (np.max, not max())


def grad_norm(params, norm_type: float = 2.0) -> float:
    """The joint norm of all the (non-None) gradients of ``params``, without changing them.

    (sum over every grad and element of |g_i|^q)^(1/q) with q = ``norm_type``; max |g_i| for
    q = inf. For monitoring: a norm that jumps by orders of magnitude is an exploding gradient.
    """
    return _total_norm(_grads(params, "grad_norm"), _norm_type(norm_type, "grad_norm"))


def _total_norm(grads: list[np.ndarray], norm_type: float) -> float:
    if norm_type == 2:
        return math.sqrt(sum(_sum_squares(g) for g in grads))
    if norm_type == math.inf:
        return float(np.max([_max_abs(g) for g in grads])) if grads else 0.0
    total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)
    return total ** (1.0 / norm_type)


def clip_grad_norm(
    params, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> float:
    """Rescale all gradients together so that their joint norm is at most ``max_norm``.

        ||g|| = ( sum over every parameter's grad, every element i, of |g_i|^q )^(1/q)
        if ||g|| > max_norm:   g <- max_norm * g / ||g||     for every grad, in place

    q = ``norm_type`` (2 by default; ``math.inf`` or ``"inf"`` gives max_i |g_i|). The norm is
    over all the gradients concatenated, so clipping keeps their direction. Returns ||g|| before
    clipping (a float; 0.0 if no grad is set). Unlike PyTorch, which always multiplies by
    min(1, max_norm / (||g|| + 1e-6)), this follows the seeds exactly: below the threshold the
    grads are untouched, above it the clipped norm equals max_norm.

    A NaN or Inf norm clips nothing (rescaling would turn the grads into NaN and zeros): the
    step that follows is as broken as the gradient. ``error_if_nonfinite=True`` raises GradError
    instead.
    """
    max_norm = positive("clip_grad_norm", "max_norm", max_norm)
    q = _norm_type(norm_type, "clip_grad_norm")
    grads = _grads(params, "clip_grad_norm")
    total = _total_norm(grads, q)
    if error_if_nonfinite and not math.isfinite(total):
        raise GradError(
            f"clip_grad_norm: the total {q:g}-norm of {len(grads)} gradients is "
            f"{total}; a NaN or Inf gradient cannot be clipped (look for the op "
            f"that produced it with tr.detect_anomaly())"
        )
    if math.isfinite(total) and total > max_norm:
        coef = max_norm / total
        for g in grads:
            np.multiply(g, coef, out=g)
    return total


def clip_grad_value(params, clip: float) -> None:
    """Clamp every gradient elementwise to [-clip, clip], in place (``clip`` > 0).

    Unlike :func:`clip_grad_norm` this can change the gradient's direction.
    """
    clip = positive("clip_grad_value", "clip", clip)
    flat: dict = {}  # dtype -> flat grads for the kernel, clamped GROUP per call
    for g in _grads(params, "clip_grad_value"):
        if use_kernel(g):
            flat.setdefault(g.dtype, []).append(g.reshape(-1))
        else:
            np.clip(g, -clip, clip, out=g)
    for arrays in flat.values():
        c = scalar_type(arrays[0])
        for group in K.groups(arrays):
            K.clamp_many(group, c(-clip), c(clip))
