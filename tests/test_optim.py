"""Optimizers and clipping: NumPy references, torch.optim (if installed), state dicts, kernels."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.kernels import optim as K
from tinygrad_rnn.optim import (
    SGD,
    Adagrad,
    Adam,
    RMSprop,
    base,
)

SHAPES = [(3,), (4, 5), (2, 3, 2)]
DTYPES = [np.float32, np.float64]


# ---- straightforward references (textbook forms, float64) -----------------------------------
def ref_sgd(p, grads, lr, momentum, nesterov, weight_decay):
    b = None
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            b = d.copy() if b is None else momentum * b + d
            d = d + momentum * b if nesterov else b
        p = p - lr * d
    return p


def ref_adagrad(p, grads, lr, eps, weight_decay, eps_inside_sqrt):
    s = np.zeros_like(p)
    for g in grads:
        d = g + weight_decay * p
        s = s + d * d
        p = p - lr * d / (np.sqrt(s + eps) if eps_inside_sqrt else np.sqrt(s) + eps)
    return p


def ref_adam(p, grads, lr, betas, eps, weight_decay):
    (b1, b2), m, v = betas, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        d = g + weight_decay * p
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def ref_rmsprop(p, grads, lr, alpha, eps, momentum, weight_decay):
    a, b = 0.0, 0.0
    for g in grads:
        d = g + weight_decay * p
        a = alpha * a + (1 - alpha) * d * d
        u = d / (np.sqrt(a) + eps)
        b = momentum * b + u
        p = p - lr * (b if momentum else u)
    return p


REFS = {SGD: ref_sgd, Adagrad: ref_adagrad, Adam: ref_adam, RMSprop: ref_rmsprop}
CONFIGS = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adagrad, dict(lr=0.1)),
    (Adagrad, dict(lr=0.1, eps=1e-6, eps_inside_sqrt=True, weight_decay=0.1)),
    (Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (RMSprop, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)),
]
IDS = [f"{c.__name__}-{i}" for i, (c, _) in enumerate(CONFIGS)]


def make(rng, dtype=np.float64, steps=6):
    """Parameters of several shapes and a sequence of gradients for them."""
    values = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    params = [
        tr.Tensor(v.astype(dtype), requires_grad=True, name=f"p{i}") for i, v in enumerate(values)
    ]
    return values, grads, params


def run(opt, params, grads) -> None:
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g.astype(p.dtype)
        opt.step()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, kw", CONFIGS, ids=IDS)
def test_matches_numpy_reference(cls, kw, dtype, rng, backend):
    values, grads, params = make(rng, dtype)
    opt = cls(params, **kw)
    run(opt, params, grads)
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    for k, (v, p) in enumerate(zip(values, params)):
        v = v.astype(dtype).astype(np.float64)
        want = REFS[cls](v, [g[k] for g in grads], **opt.hyper_parameters())
        assert p.dtype == dtype
        np.testing.assert_allclose(p.data, want, **tol)


TORCH_CONFIGS = [(c, kw) for c, kw in CONFIGS if not kw.get("eps_inside_sqrt")]  # not in torch


@pytest.mark.parametrize(
    "cls, kw", TORCH_CONFIGS, ids=[f"{c.__name__}-{kw}" for c, kw in TORCH_CONFIGS]
)
def test_matches_torch_optim(cls, kw, rng, backend):
    torch = pytest.importorskip("torch")
    values, grads, params = make(rng, steps=5)
    opt = cls(params, **kw)
    hp = {k: v for k, v in opt.hyper_parameters().items() if k != "eps_inside_sqrt"}
    tparams = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    topt = getattr(torch.optim, cls.__name__)(tparams, **hp)
    run(opt, params, grads)
    for step_grads in grads:
        for tp, g in zip(tparams, step_grads):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=0, atol=1e-12)


def test_step_skips_none_grads_and_zero_grad_clears(rng):
    values, grads, params = make(rng)
    opt = Adam(params, lr=0.1)
    params[0].grad, params[1].grad = grads[0][0], None
    opt.step()
    assert np.array_equal(params[1].data, values[1]) and opt.state[1]["step"] == 0
    assert opt.state[0]["step"] == 1 and opt.steps == 1
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_trains_with_backward_and_accepts_parameters_method(rng):
    x, w_true = rng.standard_normal((32, 3)), np.array([[1.0], [-2.0], [0.5]])
    y = tr.Tensor(x @ w_true)
    w = tr.Tensor(np.zeros((3, 1)), requires_grad=True, name="w")

    class Model:  # what a future tr.nn.Module offers
        def parameters(self):
            return iter([w])

    opt = SGD(Model(), lr=0.1, momentum=0.5)
    for _ in range(100):
        opt.zero_grad()
        ((tr.Tensor(x) @ w - y) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(w.data, w_true, atol=1e-6)


def test_non_contiguous_param_and_grad_dtype(rng):
    a = rng.standard_normal((4, 6))
    p = tr.Tensor(np.asfortranarray(a), requires_grad=True)
    q = tr.Tensor(a.astype(np.float32), requires_grad=True)
    g = rng.standard_normal((4, 6))
    opt = Adam([p, q], lr=0.1)
    p.grad, q.grad = g.T.copy().T, g  # F-ordered grad; float64 grad for a float32 param
    opt.step()
    want = ref_adam(a, [g], 0.1, (0.9, 0.999), 1e-8, 0.0)
    np.testing.assert_allclose(p.data, want, rtol=1e-12)
    assert q.dtype == np.float32 and q.grad.dtype == np.float64
    np.testing.assert_allclose(q.data, want, rtol=1e-5)


def test_step_follows_replaced_data_state_and_hyper_parameters(rng):
    """step() keeps flat views of the parameters and buffers between calls; replacing p.data,
    a state buffer or a hyper-parameter must still update the current arrays."""
    a, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    p = tr.Tensor(a.copy(), requires_grad=True)
    opt = Adagrad([p], lr=0.1)
    p.grad = g
    opt.step()
    p.data = a.copy()  # a new array: the next step must update it, with the kept sum
    opt.step()
    want = a - 0.1 * g / (np.sqrt(2 * g * g) + 1e-8)  # from a, with the sum of two steps
    np.testing.assert_allclose(p.data, want, rtol=1e-12)
    opt.state[0]["sum"] = np.zeros((3, 4))  # a fresh buffer: it is the one updated now
    opt.lr = 0.5
    before = p.data.copy()
    opt.step()
    np.testing.assert_allclose(opt.state[0]["sum"], g * g, rtol=1e-12)
    np.testing.assert_allclose(p.data, before - 0.5 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    p.data = np.asfortranarray(a)  # not C-contiguous: the NumPy path updates it in place
    view = p.data
    opt.step()
    assert p.data is view and not np.allclose(view, a)


def test_grad_shape_mismatch_is_a_shape_error():
    p = tr.Tensor(np.zeros((2, 3)), requires_grad=True, name="W")
    p.grad = np.zeros((3, 2))
    with pytest.raises(ShapeError, match=r"SGD\.step: params\[0\] 'W' .*\(2, 3\).*\(3, 2\)"):
        SGD([p], lr=0.1).step()


def test_use_kernel_policy(monkeypatch):
    a = np.zeros((4, 4))
    monkeypatch.setattr(base, "_BACKEND", "numba")
    assert base.use_kernel(a) and not base.use_kernel(a.T)  # a copy would lose the update
    monkeypatch.setattr(base, "_BACKEND", "auto")
    assert not base.use_kernel(a, min_size=17)
    assert base.use_kernel(a, min_size=16) == base.jit_enabled()


# ---- state dicts ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, kw", CONFIGS, ids=IDS)
def test_state_dict_round_trip_through_npz_is_exact(cls, kw, dtype, rng, tmp_path):
    values, grads, params = make(rng, dtype)
    opt = cls(params, **kw)
    run(opt, params, grads[:3])
    np.savez(tmp_path / "opt.npz", **opt.state_dict())
    params2 = [tr.Tensor(p.data.copy(), requires_grad=True) for p in params]
    opt2 = cls(params2, lr=1.0)  # other hyper-parameters: load_state_dict restores them
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as f:
        opt2.load_state_dict(f)
    assert opt2.hyper_parameters() == opt.hyper_parameters() and opt2.steps == 3
    run(opt, params, grads[3:])
    run(opt2, params2, grads[3:])
    for p, p2 in zip(params, params2):
        assert p2.dtype == dtype and np.array_equal(p.data, p2.data)


def snapshot(opt) -> dict:
    return {k: np.array(v) for k, v in opt.state_dict().items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def corrupt(sd: dict, edit):
    sd = dict(sd, **{"hp.lr": 0.5})  # a valid change that must not be applied either
    edit(sd)
    return sd


BAD_LOADS = [  # (edit of a valid state dict, error, message); the bad entry is the last param's
    (lambda d: d.pop("state.2.exp_avg"), ArgumentError, r"missing keys \['state\.2\.exp_avg'\]"),
    (lambda d: d.update({"state.3.v": 0}), ArgumentError, r"unexpected keys \['state\.3\.v'\]"),
    (lambda d: d.update({"state.2.exp_avg_sq": np.zeros((3, 2, 2))}), ShapeError,
     r"'state\.2\.exp_avg_sq' has shape \(3, 2, 2\); expected \(2, 3, 2\)"),
    (lambda d: d.update({"state.2.exp_avg": np.zeros((2, 3, 2), int)}), DTypeError,
     r"'state\.2\.exp_avg' must hold floats; got dtype int"),
    (lambda d: d.update({"state.2.step": -1}), ArgumentError, r"'state\.2\.step' .* >= 0"),
    (lambda d: d.update({"hp.betas": np.array([0.9, 1.5])}), ArgumentError,
     r"Adam\.load_state_dict: bad hyper-parameter: Adam: argument 'betas\[1\]'"),
    (lambda d: d.pop("hp.eps"), ArgumentError, r"missing keys \['hp\.eps'\]"),
]  # fmt: skip


@pytest.mark.parametrize("edit, exc, match", BAD_LOADS)
def test_bad_state_dict_raises_and_leaves_optimizer_unchanged(edit, exc, match, rng):
    _, grads, params = make(rng)
    opt = Adam(params, lr=0.01)
    run(opt, params, grads[:2])
    before = snapshot(opt)
    with pytest.raises(exc, match=match):
        opt.load_state_dict(corrupt(opt.state_dict(), edit))
    assert same(snapshot(opt), before) and opt.lr == 0.01


def test_state_dict_follows_loaded_momentum(rng):
    _, grads, params = make(rng)
    opt = SGD(params, lr=0.1, momentum=0.9)
    run(opt, params, grads[:2])
    plain = SGD(params, lr=0.1)
    assert not any(k.startswith("state.") for k in plain.state_dict())
    plain.load_state_dict(opt.state_dict())
    assert plain.momentum == 0.9 and same(snapshot(plain), snapshot(opt))


# ---- validation -----------------------------------------------------------------------------
BAD_HP = [
    (SGD, dict(lr=-0.1), r"SGD: argument 'lr' must be a finite number >= 0; got -0\.1"),
    (SGD, dict(lr="0.1"), r"SGD: argument 'lr' must be .*; got '0\.1'"),
    (SGD, dict(lr=0.1, momentum=-0.5), r"SGD: argument 'momentum' .* >= 0; got -0\.5"),
    (SGD, dict(lr=0.1, nesterov=True), r"SGD: argument 'nesterov=True' needs momentum > 0"),
    (Adagrad, dict(eps=0.0), r"Adagrad: argument 'eps' must be a finite number > 0; got 0\.0"),
    (Adam, dict(lr=math.nan), r"Adam: argument 'lr' .*; got nan"),
    (Adam, dict(betas=(0.9, 1.0)), r"Adam: argument 'betas\[1\]' must be in \[0, 1\); got 1\.0"),
    (Adam, dict(betas=(-0.1, 0.9)), r"Adam: argument 'betas\[0\]' must be in \[0, 1\)"),
    (Adam, dict(betas=0.9), r"Adam: argument 'betas' must be a pair"),
    (Adam, dict(eps=-1e-8), r"Adam: argument 'eps' must be a finite number > 0"),
    (Adam, dict(weight_decay=-1), r"Adam: argument 'weight_decay' .* >= 0; got -1"),
    (RMSprop, dict(alpha=1.5), r"RMSprop: argument 'alpha' must be in \[0, 1\]; got 1\.5"),
    (RMSprop, dict(momentum=-1.0), r"RMSprop: argument 'momentum' .* >= 0; got -1\.0"),
]


@pytest.mark.parametrize("cls, kw, match", BAD_HP)
def test_bad_hyper_parameters(cls, kw, match):
    p = tr.Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(ArgumentError, match=match):
        cls([p], **kw)


def test_bad_params():
    p = tr.Tensor(np.zeros(3), requires_grad=True, name="W")
    with pytest.raises(DTypeError, match=r"Adam: params\[1\] must be a Tensor; got ndarray"):
        Adam([p, np.zeros(3)])
    with pytest.raises(DTypeError, match=r"SGD: params\[1\] <input> does not require grad"):
        SGD([p, tr.Tensor(np.zeros(2))], lr=0.1)
    with pytest.raises(ArgumentError, match=r"Adam: params\[0\] <mul> is not a leaf"):
        Adam([p * 2.0])
    with pytest.raises(ArgumentError, match=r"params\[0\] and params\[1\] are the same tensor"):
        Adam([p, p])
    with pytest.raises(ArgumentError, match=r"RMSprop: argument 'params' is empty"):
        RMSprop([])
    with pytest.raises(DTypeError, match=r"Adagrad: argument 'params' must be an iterable"):
        Adagrad(3)
    assert Adam(p).params == [p]  # a single Tensor is accepted


# ---- kernels against slow NumPy references ---------------------------------------------------
def slow_sgd(p, g, b, lr, mu, wd, nesterov):
    d = g + wd * p
    b = mu * b + d if mu else b
    return p - lr * ((d + mu * b if nesterov else b) if mu else d), g, b


def slow_adagrad(p, g, s, lr, eps, wd, inside):
    d = g + wd * p
    s = s + d * d
    return p - lr * d / (np.sqrt(s + eps) if inside else np.sqrt(s) + eps), g, s


def slow_adam(p, g, m, v, step_size, one_m_b1, b2, one_m_b2, eps, wd, bc2_sqrt):
    d = g + wd * p
    m, v = m + one_m_b1 * (d - m), b2 * v + one_m_b2 * d * d
    return p - step_size * m / (np.sqrt(v) / bc2_sqrt + eps), g, m, v


def slow_rmsprop(p, g, a, b, lr, alpha, one_m_alpha, eps, mu, wd):
    d = g + wd * p
    a = alpha * a + one_m_alpha * d * d
    u = d / (np.sqrt(a) + eps)
    b = mu * b + u if mu else b  # the buffer is left alone without momentum
    return p - lr * (b if mu else u), g, a, b


KERNEL_CASES = [  # kernel, reference, number of arrays, scalars
    (K.sgd_update, slow_sgd, 3, (0.5, 0.0, 0.1, False)),
    (K.sgd_update, slow_sgd, 3, (0.5, 0.9, 0.1, False)),
    (K.sgd_update, slow_sgd, 3, (0.5, 0.9, 0.0, True)),
    (K.adagrad_update, slow_adagrad, 3, (0.1, 1e-3, 0.2, False)),
    (K.adagrad_update, slow_adagrad, 3, (0.1, 1e-3, 0.0, True)),
    (K.adam_update, slow_adam, 4, (0.2, 0.1, 0.99, 0.01, 1e-3, 0.01, 0.7)),
    (K.rmsprop_update, slow_rmsprop, 4, (0.05, 0.9, 0.1, 1e-3, 0.0, 0.01)),
    (K.rmsprop_update, slow_rmsprop, 4, (0.05, 0.9, 0.1, 1e-3, 0.5, 0.0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kern, slow, n, hp", KERNEL_CASES)
def test_update_kernels(kern, slow, n, hp, dtype, rng):
    arrs = [(np.abs(rng.standard_normal(37)) + 0.1).astype(dtype) for _ in range(n)]
    want = slow(*[a.astype(np.float64) for a in arrs], *hp)
    c = np.dtype(dtype).type  # callers pass scalars in the arrays' dtype
    kern(*arrs, *[h if isinstance(h, bool) else c(h) for h in hp])
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    for a, w in zip(arrs, want):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, w, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_squares_and_clamp_kernels(dtype, rng):
    x = (rng.standard_normal(101) * 3).astype(dtype)
    assert math.isclose(K.sum_squares(x), float(np.sum(x.astype(np.float64) ** 2)), rel_tol=1e-13)
    assert K.sum_squares(x[:0]) == 0.0
    x[5] = np.nan
    want = np.clip(x, -1.0, 1.0)
    c = np.dtype(dtype).type
    K.clamp_inplace(x, c(-1.0), c(1.0))
    assert x.dtype == dtype
    np.testing.assert_array_equal(x, want)
