"""User mistakes end in typed errors that name the op, argument, expected vs got, and where."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import ops
from tinygrad_rnn.tensor import apply

F = tr.functional


def t(*shape, grad=True):
    return tr.Tensor(np.ones(shape), requires_grad=grad)


def test_matmul_shape_error_names_dims_and_step():
    with tr.scope("rnn", step=4):
        with pytest.raises(tr.ShapeError) as info:
            t(2, 3) @ t(4, 5)
    msg = str(info.value)
    assert msg.startswith("matmul:") and "a.shape[-1] = 3" in msg and "= 4" in msg
    assert "scope 'rnn', step 4" in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_broadcast_error():
    with pytest.raises(tr.ShapeError, match=r"add: operands of shapes \(2, 3\) and \(4,\)"):
        t(2, 3) + t(4)
    with pytest.raises(ValueError):  # ShapeError is a ValueError
        t(2, 3) * t(4)


@pytest.mark.parametrize("op, gates, states, params", [
    (ops.rnn_seq, 1, 1, {"nonlinearity": "tanh"}), (ops.lstm_seq, 4, 2, {}),
    (ops.gru_seq, 3, 1, {"reset_after": True})])
def test_sequence_op_shape_error_names_argument(op, gates, states, params):
    args = [t(4, 2, 3)] + [t(2, 5)] * states + [t(gates * 5, 3), t(gates * 5, 4),
                                                 t(gates * 5), t(gates * 5)]
    with pytest.raises(tr.ShapeError, match=rf"^{op.name}: argument 'weight_hh' must have shape "
                                            rf"\({gates * 5}, 5\); got \({gates * 5}, 4\)"):
        apply(op, args, {"reverse": False, "mask": None, **params})


@pytest.mark.parametrize("bad, pattern", [
    ([0, 5], r"targets' must be in \[0, 5\).*got 5 at position \(1,\)"),
    ([0, -1], r"got -1"),
    ([[0, 1]], r"shape logits.shape\[:-1\] = \(2,\)"),
    ([0.5, 1], r"integers"),
])
def test_cross_entropy_target_errors(bad, pattern):
    with pytest.raises((tr.ArgumentError, tr.ShapeError, tr.DTypeError), match=pattern):
        F.cross_entropy(t(2, 5), bad)


def test_embedding_out_of_vocabulary_never_reaches_kernel():
    with pytest.raises(tr.ArgumentError, match=r"indices' must be in \[0, 4\).*got 9"):
        F.embedding(t(4, 3), [[1, 9]])


def test_misc_errors():
    with pytest.raises(tr.ShapeError, match="reshape"):
        t(2, 3).reshape(4, 2)
    with pytest.raises(tr.ShapeError, match="axis"):
        t(2, 3).sum(axis=2)
    with pytest.raises(tr.ShapeError, match="getitem"):
        t(2, 3)[5]
    with pytest.raises(tr.ShapeError, match="split"):
        tr.split(t(2, 5), 2, axis=1)
    with pytest.raises(tr.ShapeError, match="sum to"):
        tr.split(t(2, 5), [2, 2], axis=1)
    with pytest.raises(tr.ShapeError, match="concat: all tensors"):
        tr.concat([t(2, 3), t(3, 3)], axis=1)
    with pytest.raises(tr.ArgumentError, match="empty"):
        tr.stack([])
    with pytest.raises(tr.ArgumentError, match="'p'"):
        F.dropout(t(2), 1.5, np.random.default_rng(0))
    with pytest.raises(tr.DTypeError, match="Generator"):
        F.dropout(t(2), 0.5, 0)
    with pytest.raises(tr.DTypeError, match="bool"):
        tr.where(np.ones(2), t(2), t(2))
    with pytest.raises(tr.ShapeError, match="empty"):
        tr.Tensor(np.zeros((0, 3))).max()
    with pytest.raises(tr.DTypeError, match="Tensor"):
        t(3)[t(1)]


@pytest.mark.parametrize("data", [np.array([1 + 2j]), np.array(["a"]), [object()]])
def test_tensor_rejects_non_real_data(data):
    with pytest.raises(tr.DTypeError, match="Tensor"):
        tr.Tensor(data)


def test_detect_anomaly_names_first_bad_op():
    x = tr.Tensor([1.0, -1.0], requires_grad=True)
    with tr.detect_anomaly():
        with tr.scope("cell", step=3):
            with pytest.raises(tr.AnomalyError) as info:
                x.log().sum()
    msg = str(info.value)
    assert "'log'" in msg and "scope 'cell', step 3" in msg and "min -1" in msg


def test_detect_anomaly_in_backward():
    x = tr.Tensor([0.0, 1.0], requires_grad=True)
    y = (x**0.5).sum()  # forward finite, backward 0.5 / sqrt(0) = inf
    with tr.detect_anomaly():
        with pytest.raises(tr.AnomalyError, match="backward gradient.*'pow'"):
            y.backward()


def test_composite_cell_shape_error_names_the_argument():
    cell = tr.nn.RNNCell(3, 4, rng=0)
    cell.weight_hh.data = np.zeros((4, 5))
    with pytest.raises(tr.ShapeError, match=r"^affine: argument 'weight_hh' must have shape "
                                            r"\(4, 4\); got \(4, 5\) \[at scope 'rnncell'\]"):
        cell(tr.Tensor(np.ones((2, 3))))


def test_detect_anomaly_speaks_instead_of_numpy():
    x = tr.Tensor([-1.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning would surface as the exception
        with tr.detect_anomaly(), pytest.raises(tr.AnomalyError, match="'log'"):
            x.log()
    assert np.geterr()["invalid"] == "warn"  # NumPy's settings are restored after


def test_mean_over_nothing_is_nan_without_a_numpy_warning():
    x = tr.Tensor(np.ones((0, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = x.mean(axis=0)
        assert m.shape == (3,) and np.isnan(m.data).all()  # as PyTorch
        assert x.mean(axis=1).shape == (0,) and np.isnan(x.mean().data)
        m.sum().backward()
    assert x.grad.shape == (0, 3)
