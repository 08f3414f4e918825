"""Recurrent layers against PyTorch: same weights, float64, 2 layers, bidirectional, ragged
lengths; outputs, final states and every parameter gradient agree to 1e-10."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr

torch = pytest.importorskip("torch")

T, B, I, H = 6, 3, 4, 5
LENGTHS = [6, 2, 4]


def _torch_layer(kind, bidirectional, batch_first):
    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind]
    return cls(I, H, num_layers=2, bidirectional=bidirectional, batch_first=batch_first).double()


def _run_torch(layer, x, lengths, batch_first, kind, R, S):
    xt = torch.tensor(x)
    packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                     batch_first=batch_first,
                                                     enforce_sorted=False)
    out, state = layer(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first,
                                                    total_length=x.shape[1 if batch_first else 0])
    h = state[0] if kind == "LSTM" else state
    loss = (out * torch.tensor(R)).sum() + (h * torch.tensor(S)).sum()
    if kind == "LSTM":
        loss = loss + (state[1] * torch.tensor(S)).sum()
    loss.backward()
    grads = {n: p.grad.numpy() for n, p in layer.named_parameters()}
    return out.detach().numpy(), h.detach().numpy(), grads


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("bidirectional,batch_first", [(True, False), (False, True)])
def test_matches_pytorch(kind, fused, bidirectional, batch_first):
    torch.manual_seed(0)
    ref = _torch_layer(kind, bidirectional, batch_first)
    ours = getattr(tr.nn, kind)(I, H, num_layers=2, bidirectional=bidirectional,
                                batch_first=batch_first, fused=fused)
    ours.load_state_dict({n: p.detach().numpy() for n, p in ref.named_parameters()})
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I))
    D = 2 if bidirectional else 1
    R = rng.standard_normal((B, T, D * H) if batch_first else (T, B, D * H))
    S = rng.standard_normal((2 * D, B, H))
    out_ref, h_ref, g_ref = _run_torch(ref, x, LENGTHS, batch_first, kind, R, S)
    out, state = ours(x, lengths=LENGTHS)
    h = state[0] if kind == "LSTM" else state
    loss = (out * R).sum() + (h * S).sum()
    if kind == "LSTM":
        loss = loss + (state[1] * S).sum()
    loss.backward()
    np.testing.assert_allclose(out.data, out_ref, atol=1e-10, rtol=0)
    np.testing.assert_allclose(h.data, h_ref, atol=1e-10, rtol=0)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, g_ref[name], atol=1e-10, rtol=0, err_msg=name)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_pytorch(kind):
    torch.manual_seed(1)
    ref = getattr(torch.nn, kind)(I, H).double()
    ours = getattr(tr.nn, kind)(I, H)
    ours.load_state_dict({n: p.detach().numpy() for n, p in ref.named_parameters()})
    rng = np.random.default_rng(1)
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    if kind == "LSTMCell":
        out_ref = ref(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))[0]
        out = ours(x, (h, c))[0]
    else:
        out_ref = ref(torch.tensor(x), torch.tensor(h))
        out = ours(x, h)
    np.testing.assert_allclose(out.data, out_ref.detach().numpy(), atol=1e-12, rtol=0)


def test_fused_gru_is_one_sequence_node_per_layer_and_direction():
    """tr.nn.GRU(fused=True) runs ``gru_seq`` (one node per layer and direction, no per-step
    cells) and matches nn.GRU with a given h0 and ragged lengths: outputs, h_n, and the
    gradients of every parameter, of x and of h0."""
    torch.manual_seed(2)
    ref = torch.nn.GRU(I, H, num_layers=2, bidirectional=True).double()
    ours = tr.nn.GRU(I, H, num_layers=2, bidirectional=True, fused=True)
    ours.load_state_dict({n: p.detach().numpy() for n, p in ref.named_parameters()})
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((T, B, I)), rng.standard_normal((4, B, H))
    R, S = rng.standard_normal((T, B, 2 * H)), rng.standard_normal((4, B, H))
    xt, h0t = (torch.tensor(a, requires_grad=True) for a in (x, h0))
    packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(LENGTHS),
                                                     enforce_sorted=False)
    out_t, h_t = ref(packed, h0t)
    out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t, total_length=T)
    ((out_t * torch.tensor(R)).sum() + (h_t * torch.tensor(S)).sum()).backward()
    xs, h0s = tr.Tensor(x, requires_grad=True), tr.Tensor(h0, requires_grad=True)
    out, h = ours(xs, h0s, lengths=LENGTHS)
    loss = (out * R).sum() + (h * S).sum()
    ops = [n.op for n in tr.trace(loss, expand=False).nodes if n.op]
    assert ops.count("gru_seq") == 4 and "gru_cell" not in ops
    loss.backward()
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(h.data, h_t.detach().numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(xs.grad, xt.grad.numpy(), atol=1e-10, rtol=0)
    np.testing.assert_allclose(h0s.grad, h0t.grad.numpy(), atol=1e-10, rtol=0)
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad, p.grad.numpy(), atol=1e-10, rtol=0,
                                   err_msg=name)
