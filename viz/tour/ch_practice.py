"""Tour chapter 13: your turn. An exercise sheet with blanked gradients, and the backward pass
replayed one node at a time, both on the seeds' Elman RNN over 3 steps (H = 2)."""

from __future__ import annotations

import os

import numpy as np

import tinygrad_rnn as tr
import viz


def _tiny_elman():
    """L = sum_t CE(c + V h^(t)), h^(t) = tanh(W h^(t-1) + U x^(t)), 3 steps, H = 2, K = 2."""
    rng = np.random.default_rng(3)
    P = {k: tr.Tensor(np.round(rng.standard_normal(s) * 0.8, 1), requires_grad=True, name=k)
         for k, s in (("U", (2, 2)), ("W", (2, 2)), ("V", (2, 2)), ("c", (2,)))}
    h, loss = tr.Tensor(np.zeros(2), name="h0"), None
    for t, (x, y) in enumerate(((0, 1), (1, 1), (0, 0))):
        with tr.scope("rnn", step=t):
            with tr.scope(role="h"):
                h = (P["W"] @ h + P["U"] @ tr.Tensor(np.eye(2)[x], name=f"x[{t}]")).tanh()
            lt = tr.F.cross_entropy((P["c"] + P["V"] @ h)[None, :], [y])
        loss = lt if loss is None else loss + lt
    loss.backward(retain_grads=True)
    return loss


def practice(tour, ch) -> None:
    """Exercise mode (blanked gradients + checker) and backward replay (one frame per node)."""
    loss = _tiny_elman()
    ch.say("Reading pictures is not the same as doing backprop. Two tools make a student do it "
           "and check it:",
           "<b>Exercise mode</b>: the graph with some gradients blanked (g1, g2, ... in the "
           "order backward computes them). The student fills them in; "
           "<code>ex.check({...})</code> compares with the tape and, for each wrong one, names "
           "the local rule and the upstream gradient to use (and spots a flipped sign or a "
           "missing <code>+=</code>).",
           "<b>Backward replay</b>: one frame per node in the order the tape visits them, with "
           "the local derivative applied and the <code>+=</code> each step's copy "
           "W<sup>(t)</sup> adds into the shared W, step through with the arrow keys.")
    ex = viz.exercise(loss, blank=tour.size(6, 4), seed=0)
    tour.picture(ch, "exercise", ex.draw(), "Exercise: fill in the blanked gradients")
    sheet = os.path.join(tour.out, "practice_worksheet.md")
    with open(sheet, "w", encoding="utf-8") as f:
        f.write(ex.worksheet())
    ch.figures.append(("practice_worksheet.md", "The worksheet (questions, shapes)"))
    right, total = ex.check(ex.answers).score
    first = ex.questions[0].label
    bad = ex.check({**ex.answers, first: -np.asarray(ex.answers[first])})
    ch.number("checker: the tape's own answers, right", f"{right} of {total}")
    ch.number(f"checker: {first} with its sign flipped, wrong", ", ".join(bad.wrong) or "none")
    paths = viz.replay(loss, os.path.join(tour.out, "replay"), max_frames=tour.size(200, 60))
    ch.number("backward replay: frames (one per op node, reverse creation order)",
              len(paths) - 1)
    ch.figures.append(("replay/index.html", "Backward replay: open it and use the arrow keys"))
    ch.figures.append((os.path.relpath(paths[0], tour.out).replace(os.sep, "/"),
                       "Replay, frame 1: the loss"))
    ch.api = "viz.exercise(loss, blank=...).check(answers); viz.replay(loss, folder)"
