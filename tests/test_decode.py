"""Decoding: beam width 1 is greedy, beam >= greedy in probability, wide beam = exhaustive."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import decode

V, H = 4, 5


def _decoder(seed=0):
    rng = np.random.default_rng(seed)
    emb = tr.nn.Embedding(V, 3, rng=rng)
    cell = tr.nn.GRUCell(3, H, rng=rng)
    head = tr.nn.Linear(H, V, rng=rng)
    head.weight.data *= 3  # peaked distributions: greedy and beam can differ

    def step(tokens, state):
        h = cell(emb(tokens), state)
        return head(h), h

    return step, tr.Tensor(rng.standard_normal((1, H)))


@pytest.mark.parametrize("seed", range(5))
def test_beam_width_one_is_greedy(seed):
    step, h0 = _decoder(seed)
    g = decode.greedy(step, h0, 0, 6, end_id=3)
    (b, *_) = decode.beam_search(step, h0, 0, 6, beam_width=1, end_id=3)
    assert b.tokens == g.tokens and abs(b.logprob - g.logprob) < 1e-12


@pytest.mark.parametrize("seed", range(8))
def test_beam_at_least_as_probable_as_greedy(seed):
    step, h0 = _decoder(seed)
    g = decode.greedy(step, h0, 0, 5)
    best = decode.beam_search(step, h0, 0, 5, beam_width=3)[0]
    assert best.logprob >= g.logprob - 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_wide_beam_equals_exhaustive(seed):
    step, h0 = _decoder(seed)
    L = 4
    ex = decode.exhaustive_search(step, h0, 0, L, V, end_id=3)
    beam = decode.beam_search(step, h0, 0, L, beam_width=V**L, end_id=3)
    assert beam[0].tokens == ex[0].tokens
    assert abs(beam[0].logprob - ex[0].logprob) < 1e-10
    assert len(beam) == len(ex)  # every hypothesis reached, none twice


def test_sampling_temperature_and_top_k():
    step, h0 = _decoder(1)
    rng = np.random.default_rng(0)
    cold = {tuple(decode.sample(step, h0, 0, 5, rng, temperature=1e-3).tokens) for _ in range(5)}
    assert cold == {tuple(decode.greedy(step, h0, 0, 5).tokens)}
    top1 = decode.sample(step, h0, 0, 5, rng, top_k=1)
    assert top1.tokens == decode.greedy(step, h0, 0, 5).tokens
    many = {tuple(decode.sample(step, h0, 0, 3, rng, temperature=5.0).tokens) for _ in range(30)}
    assert len(many) > 5


def test_length_normalisation_and_errors():
    step, h0 = _decoder(2)
    hyps = decode.beam_search(step, h0, 0, 5, beam_width=3, end_id=3, alpha=1.0)
    scores = [h.score(1.0) for h in hyps]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(tr.ArgumentError, match="beam_width"):
        decode.beam_search(step, h0, 0, 5, beam_width=0)
    with pytest.raises(tr.ArgumentError, match="temperature"):
        decode.sample(step, h0, 0, 5, np.random.default_rng(0), temperature=0)
    with pytest.raises(tr.ArgumentError, match="max_len"):
        decode.greedy(step, h0, 0, 0)
