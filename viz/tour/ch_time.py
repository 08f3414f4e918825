"""Tour chapters 1-4: unfolding, the design patterns, teacher forcing, BPTT (seeds 000-002)."""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
import viz
from tinygrad_rnn.data.toy import aggregation_task
from tinygrad_rnn.handbptt import check_elman_bptt, elman_tape
from tinygrad_rnn.nn import pad_sequences
from tinygrad_rnn.nn.models.hopfield import ascii_states, flip_signs, hamming
from viz.tour import data
from viz.tour.common import accuracy, fit, repeats

EQ = '<span class="eq">{}</span>'


def unfolding(tour, ch) -> None:
    """Hopfield: store, corrupt, recall; then the smooth map unfolded on the tape."""
    side = tour.size(8, 5)
    N, rng = side * side, np.random.default_rng(0)
    patterns = np.sign(rng.standard_normal((tour.size(5, 3), N)))
    net = tr.nn.HopfieldNetwork(N).store(patterns)
    noisy = flip_signs(patterns[0], N // 6, rng)
    traj = net.recall(noisy, steps=10, mode="synchronous")
    ch.say("A dynamical system s<sup>(t)</sup> = f(s<sup>(t-1)</sup>; &theta;) applied again and "
           "again <i>is</i> a deep network with the same weights at every layer: unfold it T "
           "times and it becomes an acyclic graph that backprop can walk. Seed 002's Hopfield "
           "network is such a system:",
           EQ.format("X_{t+1} = sign(W X_t + Theta),   W = (1/N) sum_p p p^T  (Hebbian, zero "
                     "diagonal),   E(s) = -1/2 s^T W s  falls at every step"),
           f"We store {len(patterns)} random &plusmn;1 pictures of {N} units, flip {N // 6} units "
           "of the first, and let the network run. Stored, corrupted, recalled:",
           "<pre>" + ascii_states([patterns[0], noisy, traj[-1]], side) + "</pre>")
    for t in range(min(4, len(traj))):
        ch.number(f"recall step {t}: Hamming distance / energy",
                  f"{hamming(traj[t], patterns[0])} / {net.energy(traj[t]):.2f}")
    s0 = tr.Tensor(noisy, requires_grad=True, name="s0")
    states = net(s0, steps=3, beta=4.0)
    overlap = (states[2] * tr.Tensor(patterns[0], name="target")).sum() * (1.0 / N)
    overlap.backward(retain_grads=True)
    wrong = np.sign(noisy) != patterns[0]
    ch.number("unfolded tanh(beta W s): flipped units whose d overlap / d s0 points to the "
              "target", f"{np.mean(np.sign(s0.grad[wrong]) == patterns[0][wrong]):.0%}")
    ch.say("The smooth version s<sup>(t)</sup> = tanh(&beta; (W s<sup>(t-1)</sup> + &Theta;)), "
           "unfolded for 3 steps on the tape: the unrolled picture has one copy W<sup>(t)</sup> "
           "of the shared W per step, each with its own gradient; the folded picture is the "
           "seeds' circuit diagram, one cell and a delay marker.")
    g = tr.trace(overlap)
    tour.view(ch, "unrolled", g, "unrolled", "Unfolded: three steps, W^(t) per step")
    tour.view(ch, "folded", g, "folded", "Folded: the circuit with its delay")
    ch.api = "tr.nn.HopfieldNetwork(N).store(P); net.recall(s); net(s0, steps=3); viz.draw(g)"


def _tagger(fused):
    return tr.nn.BiRNNTagger(6, 2, embed_dim=8, hidden_size=16, cell="rnn",
                             bidirectional=False, fused=fused, rng=1)


def _classifier(fused):
    return tr.nn.SequenceClassifier(8, 2, embed_dim=8, hidden_size=16, cell="rnn",
                                    aggregate="last", fused=fused, rng=2)


def _generator(fused):
    return tr.nn.SequenceGenerator(8, 4, embed_dim=8, hidden_size=16, cell="rnn",
                                   condition="both", fused=fused, rng=3)


def patterns(tour, ch) -> None:
    """Many-to-many, many-to-one, one-to-many: trained on generated tasks, drawn per step."""
    ch.say("Seed 001 names three ways to wire a recurrent net. Each is trained here on a task "
           "made for it, then drawn on a 3-step input with every cell collapsed to one box, so "
           "the wiring is what you see.")
    steps, rng = tour.size(300, 20), np.random.default_rng(0)
    tagger = _tagger(True)

    def tag_loss(i):
        ids, tags = repeats(rng, 10, 16)
        return tr.F.cross_entropy(tagger(ids), tags)
    fit(tagger, tag_loss, steps)
    ids, tags = repeats(np.random.default_rng(9), 10, 200)
    ch.number("many-to-many (tag 'same as the previous token'): accuracy",
              accuracy(tagger(ids), tags))
    clf = _classifier(True)
    seqs, labels = aggregation_task("contains", 2000, rng, max_len=12, vocab_size=8)

    def clf_loss(i):
        pick = rng.integers(0, len(seqs), 32)
        x, lens = pad_sequences([seqs[j] for j in pick])
        return tr.F.cross_entropy(clf(x, lens), labels[pick])
    fit(clf, clf_loss, steps)
    seqs_t, labels_t = aggregation_task("contains", 300, np.random.default_rng(9), max_len=12,
                                        vocab_size=8)
    x, lens = pad_sequences(seqs_t)
    ch.number("many-to-one (does token 1 occur?): accuracy", accuracy(clf(x, lens), labels_t))
    gen = _generator(True)
    starts = np.arange(4)
    v, counts = np.eye(4)[starts], (starts[None, :] + 1 + np.arange(6)[:, None]) % 8

    def gen_loss(i):
        return tr.F.cross_entropy(gen(v, counts), counts)
    fit(gen, gen_loss, steps)
    out = gen.generate(v, 6)
    ch.number("one-to-many (count up from the digit in v), greedy: tokens right",
              float(np.mean(out == counts)))
    _draw_patterns(tour, ch, tagger, clf, gen)
    ch.api = "tr.nn.BiRNNTagger, tr.nn.SequenceClassifier(aggregate=...), tr.nn.SequenceGenerator"


def _draw_patterns(tour, ch, tagger, clf, gen) -> None:
    ids = np.array([[1], [3], [3]])
    for key, model, run, caption in (
            ("many_to_many", tagger,
             lambda m: tr.F.cross_entropy(m(ids), np.array([[0], [0], [1]])),
             "Many-to-many: an output and a loss at every step"),
            ("many_to_one", clf,
             lambda m: tr.F.cross_entropy(m(ids), [0]),
             "Many-to-one: one output after the last step"),
            ("one_to_many", gen,
             lambda m: tr.F.cross_entropy(m(np.eye(4)[[1]], ids), ids),
             "One-to-many: v fed at every step and as h0; y^(t-1) fed back")):
        loss = run(model)
        loss.backward(retain_grads=True)
        tour.view(ch, key, tr.trace(loss), "unrolled", caption, collapse="cell")


def teacher_forcing(tour, ch) -> None:
    """Seq2Seq trained with teacher forcing only vs scheduled sampling, run both ways."""
    steps = tour.size(1000, 20)
    ch.say("A net whose output feeds its next input can be trained by feeding it the "
           "<i>true</i> y<sup>(t-1)</sup> (teacher forcing: the steps decouple, training is "
           "easy) and then run on its <i>own</i> outputs (free running, open loop). The "
           "inputs it sees at test time differ from training, and errors compound. Scheduled "
           "sampling (Bengio et al. 2015) feeds its own outputs more and more often.",
           EQ.format("teacher forcing: x^(t) = y^(t-1) (data);   free running: x^(t) = "
                     "argmax o^(t-1) (no gradient flows through the argmax)"),
           "Task: reverse a string of digits and drop the zeros (\"30721\" &rarr; \"127\"). "
           "Per-token error on held-out pairs, decoder fed the truth vs its own outputs:")
    train, test = data.digit_pairs(2000, 0), data.digit_pairs(tour.size(200, 20), 99)
    models, curves = {}, {}
    for label, schedule in (("teacher forcing only", lambda i: 1.0),
                            ("scheduled sampling", lambda i: tr.nn.inverse_sigmoid_schedule(
                                i, k=max(steps / 5, 1)))):
        model, curves[label] = _train_seq2seq(train, schedule, steps)
        models[label] = model
        for tf, how in ((1.0, "fed the truth"), (0.0, "fed its own outputs")):
            ch.number(f"{label}: token error, {how}", data.token_error(model, test, tf))
    tour.cache["seq2seq"] = models["scheduled sampling"]
    tour.chart(ch, "training", "Training loss per step: teacher forcing only vs scheduled "
               "sampling (which feeds the decoder its own outputs more and more often)",
               viz.plots.training_curves, curves, smooth=25 if steps > 200 else 0,
               ylabel="cross-entropy per token", title="Training the encoder-decoder")
    ch.say("The two ways of running, drawn on a 3-step decoder small enough to read: the same "
           "weights, the inputs named by where they come from. Free running feeds the argmax "
           "of o<sup>(t-1)</sup>, a constant for the tape, so no gradient flows from one "
           "step's input back into the step before.")
    for forced, key, caption in ((True, "forced", "Teacher forcing: x^(t) = y^(t-1) from the "
                                                   "data"),
                                 (False, "free", "Free running: x^(t) = argmax o^(t-1), a leaf "
                                                 "without a gradient path")):
        tour.view(ch, key, _decoder_graph(forced), "unrolled", caption)
    ch.api = "tr.nn.Seq2Seq(...)(src, tgt_in, teacher_forcing=p); tr.nn.inverse_sigmoid_schedule"


def _decoder_graph(forced: bool):
    """A 3-step Elman decoder emitting [2, 0, 3] from a start token, inputs named by source."""
    rng, H, K = np.random.default_rng(0), 4, 4
    P = {k: tr.Tensor(rng.standard_normal(shape) * 0.5, requires_grad=True, name=k)
         for k, shape in (("U", (H, K)), ("W", (H, H)), ("V", (K, H)))}
    h, prev, loss = tr.Tensor(np.zeros(H), name="h0"), 1, None
    for t, y in enumerate([2, 0, 3]):
        with tr.scope("decoder", step=t):
            name = "<start>" if t == 0 else (f"y^({t - 1}) data" if forced else
                                             f"argmax o^({t - 1})")
            h = (P["W"] @ h + P["U"] @ tr.Tensor(np.eye(K)[prev], name=name)).tanh()
            o = P["V"] @ h
            lt = tr.F.cross_entropy(o[None, :], [y])
        loss = lt if loss is None else loss + lt
        prev = y if forced else int(np.argmax(o.data))
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def _train_seq2seq(train: list, schedule, steps: int):
    """The trained model and its loss per step."""
    model, rng = data.seq2seq_model(), np.random.default_rng(2)
    losses = fit(model, lambda i: data.seq2seq_loss(model, data.sample(train, rng, 32),
                                                     schedule(i), rng), steps)
    return model, losses


def bptt(tour, ch) -> None:
    """The seeds' Elman RNN on "hello": eqs. 4-7 by hand vs the tape, per step."""
    chars = sorted(set("hello"))
    ids = np.array([chars.index(c) for c in "hello"])
    xs, ys = np.eye(len(chars))[ids[:-1]], ids[1:]
    rng, H, K = np.random.default_rng(0), 6, len(chars)
    P = {"U": rng.standard_normal((H, K)) * 0.3, "W": rng.standard_normal((H, H)) * 0.3,
         "V": rng.standard_normal((K, H)) * 0.3, "b": np.zeros(H), "c": np.zeros(K)}
    first = None
    for _ in range(tour.size(200, 20)):  # plain gradient descent with the tape's gradients
        loss, T, _, _ = elman_tape(*(P[k] for k in "UWVbc"), xs, ys)
        loss.backward()
        first = loss.item() if first is None else first
        for k in P:
            P[k] = P[k] - 0.1 * T[k].grad
    report = check_elman_bptt(*(P[k] for k in "UWVbc"), xs, ys)
    ch.say("The seeds' Elman RNN, in their notation:",
           EQ.format("a^(t) = b + W h^(t-1) + U x^(t),  h^(t) = tanh(a^(t)),  o^(t) = c + V h^(t)"
                     ",  L = sum_t -log softmax(o^(t))_{y^(t)}"),
           "BPTT walks the unrolled graph backwards. The seeds write the gradient as sums over "
           "time of per-step terms, one for each copy W<sup>(t)</sup> of the shared W:",
           EQ.format("(4) grad_o^(t) L = y_hat^(t) - 1_{y^(t)}\n"
                     "(5) grad_h^(t) L = W^T diag(1 - h^(t+1)^2) grad_h^(t+1) L + V^T grad_o^(t) L"
                     "\n(7) grad_W L = sum_t diag(1 - h^(t)^2) grad_h^(t) L  h^(t-1)^T"),
           f"An RNN learns \"hello\" (next character) in {tour.size(200, 20)} steps; then "
           "every term, at every step, is computed by hand with NumPy and compared with what "
           "the tape recorded:")
    loss, T, _, _ = elman_tape(*(P[k] for k in "UWVbc"), xs, ys)
    loss.backward(retain_grads=True)
    ch.number("loss before / after training", f"{first:.3f} / {loss.item():.3f}")
    for term in ("eq.4 grad_o", "eq.5 grad_h", "eq.7 grad_W^(t)", "eq.7 grad_W"):
        ch.number(f"{term}: max |hand - tape|", report[term])
    g = tr.trace(loss)
    tour.view(ch, "unrolled", g, "unrolled", "Unrolled: one box per step with ||dL/dh^(t)||; "
              "step 1 opened op by op, its copies W^(1), U^(1), V^(1) each with its own "
              "gradient (eq. 7's terms); the strips give every step's", expand=1)
    tour.view(ch, "backward", g, "backward", "Backward: nodes coloured by ||grad||; the paths "
              "from L to W highlighted", highlight="W")
    tour.view(ch, "folded", g, "folded", "Folded: the same tape with the T copies merged")
    ch.api = "tr.handbptt.check_elman_bptt(U, W, V, b, c, xs, ys); loss.backward(retain_grads=True)"
