"""The batched (NumPy/BLAS) paths of the whole-sequence ops, whose per-step element-wise work runs
in one kernel (rnn_step_fwd, gru_step_fwd/bwd): equal to the composite layers, float32 and float64,
masked and reversed; their shape checks; and edge cases of the ops called directly (T = 0, mixed
dtypes on the small-batch loop kernels)."""

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import ops
from tinygrad_rnn.errors import ShapeError
from tinygrad_rnn.ops import sequence

LAYERS = [(tr.nn.RNN, {"nonlinearity": "tanh"}), (tr.nn.RNN, {"nonlinearity": "relu"}),
          (tr.nn.GRU, {}), (tr.nn.GRU, {"reset_after": False}), (tr.nn.LSTM, {})]


def _run(layer, x, lengths):
    out, h_n = layer(tr.Tensor(x, dtype=layer.weight_ih_l0.dtype), lengths=lengths)
    h_n = h_n[0] if isinstance(h_n, tuple) else h_n
    loss = (out * out).sum() + (h_n * h_n).sum()
    loss.backward()
    return [out.numpy(), h_n.numpy()] + [p.grad for p in layer.parameters()]


@pytest.mark.parametrize("cls, kw", LAYERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("T, ragged", [(1, False), (5, True), (6, False)])
def test_batched_fused_layers_equal_the_composite_ones(cls, kw, dtype, T, ragged):
    B, I, H = 8, 3, 40  # B * H > sequence.SMALL: the NumPy/BLAS step path
    assert not sequence.use_loop_kernels(B, H, None)
    rng = np.random.default_rng(T)
    x = rng.standard_normal((T, B, I))
    lengths = rng.integers(1, T + 1, B) if ragged else None
    fused = cls(I, H, num_layers=2, bidirectional=True, dtype=dtype, **kw)
    composite = cls(I, H, num_layers=2, bidirectional=True, dtype=dtype, fused=False, **kw)
    composite.load_state_dict(fused.state_dict())
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    for a, b in zip(_run(fused, x, lengths), _run(composite, x, lengths)):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, **tol)


def _gru_args(H=4, I=2, B=3, T=2):
    rng = np.random.default_rng(0)
    shapes = [(T, B, I), (B, H), (3 * H, I), (3 * H, H), (3 * H,), (3 * H,)]
    return [tr.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("which, shape", [(2, (11, 2)), (3, (12, 5)), (5, (10,))])
def test_gru_seq_refuses_wrong_weight_shapes(which, shape):
    """The step kernel reads without bounds checks: a wrong shape must fail before it runs."""
    args = _gru_args()
    args[which] = tr.Tensor(np.ones(shape), requires_grad=True)
    if which == 2:  # weight_ih and bias_ih agree with each other, not with H
        args[4] = tr.Tensor(np.ones(shape[0]), requires_grad=True)
    with pytest.raises(ShapeError, match="gru_seq"):
        tr.tensor.apply(ops.gru_seq, tuple(args),
                        {"reverse": False, "mask": None, "reset_after": True})


@pytest.mark.parametrize("B", [1, 40])  # the loop kernels and the NumPy steps
def test_rnn_seq_backward_with_no_steps(B):
    """T = 0: the gradient at h_n goes to h0; every weight gradient is zero."""
    h0 = np.ones((B, 3))
    args = (np.zeros((0, B, 2)), h0, np.ones((3, 2)), np.ones((3, 3)), np.zeros(3), np.zeros(3))
    params = dict(reverse=False, mask=None, nonlinearity="tanh")
    _, saved = ops.rnn_seq.forward(*args, **params)
    g = np.full((1, B, 3), 2.0)
    gx, gh0, gwi, gwh, gbi, _ = ops.rnn_seq.vjp(g, saved, (True,) * 6, **params)
    assert gx.shape == (0, B, 2)
    np.testing.assert_array_equal(gh0, g[0])
    for grad in (gwi, gwh, gbi):
        assert not grad.any()


@pytest.mark.parametrize("cls", [tr.nn.RNN, tr.nn.LSTM])
def test_float64_initial_state_on_a_float32_small_batch_layer(cls):
    """The loop kernels carry the state in one dtype: a float64 h0 is cast, not a typing error."""
    layer = cls(3, 5, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((4, 3, 3))
    h0 = tr.Tensor(np.zeros((1, 3, 5)), dtype=np.float64)
    state = (h0, tr.Tensor(np.zeros((1, 3, 5)), dtype=np.float64)) if cls is tr.nn.LSTM else h0
    out, _ = layer(tr.Tensor(x, dtype=np.float32), state)
    ref, _ = layer(tr.Tensor(x, dtype=np.float32))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cls, kw", LAYERS)
@pytest.mark.parametrize("B", [3, 8])  # the loop kernels (B * H <= 256) and the NumPy steps
def test_a_wider_initial_state_widens_the_fused_layer_as_the_composite_one(cls, kw, B):
    """float64 h0 on a float32 layer: the wider float wins in both forms (same dtype, values)."""
    T, I, H = 4, 3, 40
    rng = np.random.default_rng(B)
    x = tr.Tensor(rng.standard_normal((T, B, I)), dtype=np.float32)
    states = [tr.Tensor(rng.standard_normal((1, B, H)) * 0.5, dtype=np.float64)
              for _ in range(2 if cls is tr.nn.LSTM else 1)]
    state = tuple(states) if cls is tr.nn.LSTM else states[0]
    fused = cls(I, H, dtype=np.float32, **kw)
    composite = cls(I, H, dtype=np.float32, fused=False, **kw)
    composite.load_state_dict(fused.state_dict())
    (a, _), (b, _) = fused(x, state), composite(x, state)
    assert a.dtype == b.dtype == np.float64
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
