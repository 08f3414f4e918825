"""Training-step speed: tinygrad_rnn against hand NumPy BPTT and PyTorch, same run, same weights.

Every comparison first checks on one step, from the same starting weights, that both sides
compute the same gradients (max |difference| in the note), so the times are of equal work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import jax_refs, torch_refs
from benchmarks.hand_numpy import BatchedRNN, MinCharRNN, ProductsOnly, make_batch, make_weights
from benchmarks.ours import Recipe, Workload, ours
from benchmarks.report import Row, Target, at_most, skipped
from benchmarks.timing import interleave

F32, F64 = np.float32, np.float64
NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
WAYS = {"fused": "default layer (fused)", "composite": "fused=False layer (composite cells)",
        "embed": "embedding input + composite step",
        "hand_batched": "hand NumPy BPTT, hoisted GEMMs (not ours: what hoisting gives)"}
REFS = {
    "hand": "min-char-rnn (hand NumPy BPTT)",
    "hand_batched": "hand NumPy BPTT, batched",
    "fused": "PyTorch nn.{K}",
    "loop": "PyTorch per-step loop ({how})",
    "jax": "JAX jit + lax.scan (whole step compiled)",
    "composite": "ours, same layer with fused=False",
    "products": "the same matrix products alone (plain NumPy)",
}
LOOP_HOW = {"rnn": "explicit matmuls", "lstm": "nn.LSTMCell", "gru": "nn.GRUCell"}
NEEDS = {"fused": "torch", "loop": "torch", "jax": "jax"}  # references from optional packages


@dataclass(frozen=True)
class Sizes:
    V: int
    H: int
    T: int
    B: int

    def __str__(self) -> str:
        return f"V={self.V} H={self.H} T={self.T} B={self.B}"


# (kind, our way, dtype, reference, target) for each group; "fused" is what a user gets by default
SMALL = [
    ("rnn", "fused", F32, "hand", at_most(0.3)),
    ("rnn", "fused", F32, "jax", None),
    ("rnn", "fused", F32, "composite", at_most(0.5)),
    ("rnn", "fused", F64, "hand", None),
    ("rnn", "embed", F64, "hand", None),
    ("rnn", "composite", F32, "loop", None),
    ("lstm", "fused", F32, "fused", at_most(0.7)),
    ("lstm", "fused", F32, "jax", None),
    ("lstm", "fused", F32, "composite", at_most(0.5)),
    ("lstm", "composite", F32, "loop", None),
    ("gru", "fused", F32, "fused", None),
    ("gru", "fused", F32, "composite", at_most(0.5)),
]
BATCHED = [
    ("rnn", "fused", F32, "fused", at_most(0.8)),
    ("rnn", "fused", F32, "composite", at_most(0.5)),
    ("rnn", "fused", F32, "hand_batched", None),
    ("rnn", "composite", F32, "loop", None),
    ("rnn", "composite", F32, "products", None),
    ("rnn", "fused", F32, "products", None),
    ("lstm", "fused", F32, "fused", at_most(1.0)),
    ("lstm", "fused", F32, "jax", None),
    ("lstm", "fused", F32, "composite", at_most(0.5)),
    ("lstm", "composite", F32, "loop", None),
    ("lstm", "composite", F32, "products", None),
    ("lstm", "fused", F32, "products", None),
    ("gru", "fused", F32, "fused", None),
    ("gru", "fused", F32, "composite", at_most(0.5)),
    ("gru", "composite", F32, "products", None),
    ("gru", "fused", F32, "products", None),
]


def _ref_label(kind: str, ref: str) -> str:
    return REFS[ref].format(K=NAMES[kind], how=LOOP_HOW[kind])


def _hand(ref: str, w: dict, data: tuple, dtype, recipe: Recipe) -> Workload:
    _, x, y = data
    x = x.astype(dtype)
    wd = {k: v.astype(dtype) for k, v in w.items()}
    if ref == "hand":  # min-char-rnn: batch 1, column vectors
        xs, ys = [x[t, 0][:, None] for t in range(len(x))], y[:, 0]
        m = MinCharRNN(wd, recipe.lr, recipe.clip)
        return Workload(lambda: m.step(xs, ys), lambda: m.named_grads(xs, ys))
    m = BatchedRNN(wd, recipe.lr, recipe.clip, recipe.reduction)
    return Workload(lambda: m.step(x, y), lambda: m.named_grads(x, y))


def _build(key: tuple, w: dict, data: tuple, recipe: Recipe) -> Workload:
    side, kind, how, dtype = key
    if side == "ours":
        return ours(kind, how, w, data, dtype, recipe)
    if how == "products":  # no gradients: nothing to compare (grads() gives None)
        T, B, V = data[1].shape
        m = ProductsOnly(kind, V, w["weight_hh_l0"].shape[1], T, B, dtype)
        return Workload(m.step, lambda: None)
    if how.startswith("hand"):
        return _hand(how, w, data, dtype, recipe)
    if how == "jax":
        return jax_refs.jax_way(kind, w, data, dtype, recipe)
    return torch_refs.torch_way(kind, how, w, data, dtype, recipe)


def _max_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(np.asarray(a[k], np.float64) - b[k]))) for k in b)


def _plan(plan: list, have: dict) -> tuple[list, list]:
    """(comparisons that can run, rows for those that cannot). have: {package: installed}."""
    keep, rows = [], []
    for kind, way, dtype, ref, target in plan:
        if ref in NEEDS and not have[NEEDS[ref]]:
            rows.append(skipped("", f"{NAMES[kind]} {WAYS[way]} / {_ref_label(kind, ref)}",
                                f"{NEEDS[ref]} is not installed"))
            continue
        side = "ref" if way.startswith("hand") else "ours"
        ref_side = "ours" if ref == "composite" else "ref"
        keep.append(((side, kind, way, dtype), (ref_side, kind, ref, dtype), target))
    return keep, rows


def speed_group(group: str, plan: list, sizes: Sizes, recipe: Recipe, rounds: int,
                number: int, threads: str) -> list[Row]:
    """Build every workload of ``plan``, check gradients, time them interleaved, make rows."""
    have = {"torch": torch_refs.available(), "jax": jax_refs.available()}
    if have["torch"]:
        torch_refs.set_threads(threads)
    comps, rows = _plan(plan, have)
    data = make_batch(sizes.V, sizes.T, sizes.B)
    weights = {k: make_weights(k, sizes.V, sizes.H) for k in NAMES}
    keys = list(dict.fromkeys(k for c in comps for k in c[:2]))
    wls = {k: _build(k, weights[k[1]], data, recipe) for k in keys}
    grads = {k: wl.grads() for k, wl in wls.items()}  # before any update: same weights
    nodes = {k: wl.nodes() for k, wl in wls.items() if wl.nodes is not None}
    t = interleave({k: wl.step for k, wl in wls.items()}, rounds, number)
    for a, b, target in comps:
        note = (f"grads max abs diff {_max_diff(grads[a], grads[b]):.1e}"
                if grads[b] is not None else "products only: no gradients to compare")
        note = f"{nodes[a]} nodes/step; {note}" if a in nodes else note
        rows.append(Row(f"{group} ({sizes})", f"{NAMES[a[1]]} {WAYS[a[2]]}",
                        _ref_label(a[1], b[2]), threads, np.dtype(a[3]).name, "ms",
                        t.ms(a), t.ms(b), t.ratio(a, b), target, note))
    for r in rows:
        r.group = r.group or f"{group} ({sizes})"
    return rows


def small_rows(sizes: Sizes, rounds: int, number: int, threads: str) -> list[Row]:
    """min-char-rnn configuration: loss summed over steps, as min-char-rnn does."""
    return speed_group("small", SMALL, sizes, Recipe(reduction="sum"), rounds, number, threads)


def batched_rows(sizes: Sizes, rounds: int, number: int, threads: str) -> list[Row]:
    return speed_group("batched", BATCHED, sizes, Recipe(reduction="mean"), rounds, number,
                       threads)


__all__ = ["Sizes", "Target", "small_rows", "batched_rows", "speed_group"]
