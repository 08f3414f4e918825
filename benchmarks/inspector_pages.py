"""Inspector pages of the model zoo (viz.zoo, see benchmarks/inspector_zoo.py): size, time to
write, and time to first paint and to a working page in headless Chromium, opened from file://.

    python -m benchmarks.inspector_pages              # every model, a markdown table
    python -m benchmarks.inspector_pages lstm_char elman   # some of them
    python -m benchmarks.inspector_pages --keep out   # and keep the pages in out/

"first paint" is the browser's first-contentful-paint, "ready" our script's ``tri-ready`` mark
(the page mounted: views indexed, the first one fitted, clicks answered); both in ms from
navigation start, median of 5 loads. Needs chromium, chromedriver and Selenium.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import viz
from benchmarks import inspector_zoo as zoo

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,900")
PAINT = """var p = performance.getEntriesByName('first-contentful-paint')[0];
var r = performance.getEntriesByName('tri-ready')[0];
return [p ? p.startTime : null, r ? r.startTime : null];"""


def browser(profile: str):
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium") or shutil.which("google-chrome")
    return webdriver.Chrome(service=webdriver.ChromeService(shutil.which("chromedriver")),
                            options=opts)


def measure(driver, path: Path, loads: int = 5) -> tuple:
    """(first paint, ready) in ms, medians over ``loads`` loads."""
    paints, ready = [], []
    for _ in range(loads):
        driver.get(path.as_uri())
        time.sleep(0.2)
        p, r = driver.execute_script(PAINT)
        paints.append(p)
        ready.append(r)
    return statistics.median(paints), statistics.median(ready)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.inspector_pages")
    ap.add_argument("models", nargs="*", default=list(zoo.ZOO))
    ap.add_argument("--keep", default=None, help="folder to keep the pages in")
    args = ap.parse_args(argv)
    out = Path(args.keep or tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(profile)
        try:
            for name in args.models:
                graph = zoo.ZOO[name]()
                t0 = time.perf_counter()
                ins = viz.inspect(graph, title=name)
                path = ins.save(out / f"{name}.html")
                write = time.perf_counter() - t0
                paint, ready = measure(driver, path)
                rows.append((name, len(graph.nodes), path.stat().st_size / 1e6, write, paint,
                             ready, len(ins.notes)))
                print(f"{name}: done", file=sys.stderr, flush=True)
        finally:
            driver.quit()
    print("| model | nodes | page (MB) | viz.inspect (s) | first paint (ms) | ready (ms) | notes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, mb, write, paint, ready, notes in rows:
        print(f"| {name} | {n} | {mb:.2f} | {write:.1f} | {paint:.0f} | {ready:.0f} | {notes} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
