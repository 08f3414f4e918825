"""``heat_strip``: a row of coloured cells (a Graphviz HTML table), e.g. ||nabla_{h^(t)} L|| per
step t, so per-step gradient norms can be shown without matplotlib."""

from __future__ import annotations

import math

import graphviz

from viz._dot import NONE_COLOR, LogScale, fmt, h
from viz._errors import OptionError
from viz._render import VizDigraph
from viz._style import FONT, FONT_SIZE


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
    g.attr("node", shape="plaintext", fontname=FONT, fontsize=str(FONT_SIZE - 2))
    g.node("strip", table)
    return g


def _cell(v, scale: LogScale) -> str:
    if v is None or not math.isfinite(v):
        return f'<TD BGCOLOR="{NONE_COLOR}">{h(fmt(v))}</TD>'
    return (f'<TD BGCOLOR="{scale.color(v)}"><FONT COLOR="{scale.font(v)}">{h(fmt(v))}'
            "</FONT></TD>")


def heat_matrix(matrix, row_labels=None, col_labels=None, title: str | None = None,
                *, max_cells: int = 60) -> graphviz.Digraph:
    """Draw a 2-d array as a table of cells coloured on one log scale (pale small, dark large).

    Made for ``tr.analysis`` results: ||dh^(t)/dh^(k)|| or the norms of the contribution matrix
    C[t, k] (loss at step t through W's use at step k). NaN cells (e.g. k > t) show as "-".
    Rows/columns beyond ``max_cells`` are sampled evenly (first and last kept).
    """
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2:
        raise OptionError(f"viz.heat_matrix: expected a 2-d array; got shape {m.shape}")
    rows = _sample(m.shape[0], max_cells)
    cols = _sample(m.shape[1], max_cells)
    rl = [f"t={k}" for k in range(m.shape[0])] if row_labels is None else list(row_labels)
    cl = [f"k={k}" for k in range(m.shape[1])] if col_labels is None else list(col_labels)
    if len(rl) != m.shape[0] or len(cl) != m.shape[1]:
        raise OptionError(f"viz.heat_matrix: {len(rl)} row and {len(cl)} column labels for a "
                          f"{m.shape} matrix")
    finite = [float(v) for v in m[np.ix_(rows, cols)].ravel() if np.isfinite(v)]
    scale = LogScale(finite)
    head = "" if title is None else (f'<TR><TD COLSPAN="{len(cols) + 1}"><B>{h(title)}</B>'
                                     "</TD></TR>")
    top = "<TR><TD></TD>" + "".join(f"<TD>{h(cl[j])}</TD>" for j in cols) + "</TR>"
    body = "".join(f"<TR><TD>{h(rl[i])}</TD>"
                   + "".join(_cell(None if not np.isfinite(m[i, j]) else float(m[i, j]), scale)
                             for j in cols) + "</TR>" for i in rows)
    g = VizDigraph("heat_matrix")
    g.attr("node", shape="plaintext", fontname=FONT, fontsize=str(FONT_SIZE - 2))
    g.node("matrix", '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
           f"{head}{top}{body}</TABLE>>")
    return g


def _sample(n: int, most: int) -> list:
    if n <= most or most < 2:
        return list(range(n))
    return sorted({round(k * (n - 1) / (most - 1)) for k in range(most)})
