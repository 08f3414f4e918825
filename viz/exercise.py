"""Backprop exercises: the graph with chosen gradients blanked, and a checker for the answers.

>>> loss.backward(retain_grads=True)
>>> ex = viz.exercise(loss, blank=3, seed=0)     # or "all", ["W", 5], a predicate
>>> ex.render("exercise.svg"); print(ex.worksheet())
>>> ex.check({"g1": [[0.1, -0.2]], "g2": 0.5}).ok

Each blank is a gradient dL/d(node), shown as ``grad = ? (g1)``; labels are numbered in the
order backward computes them (from the loss down), so g1 can be filled in first. The answers are
the tape's own gradients (``loss.backward(retain_grads=True)`` keeps every one of them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import graphviz
import numpy as np

from viz import _backprop as bp
from viz._dot import label
from viz._errors import OptionError
from viz._render import render
from viz.graph_index import GraphIndex

WHO = "viz.exercise"
BLANK_FILL = "#fff3b0"


@dataclass
class Question:
    """One blank: ``label`` (g1, g2 ...), the node it asks about and the answer's shape."""

    label: str
    node: int
    name: str
    description: str  # "dL/d rnn.h.tanh[t=1] (tanh, shape (1, 3))"
    shape: tuple


@dataclass
class Result:
    """The verdict on one blank. ``expected``/``got`` are arrays (``got`` None if missing)."""

    label: str
    name: str
    ok: bool
    expected: np.ndarray
    got: np.ndarray | None
    message: str
    hint: str = ""


@dataclass
class Report:
    """What :meth:`Exercise.check` found: ``results`` (one per blank), ``ok`` when all right."""

    results: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def wrong(self) -> list:
        return [r.label for r in self.results if not r.ok]

    @property
    def score(self) -> tuple:
        return sum(r.ok for r in self.results), len(self.results)

    def __getitem__(self, lab: str) -> Result:
        return next(r for r in self.results if r.label == lab)

    def __str__(self) -> str:
        right, n = self.score
        lines = [f"{right}/{n} right"]
        for r in self.results:
            lines.append(f"{r.label} {'right' if r.ok else 'WRONG'}: {r.name}: {r.message}")
            if r.hint:
                lines += ["    " + h for h in r.hint.splitlines()]
        return "\n".join(lines)


def exercise(graph, blank="all", seed=None, *, digits: int = 4,
             rankdir: str = "BT") -> Exercise:
    """Make an exercise from a small traced graph (run ``loss.backward(retain_grads=True)``).

    ``graph``: a Tensor (traced here, keeping every value), a ``tr.Graph``, its dict or JSON.
    ``blank`` picks the gradients to hide: "all" (every node with a gradient but the loss,
    whose dL/dL = 1 is the start), a list of node ids / names ("W") / sites / labels, an int n
    (n random nodes, reproducible with ``seed``), or a predicate called with each node's dict.
    ``digits``: significant digits of the numbers drawn (enough to work the blanks out).
    """
    d = bp.load_traced(graph, WHO)
    gi = GraphIndex(d)
    bp.require_retained(gi, WHO)
    order = _answer_order(d, gi)
    chosen = _select(gi, blank, seed, [i for i in order if i not in gi.roots])
    labels = {i: f"g{k + 1}" for k, i in enumerate(i for i in order if i in chosen)}
    return Exercise(gi, labels, digits, rankdir)


def _answer_order(d: dict, gi: GraphIndex) -> list:
    """Nodes with full gradient values in the order backward finds them: the ops as visited,
    then the leaves (complete only at the end)."""
    ops = bp.backward_order(d, gi)
    leaves = [i for i in range(len(gi)) if gi.kind(i) != "op"]
    return [i for i in ops + leaves if bp.grad_array(gi.nodes[i].get("grad")) is not None]


def _select(gi: GraphIndex, blank, seed, candidates: list) -> set:
    if isinstance(blank, str) and blank == "all":
        chosen = set(candidates)
    elif isinstance(blank, int) and not isinstance(blank, bool):
        if not 1 <= blank <= len(candidates):
            raise OptionError(f"{WHO}: blank={blank}; expected a count from 1 to "
                              f"{len(candidates)} (the nodes with gradients, loss excluded)")
        rng = np.random.default_rng(seed)
        chosen = {candidates[k] for k in rng.choice(len(candidates), blank, replace=False)}
    elif callable(blank):
        chosen = {i for i in candidates if blank(gi.nodes[i])}
    elif isinstance(blank, (list, tuple, set, frozenset, str)):
        items = [blank] if isinstance(blank, str) else sorted(blank, key=str)
        chosen = set()
        for item in items:
            chosen.update(_resolve(gi, item))
    else:
        raise OptionError(f"{WHO}: blank={blank!r}; expected 'all', a list of node names or "
                          f"ids, a count, or a predicate; got {type(blank).__name__}")
    if not chosen:
        raise OptionError(f"{WHO}: blank={blank!r} selects no node with a gradient; the "
                          f"candidates are {_names(gi, candidates)}")
    return chosen


def _resolve(gi: GraphIndex, item) -> list:
    """Node ids an item of ``blank`` names: an id, a name, a site or a semantic label."""
    n = len(gi)
    if isinstance(item, int) and not isinstance(item, bool):
        hits = [item] if 0 <= item < n else []
    else:
        hits = [i for i in range(n) if gi.nodes[i].get("name") == item]
        hits = hits or [i for i in range(n) if gi.meta(i, "site") == item]
        hits = hits or [i for i in range(n) if gi.label_name(i) == item]
    with_grad = [i for i in range(n) if isinstance(gi.nodes[i].get("grad"), dict)]
    if not hits:
        raise OptionError(f"{WHO}: blank contains {item!r}, which matches no node; expected a "
                          f"node id 0..{n - 1}, name, site or label, e.g. "
                          f"{_names(gi, with_grad)}")
    for i in hits:
        g = gi.nodes[i].get("grad")
        if not isinstance(g, dict):
            raise OptionError(f"{WHO}: blank contains {item!r}: node {bp.describe(gi, i)} has "
                              "no gradient (an input that does not require grad)")
        if g.get("values") is None:
            raise OptionError(f"{WHO}: blank contains {item!r}: the trace kept only a summary "
                              f"of its gradient; trace with tr.trace(loss, max_values=N) for N "
                              f">= {int(np.prod(g.get('shape') or []))}, or pass the Tensor")
    return hits


def _names(gi: GraphIndex, ids, n: int = 8) -> str:
    names = list(dict.fromkeys(repr(gi.nodes[i].get("name") or gi.label_name(i)) for i in ids))
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


class Exercise:
    """A graph with blanked gradients: draw it, list the questions, check a student's answers.

    ``questions``: list of :class:`Question`; ``answers``: label -> the tape's gradient (an
    array of the node's shape: dL/dW has W's shape). Not built directly: see :func:`exercise`.
    """

    def __init__(self, gi: GraphIndex, labels: dict, digits: int = 4, rankdir: str = "BT"):
        self._gi, self._labels, self._digits, self._rankdir = gi, labels, digits, rankdir
        self.questions = [Question(lab, i, gi.label_name(i), "dL/d " + bp.describe(gi, i),
                                   tuple(gi.nodes[i].get("shape") or ()))
                          for i, lab in labels.items()]
        self.answers = {lab: bp.grad_array(gi.nodes[i]["grad"]) for i, lab in labels.items()}

    def __repr__(self) -> str:
        return f"<Exercise: {len(self.questions)} blanks ({', '.join(self.answers)})>"

    def draw(self, show_answers: bool = False) -> graphviz.Digraph:
        """The graph with data and gradients on every node, blanks as ``grad = ? (g1)``
        (``show_answers=True``: the key, with the tape's values next to each label)."""
        gi, dg = self._gi, self._digits
        scene, owner = bp.base_scene(gi, "exercise", self._rankdir, 500, WHO)
        for i in range(len(gi)):
            dn = bp.own_node(scene, owner, i)
            if dn is None:
                continue
            nd, lab = gi.nodes[i], self._labels.get(i)
            lines = bp.head_lines(gi, i) + [bp.data_line(nd, digits=dg)]
            if lab is not None:
                ans = f" = {bp.values_text(nd['grad'], digits=dg)}" if show_answers else ""
                lines.append(f"grad = ? ({lab}){ans}")
                dn.attrs.update(style="filled,bold", fillcolor=BLANK_FILL, penwidth="2")
            elif isinstance(nd.get("grad"), dict):
                lines.append("grad " + bp.values_text(nd["grad"], digits=dg))
            dn.attrs["label"] = label(*lines)
        bp.label_edges(scene, gi)
        return scene.to_digraph()

    def render(self, path, format: str | None = None, show_answers: bool = False):
        """Write the picture (svg/png/pdf, as :func:`viz.render`); returns the path."""
        return render(self.draw(show_answers), path, format)

    def hint(self, lab: str) -> str:
        """How blank ``lab`` is computed: the rule each consumer applies and its upstream."""
        i = self._node_of(lab, "Exercise.hint")
        gi = self._gi
        if i in gi.roots:
            return "this is the loss itself: dL/dL = 1"
        out = bp.uses(gi, i)
        head = (f"{lab} = dL/d {gi.label_name(i)} is the sum of what its {len(out)} uses send "
                "back:" if len(out) > 1 else f"{lab} = dL/d {gi.label_name(i)} comes from its use:")
        lines = [head]
        for e in out:
            c = e["dst"]
            up = self._labels.get(c)
            up = f"its dL/dy is {up}" if up else "its dL/dy is shown on that node"
            lines.append(f"- in {gi.label_name(c)} ({gi.nodes[c].get('op')}), as input "
                         f"{bp.arg_name(gi, c, e.get('arg', 0))}: {bp.rule(gi, c, e.get('arg', 0))}"
                         f"; {up}")
        return "\n".join(lines)

    def check(self, answers: dict, rtol: float = 1e-2, atol: float = 1e-3) -> Report:
        """Compare ``answers`` (label -> number, nested list or array) with the tape.

        Right when ``|got - expected| <= atol + rtol * |expected|`` everywhere (numbers read
        off a picture carry 3 significant digits). A missing, non-numeric or wrongly shaped
        answer is reported wrong, with the reason; wrong ones get a :meth:`hint`.
        """
        if not isinstance(answers, dict):
            raise OptionError(f"Exercise.check: answers must be a dict label -> value; got "
                              f"{type(answers).__name__}")
        unknown = [k for k in answers if k not in self.answers]
        if unknown:
            raise OptionError(f"Exercise.check: answers has unknown label(s) "
                              f"{', '.join(map(repr, unknown))}; expected labels "
                              f"{', '.join(self.answers)}")
        results = []
        for q in self.questions:
            ok, got, msg = self._judge(q, answers.get(q.label), rtol, atol)
            hint = "" if ok else "\n".join(filter(None, [self._diagnose(q, got, rtol, atol),
                                                         self.hint(q.label)]))
            results.append(Result(q.label, q.name, ok, self.answers[q.label], got, msg, hint))
        return Report(results)

    def _judge(self, q: Question, value, rtol, atol) -> tuple:
        want = self.answers[q.label]
        if value is None:
            return False, None, "no answer"
        try:
            got = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return False, None, f"not a number: {value!r}"
        if got.shape != want.shape and got.size == want.size == 1:
            got = got.reshape(want.shape)  # a plain number for a 1-element gradient
        if got.shape != want.shape:
            return False, got, (f"shape {got.shape}, expected {want.shape} (a gradient has "
                                "the shape of its node's value)")
        ok = bool(np.all(np.isfinite(got)) and np.allclose(got, want, rtol=rtol, atol=atol))
        return ok, got, f"expected {bp.array_text(want)}, got {bp.array_text(got)}"

    def _diagnose(self, q: Question, got, rtol, atol) -> str:
        """Name a typical slip: a flipped sign, or only one of several uses summed."""
        want = self.answers[q.label]
        if got is None or got.shape != want.shape:
            return ""
        if np.allclose(got, -want, rtol=rtol, atol=atol):
            return "the sign is flipped"
        parts = [bp.grad_array(e["grad"]) for e in bp.uses(self._gi, q.node)]
        if len(parts) > 1 and any(p is not None and np.allclose(got, p, rtol=rtol, atol=atol)
                                  for p in parts):
            return (f"that is the contribution of one use only; the node is used {len(parts)} "
                    "times, and backward adds up all of them")
        return ""

    def _node_of(self, lab: str, who: str) -> int:
        for q in self.questions:
            if q.label == lab:
                return q.node
        raise OptionError(f"{who}: no blank {lab!r}; expected one of {', '.join(self.answers)}")

    def to_dict(self, answers: bool = False) -> dict:
        """Questions (and, for teachers, the answers as nested lists) as plain data."""
        qs = [{"label": q.label, "node": q.node, "name": q.name,
               "description": q.description, "shape": list(q.shape)} for q in self.questions]
        if answers:
            for item in qs:
                item["answer"] = self.answers[item["label"]].tolist()
        return {"questions": qs}

    def to_json(self, answers: bool = False, **kwargs) -> str:
        return json.dumps(self.to_dict(answers), **kwargs)

    def worksheet(self, answers: bool = False) -> str:
        """A Markdown worksheet: the task, one line per blank (shape to give), optionally the
        answer key with hints."""
        lines = ["# Backpropagation exercise", "",
                 "Each yellow node shows `grad = ? (gK)`: fill in gK = dL/d(node), the gradient "
                 "of the loss with respect to that node's value. It has the node's shape. Work "
                 "from the loss down: a node's gradient is the sum, over its uses, of what each "
                 "consuming op sends back (upstream gradient times the op's local derivative).",
                 "", "| blank | node | shape |", "|---|---|---|"]
        lines += [f"| {q.label} | {q.description} | {q.shape} |" for q in self.questions]
        if answers:
            lines += ["", "## Answers", ""]
            for q in self.questions:
                lines.append(f"- **{q.label}** = {self.answers[q.label].tolist()}")
                lines += ["  " + h for h in self.hint(q.label).splitlines()]
        return "\n".join(lines) + "\n"
