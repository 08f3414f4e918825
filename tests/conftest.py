"""Shared test helpers."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(params=["numba", "numpy"])
def backend(request, monkeypatch):
    """Run an optimizer/clipping test through the fused kernels and through the NumPy formulas."""
    from tinygrad_rnn.optim import base

    monkeypatch.setattr(base, "_BACKEND", request.param)
    return request.param


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> dict:
    """Run examples/<name> as a script with ``args``; returns its globals. Fails if the example
    leaves the default dtype changed (the tests share one process)."""
    argv, dtype = sys.argv, tr.get_default_dtype()
    sys.argv = [str(EXAMPLES / name), *args]
    try:
        return runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        sys.argv = argv
        assert tr.get_default_dtype() == dtype, f"{name} left the default dtype changed"


def param(rng, *shape, positive=False, name=None):
    """A float64 leaf requiring grad, values away from kinks (0 for relu, ties for max)."""
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return tr.Tensor(a, requires_grad=True, name=name)


def small_rnn_graph(T: int = 3) -> tr.Graph:
    """h^(t) = tanh(W h^(t-1)) for T steps, loss = sum h^(T-1): a traced graph with
    retained gradients, small enough to write to a file and mutate."""
    W = tr.Tensor(np.eye(2) * 0.5, requires_grad=True, name="W")
    h = tr.Tensor(np.ones(2))
    for t in range(T):
        with tr.scope("rnn", step=t):
            h = (W @ h).tanh()
    loss = h.sum()
    loss.backward(retain_grads=True)
    return tr.trace(loss)
