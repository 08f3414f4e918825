"""The seeds' sequence models (nn/models/): tagger, aggregations, generator, Hopfield."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.data.toy import AMBIGUOUS_WORDS, aggregation_task, ambiguous_tagging_corpus
from tinygrad_rnn.nn import (
    BiRNNTagger,
    HopfieldNetwork,
    SequenceClassifier,
    SequenceGenerator,
    aggregate,
    attention_weights,
    pad_sequences,
)
from tinygrad_rnn.nn.models.classifier import AGGREGATES
from tinygrad_rnn.nn.models.hopfield import flip_signs, hamming

SEQS = [[1, 2, 3, 4, 5], [6, 7, 8], [9, 2]]  # ragged: lengths 5, 3, 2


def ragged(pad_value: int):
    return pad_sequences(SEQS, pad_value=pad_value)


def grads(model) -> dict:
    return {n: (np.zeros(p.shape) if p.grad is None else p.grad.copy())
            for n, p in model.named_parameters()}


# ---- shapes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_tagger_shapes(cell, bidirectional):
    m = BiRNNTagger(12, 5, embed_dim=4, hidden_size=3, cell=cell, bidirectional=bidirectional,
                    rng=0)
    ids, lengths = ragged(0)
    assert m(ids, lengths).shape == (5, 3, 5)
    assert m(ids).shape == (5, 3, 5)
    pred = m.predict(ids, lengths)
    assert pred.shape == (5, 3) and pred[3, 1] == -1 and pred[2, 0] >= 0
    assert m.head.weight.shape == (5, 3 * (2 if bidirectional else 1))


@pytest.mark.parametrize("method", AGGREGATES)
def test_classifier_shapes(method):
    m = SequenceClassifier(12, 4, embed_dim=4, hidden_size=3, aggregate=method, rng=0)
    ids, lengths = ragged(0)
    assert m(ids, lengths).shape == (3, 4)
    assert m.features(ids, lengths).shape == (3, 3)
    assert m.predict(ids, lengths).shape == (3,)
    assert (m.query is None) == (method != "attention")


# ---- padding never counts ----------------------------------------------------------------------
def _padding_invariance(make, run):
    """Two different padding values: same real outputs, same gradients for every parameter."""
    results = []
    for pad in (0, 11):
        model = make()
        ids, lengths = ragged(pad)
        out, loss = run(model, ids, lengths)
        loss.backward()
        results.append((out, grads(model)))
    (a, ga), (b, gb) = results
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    for k in ga:
        np.testing.assert_allclose(ga[k], gb[k], rtol=0, atol=1e-12, err_msg=k)
    return results[0][0]


@pytest.mark.parametrize("bidirectional", [True, False])
def test_tagger_padding_changes_nothing(bidirectional):
    tags = np.array([[0, 1, 2], [1, 2, 3], [2, 3, -1], [3, -1, -1], [4, -1, -1]])

    def run(m, ids, lengths):
        logits = m(ids, lengths).data
        real = np.arange(5)[:, None] < lengths[None, :]
        return logits[real], m.loss(ids, tags, lengths)

    _padding_invariance(lambda: BiRNNTagger(12, 5, 4, 3, bidirectional=bidirectional, rng=0),
                        run)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("method", AGGREGATES)
def test_aggregation_padding_changes_nothing(method, bidirectional):
    def make():
        return SequenceClassifier(12, 3, 4, 3, aggregate=method, bidirectional=bidirectional,
                                  rng=1)

    def run(m, ids, lengths):
        return m(ids, lengths).data, m.loss(ids, [0, 1, 2], lengths)

    batched = _padding_invariance(make, run)
    for b, seq in enumerate(SEQS):  # a ragged batch gives what each sequence gives alone
        alone = make()(np.array(seq)[:, None]).data[0]
        np.testing.assert_allclose(batched[b], alone, atol=1e-12)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("method", AGGREGATES)
def test_aggregate_padded_values_change_neither_output_nor_gradient(method, bidirectional, rng):
    real = rng.standard_normal((5, 3, 4))
    lengths = np.array([5, 3, 1])
    pad = np.arange(5)[:, None] >= lengths[None, :]
    q = tr.Tensor(rng.standard_normal(4), requires_grad=True)
    v = rng.standard_normal((3, 4))  # a fixed projection of the pooled vectors
    results = []
    for fill in (0.0, 1e6, -1e6):
        data = real.copy()
        data[pad] = fill
        x = tr.Tensor(data, requires_grad=True)
        q.grad = None
        pooled = aggregate(x, lengths, method, 2 if bidirectional else 1, query=q)
        (pooled * v).sum().backward()
        results.append((pooled.data, x.grad, q.grad))
        assert np.all(x.grad[pad] == 0.0)  # no gradient ever reaches a padded step
    for other in results[1:]:
        for a, b in zip(results[0], other):
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_padded_ids_may_hold_anything():
    m = BiRNNTagger(12, 5, 4, 3, rng=0)
    ids, lengths = ragged(-1)
    tags, _ = ragged(-1)
    tags = np.where(tags >= 0, tags % 5, -1)
    assert np.isfinite(m.loss(ids, tags, lengths).item())
    np.testing.assert_array_equal(m(ids, lengths).data, m(ragged(0)[0], lengths).data)


def test_aggregate_ignores_any_padded_values(rng):
    out = rng.standard_normal((4, 2, 3))
    out[2:, 1] = 1e6  # huge values at the padded steps of sequence 1
    x = tr.Tensor(out, requires_grad=True)
    lengths = np.array([4, 2])
    np.testing.assert_allclose(aggregate(x, lengths, "mean").data[1], out[:2, 1].mean(0))
    np.testing.assert_allclose(aggregate(x, lengths, "max").data[1], out[:2, 1].max(0))
    np.testing.assert_allclose(aggregate(x, lengths, "last").data[1], out[1, 1])
    q = tr.Tensor(rng.standard_normal(3), requires_grad=True)
    a = attention_weights(x, q, lengths).data[:, :, 0]
    np.testing.assert_allclose(a.sum(0), [1.0, 1.0])
    assert np.all(a[2:, 1] == 0.0)
    pooled = aggregate(x, lengths, "attention", query=q)
    pooled.sum().backward()
    assert np.all(x.grad[2:, 1] == 0.0)  # no gradient reaches a padded step
    assert np.all(x.grad[:2, 1] != 0.0)


def test_last_of_bidirectional_is_the_layers_h_n():
    m = SequenceClassifier(12, 3, 4, 3, cell="gru", aggregate="last", bidirectional=True, rng=2)
    ids, lengths = ragged(0)
    out, h_n = m.rnn(m.embed(ids), lengths=lengths)
    z = aggregate(out, lengths, "last", num_directions=2)
    np.testing.assert_allclose(z.data, np.concatenate([h_n.data[0], h_n.data[1]], -1))


# ---- gradients -------------------------------------------------------------------------------
def test_gradcheck_tagger_and_classifier():
    ids, lengths = ragged(0)
    tags = np.array([[0, 1, 2], [1, 2, 3], [2, 3, 0], [3, 0, 0], [4, 0, 0]])
    tagger = BiRNNTagger(12, 5, 3, 2, cell="lstm", rng=3)
    for p in (tagger.embed.weight, tagger.rnn.weight_hh_l0_reverse, tagger.head.bias):
        assert tr.gradcheck(lambda w: tagger.loss(ids, tags, lengths), [p], mode="projection")
    clf = SequenceClassifier(12, 3, 3, 2, cell="gru", aggregate="attention", rng=4)
    for p in (clf.query, clf.embed.weight, clf.rnn.weight_ih_l0):
        assert tr.gradcheck(lambda w: clf(ids, lengths), [p], mode="projection")
    for method in ("mean", "max", "last"):
        clf = SequenceClassifier(12, 3, 3, 2, cell="rnn", aggregate=method,
                                 bidirectional=True, rng=5)
        p = clf.rnn.weight_hh_l0
        assert tr.gradcheck(lambda w, c=clf: c(ids, lengths), [p], mode="projection")


def test_gradcheck_generator_through_both_paths_of_v(rng):
    g = SequenceGenerator(7, 3, embed_dim=3, hidden_size=4, cell="lstm", condition="both",
                          rng=5)
    v = tr.Tensor(rng.standard_normal((2, 3)), requires_grad=True, name="v")
    targets = np.array([[1, 2], [3, 4], [5, 6]])
    assert tr.gradcheck(lambda v: g.loss(v, targets, [3, 2]), [v], mode="projection")


def test_gradcheck_unfolded_hopfield(rng):
    net = HopfieldNetwork(6).store(np.sign(rng.standard_normal((2, 6))))
    s0 = tr.Tensor(rng.standard_normal((2, 6)) * 0.3, requires_grad=True, name="s0")
    assert tr.gradcheck(lambda s: net(s, steps=4, beta=1.5), [s0], mode="projection")
    assert tr.gradcheck(lambda w: net(s0, steps=4, beta=1.5), [net.weight], mode="projection")


# ---- the seeds' points ---------------------------------------------------------------------
def _toy_tagging(n, seed, words=None, tags=None):
    corpus = ambiguous_tagging_corpus(n, np.random.default_rng(seed))
    words = words or tr.data.Vocab([w for w, _ in corpus])
    tags = tags or tr.data.Vocab([t for _, t in corpus], unk=None)
    ids, lengths = pad_sequences([words.encode(w) for w, _ in corpus])
    gold, _ = pad_sequences([tags.encode(t) for _, t in corpus])
    return ids, lengths, gold, words, tags


def test_bidirectional_tagger_disambiguates_what_a_causal_one_cannot():
    ids, lengths, gold, words, tags = _toy_tagging(240, 0)
    t_ids, t_lengths, t_gold, _, _ = _toy_tagging(200, 1, words, tags)
    ambiguous = np.isin(t_ids, words.encode(list(AMBIGUOUS_WORDS)))
    acc = {}
    for bi in (True, False):
        m = BiRNNTagger(len(words), len(tags), 16, 16, bidirectional=bi, rng=0)
        opt = tr.optim.Adam(m.parameters(), lr=0.03)
        for it in range(40):
            b = np.random.default_rng(it).choice(240, 60, replace=False)
            T = lengths[b].max()
            m.loss(ids[:T, b], gold[:T, b], lengths[b]).backward()
            opt.step()
            opt.zero_grad()
        acc[bi] = (m.predict(t_ids, t_lengths) == t_gold)[ambiguous].mean()
    assert acc[True] > 0.95  # the right context decides VERB vs ADJ
    assert acc[False] < 0.75  # left context alone: a coin flip on the ambiguous words


def test_toy_data_is_deterministic_and_ambiguous():
    corpus = ambiguous_tagging_corpus(300, np.random.default_rng(7))
    assert corpus == ambiguous_tagging_corpus(300, np.random.default_rng(7))
    seen = {}
    for words, tags in corpus:
        i = next(k for k, w in enumerate(words) if w in AMBIGUOUS_WORDS)
        assert tags[i] == ("ADJ" if words[i + 1] == "and" else "VERB")
        seen.setdefault(tags[i], 0)
        seen[tags[i]] += 1
    assert set(seen) == {"ADJ", "VERB"} and min(seen.values()) > 100
    for task in ("contains", "majority", "last"):
        seqs, labels = aggregation_task(task, 200, np.random.default_rng(3))
        assert 0.3 < labels.mean() < 0.7 and min(len(s) for s in seqs) >= 5
        assert all(s.min() >= 1 for s in seqs)  # 0 stays free for padding
    seqs, labels = aggregation_task("last", 50, np.random.default_rng(3))
    assert all(lab == int(s[-1] > 9) for s, lab in zip(seqs, labels))


# ---- one-to-many ------------------------------------------------------------------------------
@pytest.mark.parametrize("condition", ["input", "init", "both"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_generator_teacher_forcing_vs_free_running(condition, cell, rng):
    g = SequenceGenerator(9, 4, embed_dim=3, hidden_size=5, cell=cell, condition=condition,
                          start_id=0, rng=6)
    v = rng.standard_normal((3, 4))
    targets = rng.integers(1, 9, (6, 3))
    assert g(v, targets).shape == (6, 3, 9)
    free = g.generate(v, max_len=6)
    assert free.shape == (6, 3) and free.dtype == np.int64
    # teacher forcing on the model's own greedy output reproduces it step by step
    np.testing.assert_array_equal(g(v, free).data.argmax(-1), free)
    assert g.rnn.input_size == 3 + (0 if condition == "init" else 4)
    assert (g.init is None) == (condition == "input")


def test_generator_sampling_end_token_and_learning(rng):
    g = SequenceGenerator(6, 3, embed_dim=4, hidden_size=16, condition="init", rng=7)
    v = np.eye(3)
    targets = np.array([[1, 2, 3], [2, 3, 4], [3, 4, 1], [5, 5, 5]])  # one sequence per v
    opt = tr.optim.Adam(g.parameters(), lr=0.05)
    for _ in range(60):
        g.loss(v, targets).backward()
        opt.step()
        opt.zero_grad()
    np.testing.assert_array_equal(g.generate(v, 4), targets)
    a = g.generate(v, 4, greedy=False, rng=np.random.default_rng(1), temperature=0.5)
    b = g.generate(v, 4, greedy=False, rng=np.random.default_rng(1), temperature=0.5)
    np.testing.assert_array_equal(a, b)
    cold = g.generate(v, 4, greedy=False, rng=np.random.default_rng(2), temperature=1e-3)
    np.testing.assert_array_equal(cold, targets)  # temperature -> 0: sampling becomes greedy
    ended = g.generate(v, 4, end_id=3)
    assert ended[:, 1].tolist() == [2, 3, 3, 3] and ended[2:, 0].tolist() == [3, 3]


# ---- Hopfield ----------------------------------------------------------------------------------
def test_hopfield_hebbian_store_and_recall():
    rng = np.random.default_rng(0)
    patterns = np.sign(rng.standard_normal((3, 64)))
    net = HopfieldNetwork(64).store(patterns)
    W = net.weight.data
    np.testing.assert_allclose(W, W.T)
    assert np.all(np.diag(W) == 0) and net.n_patterns == 3
    for p in patterns:
        assert net.recall(p).shape == (1, 64)  # a stored pattern is a fixed point
        noisy = flip_signs(p, 10, rng)
        assert hamming(noisy, p) == 10
        for mode in ("synchronous", "asynchronous"):
            traj = net.recall(noisy, mode=mode, rng=np.random.default_rng(1))
            assert hamming(traj[-1], p) == 0
            energies = [net.energy(s) for s in traj]
            assert all(b <= a + 1e-12 for a, b in zip(energies, energies[1:]))
    batch = net.recall(np.stack([flip_signs(p, 6, rng) for p in patterns]))
    assert batch.shape[1:] == (3, 64) and np.all(hamming(batch[-1], patterns) == 0)


def test_hopfield_asynchronous_energy_never_increases():
    rng = np.random.default_rng(1)
    net = HopfieldNetwork(40).store(np.sign(rng.standard_normal((12, 40))))  # over capacity
    net.bias.data = rng.standard_normal(40) * 0.1
    for _ in range(10):
        traj = net.recall(np.sign(rng.standard_normal(40)), steps=30, mode="asynchronous",
                          rng=rng)
        e = np.array([net.energy(s) for s in traj])
        assert np.all(np.diff(e) <= 1e-12)


def test_hopfield_unfolded_graph_and_sign_limit():
    rng = np.random.default_rng(2)
    patterns = np.sign(rng.standard_normal((2, 32)))
    net = HopfieldNetwork(32).store(patterns)
    noisy = flip_signs(patterns[0], 5, rng)
    s0 = tr.Tensor(noisy, requires_grad=True, name="s0")
    states = net(s0, steps=3, beta=50.0)
    assert states.shape == (3, 32)
    traj = net.recall(noisy, steps=3)
    np.testing.assert_array_equal(np.sign(states.data[: len(traj) - 1]), traj[1:])
    graph = tr.trace(states.sum())
    steps = {n.meta.get("step") for n in graph.nodes
             if n.op and n.meta.get("scope", "").endswith("hopfield")}
    assert steps == {1, 2, 3}
    states.sum().backward()
    assert net.weight.grad.shape == (32, 32)  # one shared W, its copies' gradients summed


def test_tagger_save_load_and_trace(tmp_path):
    m = BiRNNTagger(12, 5, 4, 3, rng=0)
    names = [n for n, _ in m.named_parameters()]
    assert "rnn.weight_hh_l0_reverse" in names and names[0] == "embed.weight"
    m.save(tmp_path / "tagger.npz")
    m2 = BiRNNTagger(12, 5, 4, 3, rng=1)
    m2.load(tmp_path / "tagger.npz")
    ids, lengths = ragged(0)
    np.testing.assert_array_equal(m(ids, lengths).data, m2(ids, lengths).data)
    scopes = {n.meta.get("scope") for n in tr.trace(m(ids, lengths)).nodes if n.op}
    assert {"birnntagger/rnn/l0", "birnntagger/rnn/l0_reverse", "birnntagger/head"} <= scopes


# ---- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, kind, pattern", [
    (lambda: SequenceClassifier(5, 2, aggregate="avg"), tr.ArgumentError,
     r"SequenceClassifier: argument 'aggregate' must be one of 'last', 'mean', 'max', "
     r"'attention'; got 'avg'"),
    (lambda: BiRNNTagger(5, 2, cell="elman"), tr.ArgumentError,
     r"BiRNNTagger: argument 'cell' must be one of 'lstm', 'gru', 'rnn'; got 'elman'"),
    (lambda: SequenceGenerator(5, 2, condition="always"), tr.ArgumentError,
     r"SequenceGenerator: argument 'condition' must be one of 'input', 'init', 'both'"),
    (lambda: BiRNNTagger(0, 2), tr.ArgumentError, r"'vocab_size' must be a positive int"),
    (lambda: BiRNNTagger(5, 2)(np.array([1, 2])), tr.ShapeError,
     r"BiRNNTagger.forward: argument 'ids' must have shape \(T, batch\); got \(2,\)"),
    (lambda: BiRNNTagger(5, 2)(np.array([[1.5]])), tr.DTypeError, r"'ids' must hold integer"),
    (lambda: BiRNNTagger(5, 2)(np.array([[7]])), tr.ArgumentError,
     r"'ids' must be in \[0, 5\); got 7 at position \(0, 0\)"),
    (lambda: BiRNNTagger(5, 2)(np.ones((3, 2), int), [4, 1]), tr.ArgumentError,
     r"BiRNNTagger.forward: argument 'lengths' must be in \[0, T=3\]; got 4 for sequence 0"),
    (lambda: BiRNNTagger(5, 2).loss(np.ones((3, 2), int), np.ones((2, 3), int)),
     tr.ShapeError, r"'tags' must have the shape of 'ids' \(3, 2\); got \(2, 3\)"),
    (lambda: SequenceClassifier(5, 2)(np.ones((3, 2), int), [3, 0]), tr.ArgumentError,
     r"SequenceClassifier.forward: argument 'lengths' must be in \[1, T=3\]; got 0"),
    (lambda: SequenceClassifier(5, 2).loss(np.ones((3, 2), int), [1, 0, 1]), tr.ShapeError,
     r"'labels' must have one label per sequence, shape \(2,\); got \(3,\)"),
    (lambda: SequenceClassifier(5, 2).attention(np.ones((3, 2), int)), tr.ArgumentError,
     r"needs aggregate='attention'"),
    (lambda: aggregate(tr.Tensor(np.ones((3, 2))), None, "mean"), tr.ShapeError,
     r"aggregate: argument 'outputs' must be a Tensor of shape \(T, batch, features\)"),
    (lambda: aggregate(tr.Tensor(np.ones((3, 2, 4))), None, "attention"), tr.ArgumentError,
     r"'attention' needs argument 'query'"),
    (lambda: SequenceGenerator(5, 2)(np.ones((3, 2)), np.ones((4, 2), int)), tr.ShapeError,
     r"'v' must have one row per sequence, batch 2 \(from 'targets' \(4, 2\)\); got \(3, 2\)"),
    (lambda: SequenceGenerator(5, 2)(np.ones((2, 3)), np.ones((4, 2), int)), tr.ShapeError,
     r"'v' must have shape \(batch, 2\) or \(2,\); got \(2, 3\)"),
    (lambda: SequenceGenerator(5, 2).generate(np.ones(2), 3, greedy=False), tr.DTypeError,
     r"sampling \(greedy=False\) needs argument 'rng'"),
    (lambda: HopfieldNetwork(4).store([[1, -1, 0.5, 1]]), tr.ArgumentError,
     r"HopfieldNetwork.store: argument 'patterns' must hold only -1 and \+1; got 0.5"),
    (lambda: HopfieldNetwork(4).store([1, -1, 1, 1]), tr.ShapeError,
     r"'patterns' must have shape \(batch, 4\); got \(4,\)"),
    (lambda: HopfieldNetwork(4).step(np.ones(4), mode="random"), tr.ArgumentError,
     r"'mode' must be 'synchronous' or 'asynchronous'; got 'random'"),
    (lambda: HopfieldNetwork(4).step(np.ones(4), mode="asynchronous"), tr.DTypeError,
     r"needs argument 'rng'"),
    (lambda: HopfieldNetwork(4)(np.ones(3)), tr.ShapeError,
     r"HopfieldNetwork.forward: argument 's0' must have shape \(4,\) or \(batch, 4\)"),
])
def test_clear_errors(make, kind, pattern):
    with pytest.raises(kind, match=pattern):
        make()


def test_pad_sequences():
    ids, lengths = pad_sequences([[5, 6, 7], [8]], pad_value=-1)
    assert ids.T.tolist() == [[5, 6, 7], [8, -1, -1]] and lengths.tolist() == [3, 1]
    with pytest.raises(tr.ArgumentError, match="pad_sequences: argument 'seqs' is empty"):
        pad_sequences([])

