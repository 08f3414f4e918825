# %% [markdown]
# # Quickstart: the seeds' "hello" RNN, by hand, and its gradients through time
# An Elman RNN in the seeds' notation (U input-to-hidden, W hidden-to-hidden, V hidden-to-output,
# b, c):  a^(t) = b + W h^(t-1) + U x^(t),  h^(t) = tanh(a^(t)),  o^(t) = c + V h^(t).
# It learns to predict the next character of "hello" (vocab h, e, l, o), then checks the tape's
# per-step weight gradients against the seeds' eq. 7, saves the recorded graph as JSON and draws
# it: unrolled over time (per-step copies W^(t) with their own gradients), folded (the circuit
# diagram), and coloured by gradient norm.
# Run: python examples/quickstart.py [--tiny] [--out DIR] [--draw DIR]

# %%
from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_rnn as tr


def build(hidden: int, vocab: int, rng: np.random.Generator) -> dict:
    def p(name, *shape):
        return tr.Tensor(rng.standard_normal(shape) * 0.3, requires_grad=True, name=name)

    return {"U": p("U", hidden, vocab), "W": p("W", hidden, hidden), "V": p("V", vocab, hidden),
            "b": p("b", hidden), "c": p("c", vocab)}


def forward(P: dict, xs: np.ndarray, ys: np.ndarray):
    """Unrolled over time: one scope per step, so every node knows its t."""
    H = P["W"].shape[0]
    h = tr.Tensor(np.zeros(H), name="h0")
    hs, loss = [], None
    for t, (x, y) in enumerate(zip(xs, ys)):
        with tr.scope("rnn", step=t):
            x_t = tr.Tensor(np.eye(P["U"].shape[1])[x], name=f"x[{t}]")
            h = (P["b"] + P["W"] @ h + P["U"] @ x_t).tanh()
            o = P["c"] + P["V"] @ h
            lt = tr.F.cross_entropy(o[None, :], [y])
        hs.append(h)
        loss = lt if loss is None else loss + lt
    return loss, hs


# %%
def check_eq7(P: dict, hs: list, xs: np.ndarray) -> float:
    """Seed eq. 7: nabla_W L = sum_t diag(1 - h^(t)^2) (nabla_{h^(t)} L) h^(t-1)^T. Rebuild it from
    the tape's nabla_{h^(t)} L and compare with W.grad; returns the largest difference."""
    H = P["W"].shape[0]
    total = np.zeros((H, H))
    for t, h in enumerate(hs):
        prev = hs[t - 1].data if t else np.zeros(H)
        total += np.outer((1 - h.data**2) * h.grad, prev)
    return float(np.abs(total - P["W"].grad).max())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tiny", action="store_true", help="few steps (for the test suite)")
    ap.add_argument("--out", default="out/quickstart", help="folder for the graph JSON")
    ap.add_argument("--draw", default=None, help="folder for the pictures (default: --out)")
    args = ap.parse_args(argv)
    chars = sorted(set("hello"))
    ids = np.array([chars.index(ch) for ch in "hello"])
    xs, ys = ids[:-1], ids[1:]
    P = build(hidden=8, vocab=len(chars), rng=np.random.default_rng(0))
    steps = 30 if args.tiny else 300
    for it in range(steps):
        loss, hs = forward(P, xs, ys)
        loss.backward()
        for p in P.values():
            p.data -= 0.1 * p.grad
            p.grad = None
        if it % max(steps // 5, 1) == 0 or it == steps - 1:
            print(f"step {it:4d}  loss {loss.item():.4f}")
    loss, hs = forward(P, xs, ys)
    loss.backward(retain_grads=True)
    with tr.no_grad():
        pred = "".join(chars[int(np.argmax((P["c"] + P["V"] @ h).data))] for h in hs)
    print(f"input 'hell' -> predicted next chars {pred!r} (target 'ello')")
    print(f"seed eq. 7 vs tape, max |difference| in nabla_W L: {check_eq7(P, hs, xs):.2e}")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "hello_rnn.graph.json")
    graph = tr.trace(loss)
    with open(path, "w") as f:
        f.write(graph.to_json())
    print(f"wrote {path}")
    draw(graph, args.draw or args.out)


# %%
def draw(graph, folder: str) -> None:
    """Unrolled, folded and gradient-coloured pictures of the last training step's graph."""
    import viz  # the drawing package; the core never imports it

    for path in viz.save_views(graph, folder, "hello_rnn"):
        print(f"drew {path}")


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
