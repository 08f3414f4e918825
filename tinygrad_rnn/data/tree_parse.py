"""The ``Tree`` type, PTB escapes, and the iterative bracket parser behind :func:`parse_tree`.

Also home of ``caret_excerpt``, the two-line "where is the error" picture every
:class:`ParseError` in ``tinygrad_rnn.data`` ends with.

Nothing here recurses: trees can be as deep as memory allows (a degenerate 10,000-level tree
parses, prints, compares and pickles), because every walk keeps its own explicit stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tinygrad_rnn.errors import ArgumentError, DTypeError, ParseError

# PTB writes brackets inside words as -LRB- etc. so that '(' and ')' stay structural; '/' and '*'
# are backslash-escaped in the original treebank. Words are stored unescaped in a Tree.
_BRACKET_ESCAPES = {"(": "-LRB-", ")": "-RRB-", "[": "-LSB-", "]": "-RSB-", "{": "-LCB-",
                    "}": "-RCB-"}
_OTHER_ESCAPES = {"/": "\\/", "*": "\\*"}
_ESCAPES = {**_BRACKET_ESCAPES, **_OTHER_ESCAPES}
_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _ESCAPES))
_UNESCAPE = {v: k for k, v in _ESCAPES.items()}
_UNESCAPE_RE = re.compile("|".join(re.escape(e) for e in _UNESCAPE))
# Only ASCII whitespace separates tokens: SST has words such as "8\u00a01\/2" with a no-break
# space inside, and Unicode-aware \s would split them.
_TOKEN_RE = re.compile(r"[()]|[^ \t\n\r\f\v()]+")
_ASCII_SPACE_RE = re.compile(r"[ \t\n\r\f\v]")
_EXCERPT_WIDTH = 60
_SMALL_LABELS = {str(i): i for i in range(-1, 100)}


def escape_word(word: str) -> str:
    """The canonical PTB spelling of ``word``: ``escape_word("(") == "-LRB-"``, ``a/b -> a\\/b``."""
    if _ESCAPE_RE.search(word) is None:  # fast path: searching is much cheaper than sub
        return word
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], word)


def unescape_word(token: str) -> str:
    """Undo PTB escapes: ``unescape_word("-LRB-") == "("``, ``unescape_word("a\\/b") == "a/b"``."""
    if "-" not in token and "\\" not in token:  # fast path: almost every SST word
        return token
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPE[m.group()], token)


class Tree:
    """A labelled constituency tree node: a leaf has a ``word``, an internal node has ``children``.

    ``word`` is stored unescaped (``"("``, not ``"-LRB-"``); ``str(tree)`` re-escapes it, using the
    exact spelling of the parsed text when that differed from the canonical one, so
    ``str(parse_tree(s)) == s`` for any single-spaced input with plain integer labels.

    >>> t = Tree(3, children=[Tree(2, "It"), Tree(4, children=[Tree(2, "'s"), Tree(3, "good")])])
    >>> str(t), t.leaves(), t.height, t.size
    ("(3 (2 It) (4 (2 's) (3 good)))", ['It', "'s", 'good'], 2, 5)
    """

    __slots__ = ("label", "_word", "_raw", "children")

    def __init__(self, label: int, word: str | None = None,
                 children: Iterable[Tree] | None = None):
        if not isinstance(label, int) or isinstance(label, bool):
            raise DTypeError(f"Tree: argument 'label' must be an int; got {type(label).__name__}")
        kids = [] if children is None else list(children)
        for i, child in enumerate(kids):
            if not isinstance(child, Tree):
                raise DTypeError(f"Tree: children[{i}] must be a Tree; got {type(child).__name__}")
        if (word is None) == (not kids):
            raise ArgumentError("Tree: a node needs exactly one of 'word' (leaf) or a non-empty "
                                f"'children' list (internal); got word={word!r} and "
                                f"{len(kids)} children")
        self.label = label
        self.children = kids
        self._raw = None  # the parsed spelling of the word, kept only when it is not canonical
        self._word = None
        if word is not None:
            self.word = word

    @property
    def word(self) -> str | None:
        """The unescaped word of a leaf, ``None`` for an internal node."""
        return self._word

    @word.setter
    def word(self, value: str | None) -> None:
        if (value is None) != bool(self.children):  # keep "leaf iff it has a word" true
            raise ArgumentError(f"Tree: only a leaf has a word; cannot set word={value!r} on a "
                                f"node with {len(self.children)} children")
        if value is not None:
            if not isinstance(value, str):
                raise DTypeError(f"Tree: 'word' must be a str; got {type(value).__name__}")
            if not value or _ASCII_SPACE_RE.search(value):
                raise ArgumentError("Tree: 'word' must be non-empty without ASCII whitespace; "
                                    f"got {value!r}")
        self._word = value
        self._raw = None  # a new word has no parsed spelling to preserve

    @property
    def is_leaf(self) -> bool:
        """True for a node that carries a word."""
        return self._word is not None

    def leaves(self) -> list[str]:
        """The words under this node, left to right: ``['It', "'s", 'good']``."""
        words, stack = [], [self]
        while stack:
            node = stack.pop()
            if node._word is not None:
                words.append(node._word)
            else:
                stack.extend(reversed(node.children))
        return words

    def nodes(self) -> list[Tree]:
        """Every node in post-order (children before parents, left to right); the root is last."""
        # Pre-order with children pushed left-to-right visits root, right subtree, left subtree;
        # reversing that sequence is exactly left-to-right post-order.
        out, stack = [], [self]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(node.children)
        out.reverse()
        return out

    @property
    def height(self) -> int:
        """Edges on the longest root-to-leaf path (a leaf has height 0)."""
        best, stack = 0, [(self, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > best:
                best = depth
            stack.extend((child, depth + 1) for child in node.children)
        return best

    @property
    def size(self) -> int:
        """Number of nodes, leaves included."""
        count, stack = 0, [self]
        while stack:
            count += 1
            stack.extend(stack.pop().children)
        return count

    def __str__(self) -> str:
        parts, stack = [], [self]
        while stack:
            item = stack.pop()
            if item is None:  # marker: the node opened earlier closes here
                parts.append(")")
                continue
            if parts:
                parts.append(" ")
            if item._word is not None:
                spelled = item._raw if item._raw is not None else escape_word(item._word)
                parts.append(f"({item.label} {spelled})")
            else:
                parts.append(f"({item.label}")
                stack.append(None)
                stack.extend(reversed(item.children))
        return "".join(parts)

    def __repr__(self) -> str:
        if self._word is not None:
            return f"Tree({self.label}, {self._word!r})"
        text = str(self)
        if len(text) > 50:
            text = text[:47] + "..."
        return f"Tree({self.label}, size={self.size}, {text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tree):
            return NotImplemented
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a.label != b.label or a._word != b._word or len(a.children) != len(b.children):
                return False
            stack.extend(zip(a.children, b.children, strict=True))
        return True

    __hash__ = None  # mutable, so unhashable like list

    def __reduce__(self):
        # Default pickling (and copy.deepcopy) recurses once per level; a flat post-order record
        # list is rebuilt with a stack instead, and keeps words exactly (even ones like a literal
        # "-LRB-" that the PTB text form cannot tell apart from an escaped "(").
        return (_from_records, ([(n.label, n._word, n._raw, len(n.children))
                                 for n in self.nodes()],))


def _from_records(records: list[tuple]) -> Tree:
    stack: list[Tree] = []
    for label, word, raw, arity in records:
        cut = len(stack) - arity  # a node's children are the last `arity` nodes built
        children = stack[cut:]
        del stack[cut:]
        node = _internal(label, children)
        node._word, node._raw = word, raw
        stack.append(node)
    return stack[0]


def _leaf(label: int, token: str) -> Tree:
    """A leaf from a parsed token, skipping validation the parser has already done."""
    node = Tree.__new__(Tree)
    node.label, node.children = label, []
    word = unescape_word(token)
    node._word = word
    if word is token and _ESCAPE_RE.search(token) is None:  # fast path: nothing to escape
        node._raw = None
    else:
        node._raw = None if escape_word(word) == token else token
    return node


def _internal(label: int, children: list[Tree]) -> Tree:
    node = Tree.__new__(Tree)
    node.label, node.children, node._word, node._raw = label, children, None, None
    return node


def caret_excerpt(line: str, column: int) -> str:
    """Two indented lines: ``line`` (a window of ~60 chars around ``column``) and a caret under it.

    >>> print(caret_excerpt("(x (2 It))", 2))
      (x (2 It))
       ^
    """
    col0 = max(column - 1, 0)
    start, end = 0, len(line)
    if len(line) > _EXCERPT_WIDTH + 10:
        start = max(0, col0 - _EXCERPT_WIDTH // 2)
        end = min(len(line), start + _EXCERPT_WIDTH)
        start = max(0, end - _EXCERPT_WIDTH)
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(line) else ""
    # Tabs and control bytes would shift or garble the caret; show them as one placeholder each.
    shown = "".join(c if c.isprintable() else (" " if c == "\t" else "?") for c in line[start:end])
    return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + col0 - start)}^"


def describe_token(token: str | None, end: str = "end of input") -> str:
    """``'x'`` quoted (shortened past 30 chars), or ``end`` for a missing token."""
    if token is None:
        return end
    return repr(token if len(token) <= 30 else token[:27] + "...")


def _fail(text: str, offset: int, expected: str, got: str, func: str,
          path: str | None, lineno: int | None) -> ParseError:
    """Build the ParseError for a problem at character ``offset`` of ``text``."""
    if lineno is None:  # free text: the line is counted inside it
        line = text.count("\n", 0, offset) + 1
        line_start = text.rfind("\n", 0, offset) + 1
    else:  # one line of a file: the caller knows the line number
        line, line_start = lineno, 0
    line_end = text.find("\n", line_start)
    line_text = text[line_start:] if line_end < 0 else text[line_start:line_end]
    column = offset - line_start + 1
    where = f"{path}, line {line}" if path is not None else f"line {line}"
    return ParseError(f"{func}: expected {expected} at {where}, column {column}; got {got}\n"
                      f"{caret_excerpt(line_text, column)}", line=line, column=column)


def _parse_label(token: str | None) -> int | None:
    """The int value of a label token, or None when it is not a plain (ASCII) integer."""
    if token in _SMALL_LABELS:  # fast path: treebank labels are small
        return _SMALL_LABELS[token]
    if token is None or not token.isascii():
        return None
    digits = token[1:] if token[0] == "-" else token
    return int(token) if digits.isdigit() else None


class _TreeParser:
    """One left-to-right pass over the tokens with an explicit stack of open nodes."""

    def __init__(self, text: str, func: str, path: str | None, lineno: int | None):
        self.text, self.func, self.path, self.lineno = text, func, path, lineno
        self.end = "end of input" if lineno is None else "end of line"
        self.stack: list[list] = []  # open nodes: [label, word token or None, children, offset]
        self.root: Tree | None = None

    def fail(self, offset: int, expected: str, got: str) -> ParseError:
        return _fail(self.text, offset, expected, got, self.func, self.path, self.lineno)

    def run(self) -> Tree:
        tokens = _TOKEN_RE.finditer(self.text)
        for match in tokens:
            tok, pos = match.group(), match.start()
            if self.root is not None:
                extra = " (unbalanced ')')" if tok == ")" else ""
                raise self.fail(pos, f"{self.end} after the tree closed{extra}",
                                describe_token(tok))
            if tok == "(":
                self.open(pos, next(tokens, None))
            elif tok == ")":
                self.close(pos)
            else:
                self.word(pos, tok)
        if self.stack:
            line, column = self.line_col(self.stack[-1][3])
            raise self.fail(len(self.text), "')'", f"{self.end} (the node opened at line "
                            f"{line}, column {column} is not closed)")
        if self.root is None:
            raise self.fail(len(self.text), "a tree starting with '('", self.end)
        return self.root

    def line_col(self, offset: int) -> tuple[int, int]:
        line_start = self.text.rfind("\n", 0, offset) + 1
        line = self.lineno or self.text.count("\n", 0, offset) + 1
        return line, offset - line_start + 1

    def open(self, pos: int, label_match: re.Match | None) -> None:
        if self.stack and self.stack[-1][1] is not None:
            raise self.fail(pos, f"')' after the word {describe_token(self.stack[-1][1])} (a "
                            "node has either a word or subtrees, not both)", "'('")
        label_tok = None if label_match is None else label_match.group()
        label = _parse_label(label_tok)
        if label is None:
            at = len(self.text) if label_match is None else label_match.start()
            raise self.fail(at, "an integer label after '('", describe_token(label_tok, self.end))
        self.stack.append([label, None, [], pos])

    def close(self, pos: int) -> None:
        if not self.stack:
            raise self.fail(pos, "'(' to start a tree", "')' (unbalanced ')')")
        label, word, children, _ = self.stack.pop()
        if word is None and not children:
            raise self.fail(pos, "a word or '(' after the label (empty node or leaf without a "
                            "word)", "')'")
        node = _leaf(label, word) if word is not None else _internal(label, children)
        if self.stack:
            self.stack[-1][2].append(node)
        else:
            self.root = node

    def word(self, pos: int, tok: str) -> None:
        if not self.stack:
            raise self.fail(pos, "'(' to start a tree", describe_token(tok))
        top = self.stack[-1]
        if top[2]:
            raise self.fail(pos, "'(' or ')' after a subtree (a node has either a word or "
                            "subtrees, not both)", describe_token(tok))
        if top[1] is not None:
            raise self.fail(pos, f"')' after the word {describe_token(top[1])}",
                            describe_token(tok))
        top[1] = tok


def parse_tree(text: str) -> Tree:
    """Parse one PTB-style tree such as ``(3 (2 It) (4 (2 's) (3 good)))``.

    Grammar: ``tree := '(' INT (WORD | tree+) ')'``; ASCII whitespace separates tokens (a
    no-break space, U+00A0, stays inside a word as in SST's ``8 1\\/2``) and a tree may span
    lines. Escapes (``-LRB-``, ``\\/`` ...) are undone in ``Tree.word``. Malformed text raises
    :class:`ParseError` naming line, 1-based column (in characters) and showing a caret.

    >>> parse_tree("(3 (2 It) (4 (2 's) (3 good)))").leaves()
    ['It', "'s", 'good']
    """
    return parse_tree_text(text, "parse_tree")


def parse_tree_text(text: str, func: str, path: str | None = None,
                    lineno: int | None = None) -> Tree:
    """:func:`parse_tree` for readers: errors name ``func`` and, if given, ``path`` and ``lineno``
    (then ``text`` is that one line of the file)."""
    if not isinstance(text, str):
        hint = " (decode bytes first)" if isinstance(text, (bytes, bytearray)) else ""
        raise DTypeError(f"{func}: argument 'text' must be a str; got {type(text).__name__}{hint}")
    return _TreeParser(text, func, path, lineno).run()
