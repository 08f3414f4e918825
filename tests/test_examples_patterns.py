"""The sequence-pattern examples run with --tiny, write their outputs and learn what they claim."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from conftest import run_example

from tinygrad_rnn.data.toy import ambiguous_tagging_corpus


def number_after(text: str, label: str) -> float:
    return float(re.search(re.escape(label) + r"\s*([-+0-9.]+)", text).group(1))


def picture(folder: Path, name: str) -> str:
    """The text of an SVG the example drew (which must exist and be a real picture)."""
    path = folder / f"{name}.svg"
    assert path.exists() and path.stat().st_size > 1000, path
    return path.read_text(encoding="utf-8")


def test_pos_tagging_on_the_seed_grammar(tmp_path, capsys):
    run_example("pos_tagging.py", "--tiny", "--toy", "--out", str(tmp_path), "--draw",
                str(tmp_path))
    out = capsys.readouterr().out
    bi = out.split("bidirectional  LSTM:")[1]
    uni = out.split("unidirectional LSTM:")[1]
    assert number_after(bi, "ambiguous words") > 0.95  # "entertaining": VERB or ADJ, decided
    assert number_after(uni, "ambiguous words") < 0.75  # ... by the words after it
    assert number_after(bi, "UPOS accuracy") > number_after(uni, "UPOS accuracy")
    assert "entertaining/ADJ and/CCONJ" in out.split("'the comedian was entertaining and")[1]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["bidirectional"]["all"] > 0.95
    graph = json.loads((tmp_path / "tagger_4_words.graph.json").read_text())
    assert {n["meta"].get("step") for n in graph["nodes"] if n["op"]} >= {0, 1, 2, 3}
    assert (tmp_path / "tagger_bidirectional.npz").exists()
    unrolled = picture(tmp_path, "tagger_unrolled")
    assert "h⁽⁰⁾" in unrolled and "g⁽⁰⁾" in unrolled  # the grid: step 0 of both directions
    assert "layer 0 · forward" in unrolled and "layer 0 · reverse" in unrolled  # both rows
    assert "reverse" in picture(tmp_path, "tagger_folded")


def _write_conllu(path: Path, sentences) -> None:
    lines = []
    for k, (words, tags) in enumerate(sentences):
        lines.append(f"# sent_id = toy-{k}")
        lines += [f"{i + 1}\t{w}\t{w}\t{t}\t_\t_\t0\tdep\t_\t_" for i, (w, t) in
                  enumerate(zip(words, tags))]
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pos_tagging_reads_conllu(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name, n, seed in (("toy-ud-dev.conllu", 300, 5), ("toy-ud-test.conllu", 100, 6)):
        _write_conllu(data / name, ambiguous_tagging_corpus(n, np.random.default_rng(seed)))
    run_example("pos_tagging.py", "--tiny", "--data", str(data), "--out", str(tmp_path / "out"))
    out = capsys.readouterr().out
    assert "toy-ud-dev.conllu (train) / toy-ud-test.conllu (test)" in out
    assert "300 train / 100 test sentences" in out
    assert number_after(out.split("bidirectional  LSTM:")[1], "UPOS accuracy") > 0.9


def test_sentence_classification_table(tmp_path, capsys):
    run_example("sentence_classification.py", "--tiny", "--out", str(tmp_path), "--draw",
                str(tmp_path))
    out = capsys.readouterr().out
    table = json.loads((tmp_path / "aggregation_accuracy.json").read_text())["accuracy"]
    assert set(table) == {"contains", "majority", "last"}
    assert "task" in out and "attention" in out.split("task")[-1]  # the printed table
    contains, majority, last = table["contains"], table["majority"], table["last"]
    assert max(contains["max"], contains["attention"]) > 0.9  # one step decides
    assert majority["mean"] > 0.8 and majority["mean"] >= majority["max"]  # every step votes
    assert last["last"] > 0.95 and last["last"] > last["max"] + 0.2  # only the end matters
    for row in table.values():
        assert max(row.values()) > 0.8  # every task is learned by some aggregation
    backward = picture(tmp_path, "attention_backward")
    assert "query" in backward and "h⁽⁵⁾" in backward  # the query q and all 6 steps


def test_hopfield_recall(tmp_path, capsys):
    run_example("hopfield.py", "--tiny", "--out", str(tmp_path), "--draw", str(tmp_path))
    out = capsys.readouterr().out
    for mode in ("synchronous", "asynchronous"):
        block = out.split(f"{mode} recall:")[1].split("recall:")[0].split("stored,")[0]
        steps = re.findall(r"step (\d+): hamming\s+(\d+)\s+energy\s+([-0-9.]+)", block)
        hamming = [int(h) for _, h, _ in steps]
        energy = [float(e) for _, _, e in steps]
        assert hamming[0] > 0 and hamming[-1] == 0  # the corrupted pattern is recalled
        assert all(b <= a for a, b in zip(energy, energy[1:]))  # energy never goes up
    results = json.loads((tmp_path / "hopfield_recall.json").read_text())
    assert results["capacity"][min(results["capacity"], key=int)] == 1.0  # low load: perfect
    graph = json.loads((tmp_path / "hopfield_unfolded.graph.json").read_text())
    steps = {n["meta"].get("step") for n in graph["nodes"]
             if n["op"] and n["meta"].get("scope", "").split("/")[-1] == "hopfield"}
    assert steps == {1, 2, 3}
    unrolled = picture(tmp_path, "hopfield_unrolled")
    assert all(h in unrolled for h in ("h⁽¹⁾", "h⁽²⁾", "h⁽³⁾"))  # a cell per step t = 1..3
    assert "W⁽³⁾" in unrolled  # the strip cell of the shared W's per-step copy W^(3)
    assert "delay" in picture(tmp_path, "hopfield_folded")  # the circuit's delay marker
