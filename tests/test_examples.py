"""Every example runs with its tiny size flag and produces its outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, run_example

from viz._style import sup
from viz.plots import available

HAS_MATPLOTLIB = available()


def test_quickstart(tmp_path, capsys):
    run_example("quickstart.py", "--tiny", "--out", str(tmp_path))
    out = capsys.readouterr().out
    diff = float(out.split("max |difference| in nabla_W L:")[1].split()[0])
    assert diff < 1e-12
    graph = json.loads((tmp_path / "hello_rnn.graph.json").read_text())
    assert {n["meta"].get("step") for n in graph["nodes"] if n["op"]} >= {0, 1, 2, 3}
    unrolled = (tmp_path / "hello_rnn_unrolled.svg").read_text()
    assert all(f"h{sup(t)}" in unrolled for t in range(4))  # the grid: one box per step
    assert "strips: ‖∇W⁽ᵗ⁾‖" in unrolled  # the per-step copies' gradients along the row
    assert (tmp_path / "hello_rnn_folded.svg").stat().st_size > 1000
    assert (tmp_path / "hello_rnn_backward.svg").stat().st_size > 1000


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_has_a_test(path):
    tests = Path(__file__).read_text() + "".join(
        p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    assert f'"{path.name}"' in tests, f"examples/{path.name} is not run by any test"


def assert_pictures(folder: Path, name: str, views, steps=(0,)) -> dict:
    """Each <name>_<view>.svg exists and is a real picture; unrolled ones show their steps."""
    texts = {}
    for view in views:
        path = folder / f"{name}_{view}.svg"
        assert path.exists() and path.stat().st_size > 1000, path
        texts[view] = path.read_text(encoding="utf-8")
        if view == "unrolled":  # the grid: a box per step, labelled h^(t) (or h_l^(t))
            assert all(sup(t) in texts[view] for t in steps), path
    return texts


def test_char_rnn(tmp_path, capsys):
    run_example("char_rnn.py", "--tiny", "--out", str(tmp_path), "--draw", str(tmp_path))
    out = capsys.readouterr().out
    assert "0 errors of 4" in out, out  # the seeds' "hello" toy learned to zero error
    val = float(out.split("validation:")[1].split()[0])
    vocab = int(out.split(" vocab ")[1].split(",")[0])
    assert val < np.log(vocab)  # learned something: better than a uniform guess
    assert (tmp_path / "char_rnn.npz").exists()
    svg = assert_pictures(tmp_path, "char_lstm", ("unrolled", "folded", "backward"),
                          steps=range(6))
    assert "gate_f" in svg["unrolled"]  # the opened trace: every gate is a node (a cell's
    # tooltip lists their roles)
    assert "weight_hh_l0" in svg["backward"]
    assert f"drew {tmp_path / 'char_lstm_backward.svg'}" in out
    reports = [line for line in out.splitlines() if line.startswith("step ")]
    assert len(reports) == 10 and all(" val " in line for line in reports)  # every report
    if HAS_MATPLOTLIB:  # the chart of the 30 training and 10 validation losses
        assert (tmp_path / "char_lstm_training.svg").stat().st_size > 5000
        assert f"drew {tmp_path / 'char_lstm_training.png'}" in out


def test_seq2seq(tmp_path, capsys):
    run_example("seq2seq.py", "--tiny", "--out", str(tmp_path), "--draw", str(tmp_path))
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("teacher", "sched"))]
    assert len(rows) == 2
    for row in rows:
        errs = [float(v) for v in row[-4:]]
        assert all(0.0 <= v <= 1.0 for v in errs)
    assert (tmp_path / "seq2seq.npz").exists()
    svg = assert_pictures(tmp_path, "seq2seq", ("unrolled", "folded"), steps=range(4))
    assert "encoder" in svg["unrolled"] and "decoder" in svg["unrolled"]
    assert "bridge" in svg["folded"]  # the decoder's s^(0) = tanh(W C + b), drawn as its h0


def test_gradient_flow(tmp_path, capsys):
    run_example("gradient_flow.py", "--tiny", "--draw", str(tmp_path))
    out = capsys.readouterr().out
    assert "0.3^10 = 5.9e-06" in out
    err = float(out.split("|sum - W.grad| = ")[1].split(";")[0])
    assert err < 1e-12
    for name in ("rnn_h", "lstm_c", "contributions", "lstm_folded"):
        assert (tmp_path / f"{name}.svg").stat().st_size > 500, name
    if HAS_MATPLOTLIB:
        for name in ("jacobian_decay", "gradient_norms"):
            assert (tmp_path / f"{name}.svg").stat().st_size > 5000, name
            assert f"drew {tmp_path / (name + '.png')}" in out


def test_examples_are_notebooks_and_quickstart_runs_cell_by_cell(tmp_path, monkeypatch):
    """Each example opens as a notebook (``# %%`` cells, a markdown first cell); run as cells in
    one namespace without ``__file__`` and with a kernel's argv, as Jupyter would, it works."""
    import glob
    import os
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in sorted(glob.glob(os.path.join(root, "examples", "*.py"))):
        text = open(path, encoding="utf-8").read()
        assert text.startswith("# %% [markdown]"), path
        assert text.count("\n# %%") >= 2 and '"__file__" in globals()' in text, path
    text = open(os.path.join(root, "examples", "quickstart.py"), encoding="utf-8").read()
    cells = text.split("\n# %%")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "kernel-1.json"])
    namespace = {"__name__": "__main__"}
    for cell in cells:
        exec(compile("# %%" + cell, "quickstart-cell", "exec"), namespace)
    assert (tmp_path / "out" / "quickstart" / "hello_rnn.graph.json").is_file()
