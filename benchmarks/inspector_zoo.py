"""The models the inspector page is measured on: one graph each, after
``backward(retain_grads=True)``, with every gate recorded (``fused=False``).

* ``lstm``: a 2-layer LSTM character model, T=12 (embedding -> LSTM x2 -> linear, cross-entropy);
* ``bigru``: a bidirectional GRU tagger, T=8, batch 2;
* ``seq2seq``: a GRU encoder-decoder with attention, source 6, target 5;
* ``treelstm``: a binary Tree-LSTM on a 17-word sentence, node by node;
* ``elman``: an Elman RNN (tanh) unrolled T=60.

Also ``huge``: an Elman RNN of 5,000+ nodes, for the "opens summarised" check. Sizes are small
(the picture is what is measured, not the arithmetic).
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr

SENTENCE = ("(3 (2 (2 The) (2 film)) (3 (2 (2 ,) (3 (2 despite) (2 (2 its) (2 (2 slow) "
            "(2 start))))) (4 (2 (2 ,) (2 (2 is) (3 (2 a) (3 (2 warm) (2 (2 and) (2 (3 very) "
            "(4 funny))))))) (2 (2 story) (2 .)))))")


def lstm(T: int = 12, V: int = 20, H: int = 32):
    ids = np.random.default_rng(0).integers(0, V, T + 1)
    emb = tr.nn.Embedding(V, 16, rng=0)
    lstm_, head = tr.nn.LSTM(16, H, num_layers=2, fused=False, rng=0), tr.nn.Linear(H, V, rng=1)
    out, _ = lstm_(emb(ids[:-1])[:, None, :])
    loss = tr.F.cross_entropy(head(out[:, 0, :]), ids[1:])
    loss.backward(retain_grads=True)
    return tr.trace(loss, max_values=64)


def bigru(T: int = 8, B: int = 2):
    rng = np.random.default_rng(1)
    model = tr.nn.BiRNNTagger(30, 5, embed_dim=12, hidden_size=10, cell="gru",
                              bidirectional=True, fused=False, rng=1)
    logits = model(rng.integers(0, 30, (T, B)))
    loss = tr.F.cross_entropy(logits.reshape(T * B, 5), rng.integers(0, 5, T * B))
    loss.backward(retain_grads=True)
    return tr.trace(loss, max_values=64)


def seq2seq(S: int = 6, T: int = 5):
    rng = np.random.default_rng(2)
    model = tr.nn.Seq2Seq(12, 12, embed=8, enc_hidden=10, dec_hidden=10, cell="gru",
                          attention=True, fused=False, rng=2)
    src, tgt = rng.integers(3, 12, (S, 1)), rng.integers(3, 12, (T + 1, 1))
    logits = model(src, tgt[:-1])
    loss = tr.F.cross_entropy(logits.reshape(T, 12), tgt[1:, 0])
    loss.backward(retain_grads=True)
    return tr.trace(loss, max_values=64)


def treelstm():
    tree = tr.data.parse_tree(SENTENCE)
    vocab = {w: k for k, w in enumerate(sorted(set(tree.leaves())))}
    model = tr.nn.TreeLSTM(len(vocab), input_size=8, hidden_size=8, rng=3)
    loss = model.loss(tr.nn.build_schedule([tree], vocab), mode="per_node")
    loss.backward(retain_grads=True)
    return tr.trace(loss, max_values=64)


def elman(T: int = 60, H: int = 8):
    rng = np.random.default_rng(4)
    rnn, head = tr.nn.RNN(4, H, fused=False, rng=4), tr.nn.Linear(H, 3, rng=5)
    out, _ = rnn(rng.standard_normal((T, 1, 4)))
    loss = tr.F.cross_entropy(head(out[:, 0, :]), rng.integers(0, 3, T))
    loss.backward(retain_grads=True)
    return tr.trace(loss, max_values=64)


def huge(T: int = 1700):
    """An Elman RNN long enough for 5,000+ nodes."""
    return elman(T=T, H=4)


ZOO = {"lstm": lstm, "bigru": bigru, "seq2seq": seq2seq, "treelstm": treelstm, "elman": elman}
