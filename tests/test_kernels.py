"""Each Numba kernel against a slow NumPy reference, in float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_rnn import kernels
from tinygrad_rnn.kernels._jit import jit_enabled
from tinygrad_rnn.kernels.xent import exp_f32_array

DTYPES = [np.float32, np.float64]


def ref_scatter_add_rows(out, idx, src):
    out = out.copy()
    np.add.at(out, idx, src)
    return out


def ref_xent(z, y, ignore):
    z = z.astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    keep = y != ignore
    loss = np.where(keep, lse - z[np.arange(len(y)), np.where(keep, y, 0)], 0.0)
    return loss, lse


def ref_xent_bwd(z, y, g, ignore):
    z = z.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    keep = y != ignore
    p[np.arange(len(y))[keep], y[keep]] -= 1
    return p * (g * keep)[:, None]


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_add_rows_matches_add_at(dtype):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, size=50).astype(np.int64)  # many repeats
    src = rng.standard_normal((50, 5)).astype(dtype)
    base = rng.standard_normal((7, 5)).astype(dtype)
    got = kernels.scatter_add_rows(base.copy(), idx, src)
    want = ref_scatter_add_rows(base, idx, src)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_rows_matches_take(dtype):
    rng = np.random.default_rng(1)
    src = rng.standard_normal((9, 4)).astype(dtype)
    idx = rng.integers(0, 9, size=12).astype(np.int64)  # repeats allowed
    block = np.zeros((3, 12, 4), dtype)
    kernels.gather_rows(src, idx, block[1])  # a row block of a larger buffer
    np.testing.assert_array_equal(block[1], src[idx])
    assert not block[0].any() and not block[2].any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_xent_fwd_bwd_match_reference(dtype):
    rng = np.random.default_rng(1)
    z = (rng.standard_normal((9, 6)) * 30).astype(dtype)  # large logits: must stay stable
    y = rng.integers(0, 6, size=9).astype(np.int64)
    y[3] = -100
    g = rng.standard_normal(9).astype(dtype)
    loss, p = kernels.xent_fwd(z, y, -100)
    want_loss, want_lse = ref_xent(z, y, -100)
    tol = dict(rtol=2e-5, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert loss.dtype == dtype and p.dtype == dtype and np.isfinite(loss).all()
    np.testing.assert_allclose(loss, want_loss, **tol)
    np.testing.assert_allclose(p, np.exp(z.astype(np.float64) - want_lse[:, None]), **tol)
    dz = kernels.xent_bwd(p, y, g, -100)
    np.testing.assert_allclose(dz, ref_xent_bwd(z, y, g, -100), **tol)
    assert not dz[3].any(), "an ignored row must get no gradient"


def test_kernels_are_lazy_objects():
    k = kernels.scatter_add_rows
    assert "kernel scatter_add_rows" in repr(k)
    assert k.__wrapped__.__doc__ and "out[idx[i], :]" in k.__wrapped__.__doc__


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_numpy_path_equals_kernel_path(dtype, monkeypatch):
    """Large inputs take the NumPy path (the backward too when Numba does not compile); both
    paths give the same numbers."""
    from tinygrad_rnn.ops import nnops

    rng = np.random.default_rng(2)
    z = (rng.standard_normal((300, 40)) * 10).astype(dtype)
    y = rng.integers(0, 40, 300).astype(np.int64)
    y[::7] = -100
    g = rng.standard_normal(300).astype(dtype)
    assert z.size > nnops.XENT_KERNEL_MAX
    monkeypatch.setattr(nnops, "jit_enabled", lambda: False)  # NumPy's backward too
    assert not nnops._use_kernel(z)
    big = nnops.xent_rows_fwd(z, y, -100)
    big = (*big, nnops.xent_rows_bwd(big[1], y, g, -100))
    monkeypatch.setattr(nnops, "jit_enabled", lambda: True)  # (plain Python loops without it)
    monkeypatch.setattr(nnops, "XENT_KERNEL_MAX", 10**9)
    assert nnops._use_kernel(z)
    small = nnops.xent_rows_fwd(z, y, -100)
    small = (*small, nnops.xent_rows_bwd(small[1], y, g, -100))
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(big, small):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("relu", [False, True])
def test_rnn_step_bwd_matches_numpy(dtype, relu):
    rng = np.random.default_rng(3)
    g, h = rng.standard_normal((2, 3, 5)).astype(dtype)
    dh = np.asfortranarray(rng.standard_normal((3, 5)).astype(dtype))  # a transposed view
    if relu:
        h = np.maximum(h, 0)
    da = np.empty_like(g)
    kernels.rnn_step_bwd(g, dh, h, relu, da)
    want = (g + dh) * ((h > 0) if relu else (1 - h * h))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(da, want, **tol)  # atol: FMA contraction in 1 - h*h


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_step_bwd_matches_numpy(dtype):
    rng = np.random.default_rng(4)
    B, H = 3, 4
    gh, gc, dh, dc, c_prev = rng.standard_normal((5, B, H)).astype(dtype)
    act = rng.uniform(-1, 1, (B, 4 * H)).astype(dtype)
    tc = np.tanh(rng.standard_normal((B, H))).astype(dtype)
    i, f, gg, o = (act[:, k * H:(k + 1) * H] for k in range(4))
    dhv = gh + dh
    dcv = gc + dc + dhv * o * (1 - tc * tc)
    want = np.concatenate([dcv * gg * i * (1 - i), dcv * c_prev * f * (1 - f),
                           dcv * i * (1 - gg * gg), dhv * tc * o * (1 - o)], axis=1)
    g_t = np.concatenate([gh, gc], axis=1)
    dz, dc_out = np.empty_like(act), np.empty_like(dc)
    # any layout gives the same numbers (C order is only faster)
    kernels.lstm_step_bwd(g_t, np.asfortranarray(dh), dc, act, c_prev, tc, dz, dc_out)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(dz, want, **tol)
    np.testing.assert_allclose(dc_out, dcv * f, **tol)
    kernels.lstm_step_bwd(g_t, dh, dc, act, c_prev, tc, dz, dc)  # dc_out may alias dc
    np.testing.assert_allclose(dc, dcv * f, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("reverse, nonlinearity", [(False, "tanh"), (True, "relu"),
                                                   (True, "tanh"), (False, "lstm"),
                                                   (True, "lstm")])
def test_loop_kernels_match_the_numpy_steps(dtype, B, reverse, nonlinearity, monkeypatch):
    """The whole-loop kernels (small batches) of rnn_seq and lstm_seq and the NumPy/BLAS step
    loop: same numbers (outputs, every gradient)."""
    from tinygrad_rnn.ops import sequence

    rng = np.random.default_rng(5)
    T, I, H = 4, 3, 5
    lstm = nonlinearity == "lstm"
    G, S = (4 * H, 2 * H) if lstm else (H, H)
    shapes = [(T, B, I), (B, H)] + [(B, H)] * lstm + [(G, I), (G, H), (G,), (G,)]
    args = [rng.standard_normal(s).astype(dtype) for s in shapes]
    g = rng.standard_normal((T + 1, B, S)).astype(dtype)
    op, params = sequence.rnn_seq, dict(reverse=reverse, mask=None, nonlinearity=nonlinearity)
    if lstm:
        op, params = sequence.lstm_seq, dict(reverse=reverse, mask=None)

    def run():
        out, saved = op.forward(*args, **params)
        return [out.copy(), *op.vjp(g, saved, (True,) * len(args), **params)]

    policy = "use_lstm_loop_kernels" if lstm else "use_loop_kernels"
    assert getattr(sequence, policy)(B, H, None)
    loop = run()
    monkeypatch.setattr(sequence, policy, lambda *a: False)
    steps = run()
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for a, b in zip(loop, steps):
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("B", [1, 40])  # the loop kernels and the NumPy steps
def test_lstm_seq_with_no_steps_returns_the_initial_states(B):
    from tinygrad_rnn import ops

    h0 = np.arange(B * 3, dtype=np.float64).reshape(B, 3)
    args = (np.zeros((0, B, 2)), h0, -h0, np.ones((12, 2)), np.ones((12, 3)), np.zeros(12),
            np.zeros(12))
    out, _ = ops.lstm_seq.forward(*args, reverse=False, mask=None)
    np.testing.assert_array_equal(out, np.concatenate((h0, -h0), axis=-1)[None])


@pytest.mark.parametrize("B", [1, 40])  # the loop kernels and the NumPy steps
def test_rnn_seq_with_no_steps_returns_h0(B):
    from tinygrad_rnn import ops

    h0 = np.arange(B * 3, dtype=np.float64).reshape(B, 3)
    args = (np.zeros((0, B, 2)), h0, np.ones((3, 2)), np.ones((3, 3)), np.zeros(3), np.zeros(3))
    out, _ = ops.rnn_seq.forward(*args, reverse=False, mask=None, nonlinearity="tanh")
    np.testing.assert_array_equal(out, h0[None])



def _tanh_f32(x):
    """The float32 loop forward's tanh, applied through the kernel itself with W_hh = 0:
    h_t = tanh_f32(xp_t)."""
    from tinygrad_rnn.kernels.sequence import TANH_F32, rnn_loop_fwd

    n = len(x)
    xp = np.concatenate([x, np.zeros(-n % 64)]).astype(np.float32).reshape(-1, 1, 64)
    h = np.empty_like(xp)
    rnn_loop_fwd(xp, np.zeros((64, 64), np.float32), np.zeros((1, 64), np.float32), False,
                 TANH_F32, h, np.empty(64, np.float32))
    return h.ravel()[:n]


def test_float32_tanh_is_within_6_ulp_of_tanh():
    """The rational tanh of the float32 loop kernel (it vectorises; libm's does not): dense over
    [-10, 10] and log-spaced from 1e-40 to 1e38, odd, bounded; +-inf -> +-1, NaN -> NaN
    (the sign of zero is not kept: the kernels run with fastmath's nsz)."""
    grid = np.linspace(-10, 10, 400_001, dtype=np.float32)
    logs = np.float32(10.0) ** np.linspace(-40, 38, 4001, dtype=np.float32)
    x = np.concatenate([grid, logs, -logs]).astype(np.float32)
    h = _tanh_f32(x)
    want = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(h - want) / ulp) <= 6
    assert np.all(np.abs(h) <= 1)
    np.testing.assert_array_equal(_tanh_f32(-x), -h)
    special = _tanh_f32(np.array([np.inf, -np.inf, np.nan, 0.0], np.float32))
    np.testing.assert_array_equal(special, [1.0, -1.0, np.nan, 0.0])


def _exp_f32(x):
    out = np.empty_like(x)
    with np.errstate(over="ignore"):  # plain Python (JIT off): 2^k times p overflowing to inf
        exp_f32_array(x, out)
    return out


def _ulp_error(got, x):
    want = np.exp(x.astype(np.float64))
    ulp = np.spacing(want.astype(np.float32)).astype(np.float64)  # subnormals: 2^-149
    return np.abs(got.astype(np.float64) - want) / ulp


def test_float32_exp_is_within_an_ulp_of_exp():
    """The vectorisable exp of the float32 cross-entropy kernel, dense over [-104, 0] (the
    softmax's range after the max shift; subnormal results included), log-spaced tiny inputs
    and positives up to overflow. (Dense only with the JIT: as plain Python it is ~10 us a
    value.)"""
    n = 2_000_001 if jit_enabled() else 20_001
    logs = np.float32(10.0) ** np.linspace(-45, 1, 2001, dtype=np.float32)
    x = np.concatenate([np.linspace(-104, 0, n, dtype=np.float32), logs, -logs,
                        np.linspace(0, 88.72, n // 10, dtype=np.float32)]).astype(np.float32)
    err = _ulp_error(_exp_f32(x), x)
    bound = 1.0 if jit_enabled() else 1.5  # measured 0.86 compiled (FMA contraction), 1.07 plain
    assert err.max() <= bound, f"{err.max():.2f} ulp at x = {x[err.argmax()]!r}"


def test_float32_exp_edge_values():
    """exp(+-0) = 1 exactly; underflow to 0; overflow to inf; NaN stays NaN (anomaly checks
    rely on it)."""
    x = np.array([0.0, -0.0, 1e-45, -1e-45, 1.2e-38, -87.3, -103.9, -104.0, -200.0, -np.inf,
                  np.nan, 1.0, 10.0, 88.72, 88.73, 100.0, np.inf], np.float32)
    got = _exp_f32(x)
    assert got[0] == 1.0 and got[1] == 1.0
    assert got[6] == np.float32(2.0**-149)  # exp(-103.9) = 7.5e-46: the smallest subnormal
    np.testing.assert_array_equal(got[7:11], [0.0, 0.0, 0.0, np.nan])
    np.testing.assert_array_equal(got[14:], [np.inf] * 3)
    finite = np.r_[2:6, 11:14]
    assert _ulp_error(got[finite], x[finite]).max() <= 1.5


def test_float32_xent_fwd_matches_float64_reference():
    """The float32 kernel (exp_f32, float32 row sums) against float64 arithmetic on the same
    float32 logits: loss and softmax to 1e-6 relative; a NaN logit makes its row NaN."""
    rng = np.random.default_rng(3)
    for shape, scale in [((25, 65), 3.0), ((3, 5000), 10.0)]:
        z = (rng.standard_normal(shape) * scale).astype(np.float32)
        y = rng.integers(0, shape[1], shape[0]).astype(np.int64)
        y[1] = -100
        z[2, 7] = -np.inf  # a masked logit: probability exactly 0
        loss, p = kernels.xent_fwd(z, y, -100)
        want_loss, _ = ref_xent(z, y, -100)
        # z - max rounds in float32 before any exp (~|z - max| 2^-24 relative in p, inherent):
        # the reference starts from the same rounded shift
        e = np.exp((z - z.max(axis=1, keepdims=True)).astype(np.float64))
        want_p = e / e.sum(axis=1, keepdims=True)
        assert loss.dtype == np.float32 and p.dtype == np.float32 and p[2, 7] == 0
        np.testing.assert_allclose(loss, want_loss, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(p, want_p, rtol=1e-6, atol=1e-30)
    z[0, 3] = np.nan
    loss, p = kernels.xent_fwd(z, y, -100)
    assert np.isnan(loss[0]) and np.isnan(p[0]).all() and np.isfinite(p[1:]).all()
