"""Tree encoders: trees per second, forward + backward, per node vs level-batched (same run).

A RecursiveNN (and a binary TreeLSTM) with H = 100 over the same set of trees (SST train when
present, else random binary trees of the same size), node-level cross-entropy, one backward per
batch. Configurations are timed in interleaved rounds (A B C A B C ...) and the median is kept,
since machine speed drifts. With PyTorch installed, a per-node recursive PyTorch RecursiveNN (the
usual way such models are written in it) runs on the same trees for comparison.

Run: python benchmarks/tree_speed.py [--trees 96] [--rounds 5] [--dim 100]
"""

from __future__ import annotations

import argparse
import gc
import statistics
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr
from benchmarks.timing import Timings, calls_for, interleave
from tinygrad_rnn.nn import RecursiveNN, TreeLSTM, build_schedule, merge_schedules

BLOCK = 0.2  # seconds per timed block
SST = Path(__file__).resolve().parents[2] / "shared/data/sst/train.txt"


def load(n: int) -> list:
    if SST.exists():
        trees = tr.data.load_trees(SST, binarize=True)
        return trees[:: max(1, len(trees) // n)][:n]  # the file is sorted by sentiment
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):  # random binary bracketing of 19 words, like an average SST sentence
        items = [tr.data.Tree(int(rng.integers(5)), f"w{rng.integers(500)}") for _ in range(19)]
        while len(items) > 1:
            i = int(rng.integers(len(items) - 1))
            items[i : i + 2] = [tr.data.Tree(int(rng.integers(5)), children=items[i : i + 2])]
        out.append(items[0])
    return out


def ours(model, schedules: list, batch: int, mode: str):
    groups = [merge_schedules(schedules[a : a + batch]) for a in range(0, len(schedules), batch)]
    params = model.parameters()  # listed once, as an optimizer holds them (and PyTorch's side)

    def run():
        for s in groups:
            model.loss(s, mode=mode).backward()
            for p in params:
                p.grad = None

    return run


def torch_per_node(trees: list, vocab, dim: int, dtype=np.float64):
    """PyTorch, one node at a time (post-order, iterative), then one backward per tree."""
    import torch

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    dt = {np.float64: torch.float64, np.float32: torch.float32}[np.dtype(dtype).type]
    E = (torch.rand(len(vocab), dim, generator=g, dtype=dt) - 0.5).requires_grad_()
    W = (torch.rand(dim, 2 * dim, generator=g, dtype=dt) - 0.5).requires_grad_()
    b = torch.zeros(dim, dtype=dt, requires_grad=True)
    Ws = (torch.rand(5, dim, generator=g, dtype=dt) - 0.5).requires_grad_()
    prepared = [
        [
            (n, [id(c) for c in n.children], vocab.stoi.get(n.word, 0) if n.is_leaf else -1)
            for n in t.nodes()
        ]
        for t in trees
    ]

    def run():
        for nodes in prepared:
            vec, logits, labels = {}, [], []
            for n, kids, wid in nodes:
                p = E[wid] if wid >= 0 else torch.tanh(W @ torch.cat([vec[k] for k in kids]) + b)
                vec[id(n)] = p
                logits.append(Ws @ p)
                labels.append(n.label)
            loss = torch.nn.functional.cross_entropy(
                torch.stack(logits), torch.tensor(labels), reduction="sum"
            )
            loss.backward()
            for p in (E, W, b, Ws):
                p.grad = None

    return run


def measure(configs: dict, n_trees: int, rounds: int, block: float = BLOCK) -> Timings:
    """Seconds per pass over the trees, per config and round. BLAS pinned to one thread for
    everyone (PyTorch's own pool is pinned in ``torch_per_node``): fair, and fastest for these
    small matrices. Each timed block repeats its pass to last ~``block`` s, with the collector
    run before it (``benchmarks/timing.py`` says why); rounds interleave the configs."""
    with tr.blas_threads(1):
        return interleave(configs, rounds, calls_for(configs, block), warmup=0,
                          before=gc.collect)


def rates(t: Timings, n_trees: int) -> dict:
    """Trees per second of each config (median over rounds)."""
    return {k: n_trees / statistics.median(v) for k, v in t.per_round.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    args = ap.parse_args()
    trees = load(args.trees)
    vocab = tr.data.Vocab.from_trees(trees)
    scheds = [build_schedule([t], vocab) for t in trees]
    nodes = sum(s.num_nodes for s in scheds)
    print(
        f"{len(trees)} trees, {nodes / len(trees):.1f} nodes/tree, H={args.dim}, float64, "
        f"forward + backward, node-level loss"
    )
    for name, model in (
        ("RecursiveNN", RecursiveNN(len(vocab), dim=args.dim, rng=0)),
        ("TreeLSTM", TreeLSTM(len(vocab), args.dim, args.dim, rng=0)),
    ):
        configs = {"per-node (batch 1)": ours(model, scheds, 1, "per_node")}
        configs.update(
            {f"level-batched, batch {b}": ours(model, scheds, b, "batched") for b in (1, 8, 32)}
        )
        if name == "RecursiveNN":
            try:
                configs["PyTorch per-node (batch 1)"] = torch_per_node(trees, vocab, args.dim)
            except ImportError:
                pass
        t = measure(configs, len(trees), args.rounds)
        base = "PyTorch per-node (batch 1)" if "PyTorch per-node (batch 1)" in configs else (
            "per-node (batch 1)")
        print(f"\n{name} (x: speed-up over {base}, median of the rounds' ratios)")
        for k, r in rates(t, len(trees)).items():
            print(f"  {k:28s} {r:8.1f} trees/s   x{1 / t.ratio(k, base):5.1f}")


if __name__ == "__main__":
    main()
