"""Layer 1: every op defined once (forward + VJP), as an object you import.

``from tinygrad_rnn import ops`` then ``apply(ops.tanh, (x,), {})``: each op is the
:class:`~tinygrad_rnn.ops.registry.Op` its module registered. ``REGISTRY`` maps names to the
same objects, for code that only has a name (tests over every op, a saved graph's labels).
"""

from tinygrad_rnn.ops.elementwise import (
    add,
    div,
    exp,
    log,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sub,
    tanh,
    where,
)
from tinygrad_rnn.ops.linalg import linear, matmul
from tinygrad_rnn.ops.nnops import cross_entropy, dropout, embedding, log_softmax, softmax
from tinygrad_rnn.ops.reduce import max, mean, sum
from tinygrad_rnn.ops.registry import REGISTRY, Op, unbroadcast
from tinygrad_rnn.ops.sequence import lstm_seq, rnn_seq
from tinygrad_rnn.ops.sequence_gru import gru_seq
from tinygrad_rnn.ops.shape import concat, getitem, reshape, split, stack, transpose
from tinygrad_rnn.ops.steps import affine, gru_cell, lstm_cell, rnn_cell
from tinygrad_rnn.ops.tree import tree_gather, tree_lstm, tree_rnn

__all__ = [
    "REGISTRY", "Op", "unbroadcast",
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "tanh", "sigmoid", "relu", "where",
    "sum", "mean", "max", "matmul", "linear",
    "reshape", "transpose", "getitem", "concat", "stack", "split",
    "softmax", "log_softmax", "cross_entropy", "embedding", "dropout",
    "affine", "rnn_cell", "lstm_cell", "gru_cell", "rnn_seq", "lstm_seq", "gru_seq",
    "tree_gather", "tree_rnn", "tree_lstm",
]
