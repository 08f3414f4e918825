"""Bad input, fuzzed: every failure of a public entry point is one of the project's typed errors
(never a raw NumPy/Numba traceback, IndexError, or a crash)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_rnn_graph
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
        return fn(*args, **kwargs)
    except tr.TinyGradRNNError:
        return None


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


# ---- entry points of issue 19: graph files, charts, progress bars, reprs ---------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=8)


GRAPH_JSON = small_rnn_graph(T=2).to_json()


def _only_format_errors(fn, *args, **kwargs):
    """Reading a graph raises GraphFormatError and nothing else (not even another typed one)."""
    try:
        return fn(*args, **kwargs)
    except tr.GraphFormatError:
        return None


@SETTINGS
@given(data=st.binary(max_size=300) | st.text(max_size=100).map(lambda s: "{" + s),
       cut=st.integers(0, len(GRAPH_JSON)))
def test_graph_json_from_random_or_truncated_bytes(data, cut, tmp_path_factory):
    import viz

    for text in (data, GRAPH_JSON[:cut], GRAPH_JSON[:cut].encode("utf-8")):
        _only_format_errors(tr.Graph.from_json, text)
        _only_format_errors(viz.load, text if not isinstance(text, str) else "{" + text)
    path = tmp_path_factory.mktemp("graph") / "g.json"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    _only_format_errors(tr.Graph.from_file, path)
    _only_format_errors(viz.load, path)


@pytest.mark.parametrize("depth", [10, 990, 5000, 200_000])
def test_graph_json_nested_at_any_depth(depth):
    import viz

    for text in ("[" * depth + "]" * depth, '{"nodes": ' + '{"a":' * depth + "1" + "}" * depth
                 + ', "edges": []}'):
        _only_format_errors(tr.Graph.from_json, text)
        _only_format_errors(viz.load, text.encode("utf-8"))


@SETTINGS
@given(where=st.sampled_from(["nodes", "edges", "top"]), index=st.integers(0, 20),
       key=st.sampled_from(["id", "kind", "op", "name", "shape", "dtype", "params", "meta",
                            "value", "grad", "src", "dst", "arg", "schema", "roots", "order",
                            "extra"]), value=json_values,
       meta=st.sampled_from(["step", "layer", "direction", "role", "scope", "site", "loop",
                             "tree_node"]), meta_value=json_values)
def test_graph_dict_with_one_field_changed(where, index, key, value, meta, meta_value):
    import json

    import viz

    d = json.loads(GRAPH_JSON)
    records = d[where] if where != "top" else [d]
    records[index % len(records)][key] = value
    node = d["nodes"][index % len(d["nodes"])]
    if isinstance(node.get("meta"), dict):  # what the views read to place and name nodes
        node["meta"][meta] = meta_value
    _only_format_errors(tr.Graph.from_dict, d)
    loaded = _only_format_errors(viz.load, d)
    if loaded is not None:  # what viz accepts, it can draw (or refuses with a typed error)
        for view in ("unrolled", "backward", "folded"):
            _only_typed_errors(viz.draw, loaded, view=view)
    repr(_only_format_errors(tr.Graph.from_dict, d))


series_values = json_values | st.lists(st.floats() | st.integers(-5, 5), max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.dictionaries(st.text(max_size=3) | st.floats(0.1, 3), series_values,
                              max_size=3) | json_values,
       fn=st.sampled_from(["gradient_norms", "jacobian_decay", "truncation_cost",
                           "training_curves"]),
       option=st.sampled_from([{}, {"logy": True}, {"smooth": 3}, {"title": 3}, {"mark": "x"},
                               {"rho": {"a": -1}}, {"dashed": 5}, {"smooth": float("nan")}]))
def test_charts_on_random_numbers(values, fn, option):
    from viz import plots

    if not plots.available():
        pytest.skip("matplotlib (the plot extra) missing")
    accepted = {"gradient_norms": {"title", "dashed"}, "jacobian_decay": {"title", "mark", "rho"},
                "truncation_cost": {"title"}, "training_curves": {"title", "logy", "smooth"}}
    kwargs = {k: v for k, v in option.items() if k in accepted[fn]}
    _only_typed_errors(getattr(plots, fn), values, **kwargs)


@SETTINGS
@given(iterable=st.none() | st.integers() | st.lists(st.integers(), max_size=3),
       desc=st.none() | st.text(max_size=3) | st.integers(),
       total=st.none() | st.integers(-2, 5) | st.floats() | st.text(max_size=2))
def test_progress_arguments(iterable, desc, total):
    from tinygrad_rnn.progress import progress

    bar = _only_typed_errors(progress, iterable, desc=desc, total=total)
    if bar is not None and iterable is not None:
        assert list(bar) == iterable


@SETTINGS
@given(shape=shapes, dtype=st.sampled_from([np.float64, np.float32]), fill=weird,
       requires_grad=st.booleans(), name=st.none() | st.text(max_size=5))
def test_tensor_repr_never_fails(shape, dtype, fill, requires_grad, name):
    with np.errstate(over="ignore"):  # 1e300 as float32 is inf: a value to print
        data = np.full(shape, fill, dtype=dtype)
    t = tr.Tensor(data, requires_grad=requires_grad, name=name)
    text = repr(t)
    assert text.startswith("tensor(") and text.endswith(")")
    if requires_grad:
        assert "grad_fn=<" in repr(t * 2.0)
