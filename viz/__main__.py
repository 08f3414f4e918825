"""Command line: ``python -m viz GRAPH.json -o out.svg --view folded``.

The output format comes from the extension of ``-o`` (svg, png or pdf); ``.dot`` writes the DOT
source without rendering.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from viz import VIEWS, VizError, draw, render


def main(argv=None) -> int:
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
    out = Path(args.output)
    try:
        dg = draw(args.graph, view=args.view, **opts)
        if out.suffix.lower() == ".dot":
            out.write_text(dg.source, encoding="utf-8")
        else:
            out = render(dg, out)
    except VizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
