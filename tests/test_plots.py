"""viz.plots: the charts carry exactly the numbers given, on the axes promised, write the same
SVG bytes every run, and say how to install matplotlib when it is missing."""

from __future__ import annotations

import builtins
import subprocess
import sys
import warnings

import numpy as np
import pytest

import viz
from viz import plots

needs_mpl = pytest.mark.skipif(not plots.available(), reason="matplotlib (the plot extra) missing")
NORMS = {"RNN": [1e-8, 1e-5, 1e-2, 1.0], "LSTM": {0: 0.1, 2: 0.4, 1: 0.2, 3: 1.0}}


def test_import_viz_does_not_import_matplotlib():
    code = "import viz, sys; print('matplotlib' in sys.modules, 'viz.plots' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]  # viz.plots is there, matplotlib is not


def test_missing_matplotlib_names_the_function_and_the_extra(monkeypatch):
    real = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert not plots.available()
    calls = {"gradient_norms": lambda: plots.gradient_norms(NORMS),
             "jacobian_decay": lambda: plots.jacobian_decay({0.3: [1, 0.3]}),
             "truncation_cost": lambda: plots.truncation_cost({"cos": {1: 0.5}}),
             "training_curves": lambda: plots.training_curves({"train": [3, 2, 1]}),
             "save": lambda: plots.save(object(), "x.svg")}
    for name, call in calls.items():
        with pytest.raises(viz.MatplotlibNotFoundError) as info:
            call()
        msg = str(info.value)
        assert f"viz.plots.{name}" in msg and 'pip install "tinygrad-rnn[plot]"' in msg, msg
        assert isinstance(info.value, ImportError)


def test_the_tour_goes_on_without_charts_and_says_so_once(monkeypatch, tmp_path):
    from viz.tour.page import Chapter
    from viz.tour.runner import Tour

    def missing(*args, **kwargs):
        raise viz.MatplotlibNotFoundError('viz.plots.x draws with matplotlib, which is not '
                                          'installed; pip install "tinygrad-rnn[plot]"')
    lines = []
    tour, ch = Tour(str(tmp_path), tiny=True, log=lambda *a, **k: lines.append(a[0])), \
        Chapter("c", "title", "seed")
    for name in ("one", "two"):
        tour.chart(ch, name, "caption", missing, {"a": [1.0]})
    assert ch.figures == [] and len(lines) == 1 and "tinygrad-rnn[plot]" in lines[0]
    if plots.available():
        tour.chart(ch, "three", "a caption", plots.gradient_norms, NORMS)
        assert ch.figures == [("img/c_three.svg", "a caption")]
        assert (tmp_path / "img" / "c_three.svg").stat().st_size > 5000


def _lines(fig):
    return [(line.get_label(), np.asarray(line.get_xdata(), float),
             np.asarray(line.get_ydata(), float)) for line in fig.axes[0].lines]


@needs_mpl
def test_gradient_norms_plots_the_numbers_given_on_a_log_axis():
    fig = plots.gradient_norms({**NORMS, "GRU": [0.0, np.nan, 0.5, 2.0]}, dashed=["LSTM"])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    got = {label: (x, y) for label, x, y in _lines(fig)}
    np.testing.assert_array_equal(got["RNN"][0], [0, 1, 2, 3])
    np.testing.assert_array_equal(got["RNN"][1], NORMS["RNN"])
    np.testing.assert_array_equal(got["LSTM"][1], [0.1, 0.2, 0.4, 1.0])  # dict: sorted by t
    # a zero or NaN norm is a gap, not a point at the bottom of the axis
    np.testing.assert_array_equal(np.isnan(got["GRU"][1]), [True, True, False, False])
    styles = {line.get_label(): line.get_linestyle() for line in ax.lines}
    assert styles["LSTM"] == "--" and styles["RNN"] == "-"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RNN", "LSTM", "GRU"]
    fig.canvas.draw()  # tick labels: 10⁻⁸ as plain text (the mathtext parser is slow)
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "10⁻⁸" in ticks and "10⁰" in ticks and not any("$" in t for t in ticks), ticks


@needs_mpl
def test_jacobian_decay_draws_rho_to_the_distance_and_the_seeds_numbers():
    measured = {0.3: 0.3 ** np.arange(11), 1.7: 1.7 ** np.arange(11)}
    fig = plots.jacobian_decay(measured)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lines = _lines(fig)
    dots = [(x, y) for label, x, y in lines if len(x) == 11]
    refs = [(x, y) for label, x, y in lines if len(x) == 200]
    assert len(dots) == 2 and len(refs) == 2
    np.testing.assert_allclose(dots[0][1], measured[0.3])
    for (x, y), rho in zip(refs, (0.3, 1.7)):
        np.testing.assert_allclose(y, rho ** x)
    notes = [t.get_text() for t in ax.texts]
    assert any("0.3^{10}" in n and "5.9" in n for n in notes), notes
    assert any("1.7^{10}" in n and "201.6" in n for n in notes), notes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [r"$\rho$ = 0.3", r"$\rho$ = 1.7"]
    # an explicit rho for text labels; overflow of rho^d is a gap, not a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.jacobian_decay({"big": [1.0, 1e200, 1e300]}, rho={"big": 1e200}, mark=2)
    ref = [y for _, x, y in _lines(fig) if len(x) == 200][0]
    assert np.isnan(ref[-1]) and ref[0] == 1.0


@needs_mpl
def test_truncation_cost_and_training_curves_carry_their_numbers():
    fig = plots.truncation_cost({"cosine": {1: 0.2, 2: 0.6, 4: 0.95, 8: 0.99}})
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear" and ax.get_xscale() == "log"  # k = 1, 2, 4, 8 evenly
    (_, xs, ys), = [(la, x, y) for la, x, y in _lines(fig) if la == "cosine"]
    np.testing.assert_array_equal(xs, [1, 2, 4, 8])
    np.testing.assert_array_equal(ys, [0.2, 0.6, 0.95, 0.99])
    assert ax.get_ylim()[0] < 0.2 and ax.get_ylim()[1] > 1.0  # the "full BPTT" line shows

    train = np.linspace(3.0, 1.0, 100)
    fig = plots.training_curves({"training": train, "validation": {50: 2.5, 100: 1.5}},
                                smooth=11)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    lines = _lines(fig)
    np.testing.assert_array_equal(lines[0][1], np.arange(1, 101))  # steps count from 1
    np.testing.assert_array_equal(lines[0][2], train)  # the raw curve, faint
    assert lines[1][0] == "training (mean of 11)"
    np.testing.assert_allclose(lines[1][2][10:90], train[10:90], atol=1e-12)  # centred: no lag
    np.testing.assert_array_equal(lines[2][1], [50, 100])
    np.testing.assert_array_equal(lines[2][2], [2.5, 1.5])
    fig = plots.training_curves({"||g||": [1.0, 1e3, 1e9]}, logy=True)
    assert fig.axes[0].get_yscale() == "log"


@needs_mpl
def test_svg_is_byte_identical_run_to_run_and_png_is_a_picture(tmp_path):
    def draw(name):
        fig = plots.jacobian_decay({0.3: 0.3 ** np.arange(11), 1.7: 1.7 ** np.arange(11)})
        return plots.save(fig, tmp_path / name)

    a, b = draw("a.svg"), draw("b")
    assert b.suffix == ".svg"  # no extension: SVG
    assert a.read_bytes() == b.read_bytes()
    svg = a.read_text(encoding="utf-8")
    assert "<svg" in svg[:400] and "<dc:date>" not in svg
    png = plots.save(plots.gradient_norms(NORMS), tmp_path / "g.png")
    from matplotlib.image import imread  # Pillow comes with matplotlib

    img = imread(png)
    assert img.shape[:2] == (660, 1125)  # 7.5 x 4.4 inches at 150 dpi
    assert len(np.unique(img.reshape(-1, img.shape[2]), axis=0)) > 20  # lines, text, colours


@needs_mpl
def test_bad_arguments_raise_option_errors(tmp_path):
    bad = [lambda: plots.gradient_norms([1, 2]), lambda: plots.gradient_norms({}),
           lambda: plots.gradient_norms({"a": "abc"}), lambda: plots.gradient_norms({"a": []}),
           lambda: plots.gradient_norms({"a": [[1, 2]]}), lambda: plots.gradient_norms({"a": 3}),
           lambda: plots.gradient_norms({"a": [0, -1, np.nan]}),  # nothing on a log axis
           lambda: plots.gradient_norms({"a": {"x": 1}}),
           lambda: plots.jacobian_decay({0.3: [1]}, rho={0.3: -1}),
           lambda: plots.jacobian_decay({0.3: [1]}, mark="ten"),
           lambda: plots.training_curves({"a": [1]}, smooth=None),
           lambda: plots.training_curves({"a": [1]}, title=3),
           lambda: plots.save(plots.gradient_norms(NORMS), tmp_path / "x.pdf"),
           lambda: plots.save("not a figure", tmp_path / "x.svg")]
    for call in bad:
        with pytest.raises(viz.OptionError):
            call()
    with pytest.raises(viz.RenderError, match="cannot write"):
        plots.save(plots.gradient_norms(NORMS), tmp_path / "missing" / "x.svg")
