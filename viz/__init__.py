"""viz: pictures of ``tinygrad_rnn`` graphs, to *see* how gradients flow through time and
structure. Reads only the plain data of ``tr.trace`` (a ``tr.Graph``, its dict or saved JSON),
builds DOT with the ``graphviz`` package and renders it with Graphviz ``dot`` or graphviz-pure.

>>> import viz
>>> g = viz.draw(loss, view="folded")         # graphviz.Digraph; shows inline in Jupyter
>>> viz.render(g, "rnn.svg")                  # or .png / .pdf

Views: ``unrolled`` (the textbook grid: a box per layer, direction and step cell with
||dL/dh||; ``expand=`` opens cells to gate level, ``"all"`` draws every op with the per-step
weight copies W^(t)), ``folded`` (each cell once, a delay on its recurrence), ``tree`` (a box per
tree node, words in sentence order), ``backward`` (the same, filled by ||grad||, highlighted
paths). Boxes carry ``.members``. All output is deterministic.

Charts (matplotlib, the optional ``plot`` extra): :mod:`viz.plots` draws the gradient-flow
numbers of ``tr.analysis`` and training curves, for slides.

Interactive: :func:`inspect` writes one offline HTML page (or shows it inline in a notebook)
to pan, zoom, search and click through a graph's values, gradients and backward steps.

Teaching: :func:`exercise` blanks chosen gradients for students to fill in and checks their
answers; :func:`replay` writes one picture per backward step plus a page to step through them.
"""

from __future__ import annotations

import inspect as _pyinspect
import os

import graphviz

from viz import plots  # charts with matplotlib, which only the first chart imports
from viz._errors import (
    GraphFormatError,
    MatplotlibNotFoundError,
    OptionError,
    RendererNotFoundError,
    RenderError,
    SummaryWarning,
    VizError,
)
from viz._render import find_renderers, render
from viz.exercise import Exercise, Question, Report, Result, exercise
from viz.heat import heat_matrix, heat_strip
from viz.inspector import Inspector, inspect
from viz.loading import load
from viz.replay import Contribution, Frame, replay, replay_frames
from viz.views.backward import draw_backward
from viz.views.folded import draw_folded, fold
from viz.views.tree import draw_tree
from viz.views.unrolled import draw_unrolled

VIEWS = {"unrolled": draw_unrolled, "folded": draw_folded, "tree": draw_tree,
         "backward": draw_backward, "gradients": draw_backward}


def draw(graph, view: str = "unrolled", **options) -> graphviz.Digraph:
    """Draw ``graph`` (a ``tr.Graph``, its dict, a JSON path, or Tensor(s), traced) as a
    ``graphviz.Digraph``.

    ``view``: "unrolled" (:func:`draw_unrolled`), "folded" (:func:`draw_folded`), "tree"
    (:func:`draw_tree`) or "backward" / "gradients" (:func:`draw_backward`); ``options`` go to
    that function (e.g. ``keep_ends=2``, ``collapse="cell"``, ``highlight="W"``).
    """
    fn = VIEWS.get(view)
    if fn is None:
        raise OptionError(f"viz.draw: view={view!r}; expected one of {', '.join(VIEWS)}")
    try:
        return fn(graph, **options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise OptionError(f"viz.draw(view={view!r}): {exc}") from exc
        raise


def save_views(graph, folder, name: str, views=("unrolled", "folded", "backward"),
               format: str = "svg", **options) -> list:
    """Draw ``graph`` in each of ``views`` and render ``<folder>/<name>_<view>.<format>``.

    The graph is traced once (a Tensor is traced here), so every picture shows the same data.
    Without any renderer, each ``.dot`` is still written and one warning says how to install one.
    Returns the written paths. ``options`` go to every view that takes them (``keep_ends=3``
    reaches the unrolled and backward views; the folded view has no steps to keep).
    """
    data = load(graph)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for view in views:
        if view not in VIEWS:
            raise OptionError(f"viz.save_views: view={view!r}; expected one of {', '.join(VIEWS)}")
        accepted = _pyinspect.signature(VIEWS[view]).parameters
        # an option one view lacks (keep_ends for folded) is meant for the others
        opts = {k: v for k, v in options.items() if k in accepted}
        path = os.path.join(os.fspath(folder), f"{name}_{view}.{format}")
        paths.append(render(draw(data, view=view, **opts), path, missing="warn"))
    return paths


__all__ = [
    "draw", "render", "save_views", "heat_strip", "heat_matrix", "fold", "find_renderers",
    "draw_unrolled", "draw_folded", "draw_tree", "draw_backward", "VIEWS", "VizError",
    "GraphFormatError", "OptionError", "RenderError", "RendererNotFoundError", "SummaryWarning",
    "exercise", "Exercise", "Question", "Report", "Result", "replay", "replay_frames", "Frame",
    "Contribution", "plots", "MatplotlibNotFoundError", "inspect", "Inspector",
]
