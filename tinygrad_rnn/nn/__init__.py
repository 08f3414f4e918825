"""Layer 5: modules, cells and recurrent layers (PyTorch-compatible names and shapes), the seeds'
sequence models (``nn/models/``) and recursive nets over trees (``nn/tree_*.py``).

Every public name is exported here (``tr.nn.LSTM``, ``tr.nn.BiRNNTagger``, ``tr.nn.TreeLSTM``);
the modules behind them: ``cells`` (RNNCell, LSTMCell, GRUCell), ``steps`` (one step of each
cell as functions), ``recurrent`` (RNN, LSTM, GRU), ``models/`` (tagger, classifier, generator,
hopfield), ``tree_schedule`` / ``tree_encoder`` / ``tree_fused`` / ``tree_models``.
"""

from tinygrad_rnn.nn.cells import GRUCell, LSTMCell, RNNCell
from tinygrad_rnn.nn.layers import Dropout, Embedding, Linear, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_rnn.nn.losses import perplexity, sequence_cross_entropy
from tinygrad_rnn.nn.models.classifier import SequenceClassifier, aggregate, attention_weights
from tinygrad_rnn.nn.models.generator import SequenceGenerator
from tinygrad_rnn.nn.models.hopfield import HopfieldNetwork
from tinygrad_rnn.nn.models.inputs import pad_sequences
from tinygrad_rnn.nn.models.tagger import BiRNNTagger
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.recurrent import GRU, LSTM, RNN
from tinygrad_rnn.nn.seq2seq import Seq2Seq, inverse_sigmoid_schedule
from tinygrad_rnn.nn.torch_bridge import from_torch
from tinygrad_rnn.nn.tree_encoder import TreeEncoder, tree_accuracy, tree_gather, tree_loss
from tinygrad_rnn.nn.tree_fused import tree_levels, tree_lstm, tree_rnn
from tinygrad_rnn.nn.tree_models import RNTN, RecursiveNN, TreeLSTM
from tinygrad_rnn.nn.tree_schedule import Level, TreeSchedule, build_schedule, merge_schedules
from tinygrad_rnn.nn.variants import ConditionedRNNCell, JordanRNN

__all__ = ["Module", "Linear", "Embedding", "Dropout", "Tanh", "ReLU", "Sigmoid", "Sequential",
           "from_torch", "RNNCell", "LSTMCell", "GRUCell", "RNN",
           "LSTM", "GRU", "JordanRNN", "ConditionedRNNCell", "sequence_cross_entropy", "Seq2Seq",
           "inverse_sigmoid_schedule", "BiRNNTagger", "SequenceClassifier", "SequenceGenerator",
           "HopfieldNetwork", "aggregate", "attention_weights", "pad_sequences",
           "RecursiveNN", "RNTN", "TreeLSTM", "TreeSchedule", "build_schedule", "merge_schedules",
           "tree_accuracy", "tree_loss", "TreeEncoder", "Level", "tree_gather", "tree_rnn",
           "tree_lstm", "tree_levels", "perplexity"]
