"""Every registered op is gradchecked in float64 on several shapes, broadcasting included.

The CASES table is keyed by op name; a test fails when an op is registered without a case, so a
new op cannot land untested.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import param
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import ops
from tinygrad_rnn.nn.tree_encoder import tree_gather
from tinygrad_rnn.nn.tree_fused import tree_lstm, tree_rnn
from tinygrad_rnn.ops import REGISTRY
from tinygrad_rnn.ops.registry import patched

F = tr.functional
R = np.random.default_rng(7)


def _p(*shape, positive=False):
    return param(R, *shape, positive=positive)


def _binary(fn, shapes, positive_b=False):
    return [(fn, [_p(*a), _p(*b, positive=positive_b)]) for a, b in shapes]


BCAST = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((1,), (2, 3)), ((), (3,))]

def _cell(op, gates, **params):
    """(x, h[, c], W_ih, W_hh, b_ih, b_hh) for a fused cell op with B=2, I=3, H=2."""
    from tinygrad_rnn.tensor import apply

    n_state = 2 if op is ops.lstm_cell else 1
    shapes = [(2, 3)] + [(2, 2)] * n_state + [(gates * 2, 3), (gates * 2, 2), (gates * 2,),
                                              (gates * 2,)]
    return (lambda *xs: apply(op, xs, params), [_p(*s) for s in shapes])


def _seq(op, gates, mask=False, **params):
    """(X, h0[, c0], W_ih, W_hh, b_ih, b_hh) for a whole-sequence op, T=3, B=2, I=3, H=2."""
    from tinygrad_rnn.tensor import apply

    n_state = 2 if op is ops.lstm_seq else 1
    shapes = [(3, 2, 3)] + [(2, 2)] * n_state + [(gates * 2, 3), (gates * 2, 2), (gates * 2,),
                                                 (gates * 2,)]
    m = np.array([[True, True], [True, False], [False, False]])[:, :, None] if mask else None
    return (lambda *xs: apply(op, xs, {"mask": m, **params}),
            [_p(*s) for s in shapes])


# Levels (start, stop, kids) of whole-tree ops. ONE_TREE: ((l0 l1) l2). DAG: leaves 0-3;
# 4 = (0 1), 5 = (2 2) (one child read twice), 6 = (3 1) (a height-1 tree; leaf 1 shared);
# 7 = (4 5), 8 = (4 3) (a height-2 tree); 9 = (7 4) (height 3): node 4 has three parents.
ONE_TREE = [(3, 4, np.array([0, 1])), (4, 5, np.array([3, 2]))]
DAG = [(4, 7, np.array([0, 1, 2, 2, 3, 1])), (7, 9, np.array([4, 5, 4, 3])),
       (9, 10, np.array([7, 4]))]


CASES = {
    "rnn_seq": [_seq(ops.rnn_seq, 1, reverse=False, nonlinearity="tanh"),
                _seq(ops.rnn_seq, 1, mask=True, reverse=True, nonlinearity="tanh"),
                _seq(ops.rnn_seq, 1, mask=True, reverse=False, nonlinearity="relu"),
                _seq(ops.rnn_seq, 1, reverse=True, nonlinearity="relu")],
    "lstm_seq": [_seq(ops.lstm_seq, 4, reverse=False),
                 _seq(ops.lstm_seq, 4, mask=True, reverse=True),
                 _seq(ops.lstm_seq, 4, mask=True, reverse=False),
                 _seq(ops.lstm_seq, 4, reverse=True)],
    "gru_seq": [_seq(ops.gru_seq, 3, reverse=False, reset_after=True),
                _seq(ops.gru_seq, 3, mask=True, reverse=True, reset_after=True),
                _seq(ops.gru_seq, 3, mask=True, reverse=False, reset_after=False),
                _seq(ops.gru_seq, 3, reverse=True, reset_after=False)],
    "affine": [_cell(ops.affine, 1), _cell(ops.affine, 3)],
    "rnn_cell": [_cell(ops.rnn_cell, 1, nonlinearity="tanh"),
                 _cell(ops.rnn_cell, 1, nonlinearity="relu")],
    "lstm_cell": [_cell(ops.lstm_cell, 4)],
    "gru_cell": [_cell(ops.gru_cell, 3, reset_after=True),
                 _cell(ops.gru_cell, 3, reset_after=False)],
    "add": _binary(lambda a, b: a + b, BCAST),
    "sub": _binary(lambda a, b: a - b, BCAST),
    "mul": _binary(lambda a, b: a * b, BCAST),
    "div": _binary(lambda a, b: a / b, BCAST, positive_b=True),
    "pow": [(lambda a, b: a**b, [_p(3, 4, positive=True), _p(3, 4)]),
            (lambda a: a**3.0, [_p(2, 3)]),
            (lambda a, b: a**b, [_p(2, 3, positive=True), _p(3)])],
    "neg": [(lambda a: -a, [_p(3, 2)])],
    "exp": [(lambda a: a.exp(), [_p(3, 2)])],
    "log": [(lambda a: a.log(), [_p(3, 2, positive=True)])],
    "tanh": [(lambda a: a.tanh(), [_p(4, 3)])],
    "sigmoid": [(lambda a: a.sigmoid(), [_p(4, 3)])],
    "relu": [(lambda a: a.relu(), [_p(4, 3)])],
    "where": [(lambda a, b: tr.where(np.array([[True], [False], [True]]), a, b),
               [_p(3, 4), _p(4)])],
    "matmul": [(lambda a, b: a @ b, [_p(3, 4), _p(4, 2)]),
               (lambda a, b: a @ b, [_p(2, 3, 4), _p(4, 5)]),
               (lambda a, b: a @ b, [_p(2, 1, 3, 4), _p(3, 4, 2)]),
               (lambda a, b: a @ b, [_p(4), _p(4, 3)]),
               (lambda a, b: a @ b, [_p(2, 3, 4), _p(4)]),
               (lambda a, b: a @ b, [_p(4), _p(4)])],
    "linear": [(lambda x, w, b: F.linear(x, w, b), [_p(3, 4), _p(2, 4), _p(2)]),
               (lambda x, w, b: F.linear(x, w, b), [_p(5, 3, 4), _p(2, 4), _p(2)]),
               (lambda x, w, b: F.linear(x, w, b), [_p(4), _p(3, 4), _p(3)])],
    "sum": [(lambda a: a.sum(), [_p(3, 4)]), (lambda a: a.sum(axis=1), [_p(3, 4, 2)]),
            (lambda a: a.sum(axis=(0, 2), keepdims=True), [_p(3, 1, 2)])],
    "mean": [(lambda a: a.mean(), [_p(3, 4)]), (lambda a: a.mean(axis=-1, keepdims=True),
                                                [_p(2, 5)])],
    "max": [(lambda a: a.max(), [_p(3, 4)]), (lambda a: a.max(axis=0), [_p(4, 3)]),
            (lambda a: a.max(axis=(1,), keepdims=True), [_p(2, 3, 1)])],
    "reshape": [(lambda a: a.reshape(6, 2), [_p(3, 4)]), (lambda a: a.reshape(-1), [_p(2, 3)])],
    "transpose": [(lambda a: a.T, [_p(3, 4)]), (lambda a: a.transpose(1, 2, 0), [_p(2, 3, 4)])],
    "getitem": [(lambda a: a[1:3, ::2], [_p(4, 5)]), (lambda a: a[np.array([0, 2, 0])], [_p(3, 4)]),
                (lambda a: a[:, [1, 1, 3]], [_p(2, 4)]), (lambda a: a[..., 0, None], [_p(2, 3)]),
                (lambda a: a[np.array([[0, 1], [1, 1]])], [_p(3, 2, 2)]),
                (lambda a: a[np.array([True, False, True])], [_p(3, 2)])],
    "concat": [(lambda a, b: tr.concat([a, b], axis=1), [_p(2, 3), _p(2, 1)]),
               (lambda a, b: tr.concat([a, b, a]), [_p(2, 3), _p(1, 3)])],
    "stack": [(lambda a, b: tr.stack([a, b]), [_p(2, 3), _p(2, 3)]),
              (lambda a, b: tr.stack([a, b, a], axis=-1), [_p(2, 3), _p(2, 3)])],
    "split": [(lambda a: tr.split(a, 2, axis=1)[1] * 2 + tr.split(a, 2, axis=1)[0], [_p(3, 4)]),
              (lambda a: tr.concat(tr.split(a, [1, 2, 1])[::-1]), [_p(4, 2)])],
    "softmax": [(lambda a: F.softmax(a), [_p(3, 5)]), (lambda a: F.softmax(a, axis=0), [_p(4, 2)])],
    "log_softmax": [(lambda a: F.log_softmax(a), [_p(3, 5)]),
                    (lambda a: F.log_softmax(a, axis=1), [_p(2, 3, 2)])],
    "cross_entropy": [
        (lambda z: F.cross_entropy(z, [1, 0, 4]), [_p(3, 5)]),
        (lambda z: F.cross_entropy(z, [[1, -100], [2, 0]], reduction="sum"), [_p(2, 2, 3)]),
        (lambda z: F.cross_entropy(z, [2, 0, 1, 1], reduction="none"), [_p(4, 3)]),
        (lambda z: F.cross_entropy(z, [0, 3], ignore_index=3), [_p(2, 4)])],
    "embedding": [(lambda w: F.embedding(w, [[0, 2], [2, 2]]), [_p(4, 3)])],
    "dropout": [(lambda x: F.dropout(x, 0.5, np.random.default_rng(0)), [_p(4, 5)])],
    # children of 3 nodes, 2 slots each, from two levels: row 2 of a read twice (a shared
    # subtree: gradients add up), slot 5 left empty (zero)
    "tree_gather": [(lambda a, b: tree_gather([a, b], [(np.array([0, 1, 3]), np.array([2, 2, 0])),
                                                      (np.array([2, 4]), np.array([1, 0]))], 3, 2),
                     [_p(4, 3), _p(2, 3)]),
                    (lambda a: tree_gather([a], [(np.array([0, 1]), np.array([1, 1]))], 1, 2),
                     [_p(2, 2)])],
    # whole-tree ops: (leaves, W, b) on one small tree, then a DAG of several trees
    "tree_rnn": [(lambda x, w, b: tree_rnn(x, w, b, ONE_TREE), [_p(3, 2), _p(2, 4), _p(2)]),
                 (lambda x, w, b: tree_rnn(x, w, b, DAG), [_p(4, 3), _p(3, 6), _p(3)])],
    "tree_lstm": [(lambda x, w, b: tree_lstm(x, w, b, ONE_TREE), [_p(3, 4), _p(10, 4), _p(10)]),
                  (lambda x, w, b: tree_lstm(x, w, b, DAG), [_p(4, 4), _p(10, 4), _p(10)])],
}


def test_every_registered_op_has_a_case():
    missing = sorted(set(REGISTRY) - set(CASES))
    assert not missing, f"ops registered without a gradient case: {missing}"
    assert not sorted(set(CASES) - set(REGISTRY)), "cases for ops that do not exist"


def test_every_op_is_an_object_you_import():
    """``tinygrad_rnn.ops.<name>`` is the registered op itself: code applies it, never looks it
    up by a string."""
    assert [n for n, op in REGISTRY.items() if getattr(ops, n, None) is not op] == []
    assert sorted(REGISTRY) == sorted(set(ops.__all__) - {"REGISTRY", "Op", "unbroadcast"})


def test_patched_restores_the_op_after_an_error():
    vjp = ops.tanh.vjp
    with pytest.raises(ZeroDivisionError), patched(ops.tanh, vjp=None):
        assert ops.tanh.vjp is None
        raise ZeroDivisionError
    assert ops.tanh.vjp is vjp


@pytest.mark.parametrize("name,k", [(n, k) for n in sorted(CASES) for k in range(len(CASES[n]))])
def test_gradcheck_op(name, k):
    fn, inputs = CASES[name][k]
    out = fn(*inputs)
    assert out._node is not None and out.requires_grad
    ops_used = _ops_in_graph(out)
    assert name in ops_used, f"case for {name} does not use it (uses {ops_used})"
    assert tr.gradcheck(fn, inputs)
    assert tr.gradcheck(fn, inputs, mode="projection")


def _ops_in_graph(out):
    return {n.op for n in tr.trace(out).nodes if n.op}


def test_gradcheck_catches_a_wrong_vjp():
    """Negative test: a tanh VJP with the wrong sign must be caught, in both modes."""
    x = param(R, 3, 2, name="x")
    with patched(ops.tanh, vjp=lambda g, out, needs: (-g * (1 - out * out),)):
        for mode in ("full", "projection"):
            with pytest.raises(tr.GradError, match=r"input 'x'|input x.*analytic .* numeric"):
                tr.gradcheck(lambda a: a.tanh(), [x], mode=mode)


def test_gradcheck_random_direction_mode_catches_error():
    x = param(R, 50, 50)  # 2,500 elements > ELEMENT_LIMIT: random directions
    with patched(ops.exp, vjp=lambda g, out, needs: (g * out * 1.01,)):
        with pytest.raises(tr.GradError, match="random direction"):
            tr.gradcheck(lambda a: a.exp(), [x], mode="projection")
    assert tr.gradcheck(lambda a: a.exp(), [param(R, 3, 2)])  # the right VJP is back


def test_gradcheck_refuses_float32():
    x = tr.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(tr.DTypeError, match="float64"):
        tr.gradcheck(lambda a: a * 2, [x])


shape_st = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@settings(max_examples=40, deadline=None)
@given(a=shape_st, b=shape_st, data=st.data())
def test_broadcast_fuzz(a, b, data):
    """Random shape pairs: where NumPy broadcasts, every binary op's gradient checks out."""
    op = data.draw(st.sampled_from(["add", "sub", "mul", "div", "where"]))
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        with pytest.raises(tr.ShapeError, match="do not broadcast"):
            {"add": lambda x, y: x + y}.get(op, lambda x, y: x * y)(_p(*a), _p(*b))
        return
    x, y = _p(*a), _p(*b, positive=True)
    fns = {"add": lambda p, q: p + q, "sub": lambda p, q: p - q, "mul": lambda p, q: p * q,
           "div": lambda p, q: p / q,
           "where": lambda p, q: tr.where(np.ones(np.broadcast_shapes(a, b), bool), p, q)}
    assert tr.gradcheck(fns[op], [x, y])
