"""Slice gradients (getitem, split): added in place into one buffer per input.

``backward(retain_grads=True)`` (and anomaly mode) materialise every slice gradient as a plain
array, the path every op had before; plain ``backward()`` adds slices into one buffer. Both must
give the same gradients, never write into an array the tape does not own, and keep a user's
arrays untouched.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.ops.registry import SliceGrad


def _leaf(*shape, seed=0):
    return tr.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def _both(params, loss_fn):
    """.grad of every param from the materialising path and from the in-place path."""
    out = []
    for retain in (True, False):
        for p in params:
            p.grad = None
        loss_fn().backward(retain_grads=retain)
        out.append([p.grad.copy() for p in params])
    return out


CASES = {
    # T slices of one intermediate, as the per-step reads of a hoisted input projection
    "time steps": lambda x, w: sum(((x * 2.0)[t] * w[t]).sum() for t in range(4)),
    # the four gates of an LSTM from one pre-activation
    "gates": lambda x, w: sum((g * w[k, :2]).sum()
                              for k, g in enumerate(tr.split(x[0] * 1.0, 4, axis=-1))),
    # a whole use visited before a slice use (the pending gradient is an alias: copy first)
    "whole then slice": lambda x, w: (x[1] * 3.0).sum() + ((x * w) + 1.0).sum(),
    # a slice use visited before a whole use
    "slice then whole": lambda x, w: ((x * w) + 1.0).sum() + (x[1] * 3.0).sum(),
    # slices of a leaf, one of them twice
    "leaf slices": lambda x, w: x[0].sum() + 2.0 * x[0].sum() + (x[2:, 1:] * w[2:, 1:]).sum(),
    # nested slices: a slice of a slice
    "nested": lambda x, w: ((x * 1.5)[1:][0] * w[1]).sum(),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_in_place_slices_equal_materialised(case):
    x, w = _leaf(4, 8), _leaf(4, 8, seed=1)
    ref, got = _both([x, w], lambda: CASES[case](x, w))
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, rtol=1e-15, atol=1e-15)


def test_slice_gradients_against_hand_values():
    x = _leaf(3, 4)
    loss = (x[0] * 2.0).sum() + x[0].sum() + (x[2] * x[2]).sum()
    loss.backward()
    want = np.zeros((3, 4))
    want[0] = 3.0
    want[2] = 2 * x.data[2]
    np.testing.assert_allclose(x.grad, want, rtol=1e-15)


def test_leaf_grad_accumulates_across_backward_calls():
    x = _leaf(3, 2)
    for _ in range(2):
        x[1].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [2, 2], [0, 0]])


def test_user_seed_and_saved_values_are_not_written():
    x = _leaf(2, 3)
    y = x * 1.0
    seed = np.ones((2, 3))
    out = y + y[0]  # y[0] broadcasts over the rows; y is used whole and sliced
    out.backward(seed)
    np.testing.assert_array_equal(seed, np.ones((2, 3)))  # the caller's seed is untouched
    np.testing.assert_array_equal(x.grad, [[3, 3, 3], [1, 1, 1]])


def test_anomaly_mode_and_dtype_mismatch_take_the_materialising_path():
    x = _leaf(3, 2)
    with tr.detect_anomaly():
        (x * 2.0)[1].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [2, 2], [0, 0]])
    g = SliceGrad((3, 2), (1,), np.ones(2, np.float32))
    np.testing.assert_array_equal(g.dense(), [[0, 0], [1, 1], [0, 0]])
    assert g.dense().dtype == np.float32


def test_embedding_rows_then_per_step_slices_match_torch_style_reference():
    """The 'embed' layout of the benchmarks: one (T, B, G) lookup, read per step."""
    rng = np.random.default_rng(3)
    W = tr.Tensor(rng.standard_normal((7, 5)), requires_grad=True)
    ids = rng.integers(0, 7, (6, 2))
    e = tr.F.embedding(W, ids)
    loss = sum((e[t] * float(t + 1)).sum() for t in range(6))
    loss.backward()
    want = np.zeros((7, 5))
    for t in range(6):
        for b in range(2):
            want[ids[t, b]] += t + 1
    np.testing.assert_allclose(W.grad, want, rtol=1e-15)
