"""tr.nn.from_torch and Module.to_torch: both directions of conversion give the same outputs, final
states and every parameter (and input) gradient as PyTorch: 1e-10 in float64, 1e-5 in float32."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tinygrad_rnn as tr

torch = pytest.importorskip("torch")

T, B, I, H = 5, 3, 4, 6
TOL = {np.float64: 1e-10, np.float32: 1e-5}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
# two option sets per recurrent layer: deep and two-way; one layer, batch-first, no bias (relu RNN)
OPTIONS = {"deep": dict(num_layers=2, bidirectional=True, batch_first=False, bias=True),
           "flat": dict(num_layers=1, bidirectional=False, batch_first=True, bias=False)}


def _pair(direction, make_torch, make_ours):
    """(ours, theirs): one built natively, the other converted from it."""
    torch.manual_seed(0)
    if direction == "from_torch":
        theirs = make_torch()
        return tr.nn.from_torch(theirs), theirs
    ours = make_ours()
    return ours, ours.to_torch()


def _assert_same(ours, theirs, ours_out, theirs_out, tol, x=None, xt=None):
    """Equal outputs (any nesting of tuples), then equal gradients of a random projection of
    all outputs: every parameter by name, and the input's when given."""
    flat_o, flat_t = _flatten(ours_out), _flatten(theirs_out)
    rng = np.random.default_rng(1)
    loss_o, loss_t = 0.0, 0.0
    for o, t in zip(flat_o, flat_t, strict=True):
        np.testing.assert_allclose(o.data, t.detach().numpy(), atol=tol, rtol=0)
        R = rng.standard_normal(o.shape).astype(o.dtype)
        loss_o, loss_t = loss_o + (o * R).sum(), loss_t + (t * torch.from_numpy(R)).sum()
    loss_o.backward()
    loss_t.backward()
    grads = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(grads)
    for name, p in ours.named_parameters():
        assert p.dtype == np.dtype(str(grads[name].dtype)[len("torch."):]), name
        np.testing.assert_allclose(p.grad, grads[name].grad.numpy(), atol=tol, rtol=0,
                                   err_msg=name)
    if x is not None:
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), atol=tol, rtol=0, err_msg="x")


def _flatten(out):
    stack, flat = [out], []
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(reversed(v))
        else:
            flat.append(v)
    return flat


def _inputs(shape, dt):
    x = np.random.default_rng(2).standard_normal(shape).astype(dt)
    return tr.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("direction", ["from_torch", "to_torch"])
@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("options", ["deep", "flat"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_both_ways(kind, options, fused, direction, dt):
    opts = dict(OPTIONS[options])
    if kind == "RNN" and options == "flat":
        opts["nonlinearity"] = "relu"
    ours, theirs = _pair(
        direction,
        lambda: getattr(torch.nn, kind)(I, H, dtype=TORCH_DTYPE[dt], **opts),
        lambda: getattr(tr.nn, kind)(I, H, rng=0, dtype=dt, **opts))
    ours.fused = fused  # both forms of our layer; whichever the constructor's default is
    LD = opts["num_layers"] * (2 if opts["bidirectional"] else 1)
    x, xt = _inputs((B, T, I) if opts["batch_first"] else (T, B, I), dt)
    h0 = np.random.default_rng(3).standard_normal((LD, B, H)).astype(dt)
    state = (h0, 0.5 * h0) if kind == "LSTM" else h0
    state_t = tuple(map(torch.tensor, state)) if kind == "LSTM" else torch.tensor(h0)
    _assert_same(ours, theirs, ours(x, state), theirs(xt, state_t), TOL[dt], x, xt)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("direction", ["from_torch", "to_torch"])
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_both_ways(kind, direction, dt):
    bias = direction == "from_torch"  # each direction also covers one bias setting
    ours, theirs = _pair(direction,
                         lambda: getattr(torch.nn, kind)(I, H, bias=bias, dtype=TORCH_DTYPE[dt]),
                         lambda: getattr(tr.nn, kind)(I, H, bias=bias, rng=0, dtype=dt))
    x, xt = _inputs((B, I), dt)
    h = np.random.default_rng(3).standard_normal((B, H)).astype(dt)
    state = (h, 0.5 * h) if kind == "LSTMCell" else h
    state_t = tuple(map(torch.tensor, state)) if kind == "LSTMCell" else torch.tensor(h)
    _assert_same(ours, theirs, ours(x, state), theirs(xt, state_t), TOL[dt], x, xt)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("direction", ["from_torch", "to_torch"])
def test_feed_forward_sequential_both_ways(direction, dt):
    """Linear, Tanh, ReLU, Sigmoid, Dropout (eval) in a Sequential: names "0.weight", ..."""
    td = TORCH_DTYPE[dt]
    ours, theirs = _pair(
        direction,
        lambda: torch.nn.Sequential(torch.nn.Linear(I, H, dtype=td), torch.nn.Tanh(),
                                    torch.nn.Dropout(0.2), torch.nn.Linear(H, H, dtype=td),
                                    torch.nn.ReLU(), torch.nn.Linear(H, 2, bias=False, dtype=td),
                                    torch.nn.Sigmoid()).eval(),
        lambda: tr.nn.Sequential(tr.nn.Linear(I, H, rng=0, dtype=dt), tr.nn.Tanh(),
                                 tr.nn.Dropout(0.2), tr.nn.Linear(H, H, rng=1, dtype=dt),
                                 tr.nn.ReLU(), tr.nn.Linear(H, 2, bias=False, rng=2, dtype=dt),
                                 tr.nn.Sigmoid()).eval())
    assert not ours.training and not theirs.training and ours[2].p == theirs[2].p == 0.2
    x, xt = _inputs((B, I), dt)
    _assert_same(ours, theirs, ours(x), theirs(xt), TOL[dt], x, xt)


@pytest.mark.parametrize("direction", ["from_torch", "to_torch"])
def test_embedding_both_ways(direction):
    ours, theirs = _pair(direction, lambda: torch.nn.Embedding(7, H).double(),
                         lambda: tr.nn.Embedding(7, H, rng=0))
    ids = np.array([[0, 3, 3], [6, 1, 0]])
    _assert_same(ours, theirs, ours(ids), theirs(torch.from_numpy(ids)), 1e-10)


def test_dtype_training_mode_and_dropout_are_carried():
    lstm = torch.nn.LSTM(I, H, num_layers=2, dropout=0.25)  # float32, training mode
    ours = tr.nn.from_torch(lstm)
    assert ours.weight_ih_l0.dtype == np.float32 and ours.training and ours.dropout == 0.25
    assert tr.nn.from_torch(lstm.double().eval()).weight_hh_l1.dtype == np.float64
    assert not tr.nn.from_torch(lstm).training
    assert tr.nn.from_torch(lstm, dtype=np.float32).bias_ih_l0.dtype == np.float32
    assert tr.nn.from_torch(lstm, dtype=torch.float32).bias_ih_l0.dtype == np.float32
    half = tr.nn.from_torch(torch.nn.Linear(2, 3).half(), dtype=np.float64)
    assert half.weight.dtype == np.float64
    back = tr.nn.LSTM(I, H, num_layers=2, dropout=0.25, rng=0, dtype=np.float32).eval().to_torch()
    assert back.weight_ih_l0.dtype == torch.float32 and back.dropout == 0.25 and not back.training
    assert tr.nn.GRU(I, H, rng=0).to_torch().weight_hh_l0.dtype == torch.float64


def test_the_copy_is_independent():
    """Parameters are copied, not shared: training one side leaves the other as it was."""
    theirs = torch.nn.Linear(2, 2).double()
    ours = tr.nn.from_torch(theirs)
    ours.weight.data += 1.0
    assert not np.allclose(ours.weight.data, theirs.weight.detach().numpy())
    back = ours.to_torch()
    with torch.no_grad():
        back.weight.add_(1.0)
    assert not np.allclose(ours.weight.data, back.weight.detach().numpy())


def test_state_dict_moves_by_name():
    """The README's way without the bridge: our state_dict loads into PyTorch's module."""
    ours = tr.nn.GRU(I, H, num_layers=2, bidirectional=True, rng=0)
    theirs = torch.nn.GRU(I, H, num_layers=2, bidirectional=True).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    for name, p in theirs.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy(), getattr(ours, name).data)


class MyLSTM(torch.nn.LSTM):
    pass


@pytest.mark.parametrize("make,error,words", [
    (lambda: 5, tr.DTypeError, ["torch.nn.Module", "int"]),
    (lambda: torch.nn.Conv1d(2, 2, 3), tr.DTypeError, ["Conv1d", "LSTM", "GRUCell", "model.lstm"]),
    (lambda: MyLSTM(2, 3), tr.DTypeError, ["MyLSTM", "subclass of torch.nn.LSTM"]),
    (lambda: torch.nn.LSTM(2, 3, proj_size=2), tr.ArgumentError, ["proj_size=2"]),
    (lambda: torch.nn.Embedding(5, 2, padding_idx=0), tr.ArgumentError, ["padding_idx=0"]),
    (lambda: torch.nn.Embedding(5, 2, max_norm=1.0), tr.ArgumentError, ["max_norm=1.0"]),
    (lambda: torch.nn.Sequential(torch.nn.Sequential(torch.nn.Tanh())), tr.ArgumentError,
     ["Sequential inside a Sequential"]),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU()), tr.DTypeError,
     ["GELU"]),
    (lambda: torch.nn.Linear(2, 2).half(), tr.DTypeError, ["torch.float16", "dtype=np.float32"]),
    (lambda: torch.nn.RNN(2, 3, num_layers=2, dropout=1.0), tr.ArgumentError, ["dropout"]),
])
def test_from_torch_bad_input_names_the_problem(make, error, words):
    with pytest.raises(error) as info:
        tr.nn.from_torch(make())
    for w in words:
        assert w in str(info.value)


def test_from_torch_bad_dtype():
    with pytest.raises(tr.DTypeError, match="'dtype'"):
        tr.nn.from_torch(torch.nn.Linear(2, 2), dtype=np.int32)


@pytest.mark.parametrize("make,error,words", [
    (lambda: tr.nn.JordanRNN(2, 3, 2, rng=0), tr.DTypeError, ["JordanRNN", "LSTM"]),
    (lambda: tr.nn.GRU(2, 3, reset_after=False, rng=0), tr.ArgumentError, ["reset_after"]),
    (lambda: tr.nn.GRUCell(2, 3, reset_after=False, rng=0), tr.ArgumentError, ["reset_after"]),
    (lambda: tr.nn.Sequential(tr.nn.Sequential(tr.nn.Tanh())), tr.ArgumentError,
     ["Sequential inside a Sequential"]),
])
def test_to_torch_bad_input_names_the_problem(make, error, words):
    with pytest.raises(error) as info:
        make().to_torch()
    for w in words:
        assert w in str(info.value)


def test_without_torch_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    for call in (lambda: tr.nn.from_torch(object()), lambda: tr.nn.Linear(2, 2).to_torch()):
        with pytest.raises(tr.MissingDependencyError, match=r"tinygrad-rnn\[torch\]") as info:
            call()
        assert isinstance(info.value, ImportError)


def test_import_does_not_load_torch():
    code = "import sys, tinygrad_rnn; assert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
