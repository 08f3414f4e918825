"""Seq2Seq: shapes with different encoder/decoder sizes, gradients, padding, teacher forcing."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import decode


def _data(S=5, T=4, B=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(2, 7, (S, B)), rng.integers(2, 5, (T, B))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("context,attention", [("init", False), ("input", False), ("both", True)])
def test_gradcheck_through_encoder_and_decoder(cell, context, attention):
    m = tr.nn.Seq2Seq(7, 5, embed=3, enc_hidden=4, dec_hidden=3, cell=cell, context=context,
                      attention=attention, bidirectional=attention, rng=0)
    src, tgt = _data(S=3, T=3, B=2)
    W = m.src_embed.weight
    assert tr.gradcheck(lambda w: tr.F.cross_entropy(m(src, tgt, src_lengths=[3, 2]), tgt),
                        [W], mode="projection")


def test_source_padding_changes_nothing():
    m = tr.nn.Seq2Seq(7, 5, cell="lstm", attention=True, bidirectional=True, rng=1)
    src, tgt = _data()
    results = []
    for fill in (0, 6):
        s = src.copy()
        s[3:, 1] = fill
        loss = tr.F.cross_entropy(m(s, tgt, src_lengths=[5, 3, 5]), tgt)
        loss.backward()
        results.append((loss.item(), m.decoder.weight_hh.grad.copy()))
        m.zero_grad()
    assert abs(results[0][0] - results[1][0]) < 1e-12
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-12)


def test_teacher_forcing_vs_free_running_and_metadata():
    m = tr.nn.Seq2Seq(7, 5, rng=2)
    src, tgt = _data()
    forced = m(src, tgt, teacher_forcing=1.0)
    free = m(src, tgt, teacher_forcing=0.0)
    np.testing.assert_allclose(forced.data[0], free.data[0])  # same first step
    assert not np.allclose(forced.data, free.data)
    g = tr.trace(forced)
    steps = {n.meta.get("step") for n in g.nodes if "decoder_step" in n.meta.get("scope", "")}
    assert steps == {0, 1, 2, 3}
    assert any(n.meta.get("scope", "").startswith("seq2seq/encoder/l0") for n in g.nodes)
    assert 0.0 < tr.nn.inverse_sigmoid_schedule(50) < tr.nn.inverse_sigmoid_schedule(0) < 1.0


def test_beam_search_over_seq2seq():
    m = tr.nn.Seq2Seq(7, 5, cell="gru", attention=True, rng=3)
    src, _ = _data(B=1)
    step, state = m.decoder_fn(src[:, 0])
    g = decode.greedy(step, state, 0, 6, end_id=1)
    b1 = decode.beam_search(step, state, 0, 6, beam_width=1, end_id=1)[0]
    hyps = decode.beam_search(step, state, 0, 6, beam_width=4, end_id=1)
    assert b1.tokens == g.tokens
    assert all(h.finished == (h.tokens[-1] == 1) for h in hyps)


def test_errors():
    with pytest.raises(tr.ArgumentError, match="cell"):
        tr.nn.Seq2Seq(5, 5, cell="transformer")
    m = tr.nn.Seq2Seq(7, 5, rng=0)
    src, tgt = _data()
    with pytest.raises(tr.ShapeError, match="tgt_in"):
        m(src, tgt[:, :2])
    with pytest.raises(tr.ArgumentError, match="teacher_forcing"):
        m(src, tgt, teacher_forcing=1.5)


def test_reversal_task_pairs_and_padded_batch():
    from tinygrad_rnn.data.toy import reversal_pair, reversal_pairs, seq2seq_batch

    assert reversal_pair([3, 0, 7, 2, 1]) == ([6, 3, 10, 5, 4], [4, 5, 10, 6])  # "30721" -> "127"
    assert reversal_pair([0, 0]) == ([3, 3], [4])  # never an empty target
    pairs = reversal_pairs(50, np.random.default_rng(0), max_len=5)
    assert pairs == reversal_pairs(50, np.random.default_rng(0), max_len=5)
    assert all(2 <= len(s) <= 5 and 1 <= len(t) <= len(s) for s, t in pairs)
    src, lens, tin, tout = seq2seq_batch([([5, 6, 7], [7, 6]), ([8, 9], [9])])
    assert src.T.tolist() == [[5, 6, 7], [8, 9, 0]] and lens.tolist() == [3, 2]
    assert tin.T.tolist() == [[1, 7, 6], [1, 9, 0]] and tout.T.tolist() == [[7, 6, 2], [9, 2, 0]]
    with pytest.raises(tr.ArgumentError, match="reversal_pairs"):
        reversal_pairs(0, np.random.default_rng(0))
