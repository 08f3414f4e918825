"""Memory across many training steps: does anything accumulate (graphs kept alive, caches)?

The small char-RNN user-way step (fused cells, float64) runs ``steps`` times under
``tracemalloc`` (tracing starts before the model, optimizer and data are built, so they are the
baseline), then ``steps`` times plain, reading the resident set size after each step. Ratios
are mean(last ``window`` steps) / mean(first ``window`` steps): 1.0 is flat.

Traced memory is read every ``steps // 100`` steps right after ``gc.collect()``: what the program
keeps alive. Without the collection the reading also holds CPython's free lists (up to 2,000
tuples of each small size kept for reuse), which fill over the first few thousand steps and then
stop: measured at about +0.1 MiB, bounded warm-up, not a leak. A leak (a graph or a cache kept
per step) keeps growing in the second half of the run too; the second row compares that half.
"""

from __future__ import annotations

import gc
import os
import statistics
import tracemalloc

import numpy as np

from benchmarks.hand_numpy import make_batch, make_weights
from benchmarks.ours import Recipe, ours
from benchmarks.report import FLAT, Row

MIB = 1024 * 1024


def rss_bytes() -> float | None:
    """Resident set size now (Linux ``/proc``), or None where it cannot be read."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _traced(build, steps: int, warmup: int) -> tuple[list, float]:
    """([(step, live bytes after gc.collect())], largest peak within a step). Readings go into
    arrays made before tracing starts: a growing list of them would itself be growing memory."""
    every = max(1, steps // 100)
    live, peaks = np.zeros(steps // every), np.zeros(steps)
    tracemalloc.start()
    try:
        wl = build()
        for _ in range(warmup):
            wl.step()
        tracemalloc.reset_peak()
        for i in range(steps):
            wl.step()
            peaks[i] = tracemalloc.get_traced_memory()[1]
            if (i + 1) % every == 0:
                gc.collect()
                live[(i + 1) // every - 1] = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
    finally:
        tracemalloc.stop()
    steps_of_live = [(k + 1) * every for k in range(len(live))]
    return list(zip(steps_of_live, live.tolist())), float(peaks.max())


def _row(group: str, what: str, first: list, last: list, where: str, note: str) -> Row:
    a, b = statistics.fmean(first) / MIB, statistics.fmean(last) / MIB
    return Row(group, what, f"same, {where}", "default", "float64", "MiB", b, a, b / a, FLAT,
               note)


def memory_rows(V: int, H: int, T: int, steps: int, window: int, warmup: int = 20) -> list[Row]:
    group = f"memory ({steps} training steps)"

    def build():
        return ours("rnn", "fused", make_weights("rnn", V, H), make_batch(V, T, 1), np.float64,
                    Recipe(reduction="sum"))

    warm = build()  # compile the kernels (or load them) before tracing: Numba keeps caches
    for _ in range(3):
        warm.step()
    live, peak = _traced(build, steps, warmup)
    in_first = [b for i, b in live if i <= window]
    in_last = [b for i, b in live if i > steps - window]
    half = [b for i, b in live if steps // 2 < i <= steps // 2 + window]
    what = f"RNN fused V={V} H={H} T={T}; model and optimizer included"
    rows = [
        _row(group, f"live traced memory (after gc.collect()), last {window} steps", in_first,
             in_last, f"first {window} steps", f"tracemalloc every {steps // len(live)} steps; "
             f"{what}; largest peak within a step {peak / MIB:.2f} MiB"),
        _row(group, f"live traced memory, last {window} steps (second half)", half, in_last,
             f"steps {steps // 2 + 1}-{steps // 2 + window}", "a leak keeps growing here"),
    ]
    if rss_bytes() is None:
        return rows + [Row(group, "RSS", "—", "—", "—", "", None,
                           note="skipped: resident set size not readable here")]
    wl = build()
    for _ in range(warmup):
        wl.step()
    rss = []
    for _ in range(steps):
        wl.step()
        rss.append(rss_bytes())
    rows.append(_row(group, f"resident set size, last {window} steps", rss[:window],
                     rss[-window:], f"first {window} steps",
                     f"RSS; max - min over the run {(max(rss) - min(rss)) / MIB:.2f} MiB"))
    return rows
