"""Tree RNN throughput, taken from ``benchmarks/tree_speed.py`` (level-batched x32 against a
per-node recursive PyTorch RecursiveNN on the same trees).

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

from benchmarks.report import TREES_40X, Row, skipped

ROOT = Path(__file__).resolve().parents[1]


def _measure(n_trees: int, rounds: int, dim: int) -> dict:
    """Trees per second of our level-batched (32) RecursiveNN and PyTorch per node."""
    from benchmarks import tree_speed as ts

    trees = ts.load(n_trees)
    vocab = ts.tr.data.Vocab.from_trees(trees)
    scheds = [ts.build_schedule([t], vocab) for t in trees]
    model = ts.RecursiveNN(len(vocab), dim=dim, rng=0)
    configs = {"batched32": ts.ours(model, scheds, 32, "batched"),
               "per_node": ts.ours(model, scheds, 1, "per_node")}
    try:
        configs["torch"] = ts.torch_per_node(trees, vocab, dim)
    except ImportError:
        pass
    rates = ts.measure(configs, len(trees), rounds)
    nodes = sum(s.num_nodes for s in scheds) / len(trees)
    return {"rates": rates, "nodes_per_tree": nodes, "trees": len(trees)}


def tree_rows(n_trees: int, rounds: int, dim: int) -> list[Row]:
    group = "trees (RecursiveNN)"
    if importlib.util.find_spec("benchmarks.tree_speed") is None:
        return [skipped(group, "level-batched x32", "benchmarks/tree_speed.py not present")]
    cmd = [sys.executable, "-m", "benchmarks.trees", "--trees", str(n_trees), "--rounds",
           str(rounds), "--dim", str(dim)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return [skipped(group, "level-batched x32", f"tree_speed failed: {last}")]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    rates = res["rates"]
    ms = {k: 1e3 / r for k, r in rates.items()}  # ms per tree
    note = f"{res['trees']} trees, {res['nodes_per_tree']:.1f} nodes/tree, H={dim}, float64"
    if "torch" not in ms:
        return [Row(group, "level-batched x32", "ours per node", "1", "float64", "ms/tree",
                    ms["batched32"], ms["per_node"], ms["batched32"] / ms["per_node"],
                    note=note + "; torch not installed")]
    return [Row(group, f"level-batched x32 ({rates['batched32']:.0f} trees/s)",
                f"PyTorch per-node recursion ({rates['torch']:.0f} trees/s)", "1", "float64",
                "ms/tree", ms["batched32"], ms["torch"], ms["batched32"] / ms["torch"],
                TREES_40X, note),
            Row(group, f"per node, batch 1 ({rates['per_node']:.0f} trees/s)",
                f"PyTorch per-node recursion ({rates['torch']:.0f} trees/s)", "1", "float64",
                "ms/tree", ms["per_node"], ms["torch"], ms["per_node"] / ms["torch"],
                note=note)]


def main() -> None:
    ap = argparse.ArgumentParser(description="tree throughput (child process; prints JSON)")
    ap.add_argument("--trees", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    args = ap.parse_args()
    print(json.dumps(_measure(args.trees, args.rounds, args.dim)))


if __name__ == "__main__":
    main()
