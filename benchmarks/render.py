"""Picture of a long unroll: a T-step LSTM traced into a ``tr.Graph`` (every gate a node),
drawn by ``viz.draw(view="unrolled")`` and rendered to SVG by ``viz.render``.

The default (fused) layer is traced by rerunning its composite cells (``tr.trace`` opens the
fused call), so it is compared with tracing and drawing the same layer built with
``fused=False``, which records the composite graph while training: ratio = default / composite.
Both sides time ``viz.draw(tr.trace(loss), view="unrolled")``: the trace (the rerun, for the
default layer; a summary per value and gradient; the Graph) and the drawing up to the
``graphviz.Digraph`` (its DOT text; no renderer runs). ``python -m benchmarks.render`` prints
the rows and where the time goes (:func:`phases`); numbers are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr
from benchmarks.report import Row, at_most, skipped
from benchmarks.timing import interleave, median_time


def _viz():
    """The viz package if it can be imported and has ``draw``, else None."""
    try:
        viz = importlib.import_module("viz")
    except ImportError:
        return None
    return viz if callable(getattr(viz, "draw", None)) else None


def _lstm_loss(V: int, H: int, T: int, fused: bool = False) -> tr.Tensor:
    ids = np.random.default_rng(0).integers(0, V, T + 1)
    lstm, head = tr.nn.LSTM(V, H, fused=fused, rng=0), tr.nn.Linear(H, V, rng=1)
    out, _ = lstm(np.eye(V)[ids[:-1]])
    loss = tr.F.cross_entropy(head(out), ids[1:])
    loss.backward(retain_grads=True)  # so the picture can show gradients
    return loss


def render_rows(V: int, H: int, T: int, repeat: int) -> list[Row]:
    group = f"pictures (LSTM, T={T})"
    viz = _viz()
    if viz is None:
        return [skipped(group, "render unrolled LSTM", "viz cannot be imported or has no draw")]
    loss, fast = _lstm_loss(V, H, T), _lstm_loss(V, H, T, fused=True)
    graph = tr.trace(loss)
    t = interleave({"composite": lambda: viz.draw(tr.trace(loss), view="unrolled"),
                    "default": lambda: viz.draw(tr.trace(fast), view="unrolled")},
                   repeat, 1, warmup=1, before=gc.collect)
    t_trace = median_time(lambda: tr.trace(loss), repeat)
    t_draw = median_time(lambda: viz.draw(graph, view="unrolled"), repeat)
    digraph = viz.draw(graph, view="unrolled")
    note = f"{len(graph.nodes)} graph nodes; V={V} H={H}, composite cells"
    rows = [Row(group, "tr.trace(loss)", "—", "default", "float64", "ms", t_trace * 1e3,
                note=note),
            Row(group, "viz.draw(view='unrolled')", "—", "default", "float64", "ms",
                t_draw * 1e3, note="middle steps collapsed (default)"),
            Row(group, "trace + draw, default (fused) layer", "same with fused=False",
                "default", "float64", "ms", t.ms("default"), t.ms("composite"),
                t.ratio("default", "composite"), at_most(1.0),
                note="the fused call is reopened by rerunning its composite cells")]
    renderers = viz.find_renderers()
    if not renderers:
        return rows + [skipped(group, "viz.render to SVG", "no Graphviz renderer found")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lstm.svg"
        t_render = median_time(lambda: viz.render(digraph, out), repeat)
    rows.append(Row(group, "viz.render(svg)", "—", "default", "float64", "ms", t_render * 1e3,
                    note=f"renderer: {Path(str(renderers[0])).name}"))
    return rows


def phases(V: int, H: int, T: int, rounds: int) -> dict:
    """Median ms of each part of trace + draw, parts interleaved round by round: the rerun's
    composite forward and its backward (what the default layer adds), the composite and the
    default trace, and the drawing. The collector is collected before each part and left on."""
    from tinygrad_rnn.expansion import open_calls
    from tinygrad_rnn.tracing import _post_order

    viz = _viz()
    loss, fast = _lstm_loss(V, H, T), _lstm_loss(V, H, T, fused=True)
    graph, fused_order = tr.trace(fast), _post_order([fast])
    opened = []

    parts = {"rerun forward": lambda: opened.append(open_calls(fused_order, grads=False)),
             "rerun backward": lambda: opened.pop().backprop(),
             "trace, composite": lambda: tr.trace(loss),
             "trace, default": lambda: tr.trace(fast)}
    if viz is not None:
        parts["draw (unrolled)"] = lambda: viz.draw(graph, view="unrolled")
    out: dict = {k: [] for k in parts}
    for r in range(rounds + 1):  # round 0 warms up
        for name, fn in parts.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            if r:
                out[name].append((time.perf_counter() - t0) * 1e3)
    return {k: statistics.median(v) for k, v in out.items()}


def main(argv=None) -> None:
    from benchmarks.report import markdown

    ap = argparse.ArgumentParser(description="trace + draw of a long LSTM unroll")
    ap.add_argument("--T", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    print(markdown(render_rows(65, 100, args.T, args.rounds), [f"T={args.T}"]))
    for name, ms in phases(65, 100, args.T, args.rounds).items():
        print(f"{name:>18}: {ms:7.1f} ms")


if __name__ == "__main__":
    main()
