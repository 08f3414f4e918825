# %% [markdown]
# # Vanishing and exploding gradients, measured
# 1. The seeds' arithmetic (0.3^10 vs 1.7^10): in a linear RNN h^(t) = W h^(t-1) + U x^(t) every
#    Jacobian dh^(t)/dh^(t-1) is W, so ||dh^(t)/dh^(k)|| = rho(W)^(t-k) for an orthogonal W scaled
#    by rho.
# 2. RNN vs LSTM vs GRU on the same inputs, with a loss at the last step only: how much gradient
#    reaches h^(t) for earlier t (and, for the LSTM, the cell state c^(t)).
# 3. The BPTT sum split by time: C[t, k] = what the loss at step t sends to W through its use at
#    step k; the sum over t and k is W.grad exactly.
#
#     python examples/gradient_flow.py [--tiny] [--draw DIR]

# %%
from __future__ import annotations

import argparse

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import analysis as A


def linear_rnn_jacobians(rho: float, T: int, H: int = 8):
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    W = tr.Tensor(rho * q, requires_grad=True, name="W")
    h, hs = tr.Tensor(np.zeros(H)), []
    for t in range(T):
        with tr.scope("linear_rnn", step=t, role="h"):
            h = W @ h + tr.Tensor(rng.standard_normal(H))
        hs.append(h)
    J = A.jacobian_norms(hs)
    return [J[T - 1, k] for k in range(T)]


# %%
def last_step_gradients(kind: str, x: np.ndarray, H: int, **kw):
    """Per-step ||dL/dh^(t)|| for a loss at the last step only (and ||dL/dc^(t)|| for LSTM)."""
    model = getattr(tr.nn, kind)(x.shape[2], H, rng=1, **kw)
    out, _ = model(x)
    loss = (out[-1] * tr.Tensor(np.ones(H))).sum()
    loss.backward(retain_grads=True)
    graph = tr.trace(loss)
    norms = {"h": A.step_grad_norms(graph, "h")}
    if kind == "LSTM":
        norms["c"] = A.step_grad_norms(graph, "c")
    return model, norms, graph


def contributions(T: int, H: int):
    rng = np.random.default_rng(3)
    m, head = tr.nn.RNN(3, H, rng=2), tr.nn.Linear(H, 4, rng=3)
    out, _ = m(rng.standard_normal((T, 1, 3)))
    losses = [tr.F.cross_entropy(head(out[t]), [t % 4]) for t in range(T)]
    C = A.contribution_matrix(losses, m.weight_hh_l0)
    m.zero_grad()
    total = losses[0]
    for item in losses[1:]:
        total = total + item
    total.backward()
    err = float(np.abs(C.sum(axis=(0, 1)) - m.weight_hh_l0.grad).max())
    norms = np.linalg.norm(C.reshape(T, T, -1), axis=2)
    norms[np.triu_indices(T, 1)] = np.nan  # k > t: a loss cannot reach the future
    return norms, err


def show(label, values):
    print(f"  {label:26s} " + " ".join(f"{v:9.2e}" for v in values))


def main(argv=None):
    ap = argparse.ArgumentParser(description="vanishing/exploding gradients, measured")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--draw", default=None, help="folder for the pictures")
    args = ap.parse_args(argv)
    T, H = (8, 8) if args.tiny else (args.steps, args.hidden)
    strips, curves = {}, {}
    decay = linear_section(strips)
    x = np.random.default_rng(4).standard_normal((T, 1, 3))
    print(f"2. ||dL/dh^(t)|| with the loss at the last step, t = 0 .. {T - 1} (every 4th t):")
    graphs = {}
    for kind in ("RNN", "LSTM", "GRU"):
        model, norms, graphs[kind] = last_step_gradients(kind, x, H)
        h = [norms["h"][t] for t in range(T)]
        show(kind, h[::4])
        strips[f"{kind.lower()}_h"] = (h, f"{kind}: ||dL/dh^(t)||")
        curves[kind] = h
        if "c" in norms:
            c = [norms["c"][t] for t in range(T)]
            show("LSTM cell state c", c[::4])
            strips["lstm_c"] = (c, "LSTM: ||dL/dc^(t)||")
        if kind == "RNN":
            states = [n for n in graphs[kind].nodes if n.meta.get("role") == "h" and n.op]
            sat = np.mean([np.mean(np.abs(n.value["values"]) > 0.95) for n in states])
            print(f"  RNN: spectral radius of W_hh {A.spectral_radius(model.weight_hh_l0):.2f}, "
                  f"saturated tanh units {sat:.0%}")
    _, fb, _ = last_step_gradients("LSTM", x, H, forget_bias=3.0)
    show("LSTM, forget bias 3", [fb["c"][t] for t in range(T)][::4])
    curves["LSTM, forget bias 3"] = [fb["h"][t] for t in range(T)]
    print("  (the seeds: initialise the forget gate near 1 and the cell path carries gradient)")
    norms, err = contributions(T, H)
    print(f"3. contribution matrix C[t, k]: {T} x {T}, |sum - W.grad| = {err:.1e}; diagonal "
          f"{np.nanmean(np.diag(norms)):.2e} vs k = t - 3: "
          f"{np.nanmean(np.diag(norms, -3)) if T > 3 else float('nan'):.2e}")
    if args.draw:
        draw(args.draw, strips, norms, graphs["LSTM"])
        charts(args.draw, decay, curves)


def linear_section(strips: dict) -> dict:
    """Part 1, printed and added to ``strips``; returns ||dh^(10)/dh^(k)|| per rho by the
    distance 10 - k (what the chart puts on its x axis)."""
    print("1. ||dh^(T-1)/dh^(k)|| in a linear RNN, k = 0 .. T-1 (every 3rd k):")
    decay = {}
    for rho in (0.3, 1.0, 1.7):
        v = linear_rnn_jacobians(rho, 11)
        show(f"rho(W) = {rho}", v[::3])
        strips[f"linear_rho_{rho}"] = (v, f"||dh^(10)/dh^(k)||, rho(W) = {rho}")
        decay[rho] = v[::-1]
    print(f"   (0.3^10 = {0.3**10:.1e}, 1.7^10 = {1.7**10:.0f})")
    return decay


def draw(folder, strips, norms, lstm_graph):
    import os

    import viz

    os.makedirs(folder, exist_ok=True)
    for name, (values, title) in strips.items():
        print("drew", viz.render(viz.heat_strip(values, title=title),
                                 os.path.join(folder, f"{name}.svg"), missing="warn"))
    m = viz.heat_matrix(norms, title="||C[t, k]||: loss at t through W's use at k")
    print("drew", viz.render(m, os.path.join(folder, "contributions.svg"), missing="warn"))
    for path in viz.save_views(lstm_graph, folder, "lstm", views=("folded",)):
        print("drew", path)


def charts(folder, decay, curves):
    """The slide versions: measured ||dh^(t)/dh^(k)|| on the lines rho^(t-k), and how much
    gradient reaches each step in each model (log axes), drawn with matplotlib."""
    import os

    import viz

    try:
        figs = {"jacobian_decay": viz.plots.jacobian_decay(decay),
                "gradient_norms": viz.plots.gradient_norms(
                    curves, title="A loss at the last step: how much gradient reaches $h^{(t)}$")}
    except viz.MatplotlibNotFoundError as exc:
        print(f"no charts: {exc}")
        return
    for name, fig in figs.items():
        for fmt in ("svg", "png"):
            print("drew", viz.plots.save(fig, os.path.join(folder, f"{name}.{fmt}")))


# %% Run: as a script with its command-line flags; as a notebook cell (no __file__) with
# the defaults, since a kernel's own argv is not ours to parse.
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])
