"""Compiled JAX references for the same training step (only when jax is installed: the `bench`
extra; never a dependency of the library).

The whole step — the recurrence as one ``lax.scan``, ``Linear`` head, softmax cross-entropy,
the gradient, clipping to [-clip, clip] and the Adagrad update — is one ``jax.jit`` function, so
this is what an XLA-compiled program does with the same work: the bar set by a compiler rather
than by a hand-written or eager library. PyTorch's gate order and parameter names, float32.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from benchmarks.ours import Recipe, Workload


def available() -> bool:
    return importlib.util.find_spec("jax") is not None


def _cell(jnp, kind: str):
    """One step h' (and c') from the input projection xp_t and the state, PyTorch's equations."""
    def rnn(p, xp, state):
        h = jnp.tanh(xp + state[0] @ p["weight_hh_l0"].T + p["bias_hh_l0"])
        return (h,), h

    def lstm(p, xp, state):
        h, c = state
        i, f, g, o = jnp.split(xp + h @ p["weight_hh_l0"].T + p["bias_hh_l0"], 4, axis=-1)
        sig = _sigmoid(jnp)
        c = sig(f) * c + sig(i) * jnp.tanh(g)
        h = sig(o) * jnp.tanh(c)
        return (h, c), h

    def gru(p, xp, state):
        h = state[0]
        xr, xz, xn = jnp.split(xp, 3, axis=-1)
        hr, hz, hn = jnp.split(h @ p["weight_hh_l0"].T + p["bias_hh_l0"], 3, axis=-1)
        sig = _sigmoid(jnp)
        r, z = sig(xr + hr), sig(xz + hz)
        n = jnp.tanh(xn + r * hn)
        h = n + z * (h - n)
        return (h,), h

    return {"rnn": rnn, "lstm": lstm, "gru": gru}[kind]


def _sigmoid(jnp):
    return lambda a: 1.0 / (1.0 + jnp.exp(-a))


def _loss_fn(jax, jnp, kind: str, reduction: str):
    cell = _cell(jnp, kind)

    def loss(p, x, y):
        T, B, _ = x.shape
        H = p["weight_hh_l0"].shape[1]
        xp = x @ p["weight_ih_l0"].T + p["bias_ih_l0"]  # every step's input projection
        zero = jnp.zeros((B, H), x.dtype)
        state = (zero, zero) if kind == "lstm" else (zero,)
        _, hs = jax.lax.scan(lambda s, xp_t: cell(p, xp_t, s), state, xp)
        logits = hs @ p["head.weight"].T + p["head.bias"]
        logp = jax.nn.log_softmax(logits, axis=-1)
        nll = -jnp.take_along_axis(logp, y[..., None], axis=-1)
        return nll.sum() if reduction == "sum" else nll.mean()

    return loss


def jax_way(kind: str, w: dict, data: tuple, dtype, recipe: Recipe) -> Workload:
    import jax
    import jax.numpy as jnp

    loss = _loss_fn(jax, jnp, kind, recipe.reduction)
    grad = jax.jit(jax.grad(loss))

    @jax.jit
    def update(p, mem, x, y):
        g = jax.grad(loss)(p, x, y)
        g = {k: jnp.clip(v, -recipe.clip, recipe.clip) for k, v in g.items()}
        mem = {k: mem[k] + g[k] * g[k] for k in g}
        p = {k: p[k] - recipe.lr * g[k] / (jnp.sqrt(mem[k]) + recipe.eps) for k in g}
        return p, mem

    state = {"p": {k: jnp.asarray(v, dtype) for k, v in w.items()}}
    state["mem"] = {k: jnp.zeros_like(v) for k, v in state["p"].items()}
    _, x, y = data
    xj, yj = jnp.asarray(x, dtype), jnp.asarray(y)

    def step():
        state["p"], state["mem"] = update(state["p"], state["mem"], xj, yj)
        jax.block_until_ready(state["p"])

    def grads() -> dict:
        return {k: np.asarray(v) for k, v in grad(state["p"], xj, yj).items()}

    return Workload(step, grads)
