"""Decoding for any decoder: greedy, sampling (temperature, top-k), beam search, exhaustive.

A decoder is a function ``step(tokens, state) -> (logits, state)``: tokens (B,) int ids of the
previous outputs, logits (B, V). The state may be a Tensor, an array or a tuple of them, with
the batch on axis 0 (beam search selects rows of it). Everything runs under ``no_grad``.

Beam search (seed 001): keep the m most probable partial sequences; at each step extend each by
every token, score by the sum of log-probabilities, keep the best m; a hypothesis that emits the
end token is finished. Scores are length-normalised as score / len^alpha (alpha = 0: raw sum).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from tinygrad_rnn.errors import ArgumentError
from tinygrad_rnn.tape import no_grad
from tinygrad_rnn.tensor import Tensor


@dataclass
class Hypothesis:
    tokens: list  # generated ids (end token included when finished)
    logprob: float  # sum of log-probabilities
    finished: bool = False

    def score(self, alpha: float) -> float:
        return self.logprob / (max(len(self.tokens), 1) ** alpha) if alpha else self.logprob


def _log_softmax(logits) -> np.ndarray:
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def select_rows(state, rows: np.ndarray):
    """Rows ``rows`` (axis 0) of a state: Tensor, ndarray, or a tuple/list of those."""
    if isinstance(state, (tuple, list)):
        return type(state)(select_rows(s, rows) for s in state)
    if isinstance(state, Tensor):
        return Tensor(state.data[rows])
    if state is None:
        return None
    return np.asarray(state)[rows]


def _check(max_len, end_id, func):
    if not isinstance(max_len, (int, np.integer)) or max_len <= 0:
        raise ArgumentError(f"{func}: argument 'max_len' must be a positive int; got {max_len!r}")


def _rollout(step, state, start_id, max_len, end_id, choose) -> Hypothesis:
    """Feed each chosen token back in: choose(log_probs (V,)) -> next token id."""
    hyp, tok = Hypothesis([], 0.0), start_id
    with no_grad():
        for _ in range(max_len):
            logits, state = step(np.array([tok]), state)
            lp = _log_softmax(logits)[0]
            tok = choose(lp)
            hyp.tokens.append(tok)
            hyp.logprob += float(lp[tok])
            if tok == end_id:
                hyp.finished = True
                break
    return hyp


def greedy(step, state, start_id: int, max_len: int, end_id: int | None = None) -> Hypothesis:
    """Pick the most probable token at every step (one sequence: state batch of 1)."""
    _check(max_len, end_id, "greedy")
    return _rollout(step, state, start_id, max_len, end_id, lambda lp: int(np.argmax(lp)))


def sample(step, state, start_id: int, max_len: int, rng: np.random.Generator,
           temperature: float = 1.0, top_k: int | None = None,
           end_id: int | None = None) -> Hypothesis:
    """Draw each token from softmax(logits / temperature), optionally from the top_k only."""
    _check(max_len, end_id, "sample")
    if temperature <= 0:
        raise ArgumentError(f"sample: argument 'temperature' must be > 0; got {temperature!r}")
    if top_k is not None and top_k <= 0:
        raise ArgumentError(f"sample: argument 'top_k' must be a positive int; got {top_k!r}")

    def choose(lp):
        z = lp / temperature
        if top_k is not None and top_k < len(z):
            z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
        p = np.exp(z - z.max())
        return int(rng.choice(len(p), p=p / p.sum()))

    return _rollout(step, state, start_id, max_len, end_id, choose)


def beam_search(step, state, start_id: int, max_len: int, beam_width: int,
                end_id: int | None = None, alpha: float = 0.0) -> list:
    """All hypotheses kept at the end (finished ones and the alive beam), best first."""
    _check(max_len, end_id, "beam_search")
    if not isinstance(beam_width, (int, np.integer)) or beam_width <= 0:
        raise ArgumentError(f"beam_search: argument 'beam_width' must be a positive int; got "
                            f"{beam_width!r}")
    alive, finished = [Hypothesis([], 0.0)], []
    tokens = np.array([start_id])
    with no_grad():
        for _ in range(max_len):
            logits, state = step(tokens, state)
            lp = _log_softmax(logits)
            cand = [(h.logprob + float(lp[b, v]), b, v)
                    for b, h in enumerate(alive) for v in range(lp.shape[1])]
            # stable sort on (-score, beam, token): ties broken deterministically
            cand.sort(key=lambda c: (-c[0], c[1], c[2]))
            nxt, rows = [], []
            for score, b, v in cand:
                hyp = Hypothesis(alive[b].tokens + [v], score, v == end_id)
                if hyp.finished:
                    finished.append(hyp)
                else:
                    nxt.append(hyp)
                    rows.append(b)
                if len(nxt) == beam_width:
                    break
            if not nxt:
                break
            alive = nxt
            state = select_rows(state, np.array(rows))
            tokens = np.array([h.tokens[-1] for h in alive])
    return sorted(finished + alive, key=lambda h: -h.score(alpha))


def exhaustive_search(step, state, start_id: int, max_len: int, vocab_size: int,
                      end_id: int | None = None, limit: int = 200_000) -> list:
    """Score every token sequence up to ``max_len`` (a reference for tests and teaching)."""
    if vocab_size ** max_len > limit:
        raise ArgumentError(f"exhaustive_search: {vocab_size}^{max_len} sequences exceed the "
                            f"limit {limit}")
    results = []
    with no_grad():
        for seq in itertools.product(range(vocab_size), repeat=max_len):
            st, tok, lp_sum = state, start_id, 0.0
            for i, v in enumerate(seq):
                logits, st = step(np.array([tok]), st)
                lp_sum += float(_log_softmax(logits)[0, v])
                tok = v
                if v == end_id:
                    seq = seq[: i + 1]
                    break
            results.append(Hypothesis(list(seq), lp_sum, seq[-1] == end_id))
    unique = {tuple(h.tokens): h for h in results}  # early-ended prefixes repeat
    return sorted(unique.values(), key=lambda h: -h.logprob)
