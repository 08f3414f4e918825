"""The sequence patterns of the seeds, as ready-made models (one file per pattern):

* many-to-many, same length, both contexts (h^(t) forward, g^(t) backward; seed 001):
  :class:`BiRNNTagger` (``patterns_tagger.py``).
* many-to-one with the aggregations of seed 003 (last, mean, max, attention):
  :class:`SequenceClassifier` and :func:`aggregate` (``patterns_classify.py``).
* one-to-many, v fed at every step and/or as h^(0), conditioned on y^(t-1) (seed 001):
  :class:`SequenceGenerator` (``patterns_generator.py``).
* the dynamical system s^(t) = f(s^(t-1); theta), seed 002's X_{t+1} = phi(W X_t + Theta):
  :class:`HopfieldNetwork` (``patterns_hopfield.py``).

Generated data on which the choice of pattern matters is in ``patterns_toydata.py``; helpers for
ragged batches (:func:`pad_sequences`) in ``patterns_common.py``. All models are time-major:
ids (T, B), ``lengths`` (B,); padded steps change neither outputs nor gradients.
"""

from tinygrad_rnn.nn.patterns_classify import (
    AGGREGATES,
    SequenceClassifier,
    aggregate,
    attention_weights,
)
from tinygrad_rnn.nn.patterns_common import pad_sequences
from tinygrad_rnn.nn.patterns_generator import CONDITIONS, SequenceGenerator
from tinygrad_rnn.nn.patterns_hopfield import (
    HopfieldNetwork,
    ascii_states,
    flip_signs,
    hamming,
)
from tinygrad_rnn.nn.patterns_tagger import BiRNNTagger
from tinygrad_rnn.nn.patterns_toydata import (
    AGGREGATION_TASKS,
    AMBIGUOUS_WORDS,
    aggregation_task,
    ambiguous_tagging_corpus,
    reversal_pair,
    reversal_pairs,
    seq2seq_batch,
)

__all__ = ["BiRNNTagger", "SequenceClassifier", "aggregate", "attention_weights", "AGGREGATES",
           "SequenceGenerator", "CONDITIONS", "HopfieldNetwork", "hamming", "flip_signs",
           "ascii_states", "pad_sequences", "ambiguous_tagging_corpus", "aggregation_task",
           "AMBIGUOUS_WORDS", "AGGREGATION_TASKS", "reversal_pair", "reversal_pairs",
           "seq2seq_batch"]
