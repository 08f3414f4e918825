"""The README is the front door: its code runs, its local links and pictures exist."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import viz

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_local_links_and_gallery_pictures_exist():
    links = re.findall(r"\]\(([^)#\s]+)\)", README)
    local = [ln for ln in links if not ln.startswith(("http:", "https:"))]
    assert any(ln.endswith(".svg") for ln in local), "the gallery is missing"
    for ln in local:
        assert (ROOT / ln).exists(), f"README links to missing {ln}"
    for ln in (ln for ln in local if ln.endswith(".svg")):
        assert "<svg" in (ROOT / ln).read_text(encoding="utf-8")[:400], ln
        assert (ROOT / ln).stat().st_size < 120_000, f"{ln}: keep gallery pictures small"


def test_ten_line_quickstart_runs_and_draws(tmp_path):
    block = README.split("## Ten lines")[1].split("```python\n")[1].split("```")[0]
    assert len(block.strip().splitlines()) <= 13
    run = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    out = tmp_path / ("rnn.svg" if viz.find_renderers() else "rnn.dot")
    assert out.is_file() and out.stat().st_size > 500


def test_pytorch_snippet_writes_an_inspector_page(tmp_path):
    """The "Your PyTorch RNN, drawn" block as a user pastes it: a torch 2-layer LSTM, converted
    (fused, the default), traced into its per-step graph, written as one inspector page."""
    pytest.importorskip("torch")
    if not viz.find_renderers():
        pytest.skip("no Graphviz renderer")
    block = README.split("## Your PyTorch RNN, drawn")[1].split("```python\n")[1].split("```")[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout, not an installed copy
    run = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    page = (tmp_path / "lstm.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'class="tri-data">(.*?)</script>', page, re.S).group(1))
    assert data["steps"] == list(range(12))
    names = {nd["name"] for nd in data["graph"]["nodes"]}
    assert {"weight_hh_l0", "weight_hh_l1"} <= names
    assert [v["name"] for v in data["views"]] == ["unrolled", "folded", "backward"]


def test_inspect_section_shows_the_page_and_the_command():
    section = README.split("## Inspect")[1].split("\n## ")[0]
    for text in ('viz.inspect(loss).save("lstm.html")', "python -m viz inspect graph.json -o "
                 "page.html", "examples/gallery/inspector_lstm.png"):
        assert text in section, text


TOUR = ('python3 -m venv .venv && .venv/bin/python -m pip install -q -e ".[render]" && '
        '.venv/bin/python -m tinygrad_rnn tour')
TESTS = ('python3 -m venv .venv && .venv/bin/python -m pip install -q -e ".[dev,render]" && '
         '.venv/bin/python -m pytest -q')


def test_the_two_commands_are_the_ones_ci_runs():
    """Each README line sets up the project's .venv and runs; CI runs exactly these two lines,
    in this order, so a missing set-up step fails CI."""
    commands = README.split("## The two commands")[1].split("```bash\n")[1].split("```")[0]
    assert commands.strip().splitlines() == [TOUR, TESTS]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert TOUR in ci and TESTS in ci and ci.index(TOUR) < ci.index(TESTS)
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_one_version_number():
    import tinygrad_rnn as tr

    meta = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion = "{tr.__version__}"\n' in meta
