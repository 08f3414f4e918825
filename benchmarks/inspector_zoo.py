"""The models the inspector page is measured on: the zoo of ``viz.zoo`` (the library's default
layers, the values of tensors of up to 64 elements kept, as ``viz.inspect(loss)`` keeps them):

* ``lstm_char``: a 2-layer LSTM character model, T=12 (embedding -> LSTM x2 -> linear);
* ``gru_tagger``: a bidirectional GRU tagger, T=8, batch 2;
* ``seq2seq_attention``: a GRU encoder-decoder with attention, source 6, target 5;
* ``tree_lstm``: a binary Tree-LSTM on a 17-word sentence;
* ``elman``: an Elman RNN (tanh) unrolled T=60.

Also ``huge``: an Elman RNN of 5,000+ nodes, for the "opens summarised" check.
"""

from __future__ import annotations

import functools

from viz import zoo

MAX_VALUES = 64  # as viz.inspect traces a Tensor


def model(name: str):
    """The traced graph of zoo model ``name``."""
    return zoo.build(name, max_values=MAX_VALUES)


def huge(T: int = 1700):
    """An Elman RNN long enough for 5,000+ nodes."""
    return zoo.elman(T=T, max_values=MAX_VALUES)


ZOO = {name: functools.partial(model, name) for name in zoo.ZOO}
ZOO["huge"] = huge
