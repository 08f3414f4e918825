"""Running a recursive net over a :class:`TreeSchedule`: per node or level-batched.

A model supplies three pieces, each a function of whole row-blocks so both modes share them:

* ``leaf(x)``: word vectors x (n, D) -> (state (n, S), out (n, H));
* ``compose(kids)``: children side by side, kids (n, m * S) = [s_c1; ...; s_cm] -> (state, out);
* a classifier on ``out``: logits = out W_s^T + b_s, (n, C).

Per node (``mode="per_node"``), every tree node gets its own ops, recorded inside
``tr.scope("tree", tree_node=k, depth=d, role=...)`` (role ``leaf``/``compose``/``classify``;
leaves also carry ``word``), so ``tr.trace`` and ``viz`` can draw backprop through structure.
Level-batched (``mode="batched"``), one ``tree_gather`` + the same ops run per level for all
nodes of that height in the batch; a model with a whole-tree fused op (``compose_tree``:
RecursiveNN, the binary TreeLSTM) runs all levels as that one op instead. Same maths, so the
losses and gradients agree to rounding.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import expansion, ops
from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.tree_schedule import TreeSchedule
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor, apply

MODES = ("batched", "per_node")
TARGETS = ("nodes", "root")


def tree_gather(sources, picks, n: int, m: int) -> Tensor:
    """Children of n nodes, m slots each, read from level tensors: (n, m * S).

    sources: tensors (R_k, S); picks[k] = (pos, rows) int64 arrays: flat slot pos (node * m +
    slot) <- row ``rows`` of sources[k]. Unfilled slots are zero. Backward scatter-adds, so a
    row read twice (a shared subtree) gets both gradients.
    """
    sources = tuple(sources)
    if len(sources) != len(picks) or not sources:
        raise ArgumentError(
            f"tree_gather: got {len(sources)} sources but {len(picks)} picks; "
            f"expected one (pos, rows) pair per source, at least one"
        )
    for k, (src, (pos, rows)) in enumerate(zip(sources, picks)):
        if src.ndim != 2 or len(pos) != len(rows):
            raise ShapeError(
                f"tree_gather: sources[{k}] must be 2-d and picks[{k}] two equal-"
                f"length arrays; got shape {src.shape}, {len(pos)} and {len(rows)}"
            )
        if len(pos) and (
            pos.min() < 0 or pos.max() >= n * m or rows.min() < 0 or rows.max() >= src.shape[0]
        ):
            raise ArgumentError(
                f"tree_gather: picks[{k}] out of range: slots must be in "
                f"[0, {n * m}), rows in [0, {src.shape[0]})"
            )
    return _gather(sources, tuple(picks), n, m)


def _gather(sources, picks, n: int, m: int) -> Tensor:
    # picks made by build_schedule are valid by construction: the drivers skip the checks
    return apply(ops.tree_gather, tuple(sources), {"picks": picks, "n": n, "m": m})


class TreeEncoder(Module):
    """Base of RecursiveNN, RNTN and TreeLSTM: the two drivers, the classifier and the loss.

    Subclasses define ``embed`` (an Embedding), ``W_s`` (C, H), ``b_s`` (C,), ``leaf``,
    ``compose`` and ``binary`` (True if every internal node must have exactly 2 children).
    """

    binary = True
    num_classes: int

    def forward(self, schedule: TreeSchedule, mode: str = "batched", at: str = "nodes"):
        """Logits of the classifier, softmax(W_s p + b_s) before the softmax.

        at="nodes": (N, C), one row per node in node-id order (``schedule.labels`` order);
        at="root": (B, C), one row per tree. mode: "batched" or "per_node" (same numbers).
        """
        self._check(schedule, mode, at)
        if mode == "per_node":
            return self._per_node(schedule, at)
        anchor = expansion.begin()
        logits = self._batched_logits(schedule, at)
        # tr.trace opens the level-batched call into the per-node graph it stands for
        expansion.record([logits], lambda: [self._per_node(schedule, at)], anchor)
        return logits

    def _batched_logits(self, schedule: TreeSchedule, at: str) -> Tensor:
        outs = self._batched(schedule)
        if at == "root":
            sources, picks = schedule.root_picks
            if len(outs) == 1:  # one tensor of every node: its rows are the node ids
                sources, picks = (0,), ((np.arange(schedule.num_trees), schedule.roots),)
            with scope("tree", role="classify"):
                top = _gather([outs[k] for k in sources], picks, schedule.num_trees, 1)
                return F.linear(top, self.W_s, self.b_s)
        with scope("tree", role="classify"):
            return F.linear(outs[0] if len(outs) == 1 else F.concat(outs), self.W_s, self.b_s)

    def encode(self, schedule: TreeSchedule, mode: str = "batched") -> Tensor:
        """Node representations p (the classifier's input): (N, H) in node-id order."""
        self._check(schedule, mode, "nodes")
        if mode == "per_node":
            return self._encode_per_node(schedule)
        anchor = expansion.begin()
        outs = self._batched(schedule)
        p = F.concat(outs) if len(outs) > 1 else outs[0]
        expansion.record([p], lambda: [self._encode_per_node(schedule)], anchor)
        return p

    def _encode_per_node(self, schedule: TreeSchedule) -> Tensor:
        outs = self._per_node_states(schedule)[1]
        return F.concat(outs) if len(outs) > 1 else outs[0]

    def loss(
        self,
        schedule: TreeSchedule,
        mode: str = "batched",
        at: str = "nodes",
        reduction: str = "sum",
    ) -> Tensor:
        """Cross-entropy of the gold labels: at every node (``at="nodes"``) or at the roots.

        L = sum over nodes (or roots) of -log softmax(W_s p_i + b_s)[y_i]; reduction "mean"
        divides by the number of terms.
        """
        logits = self(schedule, mode=mode, at=at)
        return tree_loss(logits, schedule, at=at, reduction=reduction)

    # ---- drivers ---------------------------------------------------------------------------
    def _check(self, schedule, mode: str, at: str) -> None:
        name = type(self).__name__
        if not isinstance(schedule, TreeSchedule):
            raise DTypeError(
                f"{name}: argument 'schedule' must be a TreeSchedule (from "
                f"build_schedule); got {type(schedule).__name__}"
            )
        if mode not in MODES:
            raise ArgumentError(f"{name}: argument 'mode' must be one of {MODES}; got {mode!r}")
        if at not in TARGETS:
            raise ArgumentError(f"{name}: argument 'at' must be one of {TARGETS}; got {at!r}")
        schedule.check(
            name,
            num_embeddings=self.embed.num_embeddings,
            num_classes=self.num_classes,
            binary=self.binary,
        )

    def compose_tree(self, leaf_state: Tensor, s: TreeSchedule):
        """Every level in one fused op: the outputs (N, H) of all nodes in node-id order, from
        the leaf states (N0, S); or None: no such op, so ``compose`` runs once per level."""
        return None

    def _batched(self, s: TreeSchedule) -> list:
        """Level by level: states[h] (n_h, S); returns outs[h] (n_h, H), or [outs (N, H)] when
        ``compose_tree`` fuses the levels."""
        with scope("tree", level=0, role="leaf"):
            state, out = self.leaf(F.embedding(self.embed.weight, s.leaf_ids))
        if len(s.levels) > 1:
            with scope("tree", role="compose"):
                whole = self.compose_tree(state, s)
            if whole is not None:
                return [whole]
        states, outs = [state], [out]
        for lv in s.levels[1:]:
            with scope("tree", level=lv.height, role="compose"):
                kids = _gather([states[k] for k in lv.sources], lv.picks, lv.size, lv.arity)
                state, out = self.compose(kids)
            states.append(state)
            outs.append(out)
        return outs

    def _per_node_states(self, s: TreeSchedule) -> tuple:
        """Post-order, one node at a time: states[i], outs[i] of shape (1, S), (1, H)."""
        states: list = [None] * s.num_nodes
        outs: list = [None] * s.num_nodes
        weight = self.embed.weight
        for k, i in enumerate(s.order.tolist()):
            meta = {"tree_node": k, "depth": int(s.depth[i]), "tree": int(s.tree[i])}
            kids = s.children(i).tolist()
            if not kids:
                with scope("tree", role="leaf", word=s.words[i], **meta):
                    states[i], outs[i] = self.leaf(F.embedding(weight, s.word_ids[i : i + 1]))
                continue
            with scope("tree", role="compose", **meta):
                both = [states[c] for c in kids]
                states[i], outs[i] = self.compose(
                    F.concat(both, axis=1) if len(both) > 1 else both[0]
                )
        return states, outs

    def _per_node(self, s: TreeSchedule, at: str) -> Tensor:
        outs = self._per_node_states(s)[1]
        rank = np.empty(s.num_nodes, dtype=np.int64)
        rank[s.order] = np.arange(s.num_nodes)  # node id -> its tree_node number k
        wanted = s.roots.tolist() if at == "root" else range(s.num_nodes)
        logits = []
        for i in wanted:
            with scope(
                "tree",
                tree_node=int(rank[i]),
                depth=int(s.depth[i]),
                tree=int(s.tree[i]),
                role="classify",
            ):
                logits.append(F.linear(outs[i], self.W_s, self.b_s))
        return F.concat(logits) if len(logits) > 1 else logits[0]


def tree_loss(
    logits: Tensor, schedule: TreeSchedule, at: str = "nodes", reduction: str = "sum"
) -> Tensor:
    """Cross-entropy of ``logits`` (from a tree model, same ``at``) against the gold labels."""
    if at not in TARGETS:
        raise ArgumentError(f"tree_loss: argument 'at' must be one of {TARGETS}; got {at!r}")
    labels = schedule.labels[schedule.roots] if at == "root" else schedule.labels
    if logits.ndim != 2 or logits.shape[0] != len(labels):
        raise ShapeError(
            f"tree_loss: logits must be ({len(labels)}, C) for at={at!r} (one row "
            f"per {'tree' if at == 'root' else 'node'}); got {logits.shape}"
        )
    return F.cross_entropy(logits, labels, reduction=reduction)


def tree_accuracy(logits, schedule: TreeSchedule, at: str = "nodes", neutral: int = 2) -> dict:
    """Fine-grained and binary accuracy of ``logits`` (Tensor or array, rows as ``at``).

    fine: argmax == label over every row. binary (SST convention): rows whose label is not
    ``neutral``; predicted positive iff P(classes above neutral) > P(classes below), computed
    from the same fine-grained softmax. Returns counts too, to pool over batches.
    """
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    y = schedule.labels[schedule.roots] if at == "root" else schedule.labels
    p = np.exp(z - z.max(axis=1, keepdims=True))
    keep = y != neutral
    pos = p[:, neutral + 1 :].sum(axis=1) > p[:, :neutral].sum(axis=1)
    fine_ok = int(np.count_nonzero(z.argmax(axis=1) == y))
    bin_ok = int(np.count_nonzero((pos == (y > neutral))[keep]))
    n, nb = len(y), int(np.count_nonzero(keep))
    return {
        "fine": fine_ok / max(n, 1),
        "binary": bin_ok / max(nb, 1),
        "fine_correct": fine_ok,
        "count": n,
        "binary_correct": bin_ok,
        "binary_count": nb,
    }
