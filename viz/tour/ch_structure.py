"""Tour chapters 8-12: bidirectional, encoder-decoder, deep RNNs, recursive nets, the gates."""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import decode
from tinygrad_rnn.data.toy import AMBIGUOUS_WORDS, ambiguous_tagging_corpus
from tinygrad_rnn.handbptt import check_lstm_bptt
from tinygrad_rnn.nn import pad_sequences
from viz.tour import data
from viz.tour.common import accuracy, fit, mean_curve, repeats

EQ = '<span class="eq">{}</span>'


def _tagging_data(n: int, seed: int, vocab: dict, tags: dict):
    sents = ambiguous_tagging_corpus(n, np.random.default_rng(seed))
    for words, tt in sents:
        for w in words:
            vocab.setdefault(w, len(vocab))
        for t in tt:
            tags.setdefault(t, len(tags))
    ids, lens = pad_sequences([[vocab[w] for w in ws] for ws, _ in sents])
    gold, _ = pad_sequences([[tags[t] for t in tt] for _, tt in sents])
    mask = np.arange(ids.shape[0])[:, None] < lens[None, :]
    amb = np.isin(ids, [vocab[w] for w in AMBIGUOUS_WORDS if w in vocab]) & mask
    return ids, lens, gold, mask, amb


def bidirectional(tour, ch) -> None:
    """Seed 001's ambiguous word: only the right context tells VERB from ADJ."""
    ch.say("A causal RNN's h<sup>(t)</sup> summarises x<sup>(1..t)</sup>; a bidirectional one "
           "adds g<sup>(t)</sup>, a second RNN run from the end, so o<sup>(t)</sup> sees the "
           "whole sentence:",
           EQ.format("h^(t) = f(h^(t-1), x^(t)),  g^(t) = f'(g^(t+1), x^(t)),  "
                     "o^(t) = V [h^(t); g^(t)] + c"),
           "Seed 001's example: in \"the comedian was <i>entertaining</i> the audience\" the "
           "word is a VERB, in \"... was <i>entertaining</i> and informative\" an ADJ, and "
           "nothing to its left tells them apart. Accuracy on that word:")
    vocab, tags = {"<pad>": 0}, {}
    train = _tagging_data(600, 0, vocab, tags)
    test = _tagging_data(300, 1, vocab, tags)
    models = {bi: _tagger(tour, ch, bi, len(vocab), len(tags), train, test) for bi in (False, True)}
    ids = np.array([[vocab[w]] for w in ("the", "comedian", "was", "entertaining")
                    if w in vocab])
    loss = tr.F.cross_entropy(models[True](ids), np.zeros(ids.shape, dtype=np.int64))
    loss.backward(retain_grads=True)  # the trained (fused) model: tr.trace opens its layers
    tour.view(ch, "unrolled", tr.trace(loss), "unrolled", "Forward and reverse GRUs per step, "
              "each cell one box", collapse="cell")
    ch.api = "tr.nn.BiRNNTagger(..., bidirectional=True); tr.nn.GRU(bidirectional=True)"


def _tagger(tour, ch, bi: bool, n_words: int, n_tags: int, train, test):
    """Train a causal or bidirectional GRU tagger; report its accuracy on the ambiguous word."""
    rng = np.random.default_rng(2)
    m = tr.nn.BiRNNTagger(n_words, n_tags, embed_dim=16, hidden_size=16, cell="gru",
                          bidirectional=bi, rng=3)
    ids, lens, gold, mask, _ = train

    def loss_fn(i):
        pick = rng.integers(0, ids.shape[1], 32)
        logits = m(ids[:, pick], lens[pick])
        return tr.F.cross_entropy(logits, np.where(mask[:, pick], gold[:, pick], -100),
                                  ignore_index=-100)
    fit(m, loss_fn, tour.size(200, 15))
    ids, lens, gold, mask, amb = test
    with tr.no_grad():
        logits = m(ids, lens)
    label = "bidirectional" if bi else "causal (left to right)"
    ch.number(f"{label}: accuracy on the ambiguous word / on all words",
              f"{accuracy(logits, gold, amb):.3f} / {accuracy(logits, gold, mask):.3f}")
    return m


def seq2seq(tour, ch) -> None:
    """Encoder -> context C -> decoder; greedy vs beam search on the digit-reversal task."""
    ch.say("The encoder reads x<sup>(1..n)</sup> into a context C (its final state); the "
           "decoder, of another size and length, generates y<sup>(1..m)</sup> from C (here C is "
           "both its initial state and an input at every step). Decoding picks the output: "
           "greedy takes the best token at each step; beam search keeps the B best partial "
           "outputs by log-probability (length-normalised), so it can recover from a locally "
           "good, globally bad choice.")
    model = tour.cache.get("seq2seq")
    if model is None:  # the teacher-forcing chapter did not run: train one here
        model, rng, train = data.seq2seq_model(), np.random.default_rng(2), \
            data.digit_pairs(2000, 0)
        fit(model, lambda i: data.seq2seq_loss(model, data.sample(train, rng, 32), 1.0, rng),
            tour.size(500, 20))
    test = data.digit_pairs(tour.size(100, 10), 99)
    hits, not_worse = {"greedy": 0, "beam search, width 4": 0}, 0
    for src, tgt in test:
        step, state = model.decoder_fn(np.array(src))
        best = decode.greedy(step, state, data.BOS, 10, end_id=data.EOS)
        beam = decode.beam_search(step, state, data.BOS, 10, 4, end_id=data.EOS, alpha=0.0)[0]
        hits["greedy"] += best.tokens == tgt + [data.EOS]
        hits["beam search, width 4"] += beam.tokens == tgt + [data.EOS]
        not_worse += beam.logprob >= best.logprob - 1e-9
    for label, n in hits.items():
        ch.number(f"{label}: exact match on {len(test)} held-out pairs", n / len(test))
    ch.number("pairs where beam's log-probability >= greedy's", f"{not_worse} of {len(test)}")
    # the trained (fused) model itself: its trace opens into every step and gate
    loss = data.seq2seq_loss(model, [data.pair_of([3, 0, 7, 2])], 1.0, None)
    loss.backward(retain_grads=True)
    g = tr.trace(loss)
    tour.view(ch, "unrolled", g, "unrolled", "\"3072\" -> \"273\": encoder steps, the bridge "
              "from C, decoder steps", collapse="cell", keep_ends=2)
    tour.view(ch, "folded", g, "folded", "Folded: the encoder's and the decoder's circuits")
    ch.api = "tr.nn.Seq2Seq; model.decoder_fn(src); tr.decode.greedy / beam_search / sample"


def deep(tour, ch) -> None:
    """A 2-layer GRU vs a 1-layer one with the same number of steps; the stacked picture."""
    ch.say("Stacking recurrent layers (seed 001's deep RNNs) gives each step more depth: layer "
           "l reads layer l-1's h<sup>(t)</sup>. Gradients now flow back in time <i>and</i> "
           "down the stack.",
           EQ.format("h_l^(t) = f(W_l h_l^(t-1) + U_l h_(l-1)^(t) + b_l),  h_0^(t) = x^(t)"),
           "Task: tag a token 1 when it equals the token two steps back.")
    steps = tour.size(300, 15)
    for layers in (1, 2):
        rng = np.random.default_rng(0)
        emb, rnn = tr.nn.Embedding(6, 8, rng=1), tr.nn.GRU(8, 16, num_layers=layers, rng=2)
        head = tr.nn.Linear(16, 2, rng=3)
        model = tr.nn.Module()
        model.emb, model.rnn, model.head = emb, rnn, head

        def loss_fn(i, emb=emb, rnn=rnn, head=head, rng=rng):
            ids, _ = repeats(rng, 12, 16)
            tags = np.zeros_like(ids)
            tags[2:] = ids[2:] == ids[:-2]
            out, _ = rnn(emb(ids))
            return tr.F.cross_entropy(head(out), tags)
        curve = mean_curve(fit(model, loss_fn, steps))
        ch.number(f"{layers} layer{'s' if layers > 1 else ''}: loss, first -> last quarter",
                  f"{curve[0]:.3f} -> {curve[-1]:.3f}")
    pic = tr.nn.GRU(2, 3, num_layers=2, rng=4)
    out, _ = pic(np.random.default_rng(5).standard_normal((3, 1, 2)))
    loss = (out * out).sum()
    loss.backward(retain_grads=True)
    g = tr.trace(loss)
    tour.view(ch, "unrolled", g, "unrolled", "Two stacked GRU layers, 3 steps: one box per "
              "layer and step", collapse="cell")
    tour.view(ch, "folded", g, "folded", "Folded: each layer's circuit once")
    ch.api = "tr.nn.GRU(input_size, hidden_size, num_layers=2)"


def recursive(tour, ch) -> None:
    """RecursiveNN on generated sentiment trees with negation: BPTS, batched by level."""
    ch.say("A recursive net applies one composition to the children of every tree node, from "
           "the leaves up; backprop through structure (BPTS) is BPTT on the tree's graph. The "
           "trees here come from a tiny grammar where \"not\" flips a phrase's sentiment, so a "
           "bag of words cannot get the label right:",
           EQ.format("p = tanh(W [c1; c2] + b),  y_hat = softmax(W_s p + b_s)  at every node"),
           "Level batching runs every node of one height in one op, for every tree of the "
           "batch: the same numbers as node-by-node recursion, much faster.")
    vocab = data.word_ids()
    train, test = data.sentiment_trees(800, 0), data.sentiment_trees(tour.size(300, 30), 1)
    sched = [tr.nn.build_schedule([t], vocab, num_classes=3) for t in train]
    model, rng = tr.nn.RecursiveNN(len(vocab), dim=16, num_classes=3, rng=1), \
        np.random.default_rng(2)

    def loss_fn(i):
        pick = rng.integers(0, len(sched), 25)
        return model.loss(tr.nn.merge_schedules([sched[j] for j in pick]), reduction="mean")
    curve = mean_curve(fit(model, loss_fn, tour.size(400, 15)))
    s = tr.nn.build_schedule(test, vocab, num_classes=3)
    with tr.no_grad():
        acc = tr.nn.tree_accuracy(model(s, at="root"), s, at="root", neutral=1)
    ch.number("loss, first -> last quarter of training", f"{curve[0]:.3f} -> {curve[-1]:.3f}")
    ch.number("held-out trees: root accuracy (3 classes)", acc["fine"])
    _tree_pictures(tour, ch, model, test, vocab)
    ch.api = "tr.nn.RecursiveNN / RNTN / TreeLSTM; tr.nn.build_schedule(trees, vocab)"


def _tree_pictures(tour, ch, model, test, vocab) -> None:
    """One short test tree with a "not": level-batched vs per-node gradients, and its pictures."""
    tree = min(test, key=lambda t: abs(len(t.leaves()) - 4) + (0 if "not" in t.leaves() else 9))
    one = tr.nn.build_schedule([tree], vocab, num_classes=3)
    grads = {}
    for mode in ("batched", "per_node"):
        model.zero_grad()
        model.loss(one, mode=mode).backward(retain_grads=mode == "per_node")
        grads[mode] = [p.grad.copy() for p in model.parameters()]
    diff = max(float(np.abs(a - b).max()) for a, b in zip(*grads.values()))
    ch.number("one tree: max |grad level-batched - grad per node|", diff)
    loss = model.loss(one, mode="per_node")
    model.zero_grad()
    loss.backward(retain_grads=True)
    g = tr.trace(loss)
    words = " ".join(tree.leaves())
    tour.view(ch, "tree", g, "tree", f"\"{words}\": BPTS on the parse tree, each node's share of "
              "the shared W")
    tour.view(ch, "backward", g, "backward", "Backward: gradient norms as colours",
              highlight="W")


def gates(tour, ch) -> None:
    """Composite LSTM and GRU cells drawn gate by gate; what the gates do after training."""
    ch.say("Gated cells decide per unit and per step what to keep. In PyTorch's gate order:",
           EQ.format("LSTM: i, f, o = sigma(W_i* x + W_h* h + b),  g = tanh(...)\n"
                     "      c^(t) = f * c^(t-1) + i * g,   h^(t) = o * tanh(c^(t))\n"
                     "GRU:  r, z = sigma(...),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))\n"
                     "      h^(t) = (1 - z) * n + z * h^(t-1)"),
           "Both learn to carry a token across a gap (tag: the token three steps back was 1). "
           "After training, the mean gate activations on a test batch:")
    steps = tour.size(300, 15)
    for kind in ("LSTM", "GRU"):
        rng = np.random.default_rng(0)
        emb, rnn = tr.nn.Embedding(4, 8, rng=1), getattr(tr.nn, kind)(8, 16, rng=2)
        head, model = tr.nn.Linear(16, 2, rng=3), tr.nn.Module()
        model.emb, model.rnn, model.head = emb, rnn, head

        def run(ids, emb=emb, rnn=rnn, head=head):
            out, _ = rnn(emb(ids))
            tags = np.zeros_like(ids)
            tags[3:] = ids[:-3] == 1
            return tr.F.cross_entropy(head(out), tags)
        fit(model, lambda i, rng=rng, run=run: run(rng.integers(0, 4, (12, 16))), steps)
        loss = run(np.random.default_rng(9).integers(0, 4, (12, 4)))
        loss.backward(retain_grads=True)
        g = tr.trace(loss, max_values=10**6)
        for role in sorted({n.meta.get("role") for n in g.nodes
                            if str(n.meta.get("role", "")).startswith("gate_")}):
            vals = [n.value["mean"] for n in g.nodes  # the activation, not the pre-activation
                    if n.meta.get("role") == role and n.op in ("sigmoid", "tanh")]
            ch.number(f"{kind} {role}: mean activation", float(np.mean(vals)))
        pic = getattr(tr.nn, kind)(2, 2, rng=4)
        out, _ = pic(np.random.default_rng(5).standard_normal((2, 1, 2)))
        loss = (out * out).sum()
        loss.backward(retain_grads=True)
        tour.view(ch, kind.lower(), tr.trace(loss), "folded", f"{kind} cell, folded: every gate "
                  "its own node, recurrent edges through delays", expand="all")
    _lstm_by_hand(ch)
    ch.api = ("tr.nn.LSTM / tr.nn.GRU (fused=False records the gates); "
              "tr.handbptt.check_lstm_bptt(w_ih, w_hh, b, V, c, xs, ys)")


def _lstm_by_hand(ch) -> None:
    """BPTT through the gates written out with NumPy, compared with the tape step by step."""
    rng, H, D, K, T = np.random.default_rng(7), 3, 2, 3, 5
    report = check_lstm_bptt(rng.standard_normal((4 * H, D)) * 0.5,
                             rng.standard_normal((4 * H, H)) * 0.5, rng.standard_normal(4 * H),
                             rng.standard_normal((K, H)), rng.standard_normal(K),
                             rng.standard_normal((T, D)), rng.integers(0, K, T))
    ch.say("The LSTM's BPTT written out by hand (the cell-state path dc<sup>(t-1)</sup> = "
           "f<sup>(t)</sup> &odot; dc<sup>(t)</sup> + ...), compared with the tape at every "
           "step and gate:")
    ch.number(f"LSTM, T = {T}: largest |hand - tape| over every term, step and gate",
              max(report.values()))
