"""Bad input, fuzzed: every failure of a public entry point is one of the project's typed errors
(never a raw NumPy/Numba traceback, IndexError, or a crash)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr

F = tr.functional
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)
dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, object])
weird = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1e300, -1e-300])


def _array(shape, dtype, fill):
    if dtype is object:
        return np.full(shape, None, dtype=object)
    if dtype is np.bool_:
        return np.ones(shape, bool)
    with np.errstate(all="ignore"):  # NaN/Inf cast to int is the point of the test
        return np.full(shape, fill).astype(dtype)


def test_empty_batches_are_fine():
    """Empty inputs are not errors: an empty target list, an empty batch through an LSTM."""
    assert F.cross_entropy(tr.Tensor(np.zeros((0, 3))), []).item() == 0.0
    out, (h, c) = tr.nn.LSTM(2, 3, rng=0)(np.ones((3, 0, 2)))
    assert out.shape == (3, 0, 3) and h.shape == (1, 0, 3)


def _only_typed_errors(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except tr.TinyGradRNNError:
        pass


@SETTINGS
@given(a=shapes, b=shapes, op=st.sampled_from(["add", "mul", "matmul", "div", "sub", "pow"]))
def test_binary_ops_on_random_shapes(a, b, op):
    x = tr.Tensor(np.ones(a), requires_grad=True)
    y = tr.Tensor(np.full(b, 2.0))
    fns = {"add": lambda: x + y, "mul": lambda: x * y, "matmul": lambda: x @ y,
           "div": lambda: x / y, "sub": lambda: x - y, "pow": lambda: x**y}
    _only_typed_errors(fns[op])


@SETTINGS
@given(shape=shapes, dtype=dtypes, fill=weird)
def test_tensor_construction(shape, dtype, fill):
    _only_typed_errors(tr.Tensor, _array(shape, dtype, fill))


@SETTINGS
@given(n=st.integers(0, 4), c=st.integers(0, 4),
       targets=st.lists(st.integers(-200, 6), min_size=0, max_size=5),
       reduction=st.sampled_from(["mean", "sum", "none", "avg"]))
def test_cross_entropy_targets(n, c, targets, reduction):
    z = tr.Tensor(np.zeros((n, c)), requires_grad=True)
    _only_typed_errors(F.cross_entropy, z, targets, reduction=reduction)


@SETTINGS
@given(v=st.integers(1, 5), ids=st.lists(st.integers(-3, 8), max_size=6))
def test_embedding_indices(v, ids):
    _only_typed_errors(F.embedding, tr.Tensor(np.ones((v, 2)), requires_grad=True), ids)


@SETTINGS
@given(axis=st.integers(-5, 5), op=st.sampled_from(["sum", "mean", "max", "softmax", "split"]),
       shape=shapes)
def test_axis_arguments(axis, op, shape):
    x = tr.Tensor(np.ones(shape), requires_grad=True)
    fns = {"sum": lambda: x.sum(axis=axis), "mean": lambda: x.mean(axis=axis),
           "max": lambda: x.max(axis=axis), "softmax": lambda: F.softmax(x, axis=axis),
           "split": lambda: tr.split(x, 2, axis=axis)}
    _only_typed_errors(fns[op])


@SETTINGS
@given(kind=st.sampled_from(["RNN", "LSTM", "GRU"]), T=st.integers(0, 3),
       B=st.integers(0, 2), I=st.integers(1, 3),
       lengths=st.one_of(st.none(), st.lists(st.integers(-2, 5), min_size=0, max_size=3)),
       h0=st.one_of(st.none(), shapes))
def test_recurrent_layers(kind, T, B, I, lengths, h0):
    m = getattr(tr.nn, kind)(2, 3, rng=0)
    state = None if h0 is None else np.zeros(h0)
    if kind == "LSTM" and state is not None:
        state = (state, state)
    _only_typed_errors(m, np.ones((T, B, I)), state, lengths=lengths)


@SETTINGS
@given(text=st.text(alphabet="() 0123abc\\-\n", max_size=30))
def test_parse_tree_random_text(text):
    _only_typed_errors(tr.data.parse_tree, text)


@SETTINGS
@given(data=st.binary(max_size=200))
def test_readers_on_random_bytes(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "f.txt"
    path.write_bytes(data)
    _only_typed_errors(tr.data.load_trees, path)
    _only_typed_errors(tr.data.read_conllu, path)


@pytest.mark.parametrize("call", [
    lambda p: tr.Tensor(np.ones(3)).reshape("a"), lambda p: tr.Tensor(np.ones(3)).sum(axis=0.5),
    lambda p: tr.Tensor(np.ones(3)).reshape(3.0), lambda p: tr.Tensor(np.ones(3)).mean(axis="x"),
    lambda p: tr.F.cross_entropy(tr.Tensor(np.zeros((2, 0))), [0, 0]),
    lambda p: tr.Tensor(np.ones(3))[1.5], lambda p: tr.concat([tr.Tensor(1.0), tr.Tensor(2.0)]),
    lambda p: tr.optim.SGD(p, lr=-1), lambda p: tr.optim.Adam(p, lr=1e-3, betas=(1.5, 0.9)),
    lambda p: tr.optim.Adagrad(p, eps=0), lambda p: tr.optim.clip_grad_norm(p, 0),
    lambda p: tr.optim.clip_grad_value(p, -1), lambda p: tr.optim.RMSprop(p, alpha=-0.1),
    lambda p: tr.tbptt(lambda x, h, t: h, lambda h, t: None, [1, 2], None, 0, 1),
    lambda p: tr.tbptt(lambda x, h, t: h, lambda h, t: None, [1, 2], None, 2, 1),
    lambda p: tr.tbptt(lambda x, h, t: h, lambda h, t: None, [], None, 1, 1),
])
def test_bad_calls_raise_typed_errors(call):
    with pytest.raises(tr.TinyGradRNNError):
        call([tr.Tensor(np.ones(2), requires_grad=True)])
