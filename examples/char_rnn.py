# %% [markdown]
# # Character-level language model (the seeds' "hello" example, then a real corpus)
# Part 1: the seeds' toy — vocabulary {h, e, l, o}, learn to predict "ello" from "hell" until the
# error is zero. Part 2: an RNN/LSTM/GRU on any text file (tiny-shakespeare when it is around),
# trained with Adam and gradient-norm clipping, with validation loss in nats/char and samples at a
# chosen temperature.
#
#     python examples/char_rnn.py --model lstm --minutes 10      # real run
#     python examples/char_rnn.py --tiny                         # seconds (the test suite)
#     python examples/char_rnn.py --tiny --draw pictures         # plus pictures of 6 chars

# %%
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn.progress import echo, progress

SHARED_TEXT = Path(__file__).resolve().parents[2] / "shared/data/tinyshakespeare/input.txt"
FALLBACK = ("the cat sat on the mat. the dog sat on the log. a cat and a dog met on the mat. "
            "the log was by the mat and the cat saw the dog. ") * 40


class CharModel(tr.nn.Module):
    """Embedding -> recurrent layer -> Linear: logits for the next character at every step."""

    def __init__(self, vocab, kind="lstm", hidden=128, layers=1, fused=True, seed=0):
        rng = np.random.default_rng(seed)
        self.embed = tr.nn.Embedding(vocab, min(vocab, 64), rng=rng)
        layer = {"rnn": tr.nn.RNN, "lstm": tr.nn.LSTM, "gru": tr.nn.GRU}[kind]
        self.rnn = layer(min(vocab, 64), hidden, num_layers=layers, fused=fused, rng=rng)
        self.head = tr.nn.Linear(hidden, vocab, rng=rng)

    def forward(self, ids, state=None):
        """ids: (T, B) ints -> logits (T, B, V), final state."""
        out, state = self.rnn(self.embed(ids), state)
        return self.head(out), state


def train_step(model, opt, ids, clip):
    logits, _ = model(ids[:-1])
    loss = tr.F.cross_entropy(logits, ids[1:])
    loss.backward()
    tr.optim.clip_grad_norm(model.parameters(), clip)
    opt.step()
    opt.zero_grad()
    return loss.item()


# %% Part 1: "hello"
def hello(steps: int) -> float:
    chars = sorted(set("hello"))
    ids = np.array([chars.index(c) for c in "hello"])[:, None]  # (T=5, B=1)
    model = CharModel(len(chars), "rnn", hidden=8, seed=1)
    opt = tr.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        train_step(model, opt, ids, clip=5.0)
    with tr.no_grad():
        logits, _ = model(ids[:-1])
    pred = "".join(chars[i] for i in logits.data.argmax(-1)[:, 0])
    errors = sum(a != b for a, b in zip(pred, "ello"))
    print(f"hello toy: input 'hell' -> {pred!r}, {errors} errors of 4")
    return errors


# %% Part 2: a real corpus
def batches(data, T, B, rng):
    while True:
        starts = rng.integers(0, len(data) - T - 1, B)
        yield np.stack([data[s:s + T + 1] for s in starts], axis=1)  # (T+1, B)


def evaluate(model, data, T, B, n=8, seed=123):
    rng = np.random.default_rng(seed)
    gen = batches(data, T, B, rng)
    total = 0.0
    with tr.no_grad():
        for _ in range(n):
            ids = next(gen)
            logits, _ = model(ids[:-1])
            total += tr.F.cross_entropy(logits, ids[1:]).item()
    return total / n


def sample(model, vocab, prime, n, temperature, rng):
    """Feed the prime, then draw each next char from softmax(logits / temperature)."""
    state, out = None, list(prime)
    ids = vocab.encode(list(prime))[:, None]
    with tr.no_grad():
        for _ in range(n):
            logits, state = model(ids, state)
            p = tr.F.softmax(logits[-1, 0] * (1.0 / temperature)).data
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(vocab.itos[nxt])
            ids = np.array([[nxt]])
    return "".join(out)


def corpus(args):
    path = Path(args.data) if args.data else SHARED_TEXT
    if path.exists():
        return path.read_text(encoding="utf-8", errors="replace"), str(path.name)
    return FALLBACK, "built-in toy text"


def main(argv=None):
    ap = argparse.ArgumentParser(description="character-level RNN language model")
    ap.add_argument("--data", help="a text file (default: tiny-shakespeare when present)")
    ap.add_argument("--model", choices=["rnn", "lstm", "gru"], default="lstm")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--steps", type=int, default=100000, help="upper bound on training steps")
    ap.add_argument("--minutes", type=float, default=2.0, help="wall-clock training budget")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--composite", action="store_true", help="every gate a node (slower)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="BLAS threads (1 is fastest for these small matrices on a busy machine)")
    ap.add_argument("--tiny", action="store_true", help="seconds-long run for the test suite")
    ap.add_argument("--out", default="out/char_rnn", help="folder for the checkpoint")
    ap.add_argument("--draw", default=None, help="folder for pictures of one short window")
    args = ap.parse_args(argv)
    if args.tiny:
        args.hidden, args.seq_len, args.batch, args.steps, args.minutes = 32, 16, 8, 30, 1.0
    previous = tr.get_default_dtype()
    tr.set_default_dtype(np.dtype(args.dtype))  # parameters created below take this dtype
    try:
        with tr.blas_threads(args.blas_threads):
            return run(args)
    finally:
        tr.set_default_dtype(previous)


def run(args):
    hello(60 if args.tiny else 200)
    text, name = corpus(args)
    vocab = tr.data.Vocab(list(text), unk=None)  # a closed character set: no <unk>
    data = vocab.encode(list(text))
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    print(f"corpus {name}: {len(text):,} chars, vocab {len(vocab)}, model {args.model} "
          f"H={args.hidden}, T={args.seq_len}, B={args.batch}")
    model = CharModel(len(vocab), args.model, args.hidden, fused=not args.composite)
    opt = tr.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(0)
    step, elapsed, curves = fit(model, opt, batches(train, args.seq_len, args.batch, rng), val,
                                args)
    val_loss = evaluate(model, val, args.seq_len, args.batch, n=4 if args.tiny else 32)
    print(f"validation: {val_loss:.3f} nats/char after {step} steps in {elapsed:.0f}s "
          f"({elapsed / max(step, 1):.3f} s/step); perplexity {np.exp(val_loss):.2f}")
    print("sample:", sample(model, vocab, text[:8], 80 if args.tiny else 300, args.temperature,
                            rng).replace("\n", "\n  "))
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "char_rnn.npz"), optimizer=opt)
    if args.draw:
        draw(model, vocab, text[:7], args)
        chart(curves, args)
    return val_loss


def fit(model, opt, gen, val, args):
    """Train until ``args.steps`` steps or ``args.minutes`` have passed, whichever comes first;
    every report, print the training loss and a quick validation loss (8 batches; the final
    figure uses 32). Returns the steps taken, the seconds, and the curves for the chart."""
    t0, step, budget = time.perf_counter(), 0, args.minutes * 60
    report_every = max(1, args.steps // 10) if args.tiny else 100
    curves = {"training": [], "validation": {}}
    # one bar for whichever limit binds: the fraction done is the larger of the two
    bar = progress(total=100, desc=f"training {args.model}",
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}")
    with bar:
        while step < args.steps and time.perf_counter() - t0 < budget:
            loss = train_step(model, opt, next(gen), args.clip)
            step += 1
            curves["training"].append(loss)
            el = time.perf_counter() - t0
            bar.update(min(100, int(100 * max(step / args.steps, el / budget))) - bar.n)
            bar.set_postfix_str(f"step {step}, loss {loss:.3f}", refresh=False)
            if step % report_every == 0:
                v = evaluate(model, val, args.seq_len, args.batch, n=2 if args.tiny else 8)
                curves["validation"][step] = v
                echo(f"step {step:6d}  train {loss:.3f}  val {v:.3f} nats/char  "
                     f"{el / step * 1e3:.1f} ms/step  [{el:.0f}s / {budget:.0f}s]")
    return step, time.perf_counter() - t0, curves


# %% Pictures: the trained model on 6 characters, every gate a node
def draw(model, vocab, chars, args):
    """Unrolled (first and last 3 steps), folded and backward pictures of one short window;
    the backward picture highlights the paths from the loss to the recurrent weight W_hh."""
    import viz  # the drawing package; the core never imports it

    picture = model  # fused: tr.trace opens its calls into every step and gate
    ids = vocab.encode(list(chars))[:, None]  # (7, 1): 6 inputs, 6 next-char targets
    logits, _ = picture(ids[:-1])
    loss = tr.F.cross_entropy(logits, ids[1:])
    loss.backward(retain_grads=True)
    graph, name = tr.trace(loss), f"char_{args.model}"
    paths = viz.save_views(graph, args.draw, name, views=("unrolled",), keep_ends=3)
    paths += viz.save_views(graph, args.draw, name, views=("folded",))
    paths += viz.save_views(graph, args.draw, name, views=("backward",), keep_ends=3,
                            highlight="weight_hh_l0")
    for path in paths:
        print(f"drew {path}")


def chart(curves, args):
    """Training loss per step (with its running mean on long runs) and the validation loss at
    every report, in nats/char, as SVG and PNG."""
    import viz

    smooth = 25 if len(curves["training"]) > 500 else 0
    try:
        fig = viz.plots.training_curves(curves, ylabel="loss (nats/char)", smooth=smooth,
                                        title=f"Character-level {args.model.upper()}: "
                                              "training and validation loss")
    except viz.MatplotlibNotFoundError as exc:
        print(f"no chart: {exc}")
        return
    for fmt in ("svg", "png"):
        path = os.path.join(args.draw, f"char_{args.model}_training.{fmt}")
        print(f"drew {viz.plots.save(fig, path)}")


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
