"""Tree encoder throughput, taken from ``benchmarks/tree_speed.py``: RecursiveNN and binary
TreeLSTM, forward + backward, per node and level-batched by 1/8/32 trees, against a per-node
recursive PyTorch RecursiveNN on the same trees, in float64; and the x32 RecursiveNN against the
same PyTorch net in float32, which carries the target: float32 is PyTorch's default dtype and the
dtype of every other PyTorch comparison in this suite (the float64 ratio is reported next to it).

``tree_speed`` pins BLAS and PyTorch to one thread when imported and when its PyTorch workload is
built, so it runs in a child process (``python -m benchmarks.trees``), which prints JSON; the
other groups keep their own thread settings.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.report import TREES_40X, Row, skipped
from benchmarks.timing import Timings

ROOT = Path(__file__).resolve().parents[1]


BATCHES = (1, 8, 32)


def _measure(n_trees: int, rounds: int, dim: int, block: float) -> dict:
    """Trees per second of RecursiveNN and binary TreeLSTM, per node and level-batched by
    1/8/32 trees, and of PyTorch's per-node RecursiveNN, all interleaved in the same rounds."""
    from benchmarks import tree_speed as ts

    trees = ts.load(n_trees)
    vocab = ts.tr.data.Vocab.from_trees(trees)
    scheds = [ts.build_schedule([t], vocab) for t in trees]
    configs = {}
    for name, model in (("RecursiveNN", ts.RecursiveNN(len(vocab), dim=dim, rng=0)),
                        ("TreeLSTM", ts.TreeLSTM(len(vocab), dim, dim, rng=0))):
        configs[f"{name} per_node"] = ts.ours(model, scheds, 1, "per_node")
        for b in BATCHES:
            configs[f"{name} batched{b}"] = ts.ours(model, scheds, b, "batched")
    # float32, PyTorch's default dtype (and that of every other PyTorch comparison here)
    f32 = ts.RecursiveNN(len(vocab), dim=dim, rng=0, dtype=np.float32)
    configs["RecursiveNN batched32 float32"] = ts.ours(f32, scheds, 32, "batched")
    try:
        configs["torch"] = ts.torch_per_node(trees, vocab, dim)
        configs["torch float32"] = ts.torch_per_node(trees, vocab, dim, np.float32)
    except ImportError:
        pass
    t = ts.measure(configs, len(trees), rounds, block)
    nodes = sum(s.num_nodes for s in scheds) / len(trees)
    return {"rates": ts.rates(t, len(trees)), "per_round": t.per_round, "nodes_per_tree": nodes,
            "trees": len(trees)}


def _row(group: str, res: dict, key: str, label: str, ref: str, ref_label: str, dtype: str,
         note: str, target=None) -> Row:
    """One throughput comparison as ms per tree; the ratio (< 1: ours is faster) is the median
    of the rounds' own ratios, as in every other group (``benchmarks/timing.py``)."""
    rates = res["rates"]
    ms, ms_ref = 1e3 / rates[key], 1e3 / rates[ref]
    ratio = Timings(res["per_round"]).ratio(key, ref)
    return Row(group, f"{label} ({rates[key]:,.0f} trees/s)",
               f"{ref_label} ({rates[ref]:,.0f} trees/s)", "1", dtype, "ms/tree", ms, ms_ref,
               ratio, target, note)


def _rows(group: str, model: str, res: dict, ref: str, ref_label: str, note: str) -> list:
    """Per node and batched 1/8/32 rows of one model against one reference, float64."""
    rows = []
    for how in ("per_node", *(f"batched{b}" for b in BATCHES)):
        label = "per node, batch 1" if how == "per_node" else f"level-batched x{how[7:]}"
        rows.append(_row(group, res, f"{model} {how}", f"{model} {label}", ref, ref_label,
                         "float64", note))
    return rows


def _float32_row(group: str, res: dict, note: str) -> Row:
    """The target row: level-batched x32 against PyTorch's per-node net, both in float32."""
    return _row(group, res, "RecursiveNN batched32 float32", "RecursiveNN level-batched x32",
                "torch float32", "PyTorch per-node RecursiveNN", "float32", note, TREES_40X)


def tree_rows(n_trees: int, rounds: int, dim: int, block: float = 0.2) -> list[Row]:
    """The group's rows; ``block``: seconds each timed block lasts at least."""
    group = "trees (RecursiveNN, TreeLSTM)"
    if importlib.util.find_spec("benchmarks.tree_speed") is None:
        return [skipped(group, "level-batched x32", "benchmarks/tree_speed.py not present")]
    cmd = [sys.executable, "-m", "benchmarks.trees", "--trees", str(n_trees), "--rounds",
           str(rounds), "--dim", str(dim), "--block", str(block)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [skipped(group, "level-batched x32", f"tree_speed failed: {last}")]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    note = (f"{res['trees']} trees, {res['nodes_per_tree']:.1f} nodes/tree, H={dim}, forward + "
            f"backward; gc before each timed block (>= {block:g} s)")
    if "torch" in res["rates"]:
        rows = _rows(group, "RecursiveNN", res, "torch", "PyTorch per-node RecursiveNN", note)
        rows.append(_float32_row(group, res, note))
    else:
        rows = _rows(group, "RecursiveNN", res, "RecursiveNN per_node", "ours per node",
                     note + "; torch not installed")
    # no PyTorch TreeLSTM reference: the ratio is what level batching gives over our per node
    return rows + _rows(group, "TreeLSTM", res, "TreeLSTM per_node", "ours per node", note)


def main() -> None:
    ap = argparse.ArgumentParser(description="tree throughput (child process; prints JSON)")
    ap.add_argument("--trees", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--block", type=float, default=0.2, help="seconds per timed block, at least")
    args = ap.parse_args()
    print(json.dumps(_measure(args.trees, args.rounds, args.dim, args.block)))


if __name__ == "__main__":
    main()
