"""Tour chapters 5-7: truncated BPTT, gradient clipping, vanishing/exploding gradients."""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
import viz
from tinygrad_rnn import analysis as A

EQ = '<span class="eq">{}</span>'


class _Tagger:
    """An RNN cell and a head as TBPTT's step_fn/loss_fn (tag: id equals the one 2 steps back)."""

    def __init__(self, T: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.cell, self.head = tr.nn.RNNCell(5, 16, rng=1), tr.nn.Linear(16, 2, rng=2)
        ids = rng.integers(0, 5, T)
        self.xs = np.eye(5)[ids][:, None, :]  # (T, 1, 5)
        self.tags = np.r_[0, 0, (ids[2:] == ids[:-2]).astype(np.int64)]
        self.params = [*self.cell.parameters(), *self.head.parameters()]

    def step(self, x, h, t):
        return self.cell(tr.Tensor(x, name=f"x[{t}]"), h)

    def loss(self, h, t):
        with tr.scope(role="loss"):
            return tr.F.cross_entropy(self.head(h), [int(self.tags[t])])


def tbptt(tour, ch) -> None:
    """One TBPTT(2, 4) window drawn with its cut; truncation cost for several k2; a long run."""
    ch.say("Full BPTT keeps every step of the sequence for one backward pass: memory O(T) and "
           "one update per sequence. Seed 004's TBPTT(k1, k2): every k1 steps, backpropagate "
           "the last k1 losses through the last k2 steps; the state is carried forward for "
           "ever, but gradients stop at the window's start.",
           "The picture is one TBPTT(2, 4) window at t = 6: the state arriving at step 2 is "
           "detached (the cut), steps 2-5 are on the tape, only L<sup>(4)</sup> and "
           "L<sup>(5)</sup> are summed.")
    task = _Tagger(6)
    h = tr.Tensor(np.zeros((1, 16)), name="h0")
    with tr.no_grad():
        for t in range(2):
            h = task.step(task.xs[t], h, t)
    h, loss = h.detach(cut=True), None
    for t in range(2, 6):
        with tr.scope("tbptt", step=t):
            h = task.step(task.xs[t], h, t)
            if t >= 4:
                lt = task.loss(h, t)
                loss = lt if loss is None else loss + lt
    loss.backward(retain_grads=True)
    tour.view(ch, "window", tr.trace(loss), "unrolled", "One TBPTT(2, 4) window: the cut where "
              "the carried state enters, losses only at the last k1 = 2 steps")
    T = tour.size(60, 16)
    task = _Tagger(T, seed=1)
    h0 = tr.Tensor(np.zeros((1, 16)))
    ch.say(f"What truncation costs, on one sequence of T = {T}: the truncated gradient against "
           "the full one, per weight (cosine 1 and ratio 1 = no loss). The dependence here is "
           "2 steps long, so k2 &ge; 3 recovers most of the gradient of W_hh:")
    costs = {}
    for k2 in (1, 2, 4, 8):
        cost = tr.truncation_cost(task.step, task.loss, task.params, task.xs, h0, k1=k2, k2=k2)
        costs[k2] = c = cost[task.cell.weight_hh.name]
        ch.number(f"TBPTT({k2}, {k2}) vs full BPTT, W_hh: cosine / norm ratio",
                  f"{c['cosine']:.3f} / {c['norm_ratio']:.3f}")
    _cost_chart(tour, ch, costs, T)
    ch.api = ("tr.tbptt(step_fn, loss_fn, xs, h0, k1, k2, on_window=...); "
              "tr.truncation_cost(...); h.detach(cut=True)")


def _cost_chart(tour, ch, costs: dict, T: int) -> None:
    """Cosine and norm ratio of W_hh's truncated gradient against the window k."""
    series = {f"{label}, $W_{{hh}}$": {k: c[key] for k, c in costs.items()}
              for label, key in (("cosine", "cosine"), ("norm ratio", "norm_ratio"))}
    tour.chart(ch, "cost", f"What truncation costs: TBPTT(k, k) vs full BPTT on T = {T}",
               viz.plots.truncation_cost, series, xlabel="window $k$ ($k_1 = k_2 = k$)")


def _exploding_run(clip, steps: int, seed: int = 0):
    """A tanh RNN with rho(W_hh) = 1.5 recalling its first input after 20 steps (plain SGD,
    lr 0.2); returns the gradient norm before clipping and the loss of every training step."""
    rng = np.random.default_rng(seed)
    rnn, head = tr.nn.RNN(1, 16, rng=3), tr.nn.Linear(16, 1, rng=4)
    q, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((16, 16)))
    rnn.weight_hh_l0.data[...] = 1.5 * q
    params = [*rnn.parameters(), *head.parameters()]
    opt, norms, losses = tr.optim.SGD(params, lr=0.2), [], []
    for _ in range(steps):
        x = rng.standard_normal((20, 8, 1)) * 0.5
        out, _ = rnn(x)
        err = head(out[-1]) - tr.Tensor(x[0])
        loss = (err * err).mean()
        loss.backward()
        norm = tr.optim.grad_norm(params)
        if not np.isfinite(loss.item()) or not np.isfinite(norm):
            break  # diverged: the rest of this run is NaN
        if clip is not None:
            tr.optim.clip_grad_norm(params, clip)
        opt.step()
        opt.zero_grad()
        norms.append(norm)
        losses.append(loss.item())
    return norms, losses


def clipping(tour, ch) -> None:
    """The same exploding ReLU RNN trained with and without clipping the gradient norm."""
    ch.say("Where the recurrent Jacobians have norm above 1, the loss surface has cliffs: one "
           "step onto a cliff gives a gradient so large that the update throws the weights far "
           "away. Clipping the norm (Pascanu et al. 2013) keeps the direction and bounds the "
           "step:",
           EQ.format("if ||g|| > v:  g <- g v / ||g||"),
           "A tanh RNN whose W_hh has spectral radius 1.5 learns to output its first input "
           "after 20 steps, with plain SGD (lr 0.2), the same seed and data, once without "
           "clipping and once clipped to norm 1:")
    steps = tour.size(150, 20)
    runs = {"no clipping": _exploding_run(None, steps), "clipped to 1": _exploding_run(1.0, steps)}
    for label, (norms, losses) in runs.items():
        done = f"{len(losses)} of {steps}" + ("" if len(losses) == steps else " (diverged)")
        ch.number(f"{label}: steps completed", done)
        ch.number(f"{label}: largest ||g|| / mean loss, first -> last 10 steps",
                  f"{max(norms):.3g} / {np.mean(losses[:10]):.3g} -> {np.mean(losses[-10:]):.3g}")
        if label != "no clipping":
            ch.number(f"{label}: steps where the norm was clipped",
                      f"{sum(n > 1.0 for n in norms)} of {len(norms)}")
        tour.picture(ch, label.split()[0], viz.heat_strip(
            norms, labels=[str(i) for i in range(len(norms))],
            title=f"||g|| before clipping per training step: {label}", max_cells=40),
            f"Gradient norm per training step, {label}")
    tour.chart(ch, "norms", "The gradient norm per training step, both runs (log axis)",
               viz.plots.training_curves, {k: v[0] for k, v in runs.items()}, logy=True,
               ylabel=r"$\|g\|$ before clipping", title="Gradient norm per training step")
    tour.chart(ch, "loss", "The training loss per step, both runs",
               viz.plots.training_curves, {k: v[1] for k, v in runs.items()}, logy=True,
               title="Training loss")
    ch.api = "tr.optim.clip_grad_norm(params, max_norm) -> norm; tr.optim.clip_grad_value"


def _last_step_norms(kind: str, x, H: int, **kw) -> dict:
    model = getattr(tr.nn, kind)(x.shape[2], H, rng=1, **kw)
    out, _ = model(x)
    loss = (out[-1] * tr.Tensor(np.ones(H))).sum()  # a loss at the last step only
    loss.backward(retain_grads=True)
    g = tr.trace(loss)
    norms = {"h": A.step_grad_norms(g, "h")}
    if kind == "LSTM":
        norms["c"] = A.step_grad_norms(g, "c")
    return {k: [v[t] for t in sorted(v)] for k, v in norms.items()}


def _linear_rnn(tour, ch) -> None:
    """||dh^(10)/dh^(k)|| of h^(t) = W h^(t-1) + x^(t), W orthogonal times rho: strips and the
    chart of the measured norms on the lines rho^(10-k)."""
    H, rng = 8, np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    decay = {}
    for rho in (0.3, 1.0, 1.7):
        W = tr.Tensor(rho * q, requires_grad=True, name="W")
        h, hs = tr.Tensor(np.zeros(H)), []
        for t in range(11):
            with tr.scope("linear_rnn", step=t):
                h = W @ h + tr.Tensor(rng.standard_normal(H))
            hs.append(h)
        row = A.jacobian_norms(hs)[10]
        ch.number(f"rho = {rho}: ||dh^(10)/dh^(0)|| (measured / rho^10)",
                  f"{row[0]:.3g} / {rho ** 10:.3g}")
        tour.picture(ch, f"linear_{rho}", viz.heat_strip(row, title=f"||dh^(10)/dh^(k)||, "
                                                         f"rho = {rho}"),
                     f"Linear RNN, rho(W) = {rho}: k = 0 .. 10")
        decay[rho] = row[::-1]  # by distance 10 - k
    tour.chart(ch, "decay", "||dh^(10)/dh^(k)|| measured (markers) on rho^(10-k) (lines)",
               viz.plots.jacobian_decay, decay)


def vanishing(tour, ch) -> None:
    """rho(W)^(t-k) in a linear RNN; how far back a last-step loss reaches in RNN/LSTM/GRU."""
    ch.say("BPTT multiplies one Jacobian per step: dh<sup>(t)</sup>/dh<sup>(k)</sup> = "
           "&prod; diag(f'(a)) W. In a linear RNN with an orthogonal W scaled by &rho;, "
           "||dh<sup>(t)</sup>/dh<sup>(k)</sup>|| = &rho;<sup>t-k</sup> exactly: the seeds' "
           "0.3<sup>10</sup> &asymp; 6e-6 vs 1.7<sup>10</sup> &asymp; 200.")
    _linear_rnn(tour, ch)
    T = tour.size(30, 10)
    x = np.random.default_rng(4).standard_normal((T, 1, 3))
    ch.say(f"With tanh and gates: a loss at the last of T = {T} steps; how much gradient "
           "reaches h<sup>(t)</sup> (and the LSTM's cell state c<sup>(t)</sup>) for earlier t. "
           "The LSTM's additive cell path, c<sup>(t)</sup> = f &odot; c<sup>(t-1)</sup> + "
           "i &odot; g, carries it further, the more so with a forget bias near 1:")
    rnn = tr.nn.RNN(3, 16, rng=1)
    ch.number("vanilla RNN: spectral radius of W_hh at init", A.spectral_radius(rnn.weight_hh_l0))
    reach = {}
    for kind, kw, key in (("RNN", {}, "h"), ("GRU", {}, "h"), ("LSTM", {}, "c"),
                          ("LSTM", {"forget_bias": 3.0}, "c")):
        norms = _last_step_norms(kind, x, 16, **kw)
        values = norms[key]
        label = kind + (" (forget bias 3)" if kw else "") + f": ||dL/d{key}^(t)||"
        ch.number(f"{label}, t = 0 vs t = T-1", f"{values[0]:.2e} vs {values[-1]:.2e}")
        name = f"{kind.lower()}{'_fb3' if kw else ''}"
        tour.picture(ch, name, viz.heat_strip(values, title=label, max_cells=40), label)
        reach[kind + (", forget bias 3" if kw else "")] = norms["h"]
    tour.chart(ch, "reach", f"||dL/dh^(t)|| for a loss at the last of T = {T} steps, every "
               "model on one log axis", viz.plots.gradient_norms, reach,
               title="A loss at the last step: how much gradient reaches $h^{(t)}$")
    ch.api = "tr.analysis.jacobian_norms(hs); tr.analysis.step_grad_norms(graph, 'h'); " \
             "tr.analysis.spectral_radius(W); viz.heat_strip"


