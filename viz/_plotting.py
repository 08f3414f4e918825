"""What every chart of :mod:`viz.plots` shares: loading matplotlib lazily (Agg, no pyplot, so
no global state and no window), one slide-sized style, checking the numbers a chart is given,
and writing byte-identical SVG / PNG files.

matplotlib is the optional ``plot`` extra: ``import viz`` never imports it; the first chart does.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from viz._errors import PLOT_HINT, MatplotlibNotFoundError, OptionError, RenderError

FORMATS = ("svg", "png")
SIZE = (7.5, 4.4)  # inches: a slide's half-width chart at 150 dpi is 1125 x 660 px
PNG_DPI = 150
# Okabe-Ito: told apart by colour-blind readers and on a projector; markers and dashes tell
# lines apart again in black and white.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
DASHES = ("-", "--", "-.", ":")
STYLE = {
    "font.family": "DejaVu Sans", "mathtext.fontset": "dejavusans", "font.size": 12,
    "axes.titlesize": 13, "axes.labelsize": 12, "legend.fontsize": 10.5,
    "xtick.labelsize": 11, "ytick.labelsize": 11, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.35, "grid.linewidth": 0.6,
    "lines.linewidth": 2.0, "lines.markersize": 5, "legend.frameon": False,
    # determinism: SVG element ids are hashed from this salt (else from a random one), and
    # glyphs are written as paths, so a file never depends on the fonts of the viewer
    "svg.hashsalt": "tinygrad_rnn", "svg.fonttype": "path",
}


def matplotlib(func: str):
    """The matplotlib module, or :class:`MatplotlibNotFoundError` naming ``func`` and the fix."""
    try:
        import matplotlib as mpl
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError as exc:
        raise MatplotlibNotFoundError(f"{func} draws with matplotlib, which is not installed "
                                      f"({exc}); {PLOT_HINT}") from None
    return mpl


def available() -> bool:
    """Whether the charts can be drawn (matplotlib importable)."""
    try:
        matplotlib("viz.plots")
    except MatplotlibNotFoundError:
        return False
    return True


def new_axes(func: str, title: str | None, xlabel: str, ylabel: str, logy: bool):
    """A Figure (Agg canvas, not registered with pyplot: no leak, no window) and its Axes."""
    mpl = matplotlib(func)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with mpl.rc_context(STYLE):
        fig = Figure(figsize=SIZE, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        if logy:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(_plain_log_formatter()())
            ax.yaxis.set_minor_formatter(_plain_log_formatter()(labelOnlyBase=False))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
    return fig, ax


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_MATH_TICK = re.compile(r"\$\\mathdefault\{(?:([-\d.]+)\\times\s*)?(\d+)\^\{(-?\d+)\}\}\$")


def plain_tick(label: str) -> str:
    """matplotlib's log tick label ``$\\mathdefault{2\\times10^{-5}}$`` as plain text ``2×10⁻⁵``:
    the same look in DejaVu Sans, without the mathtext parser, which took ~30 ms a label
    (most of the time of writing an SVG). Anything else is returned unchanged."""
    m = _MATH_TICK.fullmatch(label)
    if m is None:
        return label
    mantissa, base, power = m.groups()
    return f"{mantissa + '×' if mantissa else ''}{base}{power.translate(_SUPERSCRIPT)}"


def _plain_log_formatter():
    from matplotlib.ticker import LogFormatterSciNotation

    class PlainLogFormatter(LogFormatterSciNotation):
        """Which ticks get labels, as matplotlib decides; the labels as plain text."""

        def __call__(self, x, pos=None):
            return plain_tick(super().__call__(x, pos))

    return PlainLogFormatter


def styled(func: str):
    """The style as a context: artists take their sizes when they are made."""
    return matplotlib(func).rc_context(STYLE)


def line_style(k: int) -> dict:
    return {"color": COLORS[k % len(COLORS)], "marker": MARKERS[k % len(MARKERS)],
            "linestyle": DASHES[(k // len(COLORS)) % len(DASHES)]}


def series(func: str, arg: str, values, start: int = 0, log: bool = False) -> list:
    """``values`` (dict label -> sequence or dict x -> y) as [(label, xs, ys)] float arrays.

    A sequence is plotted against x = start, start + 1, ...; a dict against its keys (sorted),
    so the ``{step: norm}`` of ``tr.analysis.step_grad_norms`` goes in as it is. Non-finite
    values (and, on a log axis, values <= 0) become gaps in the line.
    """
    if not isinstance(values, Mapping) or not values:
        raise OptionError(f"{func}: argument '{arg}' must be a non-empty dict of label -> "
                          f"values; got {_what(values)}")
    out, drawable = [], False
    for label, v in values.items():
        xs, ys = _points(func, arg, label, v, start)
        bad = ~np.isfinite(ys) | ((ys <= 0) if log else False)
        ys = np.where(bad, np.nan, ys)
        drawable |= not bad.all()
        out.append((str(label), xs, ys))
    if not drawable:
        what = "zero, negative or not finite" if log else "not finite"
        raise OptionError(f"{func}: nothing to draw: every value in '{arg}' is {what}"
                          + (" (the y axis is logarithmic)" if log else ""))
    return out


def _points(func: str, arg: str, label, v, start: int):
    if isinstance(v, Mapping):
        keys = list(v)
        xs = _floats(func, f"{arg}[{label!r}]'s keys", keys)
        order = np.argsort(xs, kind="stable")
        xs, ys = xs[order], _floats(func, f"{arg}[{label!r}]", [v[k] for k in keys])[order]
    else:
        if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
            raise OptionError(f"{func}: '{arg}[{label!r}]' must be a sequence of numbers or a "
                              f"dict x -> number; got {_what(v)}")
        ys = _floats(func, f"{arg}[{label!r}]", v)
        xs = np.arange(start, start + len(ys), dtype=float)
    if not len(ys):
        raise OptionError(f"{func}: '{arg}[{label!r}]' has no values")
    return xs, ys


def _floats(func: str, arg: str, v) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise OptionError(f"{func}: '{arg}' must hold numbers; got {_what(v)} ({exc})") from None
    if a.ndim != 1:
        raise OptionError(f"{func}: '{arg}' must be one-dimensional; got shape {a.shape}")
    return a


def _what(v) -> str:
    text = repr(v)
    return f"{type(v).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def number(func: str, arg: str, v, positive: bool = False) -> float:
    """A finite real number (``positive``: > 0), else :class:`OptionError`."""
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        x = math.nan
    if isinstance(v, bool) or not math.isfinite(x) or (positive and x <= 0):
        kind = "finite positive" if positive else "finite"
        raise OptionError(f"{func}: argument '{arg}' must be a {kind} number; got {_what(v)}")
    return x


def text(func: str, arg: str, v) -> str | None:
    if v is not None and not isinstance(v, str):
        raise OptionError(f"{func}: argument '{arg}' must be a string or None; got {_what(v)}")
    return v


def save(fig, path, format: str | None = None, *, dpi: int = PNG_DPI) -> Path:
    """Write ``fig`` (a chart of :mod:`viz.plots`) to ``path`` as SVG or PNG; returns the path.

    ``format`` defaults to the extension of ``path`` (svg when it has none). The SVG carries no
    date and fixed element ids, so the same numbers give the same bytes on every run.
    """
    mpl = matplotlib("viz.plots.save")
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise OptionError(f"viz.plots.save: argument 'fig' must be a matplotlib Figure (from a "
                          f"viz.plots function); got {_what(fig)}")
    if not isinstance(path, (str, os.PathLike)):
        raise OptionError(f"viz.plots.save: argument 'path' must be a file path; got {_what(path)}")
    out = Path(path)
    fmt = (format or out.suffix.lstrip(".") or "svg").lower()
    if fmt not in FORMATS:
        raise OptionError(f"viz.plots.save: format {fmt!r} (for {os.fspath(path)!r}); expected "
                          f"one of {', '.join(FORMATS)}")
    dpi = int(number("viz.plots.save", "dpi", dpi, positive=True))
    if not out.suffix:  # as viz.render: a given extension is kept
        out = out.with_suffix(f".{fmt}")
    # SVG: no date; PNG: Agg writes no time of its own, only the matplotlib version
    meta = {"Date": None} if fmt == "svg" else {}
    try:
        with mpl.rc_context(STYLE):
            fig.savefig(out, format=fmt, dpi=dpi, metadata=meta)
    except OSError as exc:
        raise RenderError(f"viz.plots.save: cannot write {os.fspath(out)!r}: {exc}") from None
    return out
