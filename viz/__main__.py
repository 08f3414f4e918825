"""Command line: ``python -m viz GRAPH.json -o out.svg --view folded``.

The output format comes from the extension of ``-o`` (svg, png or pdf); ``.dot`` writes the DOT
source without rendering. Teaching: ``python -m viz replay GRAPH.json FOLDER`` (a picture per
backward step and index.html) and ``python -m viz exercise GRAPH.json -o ex.svg --blank 3``
(the worksheet is printed). Both need a graph saved after ``backward(retain_grads=True)``.
Explore: ``python -m viz inspect GRAPH.json -o page.html`` (one offline page: pan, zoom,
click a node for its value, gradient and rule, step through backward).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from viz import VIEWS, VizError, draw, exercise, inspect, render, replay


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("replay", "exercise"):
        return _teach(argv)
    if argv and argv[0] == "inspect":
        return _inspect(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m viz", description="Draw a saved tinygrad_rnn "
                                 "graph (the JSON of Graph.to_json()).")
    ap.add_argument("graph", help="graph JSON file")
    ap.add_argument("-o", "--output", required=True, help="output file: .svg, .png, .pdf or .dot")
    ap.add_argument("--view", default="unrolled", choices=sorted(VIEWS))
    ap.add_argument("--keep-ends", type=int, default=None,
                    help="unrolled/backward: steps kept at each end (default 2)")
    ap.add_argument("--collapse", choices=["cell"], default=None, help="one node per cell")
    ap.add_argument("--highlight", default=None, help="backward: node name or site to highlight")
    ap.add_argument("--max-nodes", type=int, default=None,
                    help="summarise pictures with more nodes than this (default 500)")
    ap.add_argument("--title", default=None)
    args = ap.parse_args(argv)
    opts = {"title": args.title}
    if args.max_nodes is not None:
        opts["max_nodes"] = args.max_nodes
    if args.keep_ends is not None:
        opts["keep_ends"] = args.keep_ends
    if args.collapse:
        opts["collapse"] = args.collapse
    if args.highlight is not None:
        opts["highlight"] = int(args.highlight) if args.highlight.isdigit() else args.highlight
    return _run(lambda: _draw_to(args, opts))


def _draw_to(args, opts: dict):
    out = Path(args.output)
    dg = draw(args.graph, view=args.view, **opts)
    if out.suffix.lower() == ".dot":
        out.write_text(dg.source, encoding="utf-8")
        return out
    return render(dg, out)


def _run(work) -> int:
    """Exit status of a command: print what ``work()`` wrote, or the error a user can act on."""
    try:
        out = work()
    except VizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


def _teach(argv: list) -> int:
    ap = argparse.ArgumentParser(prog=f"python -m viz {argv[0]}")
    ap.add_argument("graph", help="graph JSON file (saved after backward(retain_grads=True))")
    if argv[0] == "replay":
        ap.add_argument("folder", help="folder for the frames and index.html")
        ap.add_argument("--format", default="svg", choices=["svg", "png"])
        ap.add_argument("--max-frames", type=int, default=200)
    else:
        ap.add_argument("-o", "--output", required=True, help="picture: .svg, .png or .pdf")
        ap.add_argument("--blank", default="all",
                        help="'all', a count, or comma-separated node names/ids")
        ap.add_argument("--seed", type=int, default=None)
        ap.add_argument("--answers", action="store_true", help="print the answer key too")
    args = ap.parse_args(argv[1:])
    if argv[0] == "replay":
        return _run(lambda: replay(args.graph, args.folder, args.format,
                                   max_frames=args.max_frames)[-1])
    return _run(lambda: _exercise(args))


def _exercise(args):
    ex = exercise(args.graph, _blank_arg(args.blank), args.seed)
    out = ex.render(args.output)
    print(ex.worksheet(answers=args.answers))
    return out


def _inspect(argv: list) -> int:
    ap = argparse.ArgumentParser(prog="python -m viz inspect", description="Write one offline "
                                 "HTML page to explore a saved graph (best saved after "
                                 "backward(retain_grads=True)).")
    ap.add_argument("graph", help="graph JSON file")
    ap.add_argument("-o", "--output", required=True, help="the page: .html")
    ap.add_argument("--view", default="unrolled", choices=["unrolled", "folded", "backward",
                                                           "tree"], help="the tab shown first")
    ap.add_argument("--keep-ends", type=int, default=None,
                    help="unrolled/backward: steps kept at each end (default 2)")
    ap.add_argument("--collapse", choices=["cell"], default=None, help="one node per cell")
    ap.add_argument("--max-frames", type=int, default=300, help="backward steps replayed")
    ap.add_argument("--title", default=None)
    args = ap.parse_args(argv)
    opts = {k: v for k, v in (("keep_ends", args.keep_ends), ("collapse", args.collapse))
            if v is not None}
    return _run(lambda: inspect(args.graph, view=args.view, title=args.title,
                                max_frames=args.max_frames, **opts).save(args.output))


def _blank_arg(text: str):
    if text == "all" or text.isdigit():
        return "all" if text == "all" else int(text)
    return [int(x) if x.isdigit() else x for x in text.split(",") if x]


if __name__ == "__main__":
    sys.exit(main())
