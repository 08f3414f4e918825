"""Do the library's fast paths still pay? Each one against the plain way it replaces.

Same-process, interleaved rounds (benchmarks/timing.py), one BLAS thread; ratio = fast / plain
(< 1: the fast path wins). What each row measures, and the code it justifies, is in
benchmarks/README.md ("Measurements behind the code").

    python -m benchmarks.fast_paths [--rounds 15]
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from functools import partial

import numpy as np

import tinygrad_rnn as tr
from benchmarks.timing import interleave
from tinygrad_rnn import ops, workspace
from tinygrad_rnn.ops import nnops, sequence
from tinygrad_rnn.tape import OpNode, _frame, _grad_enabled
from tinygrad_rnn.tensor import Tensor


def generic_apply(op, inputs, params):
    """``tensor.apply`` with one code path for every arity (the form the unrolled cases replace;
    error and anomaly handling left out: they are not on the measured path)."""
    out, saved = op.forward(*[t.data for t in inputs], **params)
    needs = tuple([t.requires_grad for t in inputs])
    node = None
    if True in needs and _grad_enabled.get():
        node = OpNode(op, inputs, params, saved, needs, _frame.get())
    return Tensor._make(np.asarray(out), node)


def apply_rows(rounds: int) -> list:
    """Unrolled arities in ``apply``: (x * w).tanh() (arities 2, 1) and F.linear (arity 3)."""
    rng = np.random.default_rng(0)
    x = tr.Tensor(rng.standard_normal((1, 100)).astype(np.float32))
    w = tr.Tensor(rng.standard_normal((1, 100)).astype(np.float32), requires_grad=True)
    W = tr.Tensor(rng.standard_normal((100, 100)).astype(np.float32), requires_grad=True)
    b = tr.Tensor(np.zeros(100, np.float32), requires_grad=True)
    cases = {"mul + tanh, (1, 100)": lambda ap: ap(ops.tanh, (ap(ops.mul, (x, w), {}),), {}),
             "linear, x (1, 100), W (100, 100)": lambda ap: ap(ops.linear, (x, W, b), {})}
    rows = []
    for name, case in cases.items():
        t = interleave({"fast": lambda c=case: c(tr.tensor.apply),
                        "plain": lambda c=case: c(generic_apply)}, rounds, 2000)
        rows.append((f"tensor.apply, unrolled arities: {name}", t))
    return rows


@contextmanager
def _patched(module, name, value):
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def _forced(module, name: str, value, run) -> None:
    with _patched(module, name, value):
        run()


def _against(run, module, name: str, fast, plain, rounds: int, number: int):
    """Timings of ``run()`` with ``module.name`` set to ``fast`` and to ``plain``, interleaved."""
    return interleave({k: partial(_forced, module, name, v, run)
                       for k, v in (("fast", fast), ("plain", plain))}, rounds, number)


def _seq_step(op, args, params, g):
    out, saved = op.forward(*args, **params)
    op.vjp(g, saved, (True,) * len(args), **params)


def rnn_loop_rows(rounds: int, sizes=((1, 100), (1, 256), (4, 64), (4, 128), (16, 32)),
                  T: int = 25) -> list:
    """rnn_seq forward + VJP: the whole-loop kernels (kernels/sequence.py) vs the NumPy steps,
    each forced, around the op's cut-off (B = 1 or B * H <= sequence.SMALL)."""
    rng = np.random.default_rng(0)
    rows = []
    for B, H in sizes:
        args = [rng.standard_normal(s) * 0.3 for s in
                ((T, B, H), (B, H), (H, H), (H, H), (H,), (H,))]
        params = {"reverse": False, "mask": None, "nonlinearity": "tanh"}
        g = rng.standard_normal((T + 1, B, H))
        run = partial(_seq_step, ops.rnn_seq, args, params, g)
        t = _against(run, sequence, "use_loop_kernels", lambda *a: True, lambda *a: False,
                     rounds, 20)
        rows.append((f"rnn_seq loop kernels, T={T} B={B} H={H} float64", t))
    return rows


def workspace_rows(rounds: int, T: int = 50, B: int = 32, H: int = 256) -> list:
    """lstm_seq forward + VJP with recycled work arrays vs fresh ones (workspace.py)."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    args = [(rng.standard_normal(s) * 0.1).astype(f32) for s in
            ((T, B, H), (B, H), (B, H), (4 * H, H), (4 * H, H), (4 * H,), (4 * H,))]
    g = rng.standard_normal((T + 1, B, 2 * H)).astype(f32)
    run = partial(_seq_step, ops.lstm_seq, args, {"reverse": False, "mask": None}, g)
    t = _against(run, workspace, "_FREE", workspace._FREE, None, rounds, 3)  # None: never reuse
    return [(f"workspace reuse, lstm_seq T={T} B={B} H={H} float32", t)]


def xent_rows(rounds: int, sizes=((25, 65), (1600, 65), (1190, 5), (1190, 32))) -> list:
    """Cross-entropy forward: the fused kernel vs the NumPy rows (ops/nnops.py's choice)."""
    rng = np.random.default_rng(0)
    rows = []
    for n, c in sizes:
        z = rng.standard_normal((n, c)).astype(np.float32)
        run = partial(nnops.xent_rows_fwd, z, rng.integers(0, c, n), -100)
        t = _against(run, nnops, "_use_kernel", lambda z2: True, lambda z2: False, rounds, 50)
        rows.append((f"cross_entropy kernel forward, ({n}, {c}) float32", t))
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="the fast paths against the plain code")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    print("| fast path | fast | plain | ratio fast / plain |")
    print("|---|---|---|---|")
    with tr.blas_threads(1):
        for group in (apply_rows, rnn_loop_rows, workspace_rows, xent_rows):
            for name, t in group(args.rounds):
                print(f"| {name} | {t.ms('fast') * 1e3:.1f} us | {t.ms('plain') * 1e3:.1f} us | "
                      f"{t.ratio('fast', 'plain'):.2f} |", flush=True)


if __name__ == "__main__":
    main()
