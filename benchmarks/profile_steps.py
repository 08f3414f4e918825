"""Where the time of a tinygrad_rnn training step goes (diagnostics behind the results table).

For each workload: milliseconds per phase (forward = running the ops and recording the graph,
backward, clipping, optimizer update + zero_grad); how much of forward and backward is spent
inside the ops' forward and VJP functions (the array work: NumPy, BLAS, Numba kernels), the rest
being the tape's own Python (apply, OpNode, scopes, the backward loop, gradient accumulation);
the ops that cost most; recorded nodes per step. ``--cprofile`` adds the top functions by own
time.

    python -m benchmarks.profile_steps [--cprofile] [--steps 50]

Thread settings are whatever the environment says (for one thread, set OPENBLAS_NUM_THREADS=1
for this command). Op times are taken by wrapping every op's forward and VJP in timers, in place
(``ops.registry.patched``), for the duration of the measurement; they are restored after.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from contextlib import ExitStack, contextmanager

import numpy as np

from benchmarks.hand_numpy import make_batch, make_weights
from benchmarks.ours import PHASES, Recipe, ours
from tinygrad_rnn.ops import REGISTRY
from tinygrad_rnn.ops.registry import patched

SMALL, BATCHED = (65, 100, 25, 1), (65, 256, 50, 32)
CASES = [  # (kind, way, sizes, dtype, reduction)
    ("rnn", "fused", SMALL, np.float32, "sum"),  # the min-char-rnn target row
    ("rnn", "fused", SMALL, np.float64, "sum"),
    ("rnn", "composite", SMALL, np.float64, "sum"),
    ("rnn", "embed", SMALL, np.float64, "sum"),
    ("lstm", "fused", SMALL, np.float32, "sum"),
    ("lstm", "composite", SMALL, np.float32, "sum"),
    ("rnn", "fused", BATCHED, np.float32, "mean"),
    ("lstm", "fused", BATCHED, np.float32, "mean"),
    ("gru", "fused", BATCHED, np.float32, "mean"),
]


def _timed(fn, acc: dict, key: str):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[key] = acc.get(key, 0.0) + time.perf_counter() - t0
    return wrapper


@contextmanager
def op_timers(acc: dict):
    """Time every op's forward and VJP into ``acc`` ('name fwd' / 'name vjp')."""
    with ExitStack() as stack:
        for name, op in REGISTRY.items():  # every op, so by name: the index's job
            stack.enter_context(patched(op, forward=_timed(op.forward, acc, f"{name} fwd"),
                                        vjp=_timed(op.vjp, acc, f"{name} vjp")))
        yield


def profile_case(kind, way, sizes, dtype, reduction, steps: int, cprofile: bool) -> str:
    V, H, T, B = sizes
    wl = ours(kind, way, make_weights(kind, V, H), make_batch(V, T, B), dtype,
              Recipe(reduction=reduction))
    for _ in range(3):
        wl.step()
    phases, ops = {}, {}
    with op_timers(ops):
        for _ in range(steps):
            wl.phased(phases)
    per = {k: v / steps * 1e3 for k, v in phases.items()}
    fwd_ops = sum(v for k, v in ops.items() if k.endswith("fwd")) / steps * 1e3
    vjp_ops = sum(v for k, v in ops.items() if k.endswith("vjp")) / steps * 1e3
    total = sum(per.values())
    out = [f"{kind.upper()} {way}, V={V} H={H} T={T} B={B} {np.dtype(dtype).name}: "
           f"{total:.2f} ms/step, {wl.nodes()} recorded nodes/step"]
    for k in PHASES:
        inside = {"forward": fwd_ops, "backward": vjp_ops}.get(k)
        extra = (f"  inside ops {inside:6.2f} ms, tape/Python {per[k] - inside:6.2f} ms"
                 if inside is not None else "")
        out.append(f"  {k:9s} {per[k]:7.2f} ms ({per[k] / total:4.0%}){extra}")
    top = sorted(ops.items(), key=lambda kv: -kv[1])[:6]
    out.append("  top ops: " + ", ".join(f"{k} {v / steps * 1e3:.2f} ms" for k, v in top))
    if cprofile:
        out.append(_cprofile(wl.step, steps))
    return "\n".join(out)


def _cprofile(step, steps: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    return "\n".join("    " + ln for ln in lines[start:])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="per-phase and per-op profile of training steps")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--cprofile", action="store_true", help="also the top functions (cProfile)")
    args = ap.parse_args(argv)
    for kind, way, sizes, dtype, red in CASES:
        steps = args.steps if sizes[3] == 1 else max(1, args.steps // 5)
        print(profile_case(kind, way, sizes, dtype, red, steps, args.cprofile), flush=True)


if __name__ == "__main__":
    main()
