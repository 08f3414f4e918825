"""Every example runs with its tiny size flag and produces its outputs."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> None:
    argv = sys.argv
    sys.argv = [str(EXAMPLES / name), *args]
    try:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        sys.argv = argv


def test_quickstart(tmp_path, capsys):
    run_example("quickstart.py", "--tiny", "--out", str(tmp_path))
    out = capsys.readouterr().out
    diff = float(out.split("max |difference| in nabla_W L:")[1].split()[0])
    assert diff < 1e-12
    graph = json.loads((tmp_path / "hello_rnn.graph.json").read_text())
    assert {n["meta"].get("step") for n in graph["nodes"] if n["op"]} >= {0, 1, 2, 3}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_has_a_test(path):
    tests = Path(__file__).read_text() + "".join(
        p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    assert f'"{path.name}"' in tests, f"examples/{path.name} is not run by any test"
