"""Recursive nets over trees: RecursiveNN (Socher 2011), RNTN (Socher 2013), TreeLSTM (Tai 2015).

Each node j of a (binary) parse tree gets a vector p_j computed from its children's, with the
same weights at every node: the tree analogue of an RNN sharing W over time steps, trained by
backpropagation through structure. A softmax classifier reads every node,
y_j = softmax(W_s p_j + b_s). Run one with a schedule built once per batch:

>>> vocab = tr.data.Vocab.from_trees(train)
>>> s = build_schedule(train[:25], vocab)                      # when the data is loaded
>>> model = RecursiveNN(len(vocab), dim=30, rng=0)
>>> loss = model.loss(s, mode="batched", at="nodes")          # or mode="per_node" (pictures)
>>> loss.backward()
"""

from __future__ import annotations

import math

import numpy as np

import tinygrad_rnn.functional as F
from tinygrad_rnn import ops
from tinygrad_rnn.errors import ArgumentError
from tinygrad_rnn.nn.init import as_rng, uniform_param
from tinygrad_rnn.nn.layers import Embedding, check_size
from tinygrad_rnn.nn.steps import activate
from tinygrad_rnn.nn.tree_encoder import TreeEncoder
from tinygrad_rnn.nn.tree_fused import fused
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor


def _init_common(
    model,
    vocab_size: int,
    input_size: int,
    hidden: int,
    num_classes: int,
    rng,
    dtype,
    word_scale: float,
) -> None:
    """Word vectors U(-word_scale, word_scale) and the classifier W_s (C, H), b_s = 0."""
    model.vocab_size, model.num_classes, model.hidden_size = vocab_size, num_classes, hidden
    model.embed = Embedding(vocab_size, input_size, rng=rng, dtype=dtype)
    model.embed.weight.data = rng.uniform(-word_scale, word_scale, model.embed.weight.shape).astype(
        model.embed.weight.dtype
    )
    model.embed.weight.name = "L"  # Socher's word-vector matrix L; pictures show grad L^(node)
    model.W_s = uniform_param(rng, (num_classes, hidden), 1 / math.sqrt(hidden), "W_s", dtype)
    model.b_s = _zeros(num_classes, "b_s", model.W_s.dtype)


def _zeros(n: int, name: str, dtype) -> Tensor:
    return Tensor(np.zeros(n, dtype=dtype), requires_grad=True, name=name)


class RecursiveNN(TreeEncoder):
    """Socher et al. 2011/2013 recursive neural network on binary trees (d = ``dim``).

        leaf:      p = L[word]                                  (word vector, (d,))
        internal:  p = tanh(W [c1; c2] + b)                     W (d, 2d), b (d,)
        every node: y = softmax(W_s p + b_s)                    W_s (C, d)

    W starts at 0.5 [I I] + U(-1/sqrt(2d), 1/sqrt(2d)) noise: a parent begins as the average of
    its children, which keeps signals from fading through deep trees early in training.
    Call: ``model(schedule, mode="batched" | "per_node", at="nodes" | "root") -> logits``.
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int = 30,
        num_classes: int = 5,
        rng=None,
        dtype=None,
        word_scale: float = 0.1,
    ):
        check_size(type(self).__name__, vocab_size=vocab_size, dim=dim, num_classes=num_classes)
        rng = as_rng(rng)
        _init_common(self, vocab_size, dim, dim, num_classes, rng, dtype, word_scale)
        self.dim = dim
        self.W = uniform_param(rng, (dim, 2 * dim), 1 / math.sqrt(2 * dim), "W", dtype)
        self.W.data += 0.5 * np.hstack([np.eye(dim), np.eye(dim)]).astype(self.W.dtype)
        self.b = _zeros(dim, "b", self.W.dtype)

    def leaf(self, x: Tensor):
        return x, x

    def compose(self, kids: Tensor):
        """kids (n, 2d) = [c1; c2] -> p (n, d)."""
        p = F.linear(kids, self.W, self.b).tanh()
        return p, p

    def compose_tree(self, leaf_state: Tensor, schedule):
        """All internal nodes as one ``tree_rnn`` op: leaf states (N0, d) -> p (N, d). A subclass
        with its own ``compose`` (RNTN) keeps the per-level ops."""
        if type(self).compose is not RecursiveNN.compose:
            return None
        return fused(ops.tree_rnn, leaf_state, self.W, self.b, schedule)

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, dim={self.dim}, num_classes={self.num_classes}"


class RNTN(RecursiveNN):
    """Recursive neural tensor network (Socher et al. 2013): a bilinear term per output unit.

        x = [c1; c2] (2d,)
        p = tanh(x^T V^[1:d] x + W x + b)       V (d, 2d, 2d): slice k gives unit k's x^T V^[k] x

    Batched as u = x V_flat^T (n, d * 2d) with V_flat = V.reshape(d * 2d, 2d), then
    (x^T V^[k] x)_k = sum_i u[k, i] x_i. V starts at U(-1/(4d), 1/(4d)): the tensor term is a
    small correction to the RecursiveNN at first.
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int = 25,
        num_classes: int = 5,
        rng=None,
        dtype=None,
        word_scale: float = 0.1,
    ):
        rng = as_rng(rng)
        super().__init__(vocab_size, dim, num_classes, rng, dtype, word_scale)
        self.V = uniform_param(rng, (dim, 2 * dim, 2 * dim), 1 / (4 * dim), "V", dtype)

    def compose(self, kids: Tensor):
        """kids (n, 2d) -> p (n, d)."""
        n, d = kids.shape[0], self.dim
        u = F.matmul(kids, self.V.reshape(d * 2 * d, 2 * d).T).reshape(n, d, 2 * d)
        bilinear = (u * kids.reshape(n, 1, 2 * d)).sum(axis=2)
        p = (bilinear + F.linear(kids, self.W, self.b)).tanh()
        return p, p


class TreeLSTM(TreeEncoder):
    """Tree-LSTM (Tai, Socher and Manning 2015), words at the leaves (constituency trees).

    The state of node j is [h_j; c_j] (2H). With sigma the logistic function:

    leaves (word vector x):
        [i; o; u] = W_x x + b_x,   c = sigma(i) * tanh(u),   h = sigma(o) * tanh(c)
    variant "nary" (binary N-ary, children h_1, h_2, c_1, c_2; needs binary trees):
        [i; o; u; f_1; f_2] = U [h_1; h_2] + b              U (5H, 2H)
        c = sigma(i) * tanh(u) + sum_l sigma(f_l) * c_l,   h = sigma(o) * tanh(c)
    variant "childsum" (any number of children k):
        h~ = sum_k h_k,  [i; o; u] = U_iou h~ + b_iou,  f_k = sigma(U_f h_k + b_f)
        c = sigma(i) * tanh(u) + sum_k f_k * c_k,       h = sigma(o) * tanh(c)

    Each child has its own forget gate, so a parent can keep one subtree and drop another.
    The classifier reads h. Weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases 0.
    """

    def __init__(
        self,
        vocab_size: int,
        input_size: int = 100,
        hidden_size: int = 100,
        num_classes: int = 5,
        variant: str = "nary",
        rng=None,
        dtype=None,
        word_scale: float = 0.1,
    ):
        if variant not in ("nary", "childsum"):
            raise ArgumentError(
                f"TreeLSTM: argument 'variant' must be 'nary' or 'childsum'; got {variant!r}"
            )
        check_size(
            "TreeLSTM",
            vocab_size=vocab_size,
            input_size=input_size,
            hidden_size=hidden_size,
            num_classes=num_classes,
        )
        rng = as_rng(rng)
        _init_common(self, vocab_size, input_size, hidden_size, num_classes, rng, dtype, word_scale)
        H, self.input_size, self.variant = hidden_size, input_size, variant
        self.binary = variant == "nary"
        self.W_x = uniform_param(rng, (3 * H, input_size), 1 / math.sqrt(input_size), "W_x", dtype)
        self.b_x = _zeros(3 * H, "b_x", self.W_x.dtype)
        if variant == "nary":
            self.U = uniform_param(rng, (5 * H, 2 * H), 1 / math.sqrt(2 * H), "U", dtype)
            self.b = _zeros(5 * H, "b", self.W_x.dtype)
        else:
            self.U_iou = uniform_param(rng, (3 * H, H), 1 / math.sqrt(H), "U_iou", dtype)
            self.b_iou = _zeros(3 * H, "b_iou", self.W_x.dtype)
            self.U_f = uniform_param(rng, (H, H), 1 / math.sqrt(H), "U_f", dtype)
            self.b_f = _zeros(H, "b_f", self.W_x.dtype)

    def leaf(self, x: Tensor):
        with scope(role="gates"):
            i, o, u = F.split(F.linear(x, self.W_x, self.b_x), 3, axis=1)
        return self._finish(i, o, u, None)

    def compose(self, kids: Tensor):
        """kids (n, m * 2H) = [h_1; c_1; ...; h_m; c_m] -> ([h; c] (n, 2H), h (n, H))."""
        n, H = kids.shape[0], self.hidden_size
        h, c = F.split(kids.reshape(n, -1, 2 * H), 2, axis=2)  # (n, m, H) each
        with scope(role="gates"):
            if self.variant == "nary":
                z = F.linear(h.reshape(n, 2 * H), self.U, self.b)
                i, o, u, f = F.split(z, [H, H, H, 2 * H], axis=1)
            else:
                i, o, u = F.split(F.linear(h.sum(axis=1), self.U_iou, self.b_iou), 3, axis=1)
                f = F.linear(h, self.U_f, self.b_f)
        with scope(role="gate_f"):  # one forget gate per child: (n, m, H)
            f = f.sigmoid().reshape(n, 2, H) if self.variant == "nary" else f.sigmoid()
        with scope(role="c"):
            fc = (f * c).sum(axis=1)
        return self._finish(i, o, u, fc)

    def compose_tree(self, leaf_state: Tensor, schedule):
        """Binary ("nary"): every node as one ``tree_lstm`` op, leaf [h; c] (N0, 2H) -> h (N, H).
        Child-sum trees have any number of children: they keep the per-level ops."""
        if self.variant != "nary":
            return None
        return fused(ops.tree_lstm, leaf_state, self.U, self.b, schedule)

    @staticmethod
    def _finish(i, o, u, fc):
        """c = sigma(i) * tanh(u) [+ sum_k f_k c_k], h = sigma(o) * tanh(c)."""
        i, u, o = activate([("i", i, "sigmoid"), ("u", u, "tanh"), ("o", o, "sigmoid")])
        with scope(role="c"):
            c = i * u if fc is None else i * u + fc
        with scope(role="h"):
            h = o * c.tanh()
        return F.concat([h, c], axis=1), h

    def extra_repr(self) -> str:
        return (
            f"vocab_size={self.vocab_size}, input_size={self.input_size}, hidden_size="
            f"{self.hidden_size}, num_classes={self.num_classes}, variant={self.variant!r}"
        )
