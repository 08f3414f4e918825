# %% [markdown]
# # Sentiment over parse trees: RecursiveNN, RNTN and Tree-LSTM (backprop through structure)
# Every node of a binary parse tree gets a vector computed from its children with the same
# weights, and a softmax classifier reads every node (5 classes, very negative .. very positive).
# Data: the Stanford Sentiment Treebank (``train.txt``, ``dev.txt``, ``test.txt``) when present,
# else a treebank generated here: words with a polarity, "not"/"never" flip the phrase to their
# right, labels computed bottom-up, so only a model that composes can get the roots right.
#
#     python examples/tree_sentiment.py --model rnn --minutes 5          # SST, one model
#     python examples/tree_sentiment.py --model all --data path/to/sst   # all three
#     python examples/tree_sentiment.py --tiny                           # seconds (the tests)
#     python examples/tree_sentiment.py --tiny --draw pictures           # plus tree pictures
#
# Reported on the test split: fine-grained (5-class) and binary accuracy, at the roots (whole
# sentences) and over all nodes (phrases). Binary follows the SST convention: neutral (2) rows
# are left out, and "positive" means P(3) + P(4) > P(0) + P(1) under the same 5-class model.

# %%
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn.nn import (
    RNTN,
    RecursiveNN,
    TreeLSTM,
    build_schedule,
    merge_schedules,
    tree_accuracy,
)
from tinygrad_rnn.progress import progress

SHARED_SST = Path(__file__).resolve().parents[2] / "shared/data/sst"
DEFAULTS = {  # (dim, optimizer, lr): the settings of the papers, random word vectors
    "rnn": (30, "adagrad", 0.05),
    "rntn": (25, "adagrad", 0.05),
    "treelstm": (150, "adagrad", 0.05),
}

# %% A generated treebank (used when SST is not around, and by the tests)
POLARITY = {
    "good": 1,
    "fun": 1,
    "smart": 1,
    "warm": 1,
    "great": 2,
    "superb": 2,
    "bad": -1,
    "dull": -1,
    "silly": -1,
    "cold": -1,
    "awful": -2,
    "boring": -2,
}
NEUTRAL = ["the", "film", "plot", "is", "was", "a", "cast", "and", "story", "very", "this"]
NEGATORS = ["not", "never"]


def generate_tree(rng: np.random.Generator, max_words: int = 10) -> tr.data.Tree:
    """A random binary tree over random words; label = clip(sum, -2, 2) + 2, bottom-up.

    Merges random adjacent pairs until one tree is left (no recursion). A negator merged with the
    phrase to its right flips that phrase's sentiment: (not good) is negative.
    """
    words = list(POLARITY) + NEUTRAL * 2 + NEGATORS
    items = []
    for _ in range(int(rng.integers(2, max_words + 1))):
        w = words[int(rng.integers(len(words)))]
        items.append((tr.data.Tree(POLARITY.get(w, 0) + 2, w), POLARITY.get(w, 0)))
    while len(items) > 1:
        i = int(rng.integers(len(items) - 1))
        (a, va), (b, vb) = items[i], items[i + 1]
        v = -vb if a.word in NEGATORS else int(np.clip(va + vb, -2, 2))
        items[i : i + 2] = [(tr.data.Tree(v + 2, children=[a, b]), v)]
    return items[0][0]


def generated_treebank(n_train: int, n_test: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        split: [generate_tree(rng) for _ in range(n)]
        for split, n in (("train", n_train), ("dev", n_test), ("test", n_test))
    }


def load_data(args) -> tuple[dict, str]:
    folder = Path(args.data) if args.data else SHARED_SST
    splits = ("train", "dev", "test")
    if not args.generated and all((folder / f"{s}.txt").exists() for s in splits):
        data = {s: tr.data.load_trees(folder / f"{s}.txt", binarize=True) for s in splits}
        if args.tiny:  # every k-th tree: the SST files are roughly sorted by sentiment
            data = {s: t[:: max(1, len(t) // 200)][:200] for s, t in data.items()}
        return data, f"SST ({folder})"
    if args.data:
        raise SystemExit(f"--data {args.data}: expected train.txt, dev.txt and test.txt there")
    n = (300, 100) if args.tiny else (6000, 1000)
    return generated_treebank(*n, seed=args.seed), "generated treebank (negation)"


# %% Training and evaluation
def make_model(name: str, vocab_size: int, dim: int, seed: int):
    if name == "rnn":
        return RecursiveNN(vocab_size, dim=dim, rng=seed)
    if name == "rntn":
        return RNTN(vocab_size, dim=dim, rng=seed)
    return TreeLSTM(vocab_size, input_size=dim, hidden_size=dim, rng=seed)


def make_optimizers(kind: str, model, lr: float, l2: float) -> list:
    """One optimizer, except for the RNTN's tensor V, which gets its own with lr / (2 d).

    Adagrad's (and Adam's) first steps move every entry by about lr, in a coherent direction
    (dL/dV^[k] is an outer product x x^T): W x then moves by ~lr sum_i |x_i|, but x^T V x by
    ~lr (sum_i |x_i|)^2, 2d times more. Without the smaller step the tensor term saturates tanh
    within a few dozen updates and training stalls.
    """
    make = tr.optim.Adam if kind == "adam" else tr.optim.Adagrad
    tensor = [model.V] if isinstance(model, RNTN) else []
    rest = [p for p in model.parameters() if not any(p is t for t in tensor)]
    opts = [make(rest, lr=lr, weight_decay=l2)]
    if tensor:
        opts.append(make(tensor, lr=lr / (2 * model.dim), weight_decay=l2))
    return opts


def evaluate(model, schedules: list, chunk: int = 256) -> dict:
    """Pooled accuracies over all trees; schedules merged in chunks, no tape recorded."""
    tot: dict = {}
    with tr.no_grad():
        for a in range(0, len(schedules), chunk):
            s = merge_schedules(schedules[a : a + chunk])
            for at in ("root", "nodes"):
                acc = tree_accuracy(model(s, at=at), s, at=at)
                for k in ("fine_correct", "count", "binary_correct", "binary_count"):
                    tot[(at, k)] = tot.get((at, k), 0) + acc[k]
    return {
        f"{kind}_{at}": tot[(at, f"{kind}_correct")] / max(tot[(at, c)], 1)
        for at in ("root", "nodes")
        for kind, c in (("fine", "count"), ("binary", "binary_count"))
    }


def train_epoch(model, opts, schedules, args, rng, clock, desc: str = "epoch") -> float:
    """One pass in random batches; loss = sum of node cross-entropies / batch size."""
    perm = rng.permutation(len(schedules))
    total, steps = 0.0, 0
    for a in progress(range(0, len(perm), args.batch), desc=desc, unit="batch"):
        s = merge_schedules([schedules[i] for i in perm[a : a + args.batch]])
        loss = model.loss(s, at=args.loss, reduction="sum") * (1.0 / s.num_trees)
        loss.backward()
        tr.optim.clip_grad_norm(model.parameters(), args.clip)
        for opt in opts:
            opt.step()
        model.zero_grad()
        total, steps = total + loss.item(), steps + 1
        if clock.over():
            break
    return total / max(steps, 1)


class Clock:
    """Wall-clock budget for one model's training."""

    def __init__(self, minutes: float):
        self.t0, self.budget = time.perf_counter(), minutes * 60

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def over(self) -> bool:
        return self.elapsed() > self.budget


def fmt(acc: dict) -> str:
    return (
        f"fine root {acc['fine_root']:.1%} all {acc['fine_nodes']:.1%} | "
        f"binary root {acc['binary_root']:.1%} all {acc['binary_nodes']:.1%}"
    )


def run_model(name: str, data: dict, vocab, args) -> dict:
    dim, kind, lr = DEFAULTS[name]
    dim, lr, kind = args.dim or dim, args.lr or lr, args.optim or kind
    sched = {s: [build_schedule([t], vocab) for t in trees] for s, trees in data.items()}
    model = make_model(name, len(vocab), dim, args.seed)
    opts = make_optimizers(kind, model, lr, args.l2)
    print(
        f"[{name}] {model}  {model.num_parameters():,} parameters, {kind} lr {lr}, "
        f"batch {args.batch}, L2 {args.l2}, loss at {args.loss}",
        flush=True,
    )
    rng, clock = np.random.default_rng(args.seed), Clock(args.minutes)
    best, best_state, best_epoch, epoch = -1.0, model.state_dict(), 0, 0
    while epoch < args.epochs and not clock.over() and epoch - best_epoch < args.patience:
        epoch += 1
        loss = train_epoch(model, opts, sched["train"], args, rng, clock,
                           desc=f"[{name}] epoch {epoch}")
        dev = evaluate(model, sched["dev"])
        if dev["fine_root"] > best:
            best, best_state, best_epoch = dev["fine_root"], model.state_dict(), epoch
        print(
            f"[{name}] epoch {epoch}: train loss {loss:.3f}/tree, dev {fmt(dev)}  "
            f"[{clock.elapsed():.0f}s]",
            flush=True,
        )
    model.load_state_dict(best_state)  # early stopping on dev fine-grained root accuracy
    test = evaluate(model, sched["test"])
    print(
        f"[{name}] test ({epoch} epochs, {clock.elapsed():.0f}s, best dev root {best:.1%} at "
        f"epoch {best_epoch}): {fmt(test)}",
        flush=True,
    )
    print(
        f"RESULT {name} fine_root={test['fine_root']:.4f} fine_nodes={test['fine_nodes']:.4f}"
        f" binary_root={test['binary_root']:.4f} binary_nodes={test['binary_nodes']:.4f}"
    )
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        model.save(os.path.join(args.out, f"tree_{name}.npz"))
    if args.draw:
        draw(model, name, data["test"], vocab, args.draw)
    return test


# %% Pictures: backprop through structure on one short test tree
def draw(model, name: str, trees: list, vocab, folder: str) -> None:
    """The trained model on the test tree nearest 6 words, per node (every tree node its own
    ops), drawn as the parse tree (words at the leaves, each node's gradients and its share of
    the shared weights' gradient) and as the backward picture (gradient norms as colours)."""
    import viz  # the drawing package; the core never imports it

    tree = min(trees[:200], key=lambda t: abs(len(t.leaves()) - 6))
    model.zero_grad()
    loss = model.loss(build_schedule([tree], vocab), mode="per_node")
    loss.backward(retain_grads=True)
    print(f"[{name}] drawing {' '.join(tree.leaves())!r}")
    graph = tr.trace(loss)
    for path in viz.save_views(graph, folder, f"tree_{name}", views=("tree", "backward")):
        print(f"drew {path}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="tree-structured sentiment models (SST)")
    ap.add_argument(
        "--data",
        help="folder with SST train.txt/dev.txt/test.txt "
        "(default: the shared copy when present, else generated)",
    )
    ap.add_argument("--generated", action="store_true", help="use the generated treebank")
    ap.add_argument("--model", choices=["rnn", "rntn", "treelstm", "all"], default="all")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--dim", type=int, help="hidden size (default: 30 rnn, 25 rntn, 150 lstm)")
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--lr", type=float, help="learning rate (default 0.05, Adagrad)")
    ap.add_argument("--optim", choices=["adagrad", "adam"], help="default: adagrad")
    ap.add_argument("--l2", type=float, default=1e-4, help="weight decay on every parameter")
    ap.add_argument("--clip", type=float, default=5.0, help="gradient-norm clipping")
    ap.add_argument("--loss", choices=["nodes", "root"], default="nodes")
    ap.add_argument("--min-count", type=int, default=1, help="rarer train words become <unk>")
    ap.add_argument(
        "--patience",
        type=int,
        default=3,
        help="stop after this many epochs without a better dev root accuracy",
    )
    ap.add_argument("--minutes", type=float, default=10.0, help="training budget per model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads (1 is fastest for these small matrices on a busy machine)",
    )
    ap.add_argument("--tiny", action="store_true", help="a few seconds, for the test suite")
    ap.add_argument("--out", help="folder to save the trained models (Module.save)")
    ap.add_argument("--draw", help="folder for pictures of one short tree per model")
    args = ap.parse_args(argv)
    if args.tiny:
        args.epochs, args.minutes, args.dim = min(args.epochs, 3), min(args.minutes, 0.1), 16
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    data, source = load_data(args)
    vocab = tr.data.Vocab.from_trees(data["train"], min_count=args.min_count)
    stats = tr.data.tree_stats(data["train"])
    print(
        f"data: {source}; train/dev/test {len(data['train'])}/{len(data['dev'])}/"
        f"{len(data['test'])} trees, vocab {len(vocab)}, mean {stats['mean_leaves']:.1f} "
        f"words, max height {stats['max_height']}",
        flush=True,
    )
    names = ["rnn", "rntn", "treelstm"] if args.model == "all" else [args.model]
    # Matrices here have tens of rows: extra BLAS threads cost more in wake-ups than they give,
    # and on a busy machine a waiting thread can stall a 50-microsecond matmul for milliseconds.
    with tr.blas_threads(args.blas_threads):
        return {name: run_model(name, data, vocab, args) for name in names}


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
