"""Recursive nets over trees (backpropagation through structure): the public names in one place.

* :mod:`~tinygrad_rnn.nn.tree_schedule`: ``build_schedule`` flattens trees once into a
  ``TreeSchedule`` (node arrays + per-level gathers); ``merge_schedules`` batches them.
* :mod:`~tinygrad_rnn.nn.tree_encoder`: the per-node and level-batched drivers, ``tree_gather``,
  ``tree_loss``, ``tree_accuracy``.
* :mod:`~tinygrad_rnn.nn.tree_models`: ``RecursiveNN``, ``RNTN``, ``TreeLSTM``.
* :mod:`~tinygrad_rnn.nn.tree_fused`: the whole-tree ops ``tree_rnn``, ``tree_lstm`` (the
  level-batched mode of RecursiveNN and the binary TreeLSTM) and their ``tree_levels``.
"""

from tinygrad_rnn.nn.tree_encoder import TreeEncoder, tree_accuracy, tree_gather, tree_loss
from tinygrad_rnn.nn.tree_fused import tree_levels, tree_lstm, tree_rnn
from tinygrad_rnn.nn.tree_models import RNTN, RecursiveNN, TreeLSTM
from tinygrad_rnn.nn.tree_schedule import Level, TreeSchedule, build_schedule, merge_schedules

__all__ = [
    "RecursiveNN",
    "RNTN",
    "TreeLSTM",
    "TreeEncoder",
    "TreeSchedule",
    "Level",
    "build_schedule",
    "merge_schedules",
    "tree_gather",
    "tree_rnn",
    "tree_lstm",
    "tree_levels",
    "tree_loss",
    "tree_accuracy",
]
