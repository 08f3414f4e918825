"""The tour (python -m tinygrad_rnn tour): runs at its smallest size, the page references only files
that exist, every chapter has numbers and pictures, and a headless browser loads it whole."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import viz
from tests.pngread import read_png
from viz.tour import CHAPTERS, KEYS, run_tour

HAS_RENDERER = bool(viz.find_renderers())


@pytest.fixture(scope="module")
def tour_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    lines = []
    run_tour(str(out), tiny=True, log=lambda *a, **k: lines.append(" ".join(map(str, a))))
    return out, lines


def _page(out) -> str:
    return (out / "index.html").read_text(encoding="utf-8")


def test_every_chapter_in_the_seeds_order_with_numbers_and_pictures(tour_dir):
    out, lines = tour_dir
    page = _page(out)
    ids = re.findall(r'<section id="([a-z0-9]+)">', page)
    assert ids == KEYS and len(KEYS) == 13
    for key, section in zip(ids, page.split("<section id=")[1:]):
        assert '<table class="nums">' in section, f"chapter {key} shows no numbers"
        assert "<figure>" in section, f"chapter {key} shows no picture"
        assert "nan" not in re.findall(r'class="v">([^<]*)<', section), key
    # progress: one line per chapter and a final summary
    assert sum(line.startswith("[") for line in lines) == len(CHAPTERS)
    assert lines[-1].startswith("wrote ")


def test_page_references_only_files_that_exist(tour_dir):
    out, _ = tour_dir
    refs = re.findall(r'(?:src|href)="([^"#][^"]*)"', _page(out))
    assert len(refs) >= 2 * 20
    for ref in refs:
        assert not ref.startswith(("http:", "https:", "/")), f"page must be offline: {ref}"
        assert (out / ref).is_file(), f"index.html references missing {ref}"
    if HAS_RENDERER:
        pictures = re.findall(r'<img src="([^"]+)"', _page(out))
        assert len(pictures) >= 25
        for ref in pictures:
            head = (out / ref).read_text(encoding="utf-8")[:300]
            assert ref.endswith(".svg") and "<svg" in head, ref
        for tag in re.findall(r'<img src="[^"]+\.svg"[^>]*>', _page(out)):  # 1 px per pt
            src, w = re.search(r'src="([^"]+)" width="(\d+)"', tag).groups()
            pt = re.search(r'<svg[^>]*?\swidth="([\d.]+)pt"', (out / src).read_text("utf-8"))
            assert pt and abs(float(pt.group(1)) - int(w)) <= 1, tag
        # every drawn graph opens in the inspector, its page beside its picture
        pages = re.findall(r'<a class="inspect" href="([^"]+)">open in the inspector</a>',
                           _page(out))
        assert len(pages) >= 15
        for ref in pages:
            text = (out / ref).read_text(encoding="utf-8")
            assert 'class="tri-data"' in text and "TinygradInspector.mount" in text, ref
    # the practice chapter's linked pages: a worksheet and a replay that steps through frames
    assert "g1" in (out / "practice_worksheet.md").read_text(encoding="utf-8")
    replay = (out / "replay" / "index.html").read_text(encoding="utf-8")
    for frame in re.findall(r'"(frame_\d+\.svg)"', replay):
        assert (out / "replay" / frame).is_file(), frame


def test_numbers_are_the_checks_the_chapters_claim(tour_dir):
    page = _page(tour_dir[0])

    def value(label):
        m = re.search(re.escape(label) + r'[^<]*</td><td class="v">([^<]*)<', page)
        assert m, f"no number {label!r} on the page"
        return m.group(1)
    # eq. 4/5/7 by hand vs the tape: float64 round-off, not approximately
    for term in ("eq.4 grad_o", "eq.5 grad_h", "eq.7 grad_W"):
        assert float(value(term)) < 1e-12
    assert float(value("largest |hand - tape| over every term, step and gate")) < 1e-12
    # the exercise checker accepts the tape's answers and names exactly the one flipped
    right, total = value("checker: the tape&#x27;s own answers, right").split(" of ")
    assert right == total and int(total) >= 3
    assert value("with its sign flipped, wrong") == "g1"
    # level-batched tree gradients equal the per-node recursion
    assert float(value("max |grad level-batched - grad per node|")) < 1e-10
    # linear RNN: ||dh^(10)/dh^(0)|| = rho^10 exactly for an orthogonal W scaled by rho
    for rho in ("0.3", "1.7"):
        measured, expected = map(float, value(f"rho = {rho}: ||dh^(10)/dh^(0)||").split(" / "))
        assert measured == pytest.approx(expected, rel=1e-6)
    # the clipped run never diverges and clips at least once
    assert value("clipped to 1: steps completed").endswith("20 of 20")


def test_cli_usage_errors_and_subset(tmp_path):
    run = [sys.executable, "-m", "tinygrad_rnn"]
    usage = subprocess.run(run, capture_output=True, text=True)
    assert usage.returncode == 0 and "tour" in usage.stdout
    bad = subprocess.run(run + ["frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command 'frobnicate'" in bad.stderr
    bad = subprocess.run(run + ["tour", "--only", "bptt,nope", "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown chapter(s) nope" in bad.stderr
    ok = subprocess.run(run + ["tour", "--tiny", "--only", "seq2seq", "--out", str(tmp_path)],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert re.findall(r'<section id="([a-z0-9]+)">', _page(tmp_path)) == ["seq2seq"]


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chromium() is None or not HAS_RENDERER,
                    reason="needs a headless Chromium and a Graphviz renderer")
def test_headless_browser_loads_every_image_and_the_screenshot_is_not_blank(tour_dir):
    out, _ = tour_dir
    url = (out / "index.html").resolve().as_uri()
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={out / '.chromium'}"]
    dom = subprocess.run(base + ["--virtual-time-budget=10000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    n_img = len(re.findall(r"<img ", _page(out)))
    assert f'data-images="{n_img}"' in dom, "the page's image check did not run"
    assert 'data-broken-images="0"' in dom
    assert 'data-shrunk-images="0"' in dom, "a picture is drawn smaller than 1 px per point"
    shot = out / "shot.png"
    subprocess.run(base + ["--window-size=1200,2400", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, env={**os.environ, "LANG": "C"})
    rgb = read_png(str(shot))[..., :3].astype(float)
    assert rgb.shape[:2] == (2400, 1200)
    ink = (rgb.min(axis=2) < 200).mean()  # pixels darker than the page's near-white
    assert rgb.std() > 20 and ink > 0.02, f"screenshot looks blank (ink {ink:.3f})"
    # the first chapter's pictures are on screen: image-sized areas of ink below the header
    assert np.any(rgb[600:, :, :].min(axis=2) < 100)
