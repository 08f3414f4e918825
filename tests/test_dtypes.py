"""float64 default, float32 everywhere, and the one mixing rule."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr

F = tr.functional


def test_default_and_conversion_rule():
    assert tr.Tensor([1, 2]).dtype == np.float64
    assert tr.Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert tr.Tensor(np.ones(2, np.int32)).dtype == np.float64
    assert tr.Tensor([1.0], dtype=np.float32).dtype == np.float32
    tr.set_default_dtype(np.float32)
    try:
        assert tr.Tensor([1, 2]).dtype == np.float32
    finally:
        tr.set_default_dtype(np.float64)
    with pytest.raises(tr.DTypeError):
        tr.set_default_dtype(np.int64)


def test_mixing_rule():
    a32 = tr.Tensor(np.ones(2, np.float32), requires_grad=True)
    b64 = tr.Tensor(np.ones(2), requires_grad=True)
    assert (a32 * 2.0).dtype == np.float32  # Python scalars adopt the tensor's dtype
    assert (2 - a32).dtype == np.float32
    y = a32 * b64
    assert y.dtype == np.float64  # the wider float wins
    y.sum().backward()
    assert a32.grad.dtype == np.float32 and b64.grad.dtype == np.float64  # grads keep own dtype


def test_every_op_runs_in_float32():
    """Forward and backward of every op case keep float32 end to end."""
    from test_ops_grad import CASES

    for name, cases in CASES.items():
        for fn, inputs in cases:
            xs = [tr.Tensor(x.data.astype(np.float32), requires_grad=True) for x in inputs]
            out = fn(*xs)
            assert out.dtype == np.float32, name
            out.backward(np.ones(out.shape, np.float32))
            for x in xs:
                assert x.grad is None or x.grad.dtype == np.float32, name


def test_float32_matches_float64_values():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 7))
    y = rng.integers(0, 7, 5)
    l64 = F.cross_entropy(tr.Tensor(z), y).item()
    l32 = F.cross_entropy(tr.Tensor(z, dtype=np.float32), y).item()
    assert abs(l64 - l32) < 1e-5
