"""Charts a teacher can put on a slide: the gradient-flow numbers of ``tr.analysis`` and the
training curves of the examples, drawn with matplotlib (the optional ``plot`` extra:
``pip install "tinygrad-rnn[plot]"``).

Every function takes plain numbers (a dict label -> sequence, or label -> {x: y}) and returns a
``matplotlib.figure.Figure``; :func:`save` writes it as SVG (byte-identical run to run) or PNG.

>>> fig = viz.plots.gradient_norms({"RNN": tr.analysis.step_grad_norms(g_rnn),
...                                  "LSTM": tr.analysis.step_grad_norms(g_lstm)})
>>> viz.plots.save(fig, "gradients.svg")                                # doctest: +SKIP

* :func:`gradient_norms` — ||dL/dh^(t)|| over t on a log axis, one line per model;
* :func:`jacobian_decay` — ||dh^(t)/dh^(k)|| against t - k with the line rho^(t-k);
* :func:`truncation_cost` — TBPTT's gradient vs full BPTT's against the window k;
* :func:`training_curves` — loss (or any number) per step / epoch, training and validation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from viz._errors import OptionError
from viz._plotting import available, line_style, new_axes, number, save, series, styled, text

__all__ = ["gradient_norms", "jacobian_decay", "truncation_cost", "training_curves", "save",
           "available"]

H_T = r"$\|\partial L / \partial h^{(t)}\|$"


def gradient_norms(norms, *, title: str | None = "Gradient reaching each step",
                   ylabel: str = H_T, xlabel: str = "time step $t$", dashed=()):
    """||dL/dh^(t)|| (or any per-step norm) against t on a log axis, one line per model.

    norms: dict label -> per-step norms, a sequence (t = 0, 1, ...) or ``{t: norm}`` as
        returned by ``tr.analysis.step_grad_norms(graph, "h")``; e.g.
        ``{"RNN": ..., "GRU": ..., "LSTM": ..., "LSTM, forget bias 3": ...}``.
    dashed: labels drawn dashed (e.g. the cell state c^(t) next to h^(t)).
    Zero or non-finite norms leave a gap (a log axis has no 0). Returns a Figure.
    """
    func = "viz.plots.gradient_norms"
    lines = series(func, "norms", norms, log=True)
    dashed = _labels(func, "dashed", dashed)
    fig, ax = new_axes(func, text(func, "title", title), text(func, "xlabel", xlabel),
                       text(func, "ylabel", ylabel), logy=True)
    with styled(func):
        for k, (label, xs, ys) in enumerate(lines):
            style = line_style(k)
            if label in dashed:
                style["linestyle"] = "--"
            ax.plot(xs, ys, label=label, **style)
        _integer_ticks(ax)
        ax.legend(loc="best")
    return fig


def jacobian_decay(norms, rho=None, *, mark: int | None = 10,
                   title: str | None = r"$\|\partial h^{(t)} / \partial h^{(k)}\|$: measured "
                                       r"(markers) and $\rho^{\,t-k}$ (lines)"):
    """||dh^(t)/dh^(k)|| against the distance t - k on a log axis, each with its line rho^(t-k).

    norms: dict label -> norms indexed by d = t - k (a sequence from d = 0, or ``{d: norm}``);
        from ``J = tr.analysis.jacobian_norms(hs)``, the row ``J[t, t::-1]`` is one such sequence.
    rho: dict label -> rho for the reference line rho^d; by default the labels themselves when
        they are numbers (``{0.3: ..., 1.7: ...}``). ``mark``: the distance at which rho^d is
        written out (the seeds' 0.3^10 = 5.9e-06 vs 1.7^10 = 201.6); None for no labels.
    Measured norms are markers, rho^d a line through them: a linear RNN with an orthogonal W
    scaled by rho puts every marker on its line.
    """
    func = "viz.plots.jacobian_decay"
    lines = series(func, "norms", norms, log=True)
    rho = _rhos(func, norms, rho)
    mark = None if mark is None else int(number(func, "mark", mark))
    fig, ax = new_axes(func, text(func, "title", title), r"distance $t-k$ (steps back)",
                       r"$\|\partial h^{(t)} / \partial h^{(k)}\|$", logy=True)
    with styled(func):
        ax.axhline(1.0, color="#888888", linewidth=1.0, linestyle=":", zorder=1)
        handles, names = [], []
        for k, (label, xs, ys) in enumerate(lines):
            style = line_style(k)
            dots = ax.plot(xs, ys, color=style["color"], marker=style["marker"], linestyle="none",
                           markersize=7, zorder=3)[0]
            r = rho.get(label)
            if r is None:
                handles.append(dots)
                names.append(label)
                continue
            d = np.linspace(0.0, max(float(np.nanmax(xs)), 1.0), 200)
            line = ax.plot(d, _power(r, d), color=style["color"], linewidth=1.6, zorder=2)[0]
            handles.append((dots, line))
            names.append(rf"$\rho$ = {r:g}")
            _mark(ax, r, mark, xs, style["color"])
        ax.margins(y=0.1)  # room for the labels at the ends
        _integer_ticks(ax)
        ax.legend(handles, names, loc="best", handler_map={tuple: _tuple_handler()})
    return fig


def _mark(ax, r: float, mark, xs, color) -> None:
    """Write rho^mark next to the line (the seeds' 0.3^10 and 1.7^10), left of the point."""
    at = float(_power(r, mark)) if mark is not None and r != 1 else np.nan
    if not (np.isfinite(at) and xs.min() <= mark <= xs.max()):
        return
    value = f"{at:.4g}" if 1e-2 <= at < 1e5 else _sci(at)
    ax.annotate(rf"${r:g}^{{{mark}}} \approx {value}$", (mark, at),
                xytext=(-10, 8 if r > 1 else -8),
                textcoords="offset points", ha="right", va="bottom" if r > 1 else "top",
                color=color)


def _sci(x: float) -> str:
    """5.9e-06 as mathtext 5.9 \\times 10^{-6}."""
    mant, exp = f"{x:.1e}".split("e")
    return rf"{mant} \times 10^{{{int(exp)}}}"


def _tuple_handler():
    from matplotlib.legend_handler import HandlerTuple

    return HandlerTuple(ndivide=None)


def truncation_cost(costs, *, title: str | None = "What truncating BPTT costs",
                    ylabel: str = "truncated vs full gradient", xlabel: str = "window $k$"):
    """TBPTT's gradient compared with full BPTT's against the truncation window k.

    costs: dict label -> ``{k: value}`` (or a sequence for k = 1, 2, ...), e.g. from
        ``tr.truncation_cost(..., k1=k, k2=k)[name]``: ``{"cosine, W_hh": {1: 0.41, 2: 0.83},
        "norm ratio, W_hh": {...}}``. A dotted line at 1 marks "as good as full BPTT".
    """
    func = "viz.plots.truncation_cost"
    lines = series(func, "costs", costs, start=1)
    fig, ax = new_axes(func, text(func, "title", title), text(func, "xlabel", xlabel),
                       text(func, "ylabel", ylabel), logy=False)
    with styled(func):
        ax.axhline(1.0, color="#888888", linewidth=1.0, linestyle=":", zorder=1,
                   label="full BPTT")
        for k, (label, xs, ys) in enumerate(lines):
            ax.plot(xs, ys, label=label, **line_style(k))
        ks = sorted({float(x) for _, xs, _ in lines for x in xs})
        if len(ks) <= 12:
            ax.set_xticks(ks, [f"{x:g}" for x in ks])
        if ks and ks[0] > 0 and ks[-1] / ks[0] >= 8:
            ax.set_xscale("log", base=2)  # windows 1, 2, 4, 8, ... spaced evenly
            ax.set_xticks(ks, [f"{x:g}" for x in ks])
            ax.minorticks_off()
        ax.legend(loc="best")
    return fig


def training_curves(curves, *, title: str | None = "Training", ylabel: str = "loss",
                    xlabel: str = "training step", logy: bool = False, smooth: int = 0):
    """Curves such as the training and validation loss, one line per entry of ``curves``.

    curves: dict label -> per-step values (a sequence for x = 1, 2, ...) or ``{x: y}`` for
        values taken now and then (validation every 100 steps: ``{100: 2.1, 200: 1.9}``).
    smooth: a moving-average window; > 1 draws each long noisy sequence faintly and its
        average on top. logy: a log y axis (e.g. gradient norms that explode).
    """
    func = "viz.plots.training_curves"
    lines = series(func, "curves", curves, start=1, log=bool(logy))
    window = int(number(func, "smooth", smooth))
    fig, ax = new_axes(func, text(func, "title", title), text(func, "xlabel", xlabel),
                       text(func, "ylabel", ylabel), logy=bool(logy))
    with styled(func):
        for k, (label, xs, ys) in enumerate(lines):
            style = line_style(k)
            sparse = len(xs) <= 30  # few points: show each one
            if window > 1 and len(ys) > 2 * window:
                ax.plot(xs, ys, color=style["color"], linewidth=0.8, alpha=0.3)
                ys = _moving_average(ys, window)
                label = f"{label} (mean of {window})"
            ax.plot(xs, ys, label=label, color=style["color"], linestyle=style["linestyle"],
                    marker=style["marker"] if sparse else None)
        ax.legend(loc="best")
    return fig


def _power(r: float, d):
    """r ** d with overflow and underflow as gaps, not warnings (the axis is logarithmic)."""
    with np.errstate(over="ignore", under="ignore"):
        p = np.power(r, np.asarray(d, dtype=float))
    return np.where(np.isfinite(p) & (p > 0), p, np.nan)


def _moving_average(ys: np.ndarray, window: int) -> np.ndarray:
    """Centred mean of the finite values in each window (fewer at the ends), so the smooth
    line does not lag behind the data; gaps stay gaps."""
    ok = np.isfinite(ys)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, ys, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(len(ys))
    lo = np.clip(idx - window // 2, 0, len(ys))
    hi = np.clip(idx - window // 2 + window, 0, len(ys))
    c = counts[hi] - counts[lo]
    return np.where(ok & (c > 0), (sums[hi] - sums[lo]) / np.maximum(c, 1), np.nan)


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _labels(func: str, arg: str, labels) -> set:
    if isinstance(labels, str):
        labels = (labels,)
    try:
        return {str(x) for x in labels}
    except TypeError:
        raise OptionError(f"{func}: argument '{arg}' must be a list of labels; got "
                          f"{type(labels).__name__}") from None


def _rhos(func: str, norms: Mapping, rho) -> dict:
    if rho is None:
        rho = {k: k for k in norms if isinstance(k, (int, float)) and not isinstance(k, bool)}
    if not isinstance(rho, Mapping):
        raise OptionError(f"{func}: argument 'rho' must be a dict label -> rho; got "
                          f"{type(rho).__name__}")
    return {str(k): number(func, f"rho[{k!r}]", v, positive=True) for k, v in rho.items()}


def _rho_label(label: str, rho: dict) -> str:
    return rf"$\rho$ = {rho[label]:g}" if label in rho else label
