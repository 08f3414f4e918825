"""Constituency trees (PTB bracket format, as in the Stanford Sentiment Treebank).

>>> from tinygrad_rnn.data.trees import parse_tree, load_trees, tree_stats
>>> t = parse_tree("(3 (2 It) (4 (2 's) (3 good)))")
>>> [n.label for n in t.nodes()]          # post-order: children before parents
[2, 2, 3, 4, 3]
>>> train = load_trees("../shared/data/sst/train.txt")          # doctest: +SKIP

The ``Tree`` type and the parser live in :mod:`tinygrad_rnn.data.tree_parse`; this module adds
file reading (including ``iter_utf8_lines``, the strict line reader the CoNLL-U reader shares),
binarization and corpus statistics. Nothing recurses, so depth is not limited by
Python's recursion limit.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Iterable, Iterator

from tinygrad_rnn.data.tree_parse import (
    Tree,
    _internal,
    caret_excerpt,
    escape_word,
    parse_tree,
    parse_tree_text,
    unescape_word,
)
from tinygrad_rnn.errors import DTypeError, ParseError

__all__ = ["Tree", "parse_tree", "iter_trees", "load_trees", "binarize", "tree_stats",
           "escape_word", "unescape_word"]


def _check_tree(tree: object, func: str, arg: str = "tree") -> None:
    if not isinstance(tree, Tree):
        raise DTypeError(f"{func}: argument '{arg}' must be a Tree; got {type(tree).__name__}")


def _copy_leaf(leaf: Tree) -> Tree:
    new = _internal(leaf.label, [])  # the word is already valid, so skip Tree's checks
    new._word = leaf._word
    new._raw = leaf._raw  # keep the parsed spelling so str() still matches the source text
    return new


def binarize(tree: Tree) -> Tree:
    """A new tree where every internal node has exactly two children (the input is unchanged).

    * A node with k > 2 children is right-factored: ``(L a b c d)`` becomes
      ``(L a (L b (L c d)))``; the new internal nodes take the parent's label ``L``.
    * A node with one child is merged with it (repeatedly, so a whole unary chain collapses):
      ``(L1 (L2 a b))`` becomes ``(L1 a b)`` and ``(L1 (L2 word))`` becomes the leaf
      ``(L1 word)``. The *topmost* label wins: every node of a chain covers the same span, and
      the outermost label is the one a treebank assigns to that phrase.

    Leaves are copied. Binary trees (all of SST) come back equal to the input.

    >>> str(binarize(parse_tree("(1 (2 a) (3 b) (4 c))")))
    '(1 (2 a) (1 (3 b) (4 c)))'
    >>> str(binarize(parse_tree("(1 (2 (3 a)))")))
    '(1 a)'
    """
    _check_tree(tree, "binarize")
    new: dict[int, Tree] = {}  # id(old node) -> its binarized copy, filled children-first
    for node in tree.nodes():
        if node.is_leaf:
            new[id(node)] = _copy_leaf(node)
            continue
        kids = [new.pop(id(child)) for child in node.children]
        if len(kids) == 1:
            only = kids[0]  # freshly built above, so relabelling it in place is safe
            only.label = node.label
            new[id(node)] = only
            continue
        acc = _internal(node.label, kids[-2:])
        for kid in reversed(kids[:-2]):
            acc = _internal(node.label, [kid, acc])
        new[id(node)] = acc
    return new[id(tree)]


def check_path(path: object, func: str) -> None:
    """Raise DTypeError unless ``path`` is a str or os.PathLike (readers check it eagerly)."""
    if not isinstance(path, (str, os.PathLike)):
        raise DTypeError(f"{func}: argument 'path' must be a str or os.PathLike; "
                         f"got {type(path).__name__}")


def iter_utf8_lines(path: str | os.PathLike, func: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of a UTF-8 file, newline stripped.

    Reads bytes and splits only on ``\\n`` so line numbers match what an editor shows. Invalid
    UTF-8 and NUL bytes (binary files) raise :class:`ParseError` naming ``func``, file and line.
    OS errors (missing file, directory) propagate unchanged.
    """
    check_path(path, func)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            raw = raw.rstrip(b"\r\n")
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 byte-order mark is not part of the text
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                column = len(raw[:e.start].decode("utf-8", "replace")) + 1
                shown = raw.decode("utf-8", "replace")
                raise ParseError(
                    f"{func}: expected UTF-8 text at {os.fspath(path)!s}, line {lineno}, "
                    f"column {column}; got byte 0x{raw[e.start]:02x} (is the file Latin-1 or "
                    f"binary?)\n{caret_excerpt(shown, column)}", line=lineno, column=column,
                ) from None
            if "\x00" in text:
                column = text.index("\x00") + 1
                raise ParseError(
                    f"{func}: expected text at {os.fspath(path)!s}, line {lineno}, column "
                    f"{column}; got a NUL byte (binary file?)\n{caret_excerpt(text, column)}",
                    line=lineno, column=column)
            yield lineno, text


def iter_trees(path: str | os.PathLike, *, binarize: bool = False) -> Iterator[Tree]:
    """Yield one tree per non-blank line of a UTF-8 file (SST's ``train.txt`` format).

    A malformed line raises :class:`ParseError` whose message names the file, the line number
    (also in ``err.line``) and the column; non-UTF-8 or binary content raises it too.

    The path's type is checked at once; the file is opened on the first ``next()``.

    >>> for tree in iter_trees("../shared/data/sst/dev.txt"):   # doctest: +SKIP
    ...     print(tree.label, len(tree.leaves()))
    """
    check_path(path, "iter_trees")
    return _iter_trees(path, binarize, "iter_trees")


def _iter_trees(path: str | os.PathLike, binarize_: bool, func: str) -> Iterator[Tree]:
    # binarize_ has a trailing underscore so the module-level binarize() stays reachable here.
    name = os.fspath(path)
    for lineno, text in iter_utf8_lines(path, func):
        if not text.strip():
            continue
        tree = parse_tree_text(text, func, name, lineno)
        yield binarize(tree) if binarize_ else tree


def load_trees(path: str | os.PathLike, *, binarize: bool = False) -> list[Tree]:
    """All trees of a file as a list; see :func:`iter_trees` (``binarize=True`` applies
    :func:`binarize` to each tree).

    >>> train = load_trees("../shared/data/sst/train.txt")      # doctest: +SKIP
    >>> len(train)                                               # doctest: +SKIP
    8544
    """
    # Building ~300k small objects triggers many full garbage collections that find nothing
    # (trees hold no cycles); pausing the collector for the bulk load makes it about 3x faster.
    check_path(path, "load_trees")
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return list(_iter_trees(path, binarize, "load_trees"))
    finally:
        if was_enabled:
            gc.enable()


def _hist(counter: Counter) -> dict[int, int]:
    return dict(sorted(counter.items()))


def tree_stats(trees: Iterable[Tree]) -> dict:
    """Corpus statistics, all computed iteratively in one pass over each tree.

    Returns a dict with ``count`` (trees), ``nodes``, ``leaves``, ``max_height``,
    ``mean_height``, ``max_leaves``, ``mean_leaves`` (sentence length), ``label_hist`` (every
    node), ``root_label_hist`` and ``arity_hist`` (children per node, leaves counted as 0); each
    histogram maps value -> count, sorted by value. Means of an empty corpus are 0.0.

    >>> tree_stats([parse_tree("(3 (2 It) (4 (2 's) (3 good)))")])["label_hist"]
    {2: 2, 3: 2, 4: 1}
    """
    labels, roots, arity = Counter(), Counter(), Counter()
    count = nodes = leaves = height_sum = max_height = max_leaves = 0
    for i, tree in enumerate(trees):
        _check_tree(tree, "tree_stats", f"trees[{i}]")
        roots[tree.label] += 1
        height, n_leaves, stack = 0, 0, [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            nodes += 1
            labels[node.label] += 1
            arity[len(node.children)] += 1
            height = max(height, depth)
            n_leaves += node.is_leaf
            stack.extend((child, depth + 1) for child in node.children)
        count += 1
        leaves += n_leaves
        height_sum += height
        max_height = max(max_height, height)
        max_leaves = max(max_leaves, n_leaves)
    return {
        "count": count, "nodes": nodes, "leaves": leaves,
        "max_height": max_height, "mean_height": height_sum / count if count else 0.0,
        "max_leaves": max_leaves, "mean_leaves": leaves / count if count else 0.0,
        "label_hist": _hist(labels), "root_label_hist": _hist(roots), "arity_hist": _hist(arity),
    }
