"""The zoo's pictures (viz.zoo: real-sized models in every view that applies), measured: node
count, the smallest text in px when the SVG is fit to a 1600 x 1200 screen, and the layout
time and stderr of each renderer. Prints a table; ``--json PATH`` also saves the rows.

    python -m benchmarks.viz_zoo                 # every model, view and renderer
    python -m benchmarks.viz_zoo --only elman    # one model
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import viz
from tests.svgtext import smallest_text_px
from viz import _render, zoo


def _renderers() -> dict:
    return {Path(p).name: p for p in viz.find_renderers()}


def measure(dg, exe: str, out: Path, args=()) -> dict:
    """Run one renderer on ``dg`` as a user would: exit code, stderr, seconds, smallest text."""
    t0 = time.perf_counter()
    proc = subprocess.run([exe, "-Tsvg", *_render.quiet(exe), *args, "-o", str(out)],
                          input=dg.source.encode(),
                          capture_output=True, timeout=600, check=False)
    seconds = time.perf_counter() - t0
    err = proc.stderr.decode("utf-8", "replace").strip()
    px = smallest_text_px(out) if proc.returncode == 0 and out.exists() else None
    return {"rc": proc.returncode, "stderr": err[:300], "seconds": round(seconds, 2),
            "smallest_px": None if px is None else round(px, 1)}


def node_count(source: str) -> int:
    """Drawn nodes: node statements with a visible shape (not invisible layout points)."""
    lines = re.findall(r"^\t+[A-Za-z_][A-Za-z0-9_]* \[(.*)\]$", source, flags=re.M)
    return sum(1 for a in lines if "style=invis" not in a)


def rows(only=None, fused=(False,), args=(), keep=None) -> list:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = keep or tmp
        for name, (_, views) in zoo.ZOO.items():
            if only and name not in only:
                continue
            for flag in fused:
                g = zoo.build(name, fused=flag)
                for view in views:
                    dg = viz.draw(g, view=view)
                    row = {"model": name, "fused": flag, "view": view,
                           "nodes": node_count(dg.source)}
                    for rname, exe in _renderers().items():
                        row[rname] = measure(dg, exe, Path(tmp) / f"{name}_{view}_{rname}.svg",
                                             args)
                    out.append(row)
                    print(_line(row), flush=True)
    return out


def _line(row: dict) -> str:
    cells = [f"{row['model']:<18} {row['view']:<9} fused={row['fused']!s:<5} "
             f"{row['nodes']:>4} nodes"]
    for rname in _renderers():
        m = row.get(rname)
        if m is None:
            continue
        px = "fail" if m["smallest_px"] is None else f"{m['smallest_px']:.1f} px"
        warn = " (stderr)" if m["stderr"] else ""
        cells.append(f"{rname}: {px}, {m['seconds']:.2f} s{warn}")
    return " | ".join(cells)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.viz_zoo")
    ap.add_argument("--only", default=None, help="comma-separated zoo models")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    ap.add_argument("--keep", default=None, help="keep the SVGs in this folder")
    args = ap.parse_args(argv)
    only = None if args.only is None else set(args.only.split(","))
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    result = rows(only, keep=args.keep)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
