"""Core engine costs, measured as same-run comparisons (interleaved A/B rounds, medians).

- per recorded node: ``(x * w).tanh()`` on the tape vs ``np.tanh(x * w)`` (two NumPy calls),
  at (1, 100) and (32, 256) float32; overhead per node = (tape - numpy) / 2;
- ``import tinygrad_rnn`` time (fresh interpreter);
- first call of the kernels: cold (empty Numba cache) and warm (cache on disk).

Run: python benchmarks/core_overhead.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import timeit

import numpy as np

import tinygrad_rnn as tr


def per_node(shape, rounds=15, number=2000) -> dict:
    rng = np.random.default_rng(0)
    xa = rng.standard_normal(shape).astype(np.float32)
    wa = rng.standard_normal(shape).astype(np.float32)
    x, w = tr.Tensor(xa), tr.Tensor(wa, requires_grad=True)
    keep = []  # keep results alive like an unrolled graph does, dropped each round

    def tape():
        keep.append((x * w).tanh())

    def numpy():
        keep.append(np.tanh(xa * wa))

    a, b = [], []
    for _ in range(rounds):  # interleave A B A B: machine speed drifts between runs
        keep.clear()
        a.append(timeit.timeit(tape, number=number) / number)
        keep.clear()
        b.append(timeit.timeit(numpy, number=number) / number)
    ta, tb = statistics.median(a), statistics.median(b)
    return {"shape": shape, "tape_us": ta * 1e6, "numpy_us": tb * 1e6,
            "overhead_per_node_us": (ta - tb) / 2 * 1e6, "ratio": ta / tb}


def _ab(fa, fb, rounds=15, number=200) -> float:
    """Median time of fa / median time of fb, interleaved."""
    a, b = [], []
    for _ in range(rounds):
        a.append(timeit.timeit(fa, number=number))
        b.append(timeit.timeit(fb, number=number))
    return statistics.median(a) / statistics.median(b)


def _kernel_rows(rng, n: int, d: int) -> list:
    from tinygrad_rnn import kernels

    z = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, d, n).astype(np.int64)
    g = np.ones(n, np.float32)
    loss, p = kernels.xent_fwd(z, y, -100)

    def np_fwd():
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1)
        e /= s[:, None]
        return m[:, 0] + np.log(s) - z[np.arange(n), y], e

    def np_bwd():
        dz = p * g[:, None]
        dz[np.arange(n), y] -= g
        return dz

    idx = rng.integers(0, d, n).astype(np.int64)
    src = rng.standard_normal((n, 64)).astype(np.float32)
    out = np.zeros((d, 64), np.float32)
    return [
        (f"xent fwd ({n}, {d}) f32", _ab(lambda: kernels.xent_fwd(z, y, -100), np_fwd)),
        (f"xent bwd ({n}, {d}) f32", _ab(lambda: kernels.xent_bwd(p, y, g, -100), np_bwd)),
        (f"scatter-add ({n} rows into {d}x64) vs np.add.at",
         _ab(lambda: kernels.scatter_add_rows(out, idx, src), lambda: np.add.at(out, idx, src))),
    ]


def kernels_vs_numpy() -> list:
    """Numba kernel time / best NumPy alternative time (below 1: the kernel wins)."""
    rng = np.random.default_rng(0)
    rows = []
    for n, d in [(25, 65), (128, 65), (1600, 65), (2048, 1000)]:
        rows += _kernel_rows(rng, n, d)
    return rows


def import_time(runs=7) -> float:
    code = "import time; t=time.perf_counter(); import tinygrad_rnn; print(time.perf_counter()-t)"
    ts = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True).stdout) for _ in range(runs)]
    return statistics.median(ts)


FIRST_CALL = """
import time, numpy as np
t0 = time.perf_counter()
import tinygrad_rnn as tr
z = tr.Tensor(np.random.randn(8, 5), requires_grad=True)
loss = tr.F.cross_entropy(z, np.arange(8) % 5) + tr.F.embedding(z, [[1, 2]]).sum()
loss.backward()
print(time.perf_counter() - t0)
"""


def first_call(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True,
                         env=env, check=True)
    return float(out.stdout)


def main() -> None:
    for shape in [(1, 100), (32, 256)]:
        r = per_node(shape)
        print(f"per node {shape} float32: tape {r['tape_us']:.2f} us, numpy {r['numpy_us']:.2f} us"
              f" -> overhead {r['overhead_per_node_us']:.2f} us/node (ratio {r['ratio']:.2f})")
    for name, ratio in kernels_vs_numpy():
        print(f"{name}: Numba / NumPy time = {ratio:.2f}")
    print(f"import tinygrad_rnn: {import_time() * 1e3:.0f} ms (median of 7 fresh interpreters)")
    cache = tempfile.mkdtemp(prefix="nbcache")
    try:
        cold = first_call(cache)
        warm = statistics.median(first_call(cache) for _ in range(3))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"first forward+backward using the kernels, incl. import: cold cache {cold:.2f} s, "
          f"warm cache {warm:.2f} s")


if __name__ == "__main__":
    main()
