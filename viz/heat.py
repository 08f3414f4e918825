"""``heat_strip``: a row of coloured cells (a Graphviz HTML table), e.g. ||nabla_{h^(t)} L|| per
step t, so per-step gradient norms can be shown without matplotlib."""

from __future__ import annotations

import math

import graphviz

from viz._dot import NONE_COLOR, LogScale, fmt, h
from viz._errors import OptionError
from viz._render import VizDigraph


def heat_strip(values, labels=None, title: str | None = None, *,
               max_cells: int = 200) -> graphviz.Digraph:
    """Draw ``values`` as one row of cells coloured on a log scale (pale = small, dark = large).

    ``labels``: one per value (default ``t=0, t=1, ...``); ``None`` values show as "-" in grey.
    More than ``max_cells`` values are shown as ``max_cells`` evenly spaced samples.

    >>> viz.heat_strip([0.12, 0.40, 1.1], title="||grad h^(t)||")  # doctest: +SKIP
    """
    values = [None if v is None else float(v) for v in values]
    labels = [f"t={k}" for k in range(len(values))] if labels is None else list(labels)
    if len(labels) != len(values):
        raise OptionError(f"viz.heat_strip: {len(labels)} labels for {len(values)} values; "
                          "expected one label per value")
    idx = list(range(len(values)))
    if len(idx) > max_cells > 1:  # evenly spaced, first and last included
        idx = sorted({round(k * (len(values) - 1) / (max_cells - 1)) for k in range(max_cells)})
    scale = LogScale(values)
    top = "".join(f"<TD>{h(labels[k])}</TD>" for k in idx)
    cells = "".join(_cell(values[k], scale) for k in idx)
    span = max(len(idx), 1)
    head = "" if title is None else f'<TR><TD COLSPAN="{span}"><B>{h(title)}</B></TD></TR>'
    table = ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
             f"{head}<TR>{top or '<TD></TD>'}</TR><TR>{cells or '<TD></TD>'}</TR></TABLE>>")
    g = VizDigraph("heat_strip")
    g.attr("node", shape="plaintext", fontsize="10")
    g.node("strip", table)
    return g


def _cell(v, scale: LogScale) -> str:
    if v is None or not math.isfinite(v):
        return f'<TD BGCOLOR="{NONE_COLOR}">{h(fmt(v))}</TD>'
    return (f'<TD BGCOLOR="{scale.color(v)}"><FONT COLOR="{scale.font(v)}">{h(fmt(v))}'
            "</FONT></TD>")
