"""PyTorch CPU eager references for the same training step (only when torch is installed).

* ``fused``: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` over the whole sequence (one-hot inputs);
* ``loop``: one step at a time, as a per-step model is written in PyTorch: explicit matmuls for
  the Elman RNN, ``nn.LSTMCell`` / ``nn.GRUCell`` for the others.

Then ``nn.Linear`` on the stacked outputs, ``F.cross_entropy``, ``clip_grad_value_``,
``torch.optim.Adagrad`` (eps outside the sqrt: PyTorch has no other form; the work is the same).
"""

from __future__ import annotations

import importlib.util

import numpy as np

from benchmarks.ours import Recipe, Workload


def available() -> bool:
    return importlib.util.find_spec("torch") is not None


def set_threads(threads: str) -> None:
    """'1': one intra-op thread (the child process also has 1-thread BLAS); else the default."""
    import torch

    if threads == "1":
        torch.set_num_threads(1)


def _explicit_rnn_cell(torch, V: int, H: int):
    """Elman step with explicit matmuls; parameters named like nn.RNNCell's."""
    cell = torch.nn.RNNCell(V, H)

    def step(x_t, h):
        return torch.tanh(x_t @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T
                          + cell.bias_hh)
    return cell, step


def _model(torch, kind: str, way: str, V: int, H: int):
    """(module holding the recurrent weights, run(x) -> outputs (T, B, H))."""
    nn = torch.nn
    if way == "fused":
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](V, H)
        return rnn, lambda x: rnn(x)[0]
    if kind == "rnn":
        cell, step = _explicit_rnn_cell(torch, V, H)
    else:
        cell = {"lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](V, H)
        step = cell

    def run(x):
        h = x.new_zeros(x.shape[1], H)
        state = (h, h) if kind == "lstm" else h
        hs = []
        for x_t in x:
            state = step(x_t, state)
            hs.append(state[0] if kind == "lstm" else state)
        return torch.stack(hs)
    return cell, run


def _load(torch, module, head, w: dict, dtype) -> dict:
    """Copy the shared weights in; return {PyTorch layer name: parameter}."""
    named = {}
    for k, p in module.named_parameters():
        named[k if k.endswith("_l0") else k + "_l0"] = p
    named.update({f"head.{k}": p for k, p in head.named_parameters()})
    with torch.no_grad():
        for k, p in named.items():
            p.copy_(torch.from_numpy(np.asarray(w[k], dtype=dtype)))
    return named


def torch_way(kind: str, way: str, w: dict, data: tuple, dtype, recipe: Recipe) -> Workload:
    import torch

    V, H = w["head.weight"].shape
    tdtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
    torch.set_default_dtype(tdtype[np.dtype(dtype)])
    try:
        module, run = _model(torch, kind, way, V, H)
        head = torch.nn.Linear(H, V)
    finally:
        torch.set_default_dtype(torch.float32)
    named = _load(torch, module, head, w, dtype)
    params = list(named.values())
    opt = torch.optim.Adagrad(params, lr=recipe.lr, eps=recipe.eps)
    _, x, y = data
    xt, yt = torch.from_numpy(np.asarray(x, dtype=dtype)), torch.from_numpy(y.reshape(-1))

    def forward():
        logits = head(run(xt))
        return torch.nn.functional.cross_entropy(logits.reshape(-1, V), yt,
                                                 reduction=recipe.reduction)

    def step():
        loss = forward()
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, recipe.clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    def grads() -> dict:
        forward().backward()
        out = {k: p.grad.numpy().copy() for k, p in named.items()}
        opt.zero_grad(set_to_none=True)
        return out

    return Workload(step, grads)
