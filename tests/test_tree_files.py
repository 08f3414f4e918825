"""Tree files: streaming loads, file-level errors, and every line of the real SST."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygrad_rnn.data.trees import (
    binarize,
    iter_trees,
    load_trees,
    parse_tree,
    tree_stats,
)
from tinygrad_rnn.errors import DTypeError, ParseError

SST = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst"


# ---------------------------------------------------------------- files


def write(tmp_path: Path, data: bytes, name: str = "trees.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_load_trees_skips_blank_lines_and_handles_crlf_and_bom(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf(2 a)\r\n\r\n   \n(3 (2 b) (4 c))\n(1 d)")
    trees = load_trees(path)
    assert [str(t) for t in trees] == ["(2 a)", "(3 (2 b) (4 c))", "(1 d)"]
    assert [str(t) for t in load_trees(str(path))] == [str(t) for t in trees]


def test_iter_trees_is_lazy_and_binarizes(tmp_path):
    path = write(tmp_path, b"(1 (2 a) (3 b) (4 c))\n(0 (1 x))\n")
    it = iter_trees(path, binarize=True)
    assert next(it) == parse_tree("(1 (2 a) (1 (3 b) (4 c)))")
    assert str(next(it)) == "(0 x)"
    assert next(it, None) is None
    assert [str(t) for t in load_trees(path, binarize=True)] == ["(1 (2 a) (1 (3 b) (4 c)))",
                                                                 "(0 x)"]


def test_load_trees_error_names_file_and_line(tmp_path):
    path = write(tmp_path, b"(2 a)\n\n(3 (2 b) (x c))\n")
    with pytest.raises(ParseError) as info:
        load_trees(path)
    msg = str(info.value)
    assert msg.startswith("load_trees: expected an integer label")
    assert f"{path}, line 3, column 11" in msg
    assert (info.value.line, info.value.column) == (3, 11)
    with pytest.raises(ParseError, match="iter_trees: .* line 3"):
        list(iter_trees(path))


def test_truncated_file_reports_last_line(tmp_path):
    path = write(tmp_path, b"(2 a)\n(3 (2 b) (4 c")
    with pytest.raises(ParseError, match=r"line 2, column 14; got end of line") as info:
        load_trees(path)
    assert info.value.line == 2


def test_latin1_file_is_a_parse_error_with_line(tmp_path):
    path = write(tmp_path, "(2 a)\n(2 Amélie)\n".encode("latin-1"))
    expected = r"expected UTF-8 text at .*, line 2, column 6; got byte 0xe9"
    with pytest.raises(ParseError, match=expected):
        load_trees(path)


def test_binary_file_is_a_parse_error(tmp_path):
    path = write(tmp_path, bytes(range(256)) * 4)
    with pytest.raises(ParseError, match="line 1") as info:
        load_trees(path)
    assert str(path) in str(info.value)
    path = write(tmp_path, b"(2 a)\x00\x00\x01", "nul.txt")
    with pytest.raises(ParseError, match="NUL byte"):
        load_trees(path)


def test_bad_paths(tmp_path):
    with pytest.raises(DTypeError, match="path"):
        load_trees(3)
    with pytest.raises(DTypeError, match="path"):
        iter_trees(None)
    with pytest.raises(FileNotFoundError):
        load_trees(tmp_path / "missing.txt")


# ---------------------------------------------------------------- the real corpus

SPLITS = {"train": 8544, "dev": 1101, "test": 2210}


@pytest.fixture(scope="module")
def sst():
    if not SST.is_dir():
        pytest.skip(f"SST not found at {SST}")
    return {split: SST / f"{split}.txt" for split in SPLITS}


@pytest.mark.parametrize("split", list(SPLITS))
def test_sst_every_line_round_trips_exactly(sst, split):
    lines = [ln for ln in sst[split].read_text(encoding="utf-8").split("\n") if ln.strip()]
    trees = load_trees(sst[split])
    assert len(trees) == len(lines) == SPLITS[split]
    for line, tree in zip(lines, trees, strict=True):
        assert str(tree) == line
    assert binarize(trees[0]) == trees[0]


def test_sst_binarize_is_identity_and_stats(sst):
    trees = load_trees(sst["dev"])
    for tree in trees:
        assert str(binarize(tree)) == str(tree)
    s = tree_stats(trees)
    assert s["count"] == 1101 and set(s["label_hist"]) == {0, 1, 2, 3, 4}
    assert set(s["arity_hist"]) == {0, 2}  # SST is strictly binary
    assert s["leaves"] == sum(len(t.leaves()) for t in trees)
    assert s["nodes"] == 2 * s["leaves"] - s["count"]  # a binary tree with n leaves has 2n-1 nodes
    words = {w for t in trees for w in t.leaves()}
    assert "(" in words and "-LRB-" not in words
