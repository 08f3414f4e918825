"""One fused form per cell? The per-step fused cell op against the whole-sequence op at T = 1.

A decoder (Seq2Seq, beam search) runs its cell one step at a time. If the whole-sequence op
(``rnn_seq`` / ``lstm_seq`` / ``gru_seq``) called with T = 1 were within ~10 % of the per-step
cell op (``rnn_cell`` / ``lstm_cell`` / ``gru_cell``), the cell ops could go and the sequence op
would be the one fused form. This measures a 20-step decoder loop, forward + backward, float32,
one BLAS thread, both forms interleaved in the same rounds:

    python -m benchmarks.cell_forms

ratio = sequence op at T = 1 / per-step cell op (> 1: the cell op is faster).
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from benchmarks.timing import interleave
from tinygrad_rnn import ops
from tinygrad_rnn.nn.steps import bias_or_zeros, gru_step, lstm_step, rnn_step
from tinygrad_rnn.tensor import apply

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SEQ_OPS = {"rnn": ops.rnn_seq, "lstm": ops.lstm_seq, "gru": ops.gru_seq}
SIZES = ((1, 100), (32, 256))  # (batch, hidden): a char decoder, a batched one


def seq_step(kind: str, x, states, p):
    """One step through the whole-sequence op: x (B, H) -> states, via T = 1."""
    H = p[1].shape[1]
    args = (x.reshape(1, *x.shape), *states, p[0], p[1], bias_or_zeros(p[2], p[0]),
            bias_or_zeros(p[3], p[1]))
    params = {"mask": None, "reverse": False}
    if kind == "rnn":
        params["nonlinearity"] = "tanh"
    if kind == "gru":
        params["reset_after"] = True
    packed = apply(SEQ_OPS[kind], args, params)
    return tuple(packed[1, :, i * H:(i + 1) * H] for i in range(len(states)))


def cell_step(kind: str, x, states, p):
    if kind == "lstm":
        return lstm_step(x, states[0], states[1], p, fused=True)
    if kind == "rnn":
        return (rnn_step(x, states[0], p, "tanh", fused=True),)
    return (gru_step(x, states[0], p, True, fused=True),)


def decoder_loop(kind: str, B: int, H: int, step, T: int = 20):
    """A T-step loop of ``step`` with a loss on every state, then backward."""
    rng = np.random.default_rng(0)
    G = GATES[kind] * H
    shapes = [(G, H), (G, H), (G,), (G,)]
    p = tuple(tr.Tensor(0.1 * rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in shapes)
    xs = [tr.Tensor(rng.standard_normal((B, H)).astype(np.float32)) for _ in range(T)]
    n_states = 2 if kind == "lstm" else 1

    def run():
        states = tuple(tr.Tensor(np.zeros((B, H), np.float32)) for _ in range(n_states))
        total = None
        for t in range(T):
            states = step(kind, xs[t], states, p)
            s = states[0].sum()
            total = s if total is None else total + s
        total.backward()
        for q in p:
            q.grad = None

    return run


def main(rounds: int = 15, number: int = 3) -> None:
    print("| cell | batch, hidden | per-step cell op | sequence op, T = 1 | ratio |")
    print("|---|---|---|---|---|")
    with tr.blas_threads(1):
        for kind in GATES:
            for B, H in SIZES:
                fns = {"cell": decoder_loop(kind, B, H, cell_step),
                       "seq": decoder_loop(kind, B, H, seq_step)}
                t = interleave(fns, rounds, number)
                print(f"| {kind} | {B}, {H} | {t.ms('cell') / 20:.3f} ms/step | "
                      f"{t.ms('seq') / 20:.3f} ms/step | {t.ratio('seq', 'cell'):.2f} |")


if __name__ == "__main__":
    main()
