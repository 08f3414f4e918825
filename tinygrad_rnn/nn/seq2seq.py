"""Encoder-decoder (seeds 000/001; Cho et al. 2014, Sutskever et al. 2014).

The encoder reads X = (x^(1), ..., x^(n_x)) and summarises it into a context C (its final
state, both directions concatenated); the decoder, of another size and another length, generates
Y from C. ``context`` says how C reaches the decoder (seed 001's three ways): 'init' (h^(0) =
tanh(W_c C + b)), 'input' (C concatenated to every decoder input), or 'both'. ``attention=True``
also lets every decoder step look at the whole sequence of encoder states (dot-product attention
over valid steps), the remedy for a C too small to summarise a long input.

Training runs with teacher forcing: the decoder's input at step t is the true y^(t-1) with
probability ``teacher_forcing`` (per step), else its own previous choice (free running).
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, ShapeError
from tinygrad_rnn.nn.cells import GRUCell, LSTMCell, RNNCell
from tinygrad_rnn.nn.init import as_rng
from tinygrad_rnn.nn.layers import Embedding, Linear
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.recurrent import GRU, LSTM, RNN
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor, initial_state

_KINDS = {"rnn": (RNN, RNNCell), "lstm": (LSTM, LSTMCell), "gru": (GRU, GRUCell)}


class Seq2Seq(Module):
    """src (S, B) ids -> logits (T, B, tgt_vocab). Encoder and decoder sizes may differ."""

    def __init__(self, src_vocab: int, tgt_vocab: int, embed: int = 32, enc_hidden: int = 64,
                 dec_hidden: int = 48, cell: str = "gru", context: str = "both",
                 bidirectional: bool = False, attention: bool = False, fused: bool = True,
                 rng=None):
        if cell not in _KINDS:
            raise ArgumentError(f"Seq2Seq: argument 'cell' must be one of {sorted(_KINDS)}; got "
                                f"{cell!r}")
        if context not in ("init", "input", "both"):
            raise ArgumentError(f"Seq2Seq: argument 'context' must be 'init', 'input' or "
                                f"'both'; got {context!r}")
        rng = as_rng(rng)
        layer, cell_cls = _KINDS[cell]
        self.cell, self.context, self.attention = cell, context, bool(attention)
        self.tgt_vocab = tgt_vocab
        c_size = enc_hidden * (2 if bidirectional else 1)
        self.src_embed = Embedding(src_vocab, embed, rng=rng)
        self.encoder = layer(embed, enc_hidden, bidirectional=bidirectional, fused=fused, rng=rng)
        self.bridge = Linear(c_size, dec_hidden, rng=rng) if context != "input" else None
        self.tgt_embed = Embedding(tgt_vocab, embed, rng=rng)
        dec_in = embed + (c_size if context != "init" else 0)
        self.decoder = cell_cls(dec_in, dec_hidden, fused=fused, rng=rng)
        self.attn = Linear(dec_hidden, c_size, bias=False, rng=rng) if attention else None
        self.out = Linear(dec_hidden + (c_size if attention else 0), tgt_vocab, rng=rng)

    # ---- encoding ----------------------------------------------------------------------------
    def encode(self, src, src_lengths=None) -> tuple:
        """-> decoder state tuple (h[, c], C, memory, mask): batch on axis 0 of every item."""
        src = np.asarray(src)
        if src.ndim != 2:
            raise ShapeError(f"Seq2Seq.encode: argument 'src' must be (S, batch) ids; got "
                             f"{src.shape}")
        with scope("encoder_io"):
            x = self.src_embed(src)
        enc_out, enc_state = self.encoder(x, lengths=src_lengths)
        h_n = enc_state[0] if self.cell == "lstm" else enc_state
        D = 2 if self.encoder.bidirectional else 1
        with scope(role="context"):  # seed 001's context C: what the decoder is told
            C = F.concat([h_n[k] for k in range(D)], axis=-1) if D == 2 else h_n[0]  # (B, c)
        B = src.shape[1]
        H = self.decoder.hidden_size
        with scope("bridge", role="h0"):  # the decoder's initial state s^(0) = tanh(W C + b)
            h0 = (self.bridge(C).tanh() if self.bridge is not None
                  else initial_state(Tensor(np.zeros((B, H), dtype=C.dtype)), "h0"))
        lengths = np.full(B, src.shape[0]) if src_lengths is None else np.asarray(src_lengths)
        mask = np.arange(src.shape[0])[None, :] < lengths[:, None]  # (B, S)
        memory = None
        if self.attention:
            with scope(role="memory"):  # the encoder states attention reads at every step
                memory = enc_out.transpose(1, 0, 2)  # (B, S, c_size)
        if self.cell == "lstm":
            c0 = initial_state(Tensor(np.zeros((B, H), dtype=C.dtype)), "c0")
            return (h0, c0, C, memory, mask)
        return (h0, C, memory, mask)

    # ---- one decoder step --------------------------------------------------------------------
    def decode_step(self, tokens, state) -> tuple:
        """tokens (B,) previous outputs -> (logits (B, V), new state)."""
        *hs, C, memory, mask = state
        x = self.tgt_embed(np.asarray(tokens))
        if self.context != "init":
            with scope(role="x"):  # the cell's input x^(t) = [embed(y^(t-1)); C]
                x = F.concat([x, C], axis=-1)
        if self.cell == "lstm":
            hs = list(self.decoder(x, (hs[0], hs[1])))
        else:
            hs = [self.decoder(x, hs[0])]
        feat = hs[0]
        if self.attention:
            with scope("attention"):
                feat = F.concat([feat, self._attend(hs[0], memory, mask)], axis=-1)
        return self.out(feat), (*hs, C, memory, mask)

    def _attend(self, h, memory, mask):
        """alpha_s = softmax_s(memory_s . W_a h) over valid s; returns sum_s alpha_s memory_s."""
        B, S, _ = memory.shape
        q = self.attn(h).reshape(B, -1, 1)  # (B, c, 1)
        scores = (memory @ q).reshape(B, S) * (1.0 / math.sqrt(memory.shape[2]))
        alpha = F.softmax(F.where(mask, scores, -1e9), axis=-1)
        return (alpha.reshape(B, 1, S) @ memory).reshape(B, memory.shape[2])

    # ---- training forward ----------------------------------------------------------------------
    def forward(self, src, tgt_in, src_lengths=None, teacher_forcing: float = 1.0,
                rng=None) -> Tensor:
        """tgt_in (T, B): start token then y^(1..T-1). Returns logits (T, B, V) for y^(1..T).

        At each step t > 0 the input is tgt_in[t] with probability ``teacher_forcing``, else the
        argmax of the previous logits (free running; no gradient flows through the choice).
        """
        tgt_in = np.asarray(tgt_in)
        if tgt_in.ndim != 2 or tgt_in.shape[1] != np.asarray(src).shape[1]:
            raise ShapeError(f"Seq2Seq.forward: 'tgt_in' must be (T, batch) with the batch of "
                             f"'src'; got {tgt_in.shape} for src {np.asarray(src).shape}")
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ArgumentError(f"Seq2Seq.forward: 'teacher_forcing' must be in [0, 1]; got "
                                f"{teacher_forcing!r}")
        rng = as_rng(rng if rng is not None else 0)
        state = self.encode(src, src_lengths)
        logits, tokens = [], tgt_in[0]
        for t in range(tgt_in.shape[0]):
            with scope("decoder_step", step=t):
                out, state = self.decode_step(tokens, state)
            logits.append(out)
            if t + 1 < tgt_in.shape[0]:
                forced = teacher_forcing >= 1.0 or rng.random() < teacher_forcing
                tokens = tgt_in[t + 1] if forced else out.data.argmax(axis=-1)
        return F.stack(logits)

    def decoder_fn(self, src, src_lengths=None):
        """(step, state0) for ``tr.decode`` functions, for a batch of one source sequence."""
        state = self.encode(np.asarray(src).reshape(-1, 1), src_lengths)
        return self.decode_step, state


def inverse_sigmoid_schedule(step: int, k: float = 10.0) -> float:
    """Scheduled sampling (Bengio et al. 2015): teacher-forcing probability k / (k + e^(step/k)),
    from ~1 at the start towards 0, so the model learns to consume its own outputs."""
    return k / (k + math.exp(min(step / k, 700.0)))
