"""Gradient clipping as the seeds write it: clip_grad_norm (all grads together), clip_grad_value."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.errors import ArgumentError, GradError
from tinygrad_rnn.kernels import optim as K
from tinygrad_rnn.optim import clip_grad_norm, clip_grad_value, grad_norm

SHAPES = [(3,), (4, 5), (2, 3, 2)]
DTYPES = [np.float32, np.float64]


# ---- clipping -------------------------------------------------------------------------------
def grads_of(rng, dtype=np.float64, scale=10.0):
    params = [tr.Tensor(np.zeros(s, dtype), requires_grad=True) for s in SHAPES]
    for p in params:
        p.grad = (scale * rng.standard_normal(p.shape)).astype(dtype)
    return params


def flat(params) -> np.ndarray:
    return np.concatenate([p.grad.astype(np.float64).ravel() for p in params if p.grad is not None])


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_rescales_all_grads_together(dtype, rng, backend):
    params = grads_of(rng, dtype)
    before = flat(params)
    norm = clip_grad_norm(params, 1.5)
    assert isinstance(norm, float)
    np.testing.assert_allclose(norm, np.linalg.norm(before), rtol=1e-12)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.linalg.norm(flat(params)), 1.5, rtol=tol)
    np.testing.assert_allclose(flat(params), before * 1.5 / norm, rtol=tol)
    assert all(p.grad.dtype == dtype for p in params)


def test_clip_grad_norm_below_threshold_is_a_no_op(rng, backend):
    params = grads_of(rng, scale=0.01)
    before = [p.grad for p in params]
    copies = [g.copy() for g in before]
    norm = clip_grad_norm(params, 100.0)
    assert norm < 100.0 and grad_norm(params) == norm
    assert all(p.grad is g and np.array_equal(g, c) for p, g, c in zip(params, before, copies))


@pytest.mark.parametrize("norm_type", [math.inf, "inf", 1, 3.0])
def test_clip_grad_norm_other_norms(norm_type, rng):
    params = grads_of(rng)
    before = flat(params)
    q = math.inf if norm_type == "inf" else norm_type
    want = np.linalg.norm(before, ord=q)
    assert math.isclose(clip_grad_norm(params, 2.0, norm_type), want, rel_tol=1e-12)
    assert math.isclose(np.linalg.norm(flat(params), ord=q), 2.0, rel_tol=1e-12)


def test_clip_grad_norm_skips_none_and_counts_shared_tensors_once(rng):
    params = grads_of(rng)
    params[1].grad = None
    want = np.linalg.norm(flat(params))
    assert math.isclose(clip_grad_norm(params + [params[0]], 1.0), want, rel_tol=1e-12)
    assert math.isclose(np.linalg.norm(flat(params)), 1.0, rel_tol=1e-12)
    assert clip_grad_norm([tr.Tensor(np.zeros(2), requires_grad=True)], 1.0) == 0.0


def test_clip_grad_norm_non_finite(rng):
    params = grads_of(rng)
    params[2].grad[0, 0, 0] = np.nan
    before = flat(params)
    assert math.isnan(clip_grad_norm(params, 1.0))
    np.testing.assert_array_equal(flat(params), before)  # NaN: nothing is clipped
    with pytest.raises(GradError, match=r"clip_grad_norm: the total 2-norm .* is nan"):
        clip_grad_norm(params, 1.0, error_if_nonfinite=True)
    params[2].grad[0, 0, 0] = np.inf
    before = flat(params)
    assert clip_grad_norm(params, 1.0, norm_type=math.inf) == math.inf
    np.testing.assert_array_equal(flat(params), before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_value(dtype, rng, backend):
    params = grads_of(rng, dtype, scale=2.0)
    params[0].grad[0] = np.nan
    before = flat(params)
    clip_grad_value(params, 1.0)
    np.testing.assert_array_equal(flat(params), np.clip(before, -1.0, 1.0))
    assert all(p.grad.dtype == dtype for p in params)


BAD_CLIPS = [
    (lambda p: clip_grad_norm(p, 0.0), r"clip_grad_norm: argument 'max_norm' .* > 0; got 0\.0"),
    (lambda p: clip_grad_norm(p, -1), r"clip_grad_norm: argument 'max_norm' .*; got -1"),
    (lambda p: clip_grad_norm(p, 1.0, 0), r"argument 'norm_type' must be a number > 0 or inf"),
    (lambda p: clip_grad_norm(p, 1.0, "two"), r"argument 'norm_type' .*; got 'two'"),
    (lambda p: clip_grad_value(p, 0), r"clip_grad_value: argument 'clip' .* > 0; got 0"),
]


@pytest.mark.parametrize("call, match", BAD_CLIPS)
def test_clip_bad_arguments(call, match, rng):
    with pytest.raises(ArgumentError, match=match):
        call(grads_of(rng))


def test_many_parameters_of_two_dtypes_clipped_and_updated_in_groups(rng):
    """More parameters than one multi-parameter kernel call takes (K.GROUP), float32 and
    float64 interleaved: every one clipped and updated as on its own."""
    n = 2 * K.GROUP + 3
    values = [rng.standard_normal(2 + i % 5) * 3 for i in range(n)]
    grads = [rng.standard_normal(v.shape) * 4 for v in values]
    params = [tr.Tensor(v.astype(np.float32 if i % 2 else np.float64), requires_grad=True)
              for i, v in enumerate(values)]
    opt = tr.optim.Adagrad(params, lr=0.1, eps_inside_sqrt=True)
    for _ in range(2):
        for p, g in zip(params, grads):
            p.grad = g.astype(p.dtype)
        tr.optim.clip_grad_value(params, 2.0)
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad, np.clip(g.astype(p.dtype), -2.0, 2.0))
        opt.step()
    for p, v, g in zip(params, values, grads):
        d = np.clip(g, -2, 2)  # two Adagrad steps (eps inside the sqrt) with the same d
        want = v - 0.1 * d / np.sqrt(d * d + 1e-8) - 0.1 * d / np.sqrt(2 * d * d + 1e-8)
        tol = 1e-5 if p.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(p.data, want, rtol=tol, atol=tol)
