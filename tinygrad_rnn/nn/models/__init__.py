"""The sequence patterns of the seeds, as ready-made models (one module per pattern):

* ``tagger``: many-to-many, same length, both contexts (h^(t) forward, g^(t) backward; seed
  001): :class:`~tinygrad_rnn.nn.models.tagger.BiRNNTagger`.
* ``classifier``: many-to-one with the aggregations of seed 003 (last, mean, max, attention):
  ``SequenceClassifier``, ``aggregate``, ``attention_weights``.
* ``generator``: one-to-many, v fed at every step and/or as h^(0), conditioned on y^(t-1)
  (seed 001): ``SequenceGenerator``.
* ``hopfield``: the dynamical system s^(t) = f(s^(t-1); theta), seed 002's
  X_{t+1} = phi(W X_t + Theta): ``HopfieldNetwork`` (and ``hamming``, ``flip_signs``,
  ``ascii_states`` for its demos).
* ``inputs``: what they share: argument checks, ragged batches (``pad_sequences``), the
  recurrent encoder chosen by name.

The public names are ``tr.nn.<Name>``. Generated data on which the choice of pattern matters is
:mod:`tinygrad_rnn.data.toy`. All models are time-major: ids (T, B), ``lengths`` (B,); padded
steps change neither outputs nor gradients.
"""
