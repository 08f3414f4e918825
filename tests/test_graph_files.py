"""Reading a saved graph: a deeply nested, huge, truncated, non-UTF-8 or newer-schema file, or a
field of the wrong type, is a GraphFormatError naming the file and the problem, in the core
(tr.Graph.from_file / from_json) and in viz (viz.load / viz.draw on a path) alike."""

from __future__ import annotations

import json

import pytest
from conftest import small_rnn_graph

import tinygrad_rnn as tr
import viz


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    g = small_rnn_graph(T=3)
    path = tmp_path_factory.mktemp("graphs") / "good.json"
    path.write_text(g.to_json(), encoding="utf-8")
    return g, path


def _both(path, match, **kw):
    """tr.Graph.from_file and viz.load both raise a GraphFormatError naming the file."""
    with pytest.raises(tr.GraphFormatError, match=match) as core:
        tr.Graph.from_file(path, **kw)
    with pytest.raises(viz.GraphFormatError, match=match) as drawn:
        viz.load(path, **kw)
    for info in (core, drawn):
        assert str(path) in str(info.value), info.value
    assert isinstance(drawn.value, tr.GraphFormatError)  # one except catches both


def test_a_good_file_round_trips(saved):
    g, path = saved
    back = tr.Graph.from_file(path)
    assert back.to_dict() == json.loads(g.to_json())
    assert tr.Graph.from_json(path.read_bytes()).order == g.order  # bytes work too
    assert viz.load(path)["nodes"] == back.to_dict()["nodes"]


def test_deep_nesting_is_a_format_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"nodes": ' + "[" * 100_000 + "]" * 100_000 + ', "edges": []}')
    _both(path, "nested too deeply")
    with pytest.raises(tr.GraphFormatError, match="nested too deeply"):
        tr.Graph.from_json("[" * 50_000 + "]" * 50_000)


def test_huge_truncated_and_non_utf8_files(saved, tmp_path):
    g, path = saved
    _both(path, r"over the limit of 100 bytes.*max_bytes", max_bytes=100)
    text = path.read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    _both(cut, r"not valid JSON: .* line 1, column \d+ \(the text ends early: is the file "
               r"truncated\?\)")
    latin = tmp_path / "latin1.json"
    latin.write_bytes(text.replace('"W"', '"W\u00e9"').encode("latin-1"))
    _both(latin, r"not UTF-8 text: byte 0xe9 at offset \d+")
    _both(tmp_path / "missing.json", "cannot read graph file")
    _both(tmp_path, "cannot read graph file")  # a folder
    with pytest.raises(tr.GraphFormatError, match="max_bytes"):
        tr.Graph.from_file(path, max_bytes=-1)
    big_int = tmp_path / "int.json"
    big_int.write_text('{"nodes": [], "edges": [], "roots": [' + "9" * 5000 + "]}")
    _both(big_int, "cannot turn into a number")


def test_newer_schema_is_named(saved, tmp_path):
    g, _ = saved
    d = g.to_dict()
    d["schema"] = 99
    path = tmp_path / "future.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    _both(path, r"written by a newer version of tinygrad_rnn \(graph schema 99; this version "
                r"reads schema 1 and older\)")
    d["schema"] = "1"
    path.write_text(json.dumps(d), encoding="utf-8")
    _both(path, "'schema' must be a positive integer")


@pytest.mark.parametrize("where, field, value, match", [
    ("nodes", "shape", "2x2", r"node 1: field 'shape' must be a list"),
    ("nodes", "shape", [2, -1], r"node 1: field 'shape' must be a list of sizes"),
    ("nodes", "kind", "weight", r"node 1: field 'kind' must be one of 'op', 'param'"),
    ("nodes", "name", 7, r"node 1: field 'name' must be a string or null"),
    ("nodes", "value", {"norm": "big"}, r"node 1: field 'value' .*min/max/mean/norm: numbers"),
    ("nodes", "grad", {"values": [1, "x"]}, r"node 1: field 'grad' .*values: a list of numbers"),
    ("nodes", "meta", [], r"node 1: field 'meta' must be an object"),
    ("nodes", "id", True, r"node 1: field 'id' must be an integer"),
    ("edges", "arg", -1, r"edge 1: field 'arg' must be a non-negative integer"),
    ("edges", "src", "0", r"edge 1: field 'src' must be an integer; got '0'"),
])
def test_wrong_field_types_name_the_field_and_the_index(saved, tmp_path, where, field, value,
                                                         match):
    g, _ = saved
    d = json.loads(g.to_json())
    d[where][1][field] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    _both(path, match)
    with pytest.raises(tr.GraphFormatError, match=match):
        tr.Graph.from_dict(d)


def test_core_requires_every_field_viz_takes_what_it_knows(saved):
    g, _ = saved
    d = json.loads(g.to_json())
    del d["nodes"][2]["dtype"]
    d["nodes"][0]["colour"] = "red"
    with pytest.raises(tr.GraphFormatError, match=r"node 0 has an unknown field 'colour'"):
        tr.Graph.from_dict(d)
    del d["nodes"][0]["colour"]
    with pytest.raises(tr.GraphFormatError, match=r"node 2 lacks the field\(s\) 'dtype'"):
        tr.Graph.from_dict(d)
    d["nodes"][0]["colour"] = "red"
    assert viz.draw(d).source  # viz draws hand-written dicts with fields of their own
