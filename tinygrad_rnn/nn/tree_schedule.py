"""Tree schedules: a batch of trees flattened once, at load time, into integer arrays.

A recursive net computes a state for every tree node from its children's states. Two ways to run
that (both in :mod:`tinygrad_rnn.nn.tree_encoder`) read the same schedule:

* per node: visit the nodes in post-order (``order``), one small set of ops per node;
* level-batched: group the nodes by *height* h (leaves h = 0, a parent is one above its highest
  child). Every child of a level-h node lies in a lower level, so a whole level (across every
  tree of the batch) is one gather + matmul + activation.

Node ids are positions in the level-major order: level 0 (all leaves, tree by tree), then level 1,
and so on. The flat node-state buffer of the batched mode is the list of level tensors: node
``i`` is row ``i - levels[height[i]].start`` of level ``height[i]``. Per level the schedule keeps
``picks``, the (slot, row) pairs that tell the ``tree_gather`` op where each child slot is read.

A node object reachable twice (a shared subtree: the trees form a DAG) gets one id, so it is
encoded once and the gradients of both uses add up. Nothing here recurses: a 10,000-deep tree
is fine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tinygrad_rnn.data.tree_parse import Tree
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError

_SNIPPET = 60


@dataclass(frozen=True)
class Level:
    """The nodes of one height: node ids ``start .. stop-1``, each with ``arity`` child slots.

    sources: the levels the children are read from (ascending); picks[k] = (pos, rows): flat slot
    positions (node_row * arity + slot) filled from ``rows`` of level ``sources[k]``.
    """

    height: int
    start: int
    stop: int
    arity: int
    sources: tuple = ()
    picks: tuple = ()

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass
class TreeSchedule:
    """A batch of B trees (N distinct nodes) as arrays; build with :func:`build_schedule`.

    Per node, indexed by node id (level-major order): ``height``, ``labels`` (gold class),
    ``word_ids`` (vocabulary id, -1 for internal nodes), ``tree`` (which tree of the batch),
    ``depth`` (edges from its tree's root; the shortest path when shared), ``words`` (str or
    None). Children of node i: ``child_ids[child_ptr[i]:child_ptr[i + 1]]``, left to right.
    ``order``: node ids in post-order, tree after tree (the per-node evaluation order; position
    k in it is the node's ``tree_node`` number in pictures). ``roots``: (B,) node ids.
    """

    height: np.ndarray
    child_ptr: np.ndarray
    child_ids: np.ndarray
    labels: np.ndarray
    word_ids: np.ndarray
    tree: np.ndarray
    depth: np.ndarray
    order: np.ndarray
    roots: np.ndarray
    words: tuple
    levels: list = field(default_factory=list)
    root_picks: tuple = ((), ())

    @property
    def num_nodes(self) -> int:
        return len(self.height)

    @property
    def num_trees(self) -> int:
        return len(self.roots)

    @property
    def leaf_ids(self) -> np.ndarray:
        """Word ids of the leaves (level 0, rows in node-id order)."""
        return self.word_ids[: self.levels[0].stop]

    @property
    def max_arity(self) -> int:
        return max(lv.arity for lv in self.levels)

    def children(self, i: int) -> np.ndarray:
        return self.child_ids[self.child_ptr[i] : self.child_ptr[i + 1]]

    def where(self, i: int) -> str:
        """'tree b, node k' for node id i, k its post-order position within tree b."""
        pos = np.flatnonzero(self.order == i)[0]
        b = int(self.tree[i])
        first = int(np.searchsorted(self.tree[self.order], b))
        word = f" (word {self.words[i]!r})" if self.words[i] is not None else ""
        return f"tree {b}, node {pos - first} in post-order{word}"

    def check(
        self,
        func: str,
        *,
        num_embeddings: int | None = None,
        num_classes: int | None = None,
        binary: bool = False,
    ) -> None:
        """Raise a clear error if this schedule does not fit a model of these sizes."""
        leaves = self.leaf_ids
        if num_embeddings is not None and leaves.size and leaves.max() >= num_embeddings:
            i = int(np.flatnonzero(leaves >= num_embeddings)[0])
            raise ArgumentError(
                f"{func}: word id {int(leaves[i])} at {self.where(i)} is out of range for an "
                f"embedding of {num_embeddings} rows; was the schedule built with a larger "
                f"vocabulary than the model's vocab_size?"
            )
        bad = (self.labels < 0) | (self.labels >= (num_classes or 0))
        if num_classes is not None and bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ArgumentError(
                f"{func}: label {int(self.labels[i])} at {self.where(i)} is out of range "
                f"[0, {num_classes}) (num_classes={num_classes})"
            )
        if binary:
            arity = np.diff(self.child_ptr)
            bad = np.flatnonzero((arity != 0) & (arity != 2))
            if bad.size:
                i = int(bad[0])
                raise ShapeError(
                    f"{func}: needs binary trees (2 children per internal node); "
                    f"{self.where(i)} has {int(arity[i])} children. Binarize the "
                    f"input with tr.data.binarize, or use TreeLSTM(variant="
                    f"'childsum'), which takes any number of children"
                )


def _lookup(vocab) -> tuple:
    """(mapping, unk_id, lower) from a Vocab or a plain {word: id} mapping."""
    if isinstance(vocab, Mapping):
        return vocab, None, False
    if hasattr(vocab, "stoi") and hasattr(vocab, "unk_id"):
        return vocab.stoi, vocab.unk_id, bool(getattr(vocab, "lower", False))
    raise DTypeError(
        f"build_schedule: argument 'vocab' must be a tr.data.Vocab or a dict "
        f"{{word: id}}; got {type(vocab).__name__}"
    )


def _snippet(node: Tree) -> str:
    text = str(node) if node.height < 20 else f"({node.label} ...)"  # str() is O(size)
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."


class _Flattener:
    """Walks trees once, giving each distinct node object an id in creation (post-)order."""

    def __init__(self, vocab, num_classes):
        self.stoi, self.unk, self.lower = _lookup(vocab)
        self.num_classes = num_classes
        self.ids: dict[int, int] = {}  # id(Tree object) -> creation index
        self.height, self.kids, self.labels, self.word_ids = [], [], [], []
        self.tree, self.words, self.roots = [], [], []

    def add(self, root: Tree, b: int) -> None:
        if not isinstance(root, Tree):
            raise DTypeError(
                f"build_schedule: trees[{b}] must be a tr.data.Tree; got {type(root).__name__}"
            )
        stack, active, k = [(root, False)], set(), 0
        while stack:  # iterative post-order; 'active' holds the path, to catch cycles
            node, expanded = stack.pop()
            key = id(node)
            if expanded:
                active.discard(key)
                self._new(node, b, k)
                k += 1
            elif key not in self.ids:
                if key in active:
                    raise ArgumentError(
                        f"build_schedule: trees[{b}] contains a cycle: a node "
                        f"(label {node.label}) is its own descendant"
                    )
                active.add(key)
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(node.children))
        self.roots.append(self.ids[id(root)])

    def _new(self, node: Tree, b: int, k: int) -> None:
        label = node.label
        if self.num_classes is not None and not 0 <= label < self.num_classes:
            raise ArgumentError(
                f"build_schedule: tree {b}, node {k} in post-order "
                f"{_snippet(node)!r}: label {label} is out of range "
                f"[0, {self.num_classes})"
            )
        kids = [self.ids[id(c)] for c in node.children]
        self.ids[id(node)] = len(self.height)
        self.height.append(1 + max(self.height[c] for c in kids) if kids else 0)
        self.kids.append(kids)
        self.labels.append(label)
        self.tree.append(b)
        self.words.append(node.word)
        self.word_ids.append(self._word_id(node, b, k) if node.word is not None else -1)

    def _word_id(self, node: Tree, b: int, k: int) -> int:
        word = node.word.lower() if self.lower else node.word
        idx = self.stoi.get(word, self.unk)
        if idx is None:
            raise ArgumentError(
                f"build_schedule: tree {b}, node {k} in post-order: word "
                f"{node.word!r} is not in the vocabulary, which has no unknown "
                f"token (build the Vocab with unk='<unk>')"
            )
        if not isinstance(idx, (int, np.integer)) or idx < 0:
            raise ArgumentError(
                f"build_schedule: vocabulary id of {node.word!r} must be an int >= 0; got {idx!r}"
            )
        return int(idx)

    def depths(self) -> np.ndarray:
        """Edges from the root; reverse creation order visits every parent before its kids."""
        depth = np.full(len(self.height), np.iinfo(np.int64).max, dtype=np.int64)
        depth[self.roots] = 0
        for i in range(len(self.height) - 1, -1, -1):
            for c in self.kids[i]:
                if depth[i] + 1 < depth[c]:
                    depth[c] = depth[i] + 1
        return depth


def build_schedule(trees: Sequence[Tree], vocab, num_classes: int | None = 5) -> TreeSchedule:
    """Flatten ``trees`` into a :class:`TreeSchedule` (do it once, when the data is loaded).

    vocab: a ``tr.data.Vocab`` (unknown words get its unk id) or a dict {word: id}.
    num_classes: labels must lie in [0, num_classes) (``None``: not checked here).
    Trees may share subtree objects (within and across trees): each is encoded once.

    >>> s = build_schedule([tr.data.parse_tree("(3 (2 a) (4 b))")], {"a": 0, "b": 1})
    >>> s.num_nodes, [lv.size for lv in s.levels]
    (3, [2, 1])
    """
    if isinstance(trees, Tree) or not isinstance(trees, Sequence):
        raise DTypeError(
            f"build_schedule: argument 'trees' must be a list of Trees; got {type(trees).__name__}"
        )
    if not trees:
        raise ArgumentError("build_schedule: argument 'trees' is empty")
    fl = _Flattener(vocab, num_classes)
    for b, tree in enumerate(trees):
        fl.add(tree, b)
    ptr = np.concatenate([[0], np.cumsum([len(k) for k in fl.kids])]).astype(np.int64)
    kids = np.fromiter((c for ks in fl.kids for c in ks), dtype=np.int64, count=int(ptr[-1]))
    arrays = dict(
        height=np.asarray(fl.height, np.int64),
        labels=np.asarray(fl.labels, np.int64),
        word_ids=np.asarray(fl.word_ids, np.int64),
        tree=np.asarray(fl.tree, np.int64),
        depth=fl.depths(),
    )
    n = len(fl.height)
    return _finish(arrays, ptr, kids, np.arange(n), np.asarray(fl.roots, np.int64), tuple(fl.words))


def merge_schedules(schedules: Sequence[TreeSchedule]) -> TreeSchedule:
    """One schedule for the trees of several (e.g. per-tree schedules built once, batched anew
    each epoch). Pure array work: no tree is walked again. Tree indices are renumbered 0..B-1."""
    if not schedules or not all(isinstance(s, TreeSchedule) for s in schedules):
        raise DTypeError("merge_schedules: expected a non-empty list of TreeSchedule")
    if len(schedules) == 1:
        return schedules[0]
    offs = np.cumsum([0] + [s.num_nodes for s in schedules])
    toffs = np.cumsum([0] + [s.num_trees for s in schedules])
    cat = np.concatenate
    arrays = {
        k: cat([getattr(s, k) for s in schedules])
        for k in ("height", "labels", "word_ids", "depth")
    }
    arrays["tree"] = cat([s.tree + t for s, t in zip(schedules, toffs)])
    eoffs = np.cumsum([0] + [len(s.child_ids) for s in schedules])
    ptr = cat([[0]] + [s.child_ptr[1:] + e for s, e in zip(schedules, eoffs)])
    kids = cat([s.child_ids + o for s, o in zip(schedules, offs)])
    order = cat([s.order + o for s, o in zip(schedules, offs)])
    roots = cat([s.roots + o for s, o in zip(schedules, offs)])
    words = tuple(w for s in schedules for w in s.words)
    return _finish(arrays, ptr.astype(np.int64), kids, order, roots, words)


def _finish(arrays: dict, ptr, kids, order, roots, words) -> TreeSchedule:
    """Renumber nodes level-major (stable sort by height) and build the per-level gathers."""
    perm = np.argsort(arrays["height"], kind="stable")  # perm[new id] = old id
    new_of = np.empty_like(perm)
    new_of[perm] = np.arange(len(perm))
    counts = np.diff(ptr)[perm]
    new_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    take = np.repeat(ptr[perm], counts) + np.arange(new_ptr[-1]) - np.repeat(new_ptr[:-1], counts)
    sched = TreeSchedule(
        child_ptr=new_ptr,
        child_ids=new_of[kids[take]] if take.size else kids[:0],
        order=new_of[order],
        roots=new_of[roots],
        words=tuple(words[i] for i in perm),
        **{k: v[perm] for k, v in arrays.items()},
    )
    starts = np.searchsorted(sched.height, np.arange(int(sched.height[-1]) + 2))
    sched.levels = _levels(sched, starts)
    sched.root_picks = _picks(sched.height, starts, sched.roots)
    return sched


def _picks(height, starts, nodes: np.ndarray, slots=None) -> tuple:
    """(sources, picks) to gather ``nodes`` into flat slots ``slots`` (default 0..n-1)."""
    slots = np.arange(len(nodes), dtype=np.int64) if slots is None else slots
    src = height[nodes]
    rows = nodes - starts[src]
    sources = np.unique(src)
    picks = tuple(
        (np.ascontiguousarray(slots[src == k]), np.ascontiguousarray(rows[src == k]))
        for k in sources
    )
    return tuple(int(k) for k in sources), picks


def _levels(s: TreeSchedule, bounds: np.ndarray) -> list:
    """bounds[h] = first node id of height h (node ids are sorted by height)."""
    levels = [Level(0, 0, int(bounds[1]), 0)]
    for lvl in range(1, len(bounds) - 1):
        a, b = int(bounds[lvl]), int(bounds[lvl + 1])
        counts = np.diff(s.child_ptr[a : b + 1])
        m = int(counts.max())
        ch = s.child_ids[s.child_ptr[a] : s.child_ptr[b]]
        first = np.repeat(s.child_ptr[a:b] - s.child_ptr[a], counts)
        slot = np.arange(len(ch)) - first
        pos = np.repeat(np.arange(b - a), counts) * m + slot
        sources, picks = _picks(s.height, bounds, ch, pos)
        levels.append(Level(lvl, a, b, m, sources, picks))
    return levels
