"""Interleaved timing: every workload of a group runs once per round, A B C C B A A B C ...

The machine's speed drifts (up to 1.6x between runs, less within one), so absolute times are
only indicative; what holds is the ratio of two workloads measured in the same rounds. This is
``core_overhead._ab`` generalised to many workloads, keeping each round's times so a ratio can be
taken per round (paired) before the median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timings:
    """Seconds per call of each workload, one entry per round."""

    per_round: dict[str, list[float]] = field(default_factory=dict)

    def ms(self, name: str) -> float:
        """Median over rounds, in milliseconds per call."""
        return statistics.median(self.per_round[name]) * 1e3

    def ratio(self, name: str, ref: str) -> float:
        """Median over rounds of time(name) / time(ref) in the same round (< 1: name is faster)."""
        pairs = zip(self.per_round[name], self.per_round[ref])
        return statistics.median(a / b for a, b in pairs)


def interleave(fns: dict[str, Callable[[], object]], rounds: int, number: int | dict[str, int],
               warmup: int = 2, before: Callable[[], object] | None = None) -> Timings:
    """Time ``number`` calls of each function per round, functions interleaved within a round
    (in alternating order); ``number`` may be a dict giving each function its own count (see
    :func:`calls_for`). ``before()``, if given, runs untimed before each timed block (e.g.
    ``gc.collect``, so a full collection that earlier blocks' garbage made due does not land
    in whichever workload happens to come next)."""
    counts = number if isinstance(number, dict) else dict.fromkeys(fns, number)
    for fn in fns.values():
        for _ in range(warmup):  # JIT compilation, cache loads, allocator growth
            fn()
    out = Timings({k: [] for k in fns})
    order = list(fns.items())
    for r in range(rounds):
        # forward in even rounds, backward in odd ones: a step's time depends on what ran just
        # before it (caches, thread pools: the small fused RNN step read ~0.45 of min-char-rnn
        # timed as a pair, 0.48-0.54 in a fixed order among the others), so no workload should
        # always follow the same neighbour
        for name, fn in (order if r % 2 == 0 else order[::-1]):
            if before is not None:
                before()
            t0 = time.perf_counter()
            for _ in range(counts[name]):
                fn()
            out.per_round[name].append((time.perf_counter() - t0) / counts[name])
    return out


def calls_for(fns: dict[str, Callable[[], object]], block: float) -> dict[str, int]:
    """Calls per timed block so each function's block lasts about ``block`` seconds, from one
    warm-up call and one timed call of each. Workloads of very different length need it: on a
    shared machine a single 8 ms call is either untouched or hit by a whole time slice of
    another process, while a 300 ms call averages over many slices, so their ratio drifts with
    the load (the x32 tree row read 26.7x in a full run, 39-45x alone)."""
    counts = {}
    for name, fn in fns.items():
        fn()
        t0 = time.perf_counter()
        fn()
        counts[name] = max(1, round(block / max(time.perf_counter() - t0, 1e-9)))
    return counts


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` single calls (for slow, one-off workloads)."""
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)
