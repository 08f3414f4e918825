"""Gradient-flow analyses: per-step norms, Jacobian norms, the T x T contribution matrix."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import analysis as A


def _linear_rnn(scale, T=10, H=4, seed=0):
    """h^(t) = W h^(t-1) + U x^(t) with W = scale * orthogonal: every Jacobian is W."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    W = tr.Tensor(scale * q, requires_grad=True, name="W")
    U = tr.Tensor(rng.standard_normal((H, 2)), requires_grad=True, name="U")
    h, hs = tr.Tensor(np.zeros(H)), []
    for t in range(T):
        with tr.scope("rnn", step=t, role="h"):
            h = W @ h + U @ tr.Tensor(rng.standard_normal(2))
        hs.append(h)
    return W, hs


@pytest.mark.parametrize("scale", [0.3, 1.7])
def test_jacobian_norms_are_powers_of_the_spectral_radius(scale):
    W, hs = _linear_rnn(scale)
    J = A.jacobian_norms(hs)
    assert abs(A.spectral_radius(W) - scale) < 1e-12
    for t in range(10):
        for k in range(t + 1):
            assert abs(J[t, k] - scale ** (t - k)) < 1e-9 * max(1, scale ** (t - k))
    assert np.isnan(J[0, 5])
    # the seeds quote 0.3^10 -> 1e-7 and 1.7^10 -> 201; exactly, 0.3^10 = 5.9e-6
    assert abs(J[9, 0] - scale**9) < 1e-6 * scale**9


def test_contribution_matrix_sums_to_the_gradient():
    rng = np.random.default_rng(1)
    m = tr.nn.RNN(3, 4, rng=0)
    head = tr.nn.Linear(4, 2, rng=1)
    out, _ = m(rng.standard_normal((6, 1, 3)))
    losses = [tr.F.cross_entropy(head(out[t]), [t % 2]) for t in range(6)]
    C = A.contribution_matrix(losses, m.weight_hh_l0)
    assert C.shape == (6, 6, 4, 4)
    for t in range(6):
        for k in range(t + 1, 6):
            assert not C[t, k].any(), "a loss cannot reach the future"
    m.zero_grad()
    total = losses[0]
    for item in losses[1:]:
        total = total + item
    total.backward()
    np.testing.assert_allclose(C.sum(axis=(0, 1)), m.weight_hh_l0.grad, atol=1e-12)


def test_step_grad_norms_rnn_vs_lstm():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((20, 1, 3))
    norms = {}
    for kind in ("RNN", "LSTM"):
        m = getattr(tr.nn, kind)(3, 8, rng=3)
        out, _ = m(x)
        loss = out[-1].sum()  # a loss at the last step only: watch it travel back in time
        loss.backward(retain_grads=True)
        g = tr.trace(loss)
        norms[kind] = A.step_grad_norms(g, "h")
        assert sorted(norms[kind]) == list(range(20))
    c = A.step_grad_norms(tr.trace(loss), "c")
    assert len(c) == 20
    with pytest.raises(tr.ArgumentError, match="role 'nope'"):
        A.step_grad_norms(g, "nope")


def test_saturation_and_errors():
    assert list(A.saturation([np.array([0.99, 0.1]), np.array([0.0, 0.0])])) == [0.5, 0.0]
    with pytest.raises(tr.ShapeError):
        A.spectral_radius(np.ones((2, 3)))
    with pytest.raises(tr.ArgumentError, match="not used"):
        A.contribution_matrix([tr.Tensor([1.0], requires_grad=True).sum()],
                              tr.Tensor(np.eye(2), requires_grad=True))
