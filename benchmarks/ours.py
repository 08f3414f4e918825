"""tinygrad_rnn training steps: char-RNN/LSTM/GRU, forward over T steps, softmax cross-entropy at
every step, backward, clip_grad_value, Adagrad.

Three ways to write the same model:

* ``fused``: as a user would: ``tr.nn.RNN/LSTM/GRU(...)`` (fused, the default) on one-hot inputs
  (T, B, V), ``tr.nn.Linear`` on the stacked outputs, ``tr.F.cross_entropy``, ``tr.optim.Adagrad``;
* ``composite``: the same with ``fused=False`` (every gate a node, for pictures and teaching);
* ``embed``: the fastest the current library allows without fused cells taking a precomputed
  input projection: one-hot times W_ih is a row lookup, so ``F.embedding`` of W_ih^T (plus b_ih)
  gives the input projection of all T steps in one node, and each step only adds h W_hh^T + b_hh
  (``F.linear``) and applies the gates with tensor ops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import tinygrad_rnn as tr

PHASES = ("forward", "backward", "clip", "optimizer")
LAYERS = {"rnn": tr.nn.RNN, "lstm": tr.nn.LSTM, "gru": tr.nn.GRU}


@dataclass(frozen=True)
class Recipe:
    """What a training step does besides the forward pass (the same on every side)."""

    reduction: str = "mean"  # of the per-step cross-entropy over T * B
    lr: float = 0.1
    clip: float = 5.0  # gradients clamped to [-clip, clip]
    eps: float = 1e-8


@dataclass
class Workload:
    """A training step, and one forward + backward that returns the named gradients (no update)."""

    step: Callable[[], object]
    grads: Callable[[], dict]
    nodes: Callable[[], int] | None = None  # recorded ops in one step's graph
    phased: Callable[[dict], object] | None = None  # a step adding its phase times to a dict


def _trainer(forward, named: dict, recipe: Recipe, eps_inside_sqrt: bool) -> Workload:
    params = list(named.values())
    opt = tr.optim.Adagrad(params, lr=recipe.lr, eps=recipe.eps, eps_inside_sqrt=eps_inside_sqrt)

    def step():
        loss = forward()
        loss.backward()
        tr.optim.clip_grad_value(params, recipe.clip)
        opt.step()
        opt.zero_grad()
        return loss

    def grads() -> dict:
        forward().backward()
        out = {k: p.grad.copy() for k, p in named.items()}
        opt.zero_grad()
        return out

    def nodes() -> int:
        return sum(n.kind == "op" for n in tr.trace(forward(), expand=False).nodes)

    def phased(acc: dict):
        t = [time.perf_counter()]
        loss = forward()
        t.append(time.perf_counter())
        loss.backward()
        t.append(time.perf_counter())
        tr.optim.clip_grad_value(params, recipe.clip)
        t.append(time.perf_counter())
        opt.step()
        opt.zero_grad()
        t.append(time.perf_counter())
        for k, a, b in zip(PHASES, t, t[1:]):
            acc[k] = acc.get(k, 0.0) + b - a
        return loss

    return Workload(step, grads, nodes, phased)


def _set(t: tr.Tensor, value: np.ndarray) -> None:
    t.data[...] = value


def module_way(kind: str, fused: bool, w: dict, data: tuple, dtype, recipe: Recipe,
               eps_inside_sqrt: bool = True) -> Workload:
    """``tr.nn.<RNN|LSTM|GRU>(fused=...)`` + ``tr.nn.Linear`` + ``F.cross_entropy``."""
    V, H = w["head.weight"].shape
    rnn = LAYERS[kind](V, H, fused=fused, dtype=dtype)
    head = tr.nn.Linear(H, V, dtype=dtype)
    named = dict(rnn.named_parameters())
    named.update({f"head.{k}": p for k, p in head.named_parameters()})
    for k, p in named.items():
        _set(p, w[k])
    _, x, y = data
    xt = tr.Tensor(x, dtype=dtype)

    def forward():
        out, _ = rnn(xt)
        return tr.F.cross_entropy(head(out), y, reduction=recipe.reduction)

    return _trainer(forward, named, recipe, eps_inside_sqrt)


def _rnn_gates(e_t, z_h, h, c):
    return (e_t + z_h).tanh(), None


def _lstm_gates(e_t, z_h, h, c):
    i, f, g, o = tr.split(e_t + z_h, 4, axis=-1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _gru_gates(e_t, z_h, h, c):
    ir, iz, i_n = tr.split(e_t, 3, axis=-1)
    hr, hz, h_n = tr.split(z_h, 3, axis=-1)
    r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n), None


GATES = {"rnn": _rnn_gates, "lstm": _lstm_gates, "gru": _gru_gates}


def embed_way(kind: str, w: dict, data: tuple, dtype, recipe: Recipe,
              eps_inside_sqrt: bool = True) -> Workload:
    """Input projection of all T steps as one ``F.embedding`` of W_ih^T; composite gates."""
    V, H = w["head.weight"].shape
    names = ("weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "head.weight", "head.bias")
    t = {k: tr.Tensor(w[k].astype(dtype), requires_grad=True, name=k) for k in names}
    w_ih_t = tr.Tensor(np.ascontiguousarray(w["weight_ih_l0"].T, dtype=dtype),
                       requires_grad=True, name="weight_ih_l0^T")
    ids, _, y = data
    B, gates = ids.shape[1], GATES[kind]

    def forward():
        e = tr.F.embedding(w_ih_t, ids) + t["bias_ih_l0"]  # (T, B, G*H)
        h = c = tr.Tensor(np.zeros((B, H), dtype=dtype))
        hs = []
        for step in range(len(ids)):
            h, c = gates(e[step], tr.F.linear(h, t["weight_hh_l0"], t["bias_hh_l0"]), h, c)
            hs.append(h)
        logits = tr.F.linear(tr.stack(hs), t["head.weight"], t["head.bias"])
        return tr.F.cross_entropy(logits, y, reduction=recipe.reduction)

    wl = _trainer(forward, {"weight_ih_l0": w_ih_t, **t}, recipe, eps_inside_sqrt)
    raw = wl.grads
    wl.grads = lambda: {k: (g.T if k == "weight_ih_l0" else g) for k, g in raw().items()}
    return wl


def ours(kind: str, way: str, w: dict, data: tuple, dtype, recipe: Recipe) -> Workload:
    """way: 'fused', 'composite' or 'embed' (see the module docstring)."""
    if way == "embed":
        return embed_way(kind, w, data, dtype, recipe)
    return module_way(kind, way == "fused", w, data, dtype, recipe)
