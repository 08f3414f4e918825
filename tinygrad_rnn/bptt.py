"""Truncated backpropagation through time, TBPTT(k1, k2), as the seeds write it (seed 004):

    for t from 1 to T:
        run the RNN one step                       (the hidden state is carried forward forever)
        if t divides k1:
            backpropagate the losses of the last k1 steps through the last k2 steps

k1 = k2 is the common chunked form (detach every k steps); k1 < k2 gives overlapping windows;
k1 = k2 = T is full BPTT. Each window starts from the carried state detached with
``detach(cut=True)``, so ``tr.trace`` draws the truncation boundary as a cut.

With k1 < k2 a step belongs to several windows, so each window re-runs its k2 steps from the
state stored at its start (the only way to stop backprop k2 steps back while the earlier windows'
graphs are gone). Without an optimizer step between windows, the gradients of all windows add up
in ``.grad``; with k2 >= T that sum is exactly the full-BPTT gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinygrad_rnn.errors import ArgumentError
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor


@dataclass
class TBPTTResult:
    window_losses: list = field(default_factory=list)  # summed loss of each window (floats)
    window_ends: list = field(default_factory=list)  # t at which each window backpropagated
    state: object = None  # the carried state after the last step (detached)
    last_loss: Tensor | None = None  # the last window's loss tensor (trace it for a picture)


def _detach(state, cut: bool = False):
    """Detach a state (a Tensor, or a tuple of them for LSTM); cut=True marks the boundary."""
    if isinstance(state, tuple):
        return tuple(s.detach(cut=cut) for s in state)
    return state.detach(cut=cut)


def _check(k1, k2, T):
    for name, k in (("k1", k1), ("k2", k2)):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
            raise ArgumentError(f"tbptt: argument '{name}' must be a positive int; got {k!r}")
    if k2 < k1:
        raise ArgumentError(f"tbptt: k2 (how far back) must be >= k1 (how often); got k1={k1}, "
                            f"k2={k2}: the losses of the last k1 steps must lie in the window")
    if T == 0:
        raise ArgumentError("tbptt: the sequence is empty (T = 0)")


def tbptt(step_fn, loss_fn, xs, h0, k1: int, k2: int, on_window=None) -> TBPTTResult:
    """Run TBPTT(k1, k2) over the sequence ``xs`` (indexable, length T).

    step_fn(x_t, state, t) -> new state (a Tensor, or a tuple for LSTM states).
    loss_fn(state, t) -> scalar Tensor: the loss L^(t) at step t (0-based), or None for none.
    on_window(result, t): called after each window's backward (e.g. ``opt.step();
        opt.zero_grad()``); without it, gradients of all windows accumulate in ``.grad``.
    When k1 does not divide T, a final window backpropagates the losses of the remaining steps
    through the last k2 steps (so k2 >= T is full BPTT for every k1; k1 = k2 is exactly the
    chunked detach form whenever k1 divides T).
    """
    T = len(xs)
    _check(k1, k2, T)
    res = TBPTTResult()
    states = {0: h0}  # carried state after t steps (values, no history), last k2 kept
    done = 0  # steps whose losses have been backpropagated
    while done < T:
        end = min(done + k1, T)
        start = max(0, end - k2)
        state = _detach(states[start], cut=True) if start else states[0]
        loss = None
        for t in range(start, end):
            with scope(step=t):
                state = step_fn(xs[t], state, t)
                lt = loss_fn(state, t) if t >= done else None
            if lt is not None:
                loss = lt if loss is None else loss + lt
            states[t + 1] = _detach(state)
        if loss is not None:
            loss.backward()
            res.window_losses.append(loss.item())
            res.last_loss = loss
        res.window_ends.append(end)
        done = end
        for t in [s for s in states if s <= end - k2]:  # the next window starts after that
            del states[t]  # memory stays O(k2), not O(T)
        if on_window is not None:
            on_window(res, end)
    res.state = states[T]
    return res


def gradient_comparison(params, grads_a, grads_b) -> dict:
    """Per parameter: cosine between two gradients and the norm ratio |a| / |b|."""
    out = {}
    for i, p in enumerate(params):
        a, b = np.ravel(grads_a[i]), np.ravel(grads_b[i])
        na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        cos = float(a @ b / (na * nb)) if na and nb else float("nan")
        out[p.name or f"param{i}"] = {"cosine": cos, "norm_ratio": na / nb if nb else float("nan")}
    return out


def truncation_cost(step_fn, loss_fn, params, xs, h0, k1: int, k2: int) -> dict:
    """What truncation costs on this batch: the TBPTT(k1, k2) gradient vs the full-BPTT gradient
    for each parameter, as cosine similarity and norm ratio (truncated / full). Leaves the
    parameters' ``.grad`` as they were."""
    saved = [None if p.grad is None else p.grad.copy() for p in params]
    grads = []
    for a, b in ((len(xs), len(xs)), (k1, k2)):
        for p in params:
            p.grad = None
        tbptt(step_fn, loss_fn, xs, h0, a, b)
        grads.append([np.zeros_like(p.data) if p.grad is None else p.grad.copy() for p in params])
    for p, g in zip(params, saved):
        p.grad = g
    return gradient_comparison(params, grads[1], grads[0])
