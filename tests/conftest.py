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
