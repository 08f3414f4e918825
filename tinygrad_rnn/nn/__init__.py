"""Layer 5: modules, cells and recurrent layers (PyTorch-compatible names and shapes)."""

from tinygrad_rnn.nn.cells import GRUCell, LSTMCell, RNNCell
from tinygrad_rnn.nn.layers import Dropout, Embedding, Linear, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_rnn.nn.losses import perplexity, sequence_cross_entropy
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.patterns import (
    BiRNNTagger,
    HopfieldNetwork,
    SequenceClassifier,
    SequenceGenerator,
    aggregate,
    attention_weights,
    pad_sequences,
)
from tinygrad_rnn.nn.recurrent import GRU, LSTM, RNN
from tinygrad_rnn.nn.seq2seq import Seq2Seq, inverse_sigmoid_schedule
from tinygrad_rnn.nn.torch_bridge import from_torch
from tinygrad_rnn.nn.tree import (
    RNTN,
    RecursiveNN,
    TreeLSTM,
    TreeSchedule,
    build_schedule,
    merge_schedules,
    tree_accuracy,
    tree_loss,
)
from tinygrad_rnn.nn.variants import ConditionedRNNCell, JordanRNN

__all__ = ["Module", "Linear", "Embedding", "Dropout", "Tanh", "ReLU", "Sigmoid", "Sequential",
           "from_torch", "RNNCell", "LSTMCell", "GRUCell", "RNN",
           "LSTM", "GRU", "JordanRNN", "ConditionedRNNCell", "sequence_cross_entropy", "Seq2Seq",
           "inverse_sigmoid_schedule", "BiRNNTagger", "SequenceClassifier", "SequenceGenerator",
           "HopfieldNetwork", "aggregate", "attention_weights", "pad_sequences",
           "RecursiveNN", "RNTN", "TreeLSTM", "TreeSchedule", "build_schedule", "merge_schedules",
           "tree_accuracy", "tree_loss",
           "perplexity"]
