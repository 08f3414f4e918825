"""``viz.inspect``: one self-contained, offline HTML page to explore a graph and its gradients.

>>> loss.backward(retain_grads=True)
>>> viz.inspect(loss).save("lstm.html")       # opens from disk, no network, no server
>>> viz.inspect(loss)                          # in Jupyter / VS Code: the same page, inline

The page holds the Graphviz layout of every view (unrolled, folded, backward, tree when the
graph has tree nodes) as inline SVG, our JavaScript and CSS (``viz/static``), and the graph's
data as JSON. In it: pan (drag), zoom (wheel, buttons, "fit"), the views as tabs that keep the
selection, a search box (name, scope, op), a step slider that highlights step t in every view;
a click on a node fills the side panel (its place, op and local derivative rule, shape, value
and gradient, and for a weight the per-use gradients ∇_{W⁽ᵗ⁾} L as a bar chart over t that
add up to its .grad, also from a weight's row in the grid or one step of its strip); a click
on a cell opens it at gate level (:mod:`viz.inspector_views`); the arrow keys step through
backward in the tape's order; the current view exports as SVG, the graph as JSON.

Page contract (tests and other tools rely on it): every drawn node element carries
``data-node-id`` = its ``tr.Graph`` node id (a box: the node it stands for, plus ``data-box``);
the side panel is the element with class ``inspector-panel``, and on a saved page its id is
``inspector-panel``. Inline in a notebook several inspectors may share a page, so there the
panel's id is ``inspector-panel-<n>`` (ids must be unique) and all markup lives under the
inspector's own root element, ``<div class="tri-root" id="tri-<n>">``.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import os
from importlib import resources
from pathlib import Path
from string import Template

from viz._errors import GraphFormatError, OptionError, RenderError
from viz.graph_index import GraphIndex
from viz.inspector_data import node_info, page_graph, param_uses, replay_data, steps_of
from viz.inspector_views import accepted, build_pictures, views_for
from viz.loading import load

WHO = "viz.inspect"
MAX_VALUES = 64  # a Tensor is traced keeping the values of tensors this small (shown in full)
STATIC = ("inspector.js", "inspector_panel.js", "inspector_replay.js")
_counter = itertools.count(1)


class Inspector:
    """An inspector page for one graph: ``save(path)`` writes it, ``_repr_html_`` shows it
    inline in a notebook. ``data`` is the page's JSON payload (see :mod:`viz.inspector_data`),
    ``notes`` what was summarised or left out."""

    def __init__(self, data: dict, title: str):
        self.data = data
        self.title = title

    @property
    def notes(self) -> list:
        return list(self.data.get("notes", []))

    def save(self, path) -> Path:
        """Write the page to ``path`` (``.html`` added when it has no extension) and return
        the path. One file: open it from disk in any browser."""
        out = Path(path)
        if not out.suffix:
            out = out.with_suffix(".html")
        if out.parent and not out.parent.exists():
            raise OptionError(f"{WHO}: cannot save to {os.fspath(out)!r}: the folder "
                              f"{os.fspath(out.parent)!r} does not exist")
        out.write_text(self.page(), encoding="utf-8")
        return out

    def page(self) -> str:
        """The standalone HTML page (what :meth:`save` writes)."""
        return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f"<title>{html.escape(self.title)}</title>\n<style>\n{_static('inspector.css')}"
                f'</style>\n</head>\n<body class="tri-page">\n{self._body("main", True)}'
                "</body>\n</html>\n")

    def _repr_html_(self) -> str:
        """The page inline (Jupyter, JupyterLab, VS Code): its own ids, CSS scoped under its
        root, so several inspectors in one notebook do not clash."""
        uid = f"{next(_counter)}-{os.getpid() % 10000}"
        return (f'<div class="tri-embed"><style>{_static("inspector.css")}</style>'
                f"{self._body(uid, False)}</div>")

    def _body(self, uid: str, standalone: bool) -> str:
        first = self.data["views"][0]
        data = dict(self.data, views=[dict(v, svg=None) if k == 0 else v
                                      for k, v in enumerate(self.data["views"])])
        panel_id = "inspector-panel" if standalone else f"inspector-panel-{uid}"
        js = "\n".join(_static(name) for name in STATIC)
        return _markup(uid, panel_id, self.title, self.data, first["svg"]) + (
            f'<script type="application/json" class="tri-data">{_json(data)}</script>\n</div>\n'
            f"<script>\n{js}\n</script>\n<script>window.TinygradInspector.mount("
            f'document.getElementById("tri-{uid}"));</script>\n')

    def __repr__(self) -> str:
        views = ", ".join(v["name"] for v in self.data["views"])
        return (f"<viz.Inspector {self.title!r}: {len(self.data['graph']['nodes'])} nodes; "
                f"views {views}; {len(self.data['boxes'])} boxes>")


def inspect(graph, view: str = "unrolled", *, views=None, title: str | None = None,
            max_frames: int | None = 300, **options) -> Inspector:
    """An interactive page for ``graph``: a ``tr.Graph``, its dict, a JSON path, or Tensor(s)
    (traced here keeping the values of tensors of up to 64 elements).

    ``view``: the tab shown first ("unrolled", "folded", "backward" or "tree"); ``views``: the
    tabs (default: all that apply; fewer make the page quicker to write). ``options`` go
    to every view that takes them, as for :func:`viz.draw` (``expand=[(1, 3)]`` opens that
    cell in place, ``expand="all"`` draws every op, ``keep_ends=3``, ``max_nodes=...``).
    ``max_frames``: backward steps the replay keeps (None: all).
    Run ``loss.backward(retain_grads=True)`` first: the page shows every gradient the trace
    kept, and replays backward only when the intermediate gradients were retained.
    Needs a Graphviz renderer (``dot`` or graphviz-pure) to lay the pictures out.
    """
    try:
        d = load(graph, max_values=MAX_VALUES)
    except GraphFormatError as exc:
        raise GraphFormatError(f"{WHO}: {str(exc).removeprefix('viz: ')}") from exc
    gi = GraphIndex(d)
    views = _tabs(gi, view, views)
    _check_options(views, options)
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
        raise OptionError(f"{WHO}: max_frames={max_frames!r}; expected an int >= 1 or None")
    pics = build_pictures(d, gi, views, options, WHO)
    if not pics.views:
        raise RenderError(f"{WHO}: no view of this graph could be laid out: {pics.notes[-1]}")
    info, rules = node_info(gi)
    index = {id(e): k for k, e in enumerate(d["edges"])}
    notes = list(pics.notes)
    data = {"version": 1, "graph": page_graph(d, notes), "info": info, "rules": rules,
            "uses": param_uses(gi, info, index), "steps": steps_of(info),
            "replay": replay_data(d, index, gi, max_frames, notes),
            "views": [{"name": name, "svg": dr.svg} for name, dr in pics.views],
            "boxes": {k: {"rep": b.rep, "members": b.members, "title": b.title, "fold": b.fold,
                          "svg": b.drawing.svg if b.drawing else None, "note": b.note}
                      for k, b in pics.boxes.items.items()},
            "notes": notes}
    return Inspector(data, title or _default_title(gi))


def _tabs(gi: GraphIndex, view: str, views) -> list:
    """The tabs, ``view`` first; each must apply to the graph."""
    able = views_for(gi)
    alias = {"gradients": "backward"}
    views = [views] if isinstance(views, str) else views
    asked = able if views is None else [alias.get(v, v) for v in views]
    view = alias.get(view, view)
    for name, arg in [(view, "view")] + [(v, "views") for v in asked]:
        if name not in able:
            raise OptionError(f"{WHO}: {arg}={name!r}; expected one of {', '.join(able)}"
                              + (" (tree: the graph has no tree nodes)" if name == "tree" else ""))
    return [view] + [v for v in dict.fromkeys(asked) if v != view]


def _check_options(views: list, options: dict) -> None:
    taken = set()
    for v in views:
        taken |= set(accepted(v, options))
    unknown = sorted(set(options) - taken)
    if unknown:
        raise OptionError(f"{WHO}: unknown option(s) {', '.join(unknown)}; the views "
                          f"({', '.join(views)}) take the options of viz.draw")


def _default_title(gi: GraphIndex) -> str:
    n_ops = sum(1 for i in range(len(gi)) if gi.kind(i) == "op")
    return f"Graph of {len(gi)} nodes ({n_ops} ops)"


def _static(name: str) -> str:
    """A file of ``viz/static`` (package data), read from the installed package."""
    return resources.files("viz").joinpath("static", name).read_text(encoding="utf-8")


def _json(data: dict) -> str:
    """JSON safe inside a <script> element: no ``</`` (would end it), no ``<!--``; non-finite
    numbers (a NaN loss) as strings, which JSON.parse accepts."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _finite(x):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)  # "nan", "inf", "-inf"
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def _markup(uid: str, panel_id: str, title: str, data: dict, first_svg: str) -> str:
    """The root element's HTML up to the data block (``static/inspector_body.html``); the
    first view's SVG is inline so the picture shows even before (or without) JavaScript."""
    tabs = "".join(f'<button type="button" class="tri-tab{" on" if k == 0 else ""}" '
                   f'data-view="{html.escape(v["name"])}">{html.escape(v["name"])}</button>'
                   for k, v in enumerate(data["views"]))
    views = "".join(f'<div class="tri-view" data-view="{html.escape(v["name"])}"'
                    f'{"" if k == 0 else " hidden"}>{first_svg if k == 0 else ""}</div>'
                    for k, v in enumerate(data["views"]))
    n_steps = len(data["steps"])
    steps = (f'<label class="tri-stepbox">step <input class="tri-step" type="range" min="-1" '
             f'max="{n_steps - 1}" value="-1" aria-label="highlight time step">'
             '<output class="tri-stepval">all</output></label>') if n_steps else ""
    return Template(_static("inspector_body.html")).substitute(
        uid=uid, panel_id=panel_id, title=html.escape(title), tabs=tabs, views=views,
        steps=steps, notes="".join(f"<li>{html.escape(n)}</li>" for n in data["notes"]))
