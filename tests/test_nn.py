"""Modules: parameter walking, state dicts, atomic save/load, composite == fused, metadata."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinygrad_rnn as tr

nn = tr.nn


class TwoLayer(nn.Module):
    def __init__(self):
        self.emb = nn.Embedding(7, 3, rng=0)
        self.rnn = nn.GRU(3, 4, rng=1)
        self.heads = [nn.Linear(4, 2, rng=2), nn.Linear(4, 5, rng=3)]
        self.extra = {"bias": tr.Tensor(np.zeros(2), requires_grad=True)}

    def forward(self, ids):
        out, h = self.rnn(self.emb(ids))
        return self.heads[0](out), h


def test_parameters_found_in_attribute_order_with_dotted_names():
    m = TwoLayer()
    names = [n for n, _ in m.named_parameters()]
    assert names[:2] == ["emb.weight", "rnn.weight_ih_l0"]
    assert "heads.1.bias" in names and names[-1] == "extra.bias"
    assert m.num_parameters() == sum(p.size for p in m.parameters())
    m.eval()
    assert not m.rnn.training
    m.train()
    assert m.heads[1].training


def test_module_call_pushes_scope():
    m = TwoLayer()
    out, _ = m(np.array([[1, 2], [3, 4]]))
    g = tr.trace(out)
    scopes = {n.meta.get("scope") for n in g.nodes if n.op}
    assert "twolayer/rnn/l0" in scopes and "twolayer/emb" in scopes
    steps = {n.meta.get("step") for n in g.nodes if n.meta.get("scope") == "twolayer/rnn/l0"}
    assert steps == {0, 1}


def test_state_dict_round_trip_and_strict_errors():
    a, b = TwoLayer(), TwoLayer()
    b.rnn.weight_hh_l0.data[:] = 0
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.rnn.weight_hh_l0.data, a.rnn.weight_hh_l0.data)
    sd = a.state_dict()
    sd["rnn.weight_hh_l0"] = np.zeros((3, 3))
    before = b.state_dict()
    with pytest.raises(tr.ShapeError, match=r"'rnn.weight_hh_l0' must have shape \(12, 4\)"):
        b.load_state_dict(sd)
    del sd["rnn.weight_hh_l0"]
    with pytest.raises(tr.ArgumentError, match="missing.*rnn.weight_hh_l0"):
        b.load_state_dict(sd)
    for k, v in b.state_dict().items():  # nothing changed by the failed loads
        np.testing.assert_array_equal(v, before[k])


def test_save_load_atomic_and_safe(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    a = TwoLayer()
    a.save(path)
    b = TwoLayer()
    b.load(path)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)
    good = path.read_bytes()
    # a crash in the middle of writing leaves the previous file intact and no temporary behind
    real_savez = np.savez

    def boom(file, **arrays):  # write part of the archive, then fail like a full disk
        real_savez(file, **dict(list(arrays.items())[:2]))
        raise OSError("disk full (injected)")
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="injected"):
        TwoLayer().save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.npz"]
    # truncated and foreign files are clear errors and leave the model untouched
    (tmp_path / "trunc.npz").write_bytes(good[: len(good) // 2])
    (tmp_path / "foreign.npz").write_bytes(b"not a zip at all")
    before = b.state_dict()
    for bad in ("trunc.npz", "foreign.npz"):
        with pytest.raises(tr.ArgumentError, match="not a readable .npz"):
            b.load(tmp_path / bad)
    np.savez(tmp_path / "other.npz", x=np.ones(3))
    with pytest.raises(tr.ArgumentError, match="no model parameters"):
        b.load(tmp_path / "other.npz")
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize("kind,kw", [("RNN", {}), ("RNN", {"nonlinearity": "relu"}),
                                     ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})])
def test_composite_equals_fused(kind, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 3))
    results = []
    for fused in (False, True):
        m = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, fused=fused, rng=7, **kw)
        out, state = m(x, lengths=[5, 3])
        h = state[0] if kind == "LSTM" else state
        ((out * out).sum() + h.sum()).backward()
        results.append((out.data, h.data, [p.grad for p in m.parameters()]))
    (o1, h1, g1), (o2, h2, g2) = results
    np.testing.assert_allclose(o1, o2, atol=1e-12)
    np.testing.assert_allclose(h1, h2, atol=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_gru_seeds_form_gradcheck_through_layer():
    m = nn.GRU(2, 3, reset_after=False, rng=0)
    x = tr.Tensor(np.random.default_rng(1).standard_normal((3, 1, 2)), requires_grad=True)
    assert tr.gradcheck(lambda x: m(x)[0].sum(), [x])


def test_padding_changes_neither_outputs_nor_gradients():
    """A sequence's results do not depend on what stands in its padded steps."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 3))
    grads = []
    for fill in (0.0, 100.0):
        x2 = x.copy()
        x2[4:, 1] = fill
        m = nn.LSTM(3, 4, bidirectional=True, rng=3)
        out, (h, c) = m(x2, lengths=[6, 4])
        (out.sum() + h.sum()).backward()
        grads.append((out.data.copy(), [p.grad.copy() for p in m.parameters()]))
        assert not out.data[4:, 1].any(), "padded outputs are zero"
    np.testing.assert_allclose(grads[0][0], grads[1][0], atol=1e-12)
    for a, b in zip(grads[0][1], grads[1][1]):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_mask_equals_lengths_and_unbatched_input():
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    m = nn.RNN(3, 2, rng=0)
    a, _ = m(x, lengths=[4, 2])
    b, _ = m(x, mask=np.arange(4)[:, None] < np.array([4, 2]))
    np.testing.assert_array_equal(a.data, b.data)
    out, h = m(x[:, 0])
    assert out.shape == (4, 2) and h.shape == (1, 2)
    np.testing.assert_allclose(out.data, a.data[:, 0], atol=1e-14)


def test_layer_metadata_layer_direction_step():
    m = nn.LSTM(2, 3, num_layers=2, bidirectional=True, rng=0)
    out, _ = m(np.ones((3, 1, 2)))
    g = tr.trace(out)
    gates = g.find(role="gate_f", layer=1, direction="reverse")
    assert sorted(n.meta["step"] for n in gates) == [0, 1, 2]
    assert all(n.meta["scope"] == "lstm/l1_reverse" for n in gates)
    assert len({n.meta["site"] for n in gates}) == 1, "one site across steps (folded view)"


@pytest.mark.parametrize("call, pattern", [
    (lambda m: m(np.ones((3, 2, 5))), r"LSTM.forward: argument .x. must have shape \(T, batch"),
    (lambda m: m(np.ones((0, 2, 2))), r"no time steps"),
    (lambda m: m(np.ones((3, 2, 2)), lengths=[4, 1]), r"lengths' must be in \[0, T=3\]; got 4"),
    (lambda m: m(np.ones((3, 2, 2)), lengths=[-1, 1]), r"got -1 for sequence 0"),
    (lambda m: m(np.ones((3, 2, 2)), (np.zeros((1, 2, 3)), None)), r"'h0' must have shape"),
    (lambda m: m(np.ones((3, 2, 2)), mask=np.ones((2, 3))), r"'mask' must be a bool array"),
])
def test_layer_errors(call, pattern):
    m = nn.LSTM(2, 3, num_layers=2, rng=0)
    with pytest.raises((tr.ShapeError, tr.ArgumentError), match=pattern):
        call(m)


def test_constructor_errors():
    with pytest.raises(tr.ArgumentError, match="hidden_size"):
        nn.RNN(3, 0)
    with pytest.raises(tr.ArgumentError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(tr.ArgumentError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(tr.DTypeError, match="rng"):
        nn.Linear(3, 4, rng="seed")


def test_forget_bias_and_dropout_between_layers():
    m = nn.LSTM(2, 3, num_layers=2, forget_bias=1.0, dropout=0.5, rng=0)
    np.testing.assert_array_equal(m.bias_ih_l1.data[3:6], 1.0)
    np.testing.assert_array_equal(m.bias_hh_l1.data[3:6], 0.0)
    x = np.ones((2, 1, 2))
    ops_train = {n.op for n in tr.trace(m(x)[0]).nodes}
    m.eval()
    ops_eval = {n.op for n in tr.trace(m(x)[0]).nodes}
    assert "dropout" in ops_train and "dropout" not in ops_eval


def test_float32_layers():
    m = nn.GRU(3, 4, dtype=np.float32, fused=True, rng=0)
    out, h = m(np.ones((2, 1, 3), np.float32))
    out.sum().backward()
    assert out.dtype == np.float32 and m.weight_hh_l0.grad.dtype == np.float32


def test_jordan_rnn_feeds_previous_output():
    m = nn.JordanRNN(3, 4, 5, rng=0)
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    o = m(x)
    assert o.shape == (4, 2, 5)
    g = tr.trace(o)
    # o^(t-1) (role o at step t-1) is an input of the hidden pre-activation at step t
    o1 = g.find(role="o", step=1, op="linear")[0]
    consumers = {g.nodes[e.dst].meta.get("step") for e in g.edges if e.src == o1.id}
    assert 2 in consumers
    targets = np.random.default_rng(1).integers(0, 5, (4, 2))
    tf = m(x, feedback="target", targets=targets)
    np.testing.assert_allclose(tf.data[0], o.data[0])  # same first step, different later
    assert not np.allclose(tf.data[2], o.data[2])
    xt = tr.Tensor(x, requires_grad=True)
    assert tr.gradcheck(lambda a: m(a).sum(), [xt], mode="projection")


def test_conditioned_cell_and_sequence_loss():
    cell = nn.ConditionedRNNCell(3, 4, 5, rng=0)
    h = cell(tr.Tensor(np.ones((2, 3))), tr.Tensor(np.zeros((2, 4))), [1, 4])
    assert h.shape == (2, 4)
    with pytest.raises(tr.ArgumentError, match=r"\[0, 5\)"):
        cell(tr.Tensor(np.ones((2, 3))), tr.Tensor(np.zeros((2, 4))), [1, 7])
    rng = np.random.default_rng(0)
    logits = tr.Tensor(rng.standard_normal((4, 2, 5)), requires_grad=True)
    y = rng.integers(0, 5, (4, 2))
    loss = nn.sequence_cross_entropy(logits, y, lengths=[4, 2])
    manual = -np.mean([np.log(np.exp(logits.data[t, b]) / np.exp(logits.data[t, b]).sum())[y[t, b]]
                       for t in range(4) for b in range(2) if t < [4, 2][b]])
    assert abs(loss.item() - manual) < 1e-12
    assert abs(nn.perplexity(loss) - np.exp(manual)) < 1e-9


def test_checkpoint_resume_is_bit_for_bit(tmp_path):
    """Save model + Adam state midway; a fresh model resumed from it ends identical."""
    rng = np.random.default_rng(0)
    data = [(rng.integers(0, 7, (5, 2)), rng.integers(0, 2, 2)) for _ in range(6)]

    def run(model, opt, batches):
        for ids, y in batches:
            out, h = model.rnn(model.emb(ids))
            loss = tr.F.cross_entropy(model.heads[0](h[0]), y)
            loss.backward()
            tr.optim.clip_grad_norm(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad()

    a = TwoLayer()
    opt_a = tr.optim.Adam(a.parameters(), lr=0.01)
    run(a, opt_a, data)
    b = TwoLayer()
    opt_b = tr.optim.Adam(b.parameters(), lr=0.01)
    run(b, opt_b, data[:3])
    b.save(tmp_path / "ckpt.npz", optimizer=opt_b)
    c = TwoLayer()
    c.heads[1].weight.data[:] = 0  # differs before loading
    opt_c = tr.optim.Adam(c.parameters(), lr=0.5)
    c.load(tmp_path / "ckpt.npz", optimizer=opt_c)
    run(c, opt_c, data[3:])
    for (n, p), (_, q) in zip(a.named_parameters(), c.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)


def test_sequential_chains_and_names_like_pytorch():
    """Children named "0", "1", ... (or by dict keys), parameters "0.weight", ...; y = m2(m1(x))."""
    lin1, lin2 = tr.nn.Linear(3, 4, rng=0), tr.nn.Linear(4, 2, rng=1)
    seq = tr.nn.Sequential(lin1, tr.nn.Tanh(), lin2, tr.nn.Sigmoid())
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(seq) == 4 and seq[2] is lin2
    x = np.random.default_rng(0).standard_normal((5, 3))
    want = lin2(lin1(x).tanh()).sigmoid().data
    np.testing.assert_allclose(seq(x).data, want, atol=1e-15)
    named = tr.nn.Sequential({"fc": tr.nn.Linear(3, 3, rng=0), "act": tr.nn.ReLU()})
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert (named(x).data >= 0).all()
    with pytest.raises(tr.DTypeError, match="item '1'"):
        tr.nn.Sequential(lin1, np.tanh)
    with pytest.raises(tr.ArgumentError, match="'forward'"):
        tr.nn.Sequential({"forward": lin1})
