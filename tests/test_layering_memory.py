"""Layering (what importing pulls in) and flat memory over a training-like loop."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc

import numpy as np

import tinygrad_rnn as tr


def _modules_after(code: str) -> set:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(sorted(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(eval(out.stdout.strip().splitlines()[-1]))


def test_import_pulls_in_neither_viz_graphviz_nor_numba():
    mods = _modules_after("import tinygrad_rnn")
    assert "graphviz" not in mods and "viz" not in mods
    assert "numba" not in mods, "numba must be imported lazily, on the first kernel call"


def test_numba_imported_when_a_kernel_runs():
    code = ("import tinygrad_rnn as tr\n"
            "tr.F.cross_entropy(tr.Tensor([[1.0, 2.0]]), [0])")
    assert "numba" in _modules_after(code)


def test_tracing_alone_does_not_start_numba():
    """The trace's summary kernels are used once Numba runs anyway: loading it for a trace alone
    would cost ~1 s, more than a long trace saves."""
    code = ("import tinygrad_rnn as tr\n"
            "x = tr.Tensor([[1.0, 2.0]], requires_grad=True)\n"
            "loss = (x * x).sum(); loss.backward(retain_grads=True); tr.trace(loss)")
    assert "numba" not in _modules_after(code)


def _step(W, U, V, rng):
    h = tr.Tensor(np.zeros((4, 8)))
    loss = None
    for t in range(5):
        with tr.scope("rnn", step=t):
            h = (tr.Tensor(rng.standard_normal((4, 6))) @ U + h @ W).tanh()
            lt = tr.F.cross_entropy(h @ V, rng.integers(0, 5, 4))
            loss = lt if loss is None else loss + lt
    loss.backward()
    for p in (W, U, V):
        p.data -= 0.01 * p.grad
        p.grad = None


def test_training_loop_memory_is_flat():
    rng = np.random.default_rng(0)
    W = tr.Tensor(rng.standard_normal((8, 8)) * 0.1, requires_grad=True)
    U = tr.Tensor(rng.standard_normal((6, 8)) * 0.1, requires_grad=True)
    V = tr.Tensor(rng.standard_normal((8, 5)) * 0.1, requires_grad=True)
    for _ in range(50):  # warm up caches (kernels, allocator pools)
        _step(W, U, V, rng)
    # Compare two windows of 1,000 steps: the first fills CPython's free lists and NumPy's small
    # caches (~200 KB, bounded); a leak of even one 48-byte object a step shows in the second.
    tracemalloc.start()
    try:
        for _ in range(1000):
            _step(W, U, V, rng)
        first = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            _step(W, U, V, rng)
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    assert grown < 16 * 1024, f"memory grew by {grown} bytes over the second 1,000 steps"


def test_blas_threads_is_scoped():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    with tr.blas_threads(1):
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before
    import pytest

    with pytest.raises(tr.ArgumentError, match="positive int"):
        with tr.blas_threads(0):
            pass
