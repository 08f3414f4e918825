"""A small CoNLL-U reader (Universal Dependencies), for tagging tasks.

Each sentence becomes a :class:`Sentence` holding its words and one chosen column of tags
(UPOS by default). Comment lines (``#``), multiword token ranges (``1-2``) and empty nodes
(``8.1``) are skipped, so ``words`` are exactly the syntactic word tokens.

>>> from tinygrad_rnn.data.conllu import read_conllu
>>> sents = read_conllu("../shared/data/ud_english_ewt/en_ewt-ud-dev.conllu")  # doctest: +SKIP
>>> words, tags = sents[0]                                                    # doctest: +SKIP
>>> words[:3], tags[:3]                                                       # doctest: +SKIP
(['From', 'the', 'AP'], ['ADP', 'DET', 'PROPN'])
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tinygrad_rnn.data.tree_parse import caret_excerpt
from tinygrad_rnn.data.trees import check_path, iter_utf8_lines
from tinygrad_rnn.errors import ArgumentError, DTypeError, ParseError

__all__ = ["COLUMNS", "Sentence", "iter_conllu", "read_conllu"]

COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
_RANGE_ID = re.compile(r"[1-9][0-9]*-[1-9][0-9]*")
_EMPTY_ID = re.compile(r"[0-9]+\.[1-9][0-9]*")


@dataclass
class Sentence:
    """One sentence: ``words`` and the matching ``tags``; unpacks as ``words, tags = sentence``.

    ``sent_id`` is the value of a ``# sent_id = ...`` comment (or ``None``) and ``line`` the file
    line of the first token, for error messages.
    """

    words: list[str]
    tags: list[str]
    sent_id: str | None = None
    line: int = field(default=0, compare=False)

    def __iter__(self) -> Iterator[list[str]]:
        return iter((self.words, self.tags))


def _fail(func: str, path: str, lineno: int, text: str, column: int, expected: str,
          got: str) -> ParseError:
    return ParseError(f"{func}: expected {expected} at {path}, line {lineno}, column {column}; "
                      f"got {got}\n{caret_excerpt(text, column)}", line=lineno, column=column)


def _fields(text: str, func: str, path: str, lineno: int) -> list[str]:
    """Split a token line into its 10 fields, or raise a ParseError that points at the problem."""
    fields = text.split("\t")
    if len(fields) == 10:
        return fields
    if len(fields) > 10:  # point at the first surplus field
        column = sum(len(f) + 1 for f in fields[:10]) + 1
    else:  # point just past the end of the line, where the next field should have started
        column = len(text) + 1
    spaces = len(fields) == 1 and " " in text
    hint = " (fields must be separated by tabs, not spaces)" if spaces else ""
    raise _fail(func, path, lineno, text, column, "10 tab-separated fields",
                f"{len(fields)}{hint}")


def _check_id(fields: list[str], expected_id: int, func: str, path: str, lineno: int,
              text: str) -> str:
    """Classify the ID field: 'word', 'range' or 'empty'; anything else is a ParseError."""
    tok_id = fields[0]
    if tok_id.isascii() and tok_id.isdigit():
        if int(tok_id) != expected_id:  # catches lost lines and sentences glued together
            raise _fail(func, path, lineno, text, 1, f"token id {expected_id}", repr(tok_id))
        return "word"
    if _RANGE_ID.fullmatch(tok_id):
        return "range"
    if _EMPTY_ID.fullmatch(tok_id):
        return "empty"
    raise _fail(func, path, lineno, text, 1, "an integer token id (or a range 1-2, or an empty "
                "node 8.1)", repr(tok_id))


def _column_index(column: object, func: str) -> int:
    if not isinstance(column, str):
        raise DTypeError(f"{func}: argument 'column' must be a str; got {type(column).__name__}")
    if column.lower() not in COLUMNS or column.lower() == "id":
        raise ArgumentError(f"{func}: argument 'column' must be one of {list(COLUMNS[1:])}; "
                            f"got {column!r}")
    return COLUMNS.index(column.lower())


def iter_conllu(path: str | os.PathLike, *, column: str = "upos") -> Iterator[Sentence]:
    """Yield the sentences of a CoNLL-U file one at a time; see :func:`read_conllu`.

    The arguments are checked at once; the file is opened on the first ``next()``.
    """
    check_path(path, "iter_conllu")
    return _iter_conllu(path, _column_index(column, "iter_conllu"), "iter_conllu")


def _iter_conllu(path: str | os.PathLike, col: int, func: str) -> Iterator[Sentence]:
    name = os.fspath(path)
    words: list[str] = []
    tags: list[str] = []
    sent_id, first_line = None, 0
    for lineno, text in iter_utf8_lines(path, func):
        if not text.strip():  # a blank line ends the sentence (whitespace-only is forgiven)
            if words:
                yield Sentence(words, tags, sent_id, first_line)
            words, tags, sent_id = [], [], None
            continue
        if text.startswith("#"):
            key, _, value = text[1:].partition("=")
            if key.strip() == "sent_id" and not words:
                sent_id = value.strip()
            continue
        fields = _fields(text, func, name, lineno)
        if _check_id(fields, len(words) + 1, func, name, lineno, text) != "word":
            continue
        if not fields[1]:
            raise _fail(func, name, lineno, text, len(fields[0]) + 2, "a word form", "''")
        if not words:
            first_line = lineno
        words.append(fields[1])
        tags.append(fields[col])
    if words:  # the last sentence may lack its closing blank line
        yield Sentence(words, tags, sent_id, first_line)


def read_conllu(path: str | os.PathLike, *, column: str = "upos") -> list[Sentence]:
    """All sentences of a CoNLL-U file, each a :class:`Sentence` ``(words, tags)``.

    ``column`` names the tag column: ``"upos"`` (universal POS), ``"xpos"`` (PTB tags for
    EWT), ``"lemma"``, ``"deprel"``, ... (any of :data:`COLUMNS` but ``"id"``). Token ids must run
    1, 2, 3 ... within each sentence. Malformed lines (not 10 tab-separated fields, a bad or
    out-of-order id), invalid UTF-8 and binary files raise :class:`ParseError` naming the file,
    line and column, with a caret.

    >>> for words, tags in read_conllu("en_ewt-ud-dev.conllu", column="xpos"):  # doctest: +SKIP
    ...     print(list(zip(words, tags))[:2])
    """
    check_path(path, "read_conllu")
    return list(_iter_conllu(path, _column_index(column, "read_conllu"), "read_conllu"))
