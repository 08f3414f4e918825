"""Data: trees (PTB/SST brackets), vocabularies, CoNLL-U; all readers stream and never recurse.

Generated tasks for the sequence models (tagging, aggregation, digit reversal): ``tr.data.toy``.
"""

from tinygrad_rnn.data import toy
from tinygrad_rnn.data.conllu import Sentence, iter_conllu, read_conllu
from tinygrad_rnn.data.trees import (
    Tree,
    binarize,
    iter_trees,
    load_trees,
    parse_tree,
    tree_stats,
)
from tinygrad_rnn.data.vocab import Vocab

__all__ = ["Tree", "parse_tree", "iter_trees", "load_trees", "binarize", "tree_stats", "Vocab",
           "read_conllu", "iter_conllu", "Sentence", "toy"]
