"""viz.exercise: blanked gradients in the picture, answers from the tape, the checker's verdicts
and hints, seeded blanks, worksheet/JSON, and the errors a user can act on."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_rnn as tr
import viz
from viz import _backprop as bp

SVG = "{http://www.w3.org/2000/svg}"


def tiny_rnn(T=3, hidden=2, vocab=3, retain=True, seed=0):
    """The quickstart's Elman RNN, small: a = b + W h + U x, h = tanh(a), o = c + V h."""
    rng = np.random.default_rng(seed)

    def p(name, *shape):
        return tr.Tensor(rng.standard_normal(shape) * 0.5, requires_grad=True, name=name)

    P = {"U": p("U", hidden, vocab), "W": p("W", hidden, hidden), "V": p("V", vocab, hidden),
         "b": p("b", hidden), "c": p("c", vocab)}
    h, loss = tr.Tensor(np.zeros(hidden), name="h0"), None
    for t in range(T):
        with tr.scope("rnn", step=t):
            x = tr.Tensor(np.eye(vocab)[t % vocab], name=f"x[{t}]")
            h = (P["b"] + P["W"] @ h + P["U"] @ x).tanh()
            lt = tr.F.cross_entropy((P["c"] + P["V"] @ h)[None, :], [(t + 1) % vocab])
        loss = lt if loss is None else loss + lt
    loss.backward(retain_grads=retain)
    return loss, P


def micrograd(retain=True):
    """L = tanh(a*b + a)^2 with scalars: ``a`` is used twice, ``e`` feeds both inputs of mul."""
    a = tr.Tensor(np.array(0.5), requires_grad=True, name="a")
    b = tr.Tensor(np.array(-1.5), requires_grad=True, name="b")
    d = a * b + a
    d.name = "d"
    e = d.tanh()
    e.name = "e"
    L = e * e
    L.backward(retain_grads=retain)
    return L, a, b, d, e


def test_blanks_are_labelled_and_their_values_hidden():
    L, a, b, d, e = micrograd()
    ex = viz.exercise(L, blank="all")
    assert [q.label for q in ex.questions] == ["g1", "g2", "g3", "g4", "g5"]
    # numbered as backward computes them: e first (next to the loss), the leaves last
    assert [q.name for q in ex.questions][0] == "e" and {q.name for q in ex.questions[-2:]} \
        == {"a", "b"}
    src = ex.draw().source
    key = ex.draw(show_answers=True).source
    for q in ex.questions:
        assert f"grad = ? ({q.label})" in src
        shown = bp.values_text({"shape": list(q.shape),
                                "values": ex.answers[q.label].ravel().tolist()}, digits=4)
        assert shown not in src  # the picture does not give the answer away ...
        assert f"({q.label}) = {shown}" in key  # ... the teacher's key does
    np.testing.assert_allclose(ex.answers["g1"], e.grad)
    np.testing.assert_allclose(ex.answers[next(q.label for q in ex.questions if q.name == "a")],
                               a.grad)


def test_rnn_svg_has_blank_labels_and_no_blank_values(tmp_path):
    if not viz.find_renderers():
        pytest.skip("no Graphviz renderer installed")
    loss, P = tiny_rnn()
    ex = viz.exercise(loss, blank=["W", "rnn/tanh#0"])
    names = [q.name for q in ex.questions]
    assert names.count("W") == 1 and sum(n.startswith("rnn.tanh") for n in names) == 3
    out = ex.render(tmp_path / "ex.svg")
    texts = [t.text or "" for t in ET.parse(out).getroot().iter(f"{SVG}text")]
    joined = "\n".join(texts)
    for q in ex.questions:
        assert f"grad = ? ({q.label})" in texts
        assert bp.values_text({"shape": list(q.shape), "values":
                               ex.answers[q.label].ravel().tolist()}, digits=4) not in joined
    w = next(q for q in ex.questions if q.name == "W")
    np.testing.assert_allclose(ex.answers[w.label], P["W"].grad)
    assert any(t.startswith("grad [") for t in texts)  # the other gradients are shown


def test_check_with_the_tapes_answers_is_all_right():
    loss, _ = tiny_rnn()
    ex = viz.exercise(loss, blank="all")
    rep = ex.check({k: v.tolist() for k, v in ex.answers.items()})
    assert rep.ok and rep.score == (len(ex.questions), len(ex.questions)) and rep.wrong == []
    assert str(rep).startswith(f"{len(ex.questions)}/{len(ex.questions)} right")


def test_one_perturbed_answer_is_the_only_wrong_one_with_a_hint():
    L, a, b, d, e = micrograd()
    ex = viz.exercise(L, blank="all")
    lab_d = next(q.label for q in ex.questions if q.name == "d")
    answers = dict(ex.answers)
    answers[lab_d] = answers[lab_d] + 0.5
    rep = ex.check(answers)
    assert rep.wrong == [lab_d]
    r = rep[lab_d]
    assert not r.ok and r.got == pytest.approx(float(d.grad) + 0.5)
    assert "expected" in r.message and "got" in r.message
    # the hint names the consumer's rule and which upstream gradient it uses (e's blank)
    assert "dL/dx = dL/dy * (1 - y^2)" in r.hint and "its dL/dy is g1" in r.hint


def test_typical_slips_are_named():
    L, a, b, d, e = micrograd()
    ex = viz.exercise(L, blank=["a", "d"])
    la, ld = (next(q.label for q in ex.questions if q.name == n) for n in ("a", "d"))
    one_use = a.grad - float(d.grad)  # a*b's part only (d.grad is what the add use sends)
    rep = ex.check({la: one_use, ld: -d.grad})
    assert rep.wrong == sorted([la, ld])
    assert "one use only" in rep[la].hint and "2 uses" in rep[la].hint
    assert "sign is flipped" in rep[ld].hint


def test_bad_answers_are_reported_not_raised():
    loss, _ = tiny_rnn()
    ex = viz.exercise(loss, blank=["W", "b", "c"])
    lw, lb, lc = (next(q.label for q in ex.questions if q.name == n) for n in "Wbc")
    rep = ex.check({lw: [1.0, 2.0, 3.0], lb: "abc"})
    assert not rep.ok and len(rep.wrong) == 3
    assert "shape (3,), expected (2, 2)" in rep[lw].message
    assert "not a number" in rep[lb].message and rep[lc].message == "no answer"
    with pytest.raises(viz.OptionError, match=r"Exercise.check: .*'g99'.*expected labels"):
        ex.check({"g99": 1.0})


def test_seeded_random_blanks_are_reproducible():
    loss, _ = tiny_rnn()
    graph = tr.trace(loss, max_values=64)
    pick = [[q.node for q in viz.exercise(graph, blank=4, seed=s).questions] for s in range(5)]
    assert pick[0] == [q.node for q in viz.exercise(graph, blank=4, seed=0).questions]
    assert all(len(p) == 4 for p in pick) and len({tuple(p) for p in pick}) > 1
    root = graph.roots[0]
    assert all(root not in p for p in pick)
    assert viz.exercise(graph, blank=lambda nd: nd.get("op") == "tanh").answers.keys() == \
        {"g1", "g2", "g3"}


def test_worksheet_and_json():
    L, *_ = micrograd()
    ex = viz.exercise(L, blank=["a", "e"])
    sheet = ex.worksheet()
    assert "| g1 |" in sheet and "| g2 |" in sheet and "## Answers" not in sheet
    assert "## Answers" in ex.worksheet(answers=True)
    d = json.loads(ex.to_json())
    assert [q["label"] for q in d["questions"]] == ["g1", "g2"]
    assert "answer" not in d["questions"][0]
    key = json.loads(ex.to_json(answers=True))
    assert key["questions"][0]["answer"] == pytest.approx(float(ex.answers["g1"]))


def test_errors_say_what_to_do():
    loss, _ = tiny_rnn()
    with pytest.raises(viz.OptionError, match=r"viz\.exercise: blank contains 'Q'.*expected a "
                                              r"node id 0\.\.\d+, name"):
        viz.exercise(loss, blank=["W", "Q"])
    with pytest.raises(viz.OptionError, match="no gradient"):
        viz.exercise(loss, blank=["x[0]"])
    with pytest.raises(viz.OptionError, match=r"blank=999; expected a count from 1"):
        viz.exercise(loss, blank=999)
    with pytest.raises(viz.OptionError, match="selects no node"):
        viz.exercise(loss, blank=lambda nd: False)
    with pytest.raises(viz.OptionError, match="max_values"):  # only a summary was traced
        viz.exercise(tr.trace(tiny_rnn(hidden=5)[0], max_values=4), blank=["W"])
    plain, _ = tiny_rnn(retain=False)
    with pytest.raises(viz.GraphFormatError, match=r"backward\(retain_grads=True\)"):
        viz.exercise(plain)
