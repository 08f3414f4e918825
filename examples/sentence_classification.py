# %% [markdown]
# # Many-to-one: which summary of the states? (seeds 001 and 003)
# A recurrent encoder reads a whole sequence and gives one state per step, h^(1..T). A classifier
# needs one vector, and seed 003 lists the ways to get it: the **last** state, the **mean** of
# the states, their elementwise **max**, or (a bonus here) a learned **attention** average.
# Which one is right depends on the task, so we train one model per (task, aggregation) on three
# generated tasks, each with ragged lengths (padding must never count):
#
# * *contains*: is token 1 anywhere in the sequence? -- one step decides: max and attention.
# * *majority*: more "positive" than "negative" tokens? -- every step votes: mean.
# * *last*: the class of the last token -- only the end matters: last.
#
# What to look for in the table: each task has a clear loser (max on *last*: it cannot tell
# which step came last; last on *majority*: one state must count the whole sequence). The
# encoder is trained too, so it can partly make up for a poor summary -- e.g. states that encode
# the change from the previous token have a mean that telescopes to the last token.
#
#     python examples/sentence_classification.py            # under a minute
#     python examples/sentence_classification.py --tiny     # seconds (the test suite)
#     python examples/sentence_classification.py --tiny --draw pictures   # plus a picture

# %%
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn.data.toy import AGGREGATION_TASKS, aggregation_task
from tinygrad_rnn.nn import SequenceClassifier, pad_sequences
from tinygrad_rnn.nn.models.classifier import AGGREGATES
from tinygrad_rnn.progress import progress


def batch(seqs, labels, idx):
    ids, lengths = pad_sequences([seqs[i] for i in idx])
    return ids, lengths, labels[idx]


def train(model, seqs, labels, steps, batch_size, lr, rng, desc="training"):
    """Adam on random minibatches; returns the last loss."""
    opt = tr.optim.Adam(model.parameters(), lr=lr)
    loss = None
    for _ in progress(range(steps), desc=desc, unit="step"):
        ids, lengths, y = batch(seqs, labels, rng.choice(len(seqs), batch_size, replace=False))
        loss = model.loss(ids, y, lengths)
        loss.backward()
        tr.optim.clip_grad_norm(model.parameters(), 5.0)
        opt.step()
        opt.zero_grad()
    return loss.item()


def accuracy(model, seqs, labels, batch_size=256):
    right = 0
    for start in range(0, len(seqs), batch_size):
        idx = np.arange(start, min(start + batch_size, len(seqs)))
        ids, lengths, y = batch(seqs, labels, idx)
        right += int(np.sum(model.predict(ids, lengths) == y))
    return right / len(seqs)


# %% One model per (task, aggregation)
def run_task(task, args):
    """Train one model per aggregation on ``task``: (test accuracy, model) per aggregation."""
    data_rng = np.random.default_rng(100 * args.seed + AGGREGATION_TASKS.index(task))
    kw = {"min_len": args.min_len, "max_len": args.max_len}
    train_set = aggregation_task(task, args.n_train, data_rng, **kw)
    test_set = aggregation_task(task, args.n_test, data_rng, **kw)
    row, models = {}, {}
    for method in AGGREGATES:
        model = SequenceClassifier(20, 2, embed_dim=args.embed, hidden_size=args.hidden,
                                   cell=args.cell, aggregate=method, rng=args.seed)
        t0 = time.perf_counter()
        loss = train(model, *train_set, args.steps, args.batch, args.lr,
                     np.random.default_rng(args.seed), desc=f"{task} {method}")
        row[method], models[method] = accuracy(model, *test_set), model
        print(f"  {task:9s} {method:9s} train loss {loss:.3f}  test accuracy {row[method]:.3f}"
              f"  ({time.perf_counter() - t0:.1f}s)", flush=True)
    return row, models


def print_table(table):
    print("\ntest accuracy (chance 0.5)")
    print("task      " + "".join(f"{m:>11s}" for m in AGGREGATES) + "   best")
    for task, row in table.items():
        best = max(row, key=row.get)
        print(f"{task:10s}" + "".join(f"{row[m]:11.3f}" for m in AGGREGATES) + f"   {best}")


def main(argv=None):
    ap = argparse.ArgumentParser(description="many-to-one: last / mean / max / attention")
    ap.add_argument("--cell", choices=["rnn", "gru", "lstm"], default="rnn")
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--embed", type=int, default=8)
    ap.add_argument("--steps", type=int, default=300, help="training steps per model")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--n-train", type=int, default=3000)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--min-len", type=int, default=10)
    ap.add_argument("--max-len", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="seconds-long run for the test suite")
    ap.add_argument("--out", default="out/sentence_classification", help="folder for results")
    ap.add_argument("--draw", default=None, help="folder for a picture of one short sequence")
    args = ap.parse_args(argv)
    if args.tiny:
        args.steps, args.n_train, args.n_test, args.min_len, args.max_len = 60, 600, 300, 6, 16
    print(f"encoder {args.cell} H={args.hidden}, lengths {args.min_len}..{args.max_len}, "
          f"{args.steps} steps of batch {args.batch} per model")
    table, trained = {}, {}
    for task in AGGREGATION_TASKS:
        table[task], trained[task] = run_task(task, args)
    print_table(table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "aggregation_accuracy.json"), "w") as f:
        json.dump({"settings": vars(args), "accuracy": table}, f, indent=2)
    if args.draw:
        draw(trained["contains"]["attention"], args)
    return table


# %% Picture: where the gradient goes in the attention classifier, on one short sequence
def draw(model, args):
    """Backward picture of the trained attention model (task *contains*) on a 6-token
    sequence, every op of the recurrence its own node: the paths from the loss to the learned
    query q are highlighted, and each step's colour is how much gradient reaches it."""
    import viz  # the drawing package; the core never imports it

    picture = model  # fused: tr.trace opens its calls into every step and gate
    seqs, labels = aggregation_task("contains", 1, np.random.default_rng(6), min_len=6,
                                    max_len=6)  # 10 11 1 8 19 8: token 1 at t = 2, label 1
    loss = picture.loss(np.array(seqs[0])[:, None], labels)
    loss.backward(retain_grads=True)
    title = f"contains: {' '.join(map(str, seqs[0]))} -> {labels[0]}"
    for path in viz.save_views(tr.trace(loss), args.draw, "attention", views=("backward",),
                               keep_ends=3, highlight="query", title=title):
        print(f"drew {path}")


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
