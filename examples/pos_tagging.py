# %% [markdown]
# # Part-of-speech tagging: why the tagger should read both ways (seed 001)
# Seed 001: "The comedian was *entertaining* the audience" (VERB) and "The comedian was
# *entertaining* and informative" (ADJ). A causal RNN tags word t from words 1..t only, so it
# must give both the same tag. A bidirectional RNN adds a backward state g^(t) that carries the
# words *after* t:  o^(t) = V [h^(t); g^(t)] + c.
#
# We train a bidirectional LSTM tagger and, for comparison, the same model reading left to right
# only, on Universal Dependencies English (UPOS tags) when the data is present -- training on the
# dev file, testing on the test file -- else on a generated grammar with the seed's ambiguity.
# Words are lowercased; words seen once become <unk>, so unknown words are the hard part. On EWT
# expect about 86% UPOS accuracy for the bidirectional tagger and about 83% for the causal one,
# and only the bidirectional one tags both of the seed's sentences right.
#
#     python examples/pos_tagging.py --minutes 3.5            # real run (EWT)
#     python examples/pos_tagging.py --data DIR               # DIR holds *-ud-dev/test.conllu
#     python examples/pos_tagging.py --tiny                   # seconds (the test suite)
#     python examples/pos_tagging.py --tiny --draw pictures   # plus pictures of one sentence

# %%
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn.data.toy import ambiguous_tagging_corpus
from tinygrad_rnn.nn import BiRNNTagger, pad_sequences
from tinygrad_rnn.progress import echo, progress

SHARED_EWT = Path(__file__).resolve().parents[2] / "shared/data/ud_english_ewt"
SEED_SENTENCES = ["the comedian was entertaining the audience",
                  "the comedian was entertaining and informative"]


# %% Data: CoNLL-U when present, else the seed's grammar
def load(args):
    """(train, test, description); each a list of (words, tags)."""
    folder = Path(args.data) if args.data else SHARED_EWT
    dev = sorted(folder.glob("*-ud-dev.conllu")) if not args.toy else []
    test = sorted(folder.glob("*-ud-test.conllu")) if not args.toy else []
    if dev and test:
        train_s = [tuple(s) for s in tr.data.read_conllu(dev[0])]
        test_s = [tuple(s) for s in tr.data.read_conllu(test[0])]
        if args.tiny:
            train_s, test_s = train_s[:400], test_s[:300]
        return train_s, test_s, f"{dev[0].name} (train) / {test[0].name} (test)"
    if args.data and not args.toy:
        raise SystemExit(f"--data {folder}: expected a *-ud-dev.conllu (train) and a "
                         f"*-ud-test.conllu (test) file there")
    n_train, n_test = (300, 200) if args.tiny else (3000, 1000)
    return (ambiguous_tagging_corpus(n_train, np.random.default_rng(1)),
            ambiguous_tagging_corpus(n_test, np.random.default_rng(2)),
            "generated grammar with seed 001's VERB/ADJ ambiguity")


def encode(sentences, words, tags, unseen=False):
    """(word ids, tag ids) per sentence; unseen=True maps tags never seen in training to an id
    no model predicts (so they count as errors) instead of raising."""
    if not unseen:
        return [(words.encode(w), tags.encode(t)) for w, t in sentences]
    return [(words.encode(w), np.array([tags.stoi.get(x, len(tags)) for x in t]))
            for w, t in sentences]


def batches(data, size, rng):
    """Minibatches of similar lengths (little padding), in a random order each epoch."""
    order = np.argsort([len(w) for w, _ in data], kind="stable")
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    for k in rng.permutation(len(chunks)):
        ids, lengths = pad_sequences([data[i][0] for i in chunks[k]])
        gold, _ = pad_sequences([data[i][1] for i in chunks[k]], pad_value=-1)
        yield ids, gold, lengths


# %% Training and evaluation
def train(model, data, args, budget_s, label):
    opt = tr.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    t0, epoch = time.perf_counter(), 0
    while epoch < args.epochs and time.perf_counter() - t0 < budget_s:
        total, n = 0.0, 0
        count = -(-len(data) // args.batch)  # batches per epoch
        for ids, gold, lengths in progress(batches(data, args.batch, rng), total=count,
                                           desc=f"{label} epoch {epoch + 1}"):
            loss = model.loss(ids, gold, lengths)
            loss.backward()
            tr.optim.clip_grad_norm(model.parameters(), 5.0)
            opt.step()
            opt.zero_grad()
            total, n = total + loss.item(), n + 1
        epoch += 1
        el = time.perf_counter() - t0
        echo(f"  {label} epoch {epoch:3d}  train loss {total / n:.4f}  [{el:.0f}s]")
    return epoch, time.perf_counter() - t0


def evaluate(model, data, ambiguous, unk_id, batch=256):
    """Accuracy on all words, on words seen with several tags in training, on unknown words."""
    right = {"all": [0, 0], "ambiguous": [0, 0], "unknown": [0, 0]}
    for start in range(0, len(data), batch):
        part = data[start:start + batch]
        ids, lengths = pad_sequences([w for w, _ in part])
        gold, _ = pad_sequences([t for _, t in part], pad_value=-1)
        ok = model.predict(ids, lengths) == gold
        real = gold >= 0
        for key, sel in (("all", real), ("ambiguous", real & np.isin(ids, ambiguous)),
                         ("unknown", real & (ids == unk_id))):
            right[key][0] += int(ok[sel].sum())
            right[key][1] += int(sel.sum())
    return {k: (r / n if n else None) for k, (r, n) in right.items()}


def ambiguous_ids(sentences, words) -> np.ndarray:
    """Ids of the (known) words seen with more than one tag in the training data."""
    seen: dict = {}
    for ws, ts in sentences:
        for w, t in zip(ws, ts):
            seen.setdefault(w.lower(), set()).add(t)
    many = sorted(w for w, tags in seen.items() if len(tags) > 1 and w in words)
    return words.encode(many) if many else np.zeros(0, dtype=np.int64)


# %% The seed's two sentences
def tag_seed_sentences(models, words, tags):
    for text in SEED_SENTENCES:
        ids = words.encode(text.split())[:, None]
        print(f"  {text!r}")
        for name, model in models.items():
            pred = tags.decode(model.predict(ids)[:, 0])
            print(f"    {name:14s} " + " ".join(f"{w}/{t}" for w, t in zip(text.split(), pred)))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="bidirectional vs causal LSTM POS tagger")
    ap.add_argument("--data", help="folder with *-ud-dev.conllu and *-ud-test.conllu")
    ap.add_argument("--toy", action="store_true", help="use the generated grammar")
    ap.add_argument("--embed", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--epochs", type=int, default=40, help="upper bound on epochs per model")
    ap.add_argument("--minutes", type=float, default=3.5, help="training budget per model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="seconds-long run for the test suite")
    ap.add_argument("--out", default="out/pos_tagging", help="folder for results and model")
    ap.add_argument("--draw", default=None, help="folder for pictures of one short sentence")
    args = ap.parse_args(argv)
    if args.tiny:
        args.embed, args.hidden, args.dropout, args.epochs, args.lr = 24, 24, 0.0, 6, 0.02
    return args


def main(argv=None):
    args = parse_args(argv)
    train_s, test_s, name = load(args)
    words = tr.data.Vocab([w for w, _ in train_s], min_count=2, lower=True)
    tags = tr.data.Vocab([t for _, t in train_s], unk=None)
    train_d, test_d = encode(train_s, words, tags), encode(test_s, words, tags, unseen=True)
    print(f"data: {name}\n  {len(train_s)} train / {len(test_s)} test sentences, "
          f"{sum(len(w) for w, _ in train_s)} / {sum(len(w) for w, _ in test_s)} words, "
          f"vocab {len(words)} (min count 2, lowercased), {len(tags)} tags")
    ambiguous = ambiguous_ids(train_s, words)
    models, results = {}, {}
    for bi in (True, False):
        label = "bidirectional" if bi else "unidirectional"
        model = BiRNNTagger(len(words), len(tags), args.embed, args.hidden, cell="lstm",
                            bidirectional=bi, dropout=args.dropout, rng=args.seed)
        epochs, secs = train(model, train_d, args, args.minutes * 60, label)
        acc = evaluate(model, test_d, ambiguous, words.unk_id)
        results[label] = {**acc, "epochs": epochs, "seconds": round(secs, 1)}
        models[label] = model
        unknown = "none" if acc["unknown"] is None else f"{acc['unknown']:.4f}"
        print(f"{label:14s} LSTM: UPOS accuracy {acc['all']:.4f} (ambiguous words "
              f"{acc['ambiguous']:.4f}, unknown words {unknown}) after {epochs} epochs in "
              f"{secs:.0f}s")
    gain = results["bidirectional"]["all"] - results["unidirectional"]["all"]
    print(f"bidirectional - unidirectional: {100 * gain:+.2f} points")
    print("seed 001's sentences:")
    tag_seed_sentences(models, words, tags)
    save(args.out, models["bidirectional"], words, results, name)
    if args.draw:
        short = next((s for s in train_s if 4 <= len(s[0]) <= 6), train_s[0])
        draw(models["bidirectional"], short, words, tags, args)
    return results


def save(out, model, words, results, name):
    """The model, the results, and the recorded graph of a 4-word sentence (for pictures)."""
    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, "tagger_bidirectional.npz"))
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"data": name, **results}, f, indent=2)
    ids = words.encode("the comedian was entertaining".split())[:, None]
    logits = model.eval()(ids)  # tr.trace opens the fused layers: every step and gate a node
    with open(os.path.join(out, "tagger_4_words.graph.json"), "w") as f:
        f.write(tr.trace(logits).to_json())
    print(f"wrote {out}/results.json, tagger_bidirectional.npz, tagger_4_words.graph.json")


# %% Pictures: the trained bidirectional tagger on one short sentence
def draw(model, sentence, words, tags, args):
    """Pictures of one sentence's loss (gold tags) with the trained tagger in eval mode: unrolled
    (each cell application one node, the forward chain h^(t) and the backward chain g^(t) in
    their own clusters, meeting at each [h^(t); g^(t)]) and folded (every gate its own op)."""
    import viz  # the drawing package; the core never imports it

    picture = model.eval()  # no dropout in the picture; tr.trace opens the fused layers
    ids, gold = words.encode(sentence[0])[:, None], tags.encode(sentence[1])[:, None]
    loss = picture.loss(ids, gold)
    loss.backward(retain_grads=True)
    graph = tr.trace(loss)
    print(f"drawing {' '.join(sentence[0])!r}")
    paths = viz.save_views(graph, args.draw, "tagger", views=("unrolled",), keep_ends=3,
                           collapse="cell")
    paths += viz.save_views(graph, args.draw, "tagger", views=("folded",))
    for path in paths:
        print(f"drew {path}")


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
