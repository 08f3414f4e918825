"""trace(): deterministic ids, JSON round trip, check(), per-edge gradients."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import tinygrad_rnn as tr


def _elman(T=3, seed=0):
    rng = np.random.default_rng(seed)
    U = tr.Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="U")
    W = tr.Tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True, name="W")
    V = tr.Tensor(rng.standard_normal((3, 4)), requires_grad=True, name="V")
    h = tr.Tensor(np.zeros((1, 3)), name="h0")
    losses = []
    for t in range(T):
        with tr.scope("rnn", step=t):
            x = tr.Tensor(rng.standard_normal((1, 2)), name=f"x{t}")
            h = (x @ U + h @ W).tanh()
            losses.append(tr.F.cross_entropy(h @ V, [t % 4]))
    loss = losses[0]
    for item in losses[1:]:
        loss = loss + item
    loss.backward(retain_grads=True)
    return loss


def test_trace_is_deterministic_and_json_round_trips():
    a = tr.trace(_elman()).to_json(sort_keys=True)
    b = tr.trace(_elman()).to_json(sort_keys=True)
    assert a == b
    g = tr.Graph.from_json(a)
    assert g.to_json(sort_keys=True) == a
    d = json.loads(a)
    assert d["schema"] == 1 and len(d["roots"]) == 1


def test_trace_contents():
    g = tr.trace(_elman())
    g.check()
    assert g.nodes[g.roots[0]].op == "add"
    kinds = {n.kind for n in g.nodes}
    assert kinds == {"op", "param", "input"}
    ids = [n.id for n in g.nodes]
    assert ids == sorted(ids)
    assert all(e.src < e.dst for e in g.edges)  # topological numbering
    tanh = g.find(op="tanh", step=1)[0]
    assert tanh.meta["scope"] == "rnn" and tanh.meta["site"] == "rnn/tanh#0"
    assert tanh.grad is not None and tanh.grad["norm"] > 0 and len(tanh.value["values"]) == 3
    ce = g.find(op="cross_entropy")[0]
    assert ce.params["targets"] == [0] and ce.params["reduction"] == "mean"
    w_uses = [e for e in g.edges if g.nodes[e.src].name == "W"]
    assert len(w_uses) == 3 and all(e.grad["shape"] == [3, 3] for e in w_uses)


def test_check_rejects_bad_graphs():
    g = tr.trace(_elman(T=2))
    d = g.to_dict()
    bad = json.loads(json.dumps(d))
    bad["edges"].append({"src": 0, "dst": 999, "arg": 0, "kind": "data", "grad": None})
    with pytest.raises(tr.ArgumentError, match="outside"):
        tr.Graph.from_dict(bad)
    cyc = json.loads(json.dumps(d))
    last = len(cyc["nodes"]) - 1
    cyc["edges"].append({"src": last, "dst": 0, "arg": 0, "kind": "cut", "grad": None})
    cyc["edges"].append({"src": 0, "dst": last, "arg": 5, "kind": "cut", "grad": None})
    with pytest.raises(tr.ArgumentError, match="cycle"):
        tr.Graph.from_dict(cyc)
    shape = json.loads(json.dumps(d))
    e = next(e for e in shape["edges"] if e["grad"])
    e["grad"]["shape"] = [99]
    with pytest.raises(tr.ArgumentError, match="shape"):
        tr.Graph.from_dict(shape)
    with pytest.raises(tr.DTypeError):
        tr.Graph.from_dict([1, 2])


def test_trace_without_retained_grads_has_leaf_grads_only():
    W = tr.Tensor(np.eye(2), requires_grad=True, name="W")
    y = (tr.Tensor(np.ones((1, 2))) @ W).tanh().sum()
    y.backward()
    g = tr.trace(y)
    assert g.find(name="W")[0].grad is not None
    assert all(n.grad is None for n in g.nodes if n.kind == "op")
    assert all(e.grad is None for e in g.edges)


def test_trace_argument_errors():
    with pytest.raises(tr.ArgumentError):
        tr.trace()
    with pytest.raises(tr.DTypeError, match="Tensor"):
        tr.trace(np.ones(3))


@pytest.fixture(params=["kernel", "numpy"])
def summary_path(request, monkeypatch):
    """Both ways summaries are made: the Numba kernels (used once Numba runs in the process)
    and NumPy's reductions (before that, or with the JIT off)."""
    from tinygrad_rnn import tracing

    monkeypatch.setattr(tracing, "warm", lambda: request.param == "kernel")
    return request.param


def _reference(a) -> dict:
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    return {"min": a.min(), "max": a.max(), "mean": a.sum() / a.size, "norm": np.sqrt(a @ a)}


@pytest.mark.parametrize("arr", [
    np.random.default_rng(0).standard_normal((1, 100)),
    np.random.default_rng(1).standard_normal(3).astype(np.float32),
    np.random.default_rng(2).standard_normal((80, 70)),  # long: NumPy's min/max, kernel sums
    np.random.default_rng(3).standard_normal((30, 40)).T,  # not contiguous
    np.random.default_rng(4).standard_normal((70, 80)).astype(np.float32),
    np.array(2.5), np.arange(7), np.array([True, False, True])],
    ids=["f64", "f32-small", "f64-long", "transposed", "f32-long", "0-d", "int", "bool"])
def test_summaries_match_numpy(arr, summary_path):
    from tinygrad_rnn.kernels._jit import jit_enabled
    from tinygrad_rnn.tracing import _kernel_stats, summarize

    d = summarize(arr, max_values=16)
    # float arrays take the one-pass kernel, also with a dtype object that is not numpy's own
    # (equal dtypes need not be the same object: pickled, newbyteorder("="), made by Numba)
    same = arr.astype(pickle.loads(pickle.dumps(arr.dtype)))
    kernel = arr.dtype.kind == "f" and jit_enabled() and summary_path == "kernel"
    assert (_kernel_stats(same) is not None) == kernel
    assert d["shape"] == list(arr.shape)
    for k, v in _reference(arr).items():
        assert d[k] == pytest.approx(v, rel=1e-12, abs=1e-300), k
    assert ("values" in d) == (arr.size <= 16)
    if arr.size <= 16:
        assert d["values"] == np.asarray(arr, dtype=np.float64).ravel().tolist()
    assert summarize(np.zeros((0, 3)), 16) == {"shape": [0, 3], "norm": 0.0, "values": []}


@pytest.mark.parametrize("n", [3, 5000], ids=["short", "long"])
def test_summaries_of_nan_inf_and_overflow(n, summary_path):
    """Non-finite values give the same summaries as NumPy's reductions (NaN everywhere for a
    NaN; +-Inf, and an Inf norm when the squares overflow), short and long, no warning."""
    from tinygrad_rnn.tracing import summarize

    nan, inf = np.nan, np.inf

    def filled(*head):
        return np.concatenate([head, np.ones(n - len(head))])

    with np.errstate(all="ignore"):  # as trace() runs them
        s = summarize(filled(1.0, nan), 0)
        assert all(np.isnan(s[k]) for k in ("min", "max", "mean", "norm"))
        s = summarize(filled(-inf, 1.0), 0)
        assert (s["min"], s["max"], s["mean"], s["norm"]) == (-inf, 1.0, -inf, inf)
        s = summarize(filled(inf, -inf), 0)
        assert (s["min"], s["max"], s["norm"]) == (-inf, inf, inf) and np.isnan(s["mean"])
        s = summarize(filled(1e200, 1e200), 0)
        assert s["norm"] == inf and s["max"] == 1e200 and np.isfinite(s["mean"])


def test_an_array_summarised_twice_gives_separate_copies():
    """A value used once sends its whole gradient back along its only edge: the edge's summary
    is computed once but is a dict of its own."""
    g = tr.trace(_elman())
    pairs = [(e.grad, g.nodes[e.src].grad) for e in g.edges
             if e.grad is not None and e.grad == g.nodes[e.src].grad]
    assert pairs
    for edge, node in pairs:
        assert edge is not node and edge["shape"] is not node["shape"]


def test_trace_leaves_the_garbage_collector_as_it_found_it():
    """trace pauses Python's cyclic collector while it allocates the graph (a speed measure):
    on stays on, off stays off."""
    import gc

    loss = _elman()
    was_on = gc.isenabled()
    try:
        gc.enable()
        tr.trace(loss)
        assert gc.isenabled()
        gc.disable()
        tr.trace(loss)
        assert not gc.isenabled()
    finally:
        (gc.enable if was_on else gc.disable)()
