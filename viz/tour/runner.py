"""Runs the tour's chapters in the seeds' order and writes ``<out>/index.html``.

    python -m tinygrad_rnn tour --out tour/          # about a minute on 2 cores
    python -m tinygrad_rnn tour --out tour/ --tiny   # seconds (the test suite's size)
    python -m tinygrad_rnn tour --only bptt,tbptt    # some chapters

Every model is trained on data generated here (no downloads). Pictures go to ``<out>/img/``,
each drawn graph also as an inspector page (``viz.inspect``) beside its picture.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import tinygrad_rnn as tr
import viz
from viz._errors import MatplotlibNotFoundError, OptionError
from viz.tour import ch_practice, ch_structure, ch_time, ch_training
from viz.tour.page import Chapter, write_page

# (key, title, where in the seeds, builder): the seeds' order
CHAPTERS = [
    ("unfolding", "Unfolding a dynamical system: the Hopfield network", "seeds 000, 002",
     ch_time.unfolding),
    ("patterns", "The three RNN design patterns", "seed 001", ch_time.patterns),
    ("teacher", "Teacher forcing vs free running", "seeds 000, 001", ch_time.teacher_forcing),
    ("bptt", "Backpropagation through time: per-step copies W^(t)", "seed 000, eqs. 3-7",
     ch_time.bptt),
    ("tbptt", "Truncated BPTT(k1, k2)", "seed 004", ch_training.tbptt),
    ("clipping", "Gradient clipping", "seed 004", ch_training.clipping),
    ("vanishing", "Vanishing and exploding gradients: RNN vs LSTM vs GRU", "seeds 003, 004",
     ch_training.vanishing),
    ("bidirectional", "Bidirectional RNNs", "seed 001", ch_structure.bidirectional),
    ("seq2seq", "Encoder-decoder with beam search", "seed 001", ch_structure.seq2seq),
    ("deep", "Deep (stacked) RNNs", "seed 001", ch_structure.deep),
    ("recursive", "Recursive nets: backprop through structure on a tree", "seed 001",
     ch_structure.recursive),
    ("gates", "Inside the LSTM and GRU gates", "seeds 003, 004", ch_structure.gates),
    ("practice", "Your turn: backprop exercises and the backward pass replayed", "all seeds",
     ch_practice.practice),
]
KEYS = [c[0] for c in CHAPTERS]
# the inspector page of a picture: its view and this one as a second tab
INSPECT_TAB = {"unrolled": "backward", "backward": "unrolled", "folded": "unrolled",
               "tree": "backward"}


class Tour:
    """What a chapter builder gets: the size, an rng per use, and helpers to draw into the page."""

    def __init__(self, out: str, tiny: bool, log=print):
        self.out, self.tiny, self.log = out, tiny, log
        self.img = os.path.join(out, "img")
        self.cache: dict = {}  # models one chapter trains and a later one reuses
        self.warned_charts = False
        os.makedirs(self.img, exist_ok=True)

    def size(self, full, tiny):
        """``full`` normally, ``tiny`` in the test suite's run."""
        return tiny if self.tiny else full

    def picture(self, ch: Chapter, name: str, digraph, caption: str) -> None:
        """Render ``digraph`` to img/<chapter>_<name>.svg and add it to the chapter."""
        path = viz.render(digraph, os.path.join(self.img, f"{ch.key}_{name}.svg"),
                          missing="warn")
        ch.figures.append((os.path.relpath(path, self.out).replace(os.sep, "/"), caption))

    def chart(self, ch: Chapter, name: str, caption: str, plot, *args, **options) -> None:
        """A chart of :mod:`viz.plots` (``plot(*args, **options)``) as img/<chapter>_<name>.svg,
        beside the chapter's pictures; without matplotlib, one line in the log says how to get
        the charts and the page goes on without them."""
        try:
            fig = plot(*args, **options)
        except MatplotlibNotFoundError as exc:
            if not self.warned_charts:
                self.log(f"      no charts: {exc}", flush=True)
                self.warned_charts = True
            return
        path = viz.plots.save(fig, os.path.join(self.img, f"{ch.key}_{name}.svg"))
        ch.figures.append((os.path.relpath(path, self.out).replace(os.sep, "/"), caption))

    def view(self, ch: Chapter, name: str, graph, view: str, caption: str, **options) -> None:
        """One ``viz.draw`` view of ``graph`` as a picture of the chapter, and the same graph
        as an inspector page, img/<chapter>_<name>.html, linked under the picture."""
        self.picture(ch, name, viz.draw(graph, view=view, **options), caption)
        page = self.inspect(ch, name, graph, view, caption, options)
        if page is not None:
            ch.figures[-1] += (page,)

    def inspect(self, ch: Chapter, name: str, graph, view: str, title: str, options: dict):
        """Write ``viz.inspect(graph)`` (``view`` first, and one more tab: a page takes about
        0.3 s per tab) to img/<chapter>_<name>.html; returns its path relative to the page, or
        None without a renderer (the picture has said so)."""
        tabs = [view, INSPECT_TAB.get(view, "unrolled")]
        try:
            ins = viz.inspect(graph, view=view, views=tabs, title=title, **options)
        except viz.RendererNotFoundError:
            return None
        path = ins.save(os.path.join(self.img, f"{ch.key}_{name}.html"))
        return os.path.relpath(path, self.out).replace(os.sep, "/")


def run_tour(out: str = "tour", tiny: bool = False, only=None, log=print) -> str:
    """Build every chapter (or those in ``only``), write the page; returns index.html's path."""
    keys = KEYS if only is None else list(only)
    unknown = [k for k in keys if k not in KEYS]
    if unknown:
        raise OptionError(f"tour: unknown chapter(s) {', '.join(unknown)}; expected some of "
                          f"{', '.join(KEYS)}")
    tour = Tour(out, tiny, log)
    chapters, start = [], time.perf_counter()
    todo = [c for c in CHAPTERS if c[0] in keys]
    dtype = tr.get_default_dtype()
    for n, (key, title, seeds, build) in enumerate(todo, 1):
        log(f"[{n}/{len(todo)}] {title} ...", flush=True)
        ch, t0 = Chapter(key, title, seeds), time.perf_counter()
        try:
            # the tour's models are small: a multi-threaded BLAS on a busy machine made one
            # chapter 3x slower than with one thread (README, Speed)
            with tr.blas_threads(1):
                build(tour, ch)
        finally:
            tr.set_default_dtype(dtype)  # a chapter never leaks a global setting
        ch.seconds = time.perf_counter() - t0
        log(f"      {ch.seconds:.1f} s, {len(ch.figures)} pictures", flush=True)
        chapters.append(ch)
    total = time.perf_counter() - start
    size = "tiny" if tiny else "full"
    path = write_page(out, chapters,
                      "Every concept of the lecture notes, trained on generated data, checked "
                      "against the tape, and drawn from the recorded graph.",
                      f"tinygrad_rnn {tr.__version__}, size {size}, built in {total:.0f} s. "
                      "Regenerate with: python -m tinygrad_rnn tour")
    log(f"wrote {path} ({sum(len(c.figures) for c in chapters)} pictures, {total:.0f} s)")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tinygrad_rnn tour",
                                 description="Train, check and draw every concept of the RNN "
                                             "course into a static page.")
    ap.add_argument("--out", default="tour", help="folder for index.html and img/ (default tour)")
    ap.add_argument("--tiny", action="store_true", help="smallest sizes (seconds; for tests)")
    ap.add_argument("--only", default=None,
                    help=f"comma-separated chapters, from: {','.join(KEYS)}")
    args = ap.parse_args(argv)
    only = None if args.only is None else [k.strip() for k in args.only.split(",") if k.strip()]
    try:
        path = run_tour(args.out, tiny=args.tiny, only=only)
    except OptionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"open {path} in a browser")
    return 0
