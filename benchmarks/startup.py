"""Start-up costs, each in fresh interpreters: ``import tinygrad_rnn``, and the first training
step of the small char-RNN (import + model + one step) with a cold and a warm Numba cache.

Cold: a new, empty ``NUMBA_CACHE_DIR`` (set in the child's environment only), so every kernel
the step uses is compiled. Warm: the same directory again, machine code loaded from disk.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchmarks.core_overhead import import_time
from benchmarks.report import Row, at_most

FIRST_STEP = """
import json, time
t0 = time.perf_counter()
import numpy as np
import tinygrad_rnn as tr
t1 = time.perf_counter()
V, H, T = {V}, {H}, {T}
ids = np.random.default_rng(0).integers(0, V, T + 1)
x, y = np.eye(V)[ids[:-1]][:, None, :], ids[1:][:, None]
rnn, head = tr.nn.RNN(V, H, fused=True, rng=0), tr.nn.Linear(H, V, rng=1)
params = rnn.parameters() + head.parameters()
opt = tr.optim.Adagrad(params, lr=0.1, eps_inside_sqrt=True)
out, _ = rnn(x)
loss = tr.F.cross_entropy(head(out), y, reduction="sum")
loss.backward()
tr.optim.clip_grad_value(params, 5.0)
opt.step()
opt.zero_grad()
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "step": t2 - t1, "total": t2 - t0}}))
"""


def first_step(cache_dir: str, V: int, H: int, T: int) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    code = FIRST_STEP.format(V=V, H=H, T=T)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def startup_rows(V: int, H: int, T: int, import_runs: int, warm_runs: int) -> list[Row]:
    group = "start-up (fresh interpreter)"
    rows = [Row(group, "import tinygrad_rnn", "—", "default", "—", "ms",
                import_time(import_runs) * 1e3, target=at_most(300, "ours", " ms"),
                note=f"median of {import_runs} interpreters")]
    cache = tempfile.mkdtemp(prefix="nbcache")
    try:
        cold = first_step(cache, V, H, T)
        warm = [first_step(cache, V, H, T) for _ in range(warm_runs)]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    wm = {k: statistics.median(w[k] for w in warm) for k in warm[0]}
    for label, r, limit in (("cold", cold, 8000), ("warm", wm, 1000)):
        rows.append(Row(group, f"first training step, {label} Numba cache", "—", "default",
                        "float64", "ms", r["total"] * 1e3, target=at_most(limit, "ours", " ms"),
                        note=f"import {r['import'] * 1e3:.0f} ms + model and step "
                             f"{r['step'] * 1e3:.0f} ms; V={V} H={H} T={T}"))
    return rows
