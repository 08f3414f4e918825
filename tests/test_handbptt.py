"""The seeds' BPTT equations, computed by hand, agree with the tape at every step (1e-12)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import handbptt as hb


def _elman_args(seed=0, H=4, I=3, K=5, T=7):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s) * 0.6 for s in [(H, I), (H, H), (K, H), (H,), (K,)]]
    return params, rng.standard_normal((T, I)), rng.integers(0, K, T)


def test_elman_equations_match_tape_per_step():
    params, xs, ys = _elman_args()
    report = hb.check_elman_bptt(*params, xs, ys, h0=np.full(4, 0.1))
    assert set(report) >= {"eq.4 grad_o", "eq.5 grad_h", "eq.7 grad_W^(t)", "eq.7 grad_U"}
    assert max(report.values()) < 1e-12


def test_elman_per_step_copies_sum_to_total():
    params, xs, ys = _elman_args(1)
    r = hb.elman_bptt(*params, xs, ys)
    np.testing.assert_allclose(sum(r["grad_W_t"]), r["grad_W"], atol=1e-15)
    assert len(r["grad_W_t"]) == 7


def test_check_names_first_wrong_term_and_step(monkeypatch):
    params, xs, ys = _elman_args(2)
    real = hb.elman_bptt

    def wrong(*a, **k):
        r = real(*a, **k)
        r["grad_h"][2] = r["grad_h"][2] + 1e-6
        return r

    monkeypatch.setattr(hb, "elman_bptt", wrong)
    with pytest.raises(tr.GradError, match=r"eq.5 grad_h at t=2 disagrees"):
        hb.check_elman_bptt(*params, xs, ys)


def test_lstm_hand_bptt_matches_tape():
    rng = np.random.default_rng(3)
    H, I, K, T = 3, 2, 4, 6
    w = [rng.standard_normal(s) * 0.5 for s in [(4 * H, I), (4 * H, H), (4 * H,), (K, H), (K,)]]
    report = hb.check_lstm_bptt(*w, rng.standard_normal((T, I)), rng.integers(0, K, T))
    assert {"grad_c", "grad_f", "grad_w_hh^(t)"} <= set(report)
    assert max(report.values()) < 1e-12


def test_shape_errors_are_clear():
    params, xs, ys = _elman_args()
    with pytest.raises(tr.ShapeError, match="expected xs"):
        hb.elman_bptt(*params, xs[:, :2], ys)
