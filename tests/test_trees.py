"""Tests for tinygrad_rnn.data.trees / tree_parse: Tree, parse_tree, load_trees, binarize, stats."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from tinygrad_rnn.data.tree_parse import caret_excerpt
from tinygrad_rnn.data.trees import (
    Tree,
    binarize,
    escape_word,
    parse_tree,
    tree_stats,
    unescape_word,
)
from tinygrad_rnn.errors import ArgumentError, DTypeError, ParseError

SST = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst"
EXAMPLE = "(3 (2 It) (4 (2 's) (3 good)))"


def caret_column(err: ParseError) -> tuple[str, int]:
    """The excerpt line and the index of the caret below it, from the last two message lines."""
    *_, shown, caret = str(err).split("\n")
    return shown, caret.index("^")


# ---------------------------------------------------------------- Tree basics


def test_parse_example_structure():
    t = parse_tree(EXAMPLE)
    assert t.label == 3 and not t.is_leaf and t.word is None
    assert t.leaves() == ["It", "'s", "good"]
    assert t.height == 2 and t.size == 5
    assert [(n.label, n.word) for n in t.nodes()] == [
        (2, "It"), (2, "'s"), (3, "good"), (4, None), (3, None)]
    assert t.nodes()[-1] is t
    leaf = t.children[0]
    assert leaf.is_leaf and leaf.height == 0 and leaf.size == 1 and leaf.nodes() == [leaf]
    assert str(t) == EXAMPLE


def test_nodes_is_post_order_children_first():
    t = parse_tree("(0 (1 (2 a) (3 b)) (4 (5 c) (6 (7 d) (8 e))))")
    order = t.nodes()
    assert [n.label for n in order] == [2, 3, 1, 5, 7, 8, 6, 4, 0]
    position = {id(n): i for i, n in enumerate(order)}
    for n in order:
        assert all(position[id(c)] < position[id(n)] for c in n.children)


def test_repr_is_short():
    assert repr(parse_tree("(2 It)")) == "Tree(2, 'It')"
    r = repr(parse_tree("(1 " + " ".join(f"(2 w{i})" for i in range(50)) + ")"))
    assert r.startswith("Tree(1, size=51, '(1 (2 w0)") and len(r) < 90


def test_equality_compares_labels_words_and_shape():
    assert parse_tree(EXAMPLE) == parse_tree(EXAMPLE)
    assert parse_tree(EXAMPLE) != parse_tree(EXAMPLE.replace("(3 good)", "(4 good)"))
    assert parse_tree(EXAMPLE) != parse_tree(EXAMPLE.replace("good", "bad"))
    assert parse_tree("(1 (2 a) (2 b))") != parse_tree("(1 (2 a) (2 b) (2 c))")
    assert parse_tree("(2 a)") != "(2 a)"
    with pytest.raises(TypeError):
        hash(parse_tree("(2 a)"))


def test_constructor_builds_and_validates():
    t = Tree(3, children=[Tree(2, "It"), Tree(4, children=[Tree(2, "'s"), Tree(3, "good")])])
    assert str(t) == EXAMPLE and t == parse_tree(EXAMPLE)
    with pytest.raises(DTypeError, match="label"):
        Tree("3", "x")
    with pytest.raises(DTypeError, match="label"):
        Tree(True, "x")
    with pytest.raises(ArgumentError, match="exactly one"):
        Tree(1, "x", children=[Tree(2, "y")])
    with pytest.raises(ArgumentError, match="exactly one"):
        Tree(1)
    with pytest.raises(ArgumentError, match="whitespace"):
        Tree(1, "two words")
    with pytest.raises(ArgumentError, match="whitespace"):
        Tree(1, "")
    with pytest.raises(DTypeError, match=r"children\[1\]"):
        Tree(1, children=[Tree(2, "a"), "b"])
    with pytest.raises(DTypeError, match="word"):
        Tree(1, 5)
    with pytest.raises(ArgumentError, match="only a leaf"):
        t.children[0].word = None
    with pytest.raises(ArgumentError, match="only a leaf"):
        t.word = "x"


# ---------------------------------------------------------------- escapes and exact round trips


@pytest.mark.parametrize("text, word", [
    ("(2 -LRB-)", "("), ("(2 -RRB-)", ")"), ("(2 -LSB-)", "["), ("(2 -RSB-)", "]"),
    ("(2 -LCB-)", "{"), ("(2 -RCB-)", "}"), ("(2 writer\\/director)", "writer/director"),
    ("(2 \\*\\*\\*)", "***"), ("(2 :-RRB-)", ":)"), ("(2 Amélie)", "Amélie"),
    ("(2 8\u00a01\\/2)", "8\u00a01/2"),  # SST has no-break spaces inside words
])
def test_escaped_words_are_stored_unescaped_and_round_trip(text, word):
    t = parse_tree(text)
    assert t.word == word
    assert str(t) == text


@pytest.mark.parametrize("text, word", [("(2 /)", "/"), ("(2 a*b)", "a*b"), ("(2 {)", "{")])
def test_non_canonical_spellings_are_kept_for_round_trip(text, word):
    t = parse_tree(text)
    assert t.word == word and str(t) == text
    t.word = word  # setting the word forgets the parsed spelling and prints canonically
    assert str(t) == f"(2 {escape_word(word)})"


def test_pickle_and_deepcopy_keep_words_and_spellings_exactly():
    t = parse_tree("(1 (2 /) (3 (2 -LRB-) (4 \\*)))")
    odd = Tree(0, children=[t, Tree(2, "-LRB-")])  # a literal "-LRB-" word, not "("
    for clone in (pickle.loads(pickle.dumps(odd)), copy.deepcopy(odd)):
        assert clone == odd and clone is not odd
        assert str(clone) == str(odd) == "(0 (1 (2 /) (3 (2 -LRB-) (4 \\*))) (2 -LRB-))"
        assert clone.children[1].word == "-LRB-" and clone.children[0].children[0].word == "/"


def test_escape_helpers_and_programmatic_words():
    assert escape_word("(a/b*)") == "-LRB-a\\/b\\*-RRB-"
    assert unescape_word(escape_word("(a/b*)")) == "(a/b*)"
    assert unescape_word("plain") == "plain"
    t = Tree(1, children=[Tree(2, "("), Tree(2, "and/or")])
    assert str(t) == "(1 (2 -LRB-) (2 and\\/or))"
    assert parse_tree(str(t)) == t


def test_multiline_text_and_extra_whitespace_parse():
    t = parse_tree("  (3\n\t(2 It)\r\n  (4 (2 's) (3 good))\n)  \n")
    assert str(t) == EXAMPLE  # str() is the canonical single-spaced form


def test_negative_label_parses():
    assert parse_tree("(-1 a)").label == -1


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("text, expected, got, column", [
    ("(x (2 It))", "expected an integer label after '('", "got 'x'", 2),
    ("(2 (It))", "expected an integer label after '('", "got 'It'", 5),
    ("( (2 It))", "expected an integer label after '('", "got '('", 3),
    ("(2.5 a)", "expected an integer label", "got '2.5'", 2),
    ("()", "expected an integer label", "got ')'", 2),
    ("(", "expected an integer label", "got end of input", 2),
    ("(2)", "leaf without a word", "got ')'", 3),
    ("(2 a (2 b))", "a node has either a word or subtrees", "got '('", 6),
    ("(2 (2 b) a)", "a node has either a word or subtrees", "got 'a'", 10),
    ("(2 a b)", "expected ')' after the word 'a'", "got 'b'", 6),
    ("(2 (2 a)", "expected ')'", "is not closed", 9),
    ("(2 a))", "unbalanced ')'", "got ')'", 6),
    (")", "expected '(' to start a tree", "unbalanced ')'", 1),
    ("(2 a) trailing", "expected end of input after the tree closed", "got 'trailing'", 7),
    ("(2 a) (2 b)", "expected end of input after the tree closed", "got '('", 7),
    ("", "expected a tree starting with '('", "got end of input", 1),
    ("   \n ", "expected a tree starting with '('", "got end of input", 2),
    ("word", "expected '(' to start a tree", "got 'word'", 1),
])
def test_malformed_input_raises_parse_error(text, expected, got, column):
    with pytest.raises(ParseError) as info:
        parse_tree(text)
    err = info.value
    msg = str(err)
    assert isinstance(err, ValueError)
    assert msg.startswith("parse_tree: ")
    assert expected in msg and got in msg
    assert err.column == column and f"column {column};" in msg
    shown, caret = caret_column(err)
    assert caret == column + 1  # two spaces of indent, then the 1-based column


def test_error_message_matches_documented_format():
    with pytest.raises(ParseError) as info:
        parse_tree("(x (2 It))")
    assert str(info.value) == ("parse_tree: expected an integer label after '(' at line 1, "
                               "column 2; got 'x'\n  (x (2 It))\n   ^")
    assert info.value.line == 1


def test_error_line_and_column_in_multiline_text():
    text = "(3 (2 It)\n   (4 (2 's) (x good)))"
    with pytest.raises(ParseError) as info:
        parse_tree(text)
    assert (info.value.line, info.value.column) == (2, 15)
    shown, caret = caret_column(info.value)
    assert shown == "     (4 (2 's) (x good)))" and shown[caret] == "x"


def test_unclosed_node_reports_where_it_opened():
    with pytest.raises(ParseError, match=r"node opened at line 2, column 3 is not closed"):
        parse_tree("(1 (2 a)\n  (3 (2 b)")


def test_long_line_excerpt_is_a_window_around_the_column():
    words = " ".join(f"(2 w{i:04d})" for i in range(200))
    text = f"(1 {words} (2 oops extra) {words})"
    assert len(text) > 4000
    with pytest.raises(ParseError) as info:
        parse_tree(text)
    err = info.value
    assert err.column == text.index("extra") + 1
    shown, caret = caret_column(err)
    assert len(shown) <= 72 and shown.startswith("  ...") and shown.endswith("...")
    assert shown[caret:caret + 5] == "extra"
    assert len(str(err).split("\n")[0]) < 200


def test_caret_excerpt_replaces_tabs_and_control_characters():
    shown, caret = caret_excerpt("a\tb\x01c", 5).split("\n")
    assert shown == "  a b?c" and caret.index("^") == 6


def test_non_str_input_is_a_dtype_error():
    with pytest.raises(DTypeError, match="decode bytes"):
        parse_tree(b"(2 a)")
    with pytest.raises(DTypeError):
        parse_tree(None)


# ---------------------------------------------------------------- depth: nothing recurses

DEPTH = 10_000


def deep_text(depth: int = DEPTH, word: str = "a") -> str:
    return "(1 " * depth + f"(2 {word})" + ")" * depth


def test_deep_degenerate_tree_without_recursion():
    text = deep_text()
    t = parse_tree(text)
    assert str(t) == text
    assert t.height == DEPTH and t.size == DEPTH + 1
    nodes = t.nodes()
    assert len(nodes) == DEPTH + 1 and nodes[0].word == "a" and nodes[-1] is t
    assert t.leaves() == ["a"]
    assert t == parse_tree(text)
    assert t != parse_tree(deep_text(word="b"))
    assert t != parse_tree(deep_text(DEPTH - 1))
    assert "size=10001" in repr(t)


def test_deep_tree_pickles_copies_binarizes_and_stats():
    t = parse_tree(deep_text())
    assert pickle.loads(pickle.dumps(t)) == t
    assert copy.deepcopy(t) == t
    assert str(binarize(t)) == "(1 a)"  # the unary chain collapses, the top label wins
    stats = tree_stats([t])
    assert stats["max_height"] == DEPTH and stats["arity_hist"] == {0: 1, 1: DEPTH}


def test_deep_malformed_tree_reports_an_error_not_recursion():
    with pytest.raises(ParseError, match="is not closed"):
        parse_tree(deep_text()[:-1])


# ---------------------------------------------------------------- binarize


def test_binarize_right_factors_with_parent_label():
    t = parse_tree("(1 (2 a) (3 b) (4 c) (0 d))")
    assert str(binarize(t)) == "(1 (2 a) (1 (3 b) (1 (4 c) (0 d))))"
    assert str(t) == "(1 (2 a) (3 b) (4 c) (0 d))"  # the input is not modified


def test_binarize_collapses_unary_chains_keeping_the_top_label():
    assert str(binarize(parse_tree("(1 (2 (3 a) (4 b)))"))) == "(1 (3 a) (4 b))"
    assert str(binarize(parse_tree("(0 (1 (2 (3 x))) (4 y))"))) == "(0 (1 x) (4 y))"
    assert str(binarize(parse_tree("(2 a)"))) == "(2 a)"


def test_binarize_result_is_binary_and_keeps_words_and_spellings():
    t = parse_tree("(1 (2 (0 /) (0 b) (0 c)) (3 (4 -LRB-)) (2 d) (2 e))")
    b = binarize(t)
    assert b.leaves() == t.leaves() == ["/", "b", "c", "(", "d", "e"]
    assert all(len(n.children) in (0, 2) for n in b.nodes())
    assert "(0 /)" in str(b) and "-LRB-" in str(b)
    with pytest.raises(DTypeError):
        binarize("(1 a)")


# ---------------------------------------------------------------- tree_stats


def test_tree_stats_small_corpus():
    trees = [parse_tree(EXAMPLE), parse_tree("(1 (0 a) (2 b) (2 c))"), parse_tree("(4 x)")]
    s = tree_stats(trees)
    assert s["count"] == 3 and s["nodes"] == 5 + 4 + 1 and s["leaves"] == 3 + 3 + 1
    assert s["max_height"] == 2 and s["mean_height"] == pytest.approx(1.0)
    assert s["max_leaves"] == 3 and s["mean_leaves"] == pytest.approx(7 / 3)
    assert s["label_hist"] == {0: 1, 1: 1, 2: 4, 3: 2, 4: 2}
    assert s["root_label_hist"] == {1: 1, 3: 1, 4: 1}
    assert s["arity_hist"] == {0: 7, 2: 2, 3: 1}
    assert list(s["label_hist"]) == sorted(s["label_hist"])


def test_tree_stats_empty_and_bad_input():
    s = tree_stats(iter([]))
    assert s["count"] == 0 and s["mean_height"] == 0.0 and s["label_hist"] == {}
    with pytest.raises(DTypeError, match=r"trees\[1\]"):
        tree_stats([parse_tree("(2 a)"), "(2 b)"])
