"""Backpropagation through time by hand, in the seeds' notation, checked against the tape.

Elman RNN (seed 000, eqs. 3-7), one sequence, column vectors:
    a^(t) = b + W h^(t-1) + U x^(t),  h^(t) = tanh(a^(t)),  o^(t) = c + V h^(t),
    y_hat^(t) = softmax(o^(t)),  L = sum_t L^(t) = -sum_t log y_hat^(t)_{y^(t)}.
U (H, I) input-to-hidden, W (H, H) hidden-to-hidden, V (K, H) hidden-to-output, b (H,), c (K,).

:func:`elman_bptt` evaluates eqs. 4-7 with NumPy; :func:`elman_tape` builds the same network on the
tape; :func:`check_elman_bptt` compares every term at every step and names the first that
disagrees. :func:`lstm_bptt` / :func:`check_lstm_bptt` do the same through the LSTM's gates, where
the cell-state path dL/dc^(t-1) = f^(t) * dL/dc^(t) + ... is what lets gradients survive.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import GradError, ShapeError
from tinygrad_rnn.nn.steps import lstm_step
from tinygrad_rnn.ops.elementwise import stable_sigmoid as _sig
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor, initial_state
from tinygrad_rnn.tracing import trace


def _softmax(o):
    e = np.exp(o - o.max())
    return e / e.sum()


def _check_shapes(U, W, V, b, c, xs, ys, h0):
    H, I = U.shape
    if W.shape != (H, H) or V.shape[1] != H or b.shape != (H,) or c.shape != (V.shape[0],):
        raise ShapeError(f"elman_bptt: expected U (H, I), W (H, H), V (K, H), b (H,), c (K,); got "
                         f"U {U.shape}, W {W.shape}, V {V.shape}, b {b.shape}, c {c.shape}")
    if xs.ndim != 2 or xs.shape[1] != I or len(ys) != len(xs) or h0.shape != (H,):
        raise ShapeError(f"elman_bptt: expected xs (T, {I}), ys (T,), h0 ({H},); got xs "
                         f"{xs.shape}, ys {np.shape(ys)}, h0 {h0.shape}")


def elman_bptt(U, W, V, b, c, xs, ys, h0=None) -> dict:
    """All quantities of eqs. 3-7 as arrays: per-step lists and parameter totals.

    Returns h[t], y_hat[t], grad_o[t] (eq. 4), grad_h[t] (eq. 5), per-step contributions
    grad_W_t[t], grad_U_t[t], grad_V_t[t], grad_b_t[t], grad_c_t[t] (the dummy copies W^(t) of
    the seeds), their sums grad_W, grad_U, grad_V, grad_b, grad_c (eqs. 6-7), and the loss.
    """
    U, W, V, b, c, xs = (np.asarray(a, dtype=np.float64) for a in (U, W, V, b, c, xs))
    ys = np.asarray(ys)
    h0 = np.zeros(W.shape[0]) if h0 is None else np.asarray(h0, dtype=np.float64)
    _check_shapes(U, W, V, b, c, xs, ys, h0)
    T = len(xs)
    h, y_hat, loss = [], [], 0.0
    prev = h0
    for t in range(T):  # forward
        prev = np.tanh(b + W @ prev + U @ xs[t])
        h.append(prev)
        y_hat.append(_softmax(c + V @ prev))
        loss -= np.log(y_hat[t][ys[t]])
    grad_o = [y_hat[t] - np.eye(len(c))[ys[t]] for t in range(T)]  # eq. 4
    grad_h = [None] * T
    for t in range(T - 1, -1, -1):  # eq. 5, from the end of the sequence
        grad_h[t] = V.T @ grad_o[t]
        if t < T - 1:
            grad_h[t] = grad_h[t] + W.T @ ((1 - h[t + 1] ** 2) * grad_h[t + 1])
    da = [(1 - h[t] ** 2) * grad_h[t] for t in range(T)]  # diag(1 - h^2) grad_h
    h_prev = [h0] + h[:-1]
    r = {"h": h, "y_hat": y_hat, "grad_o": grad_o, "grad_h": grad_h, "loss": loss,
         "grad_c_t": grad_o, "grad_b_t": da,
         "grad_V_t": [np.outer(grad_o[t], h[t]) for t in range(T)],
         "grad_W_t": [np.outer(da[t], h_prev[t]) for t in range(T)],
         "grad_U_t": [np.outer(da[t], xs[t]) for t in range(T)]}
    for name in ("c", "b", "V", "W", "U"):  # eqs. 6-7: sums over t
        r[f"grad_{name}"] = sum(r[f"grad_{name}_t"])
    return r


def elman_tape(U, W, V, b, c, xs, ys, h0=None) -> tuple:
    """The same network on the tape, one scope per step. Returns (loss, params dict, h, o)."""
    P = {k: Tensor(np.asarray(v, dtype=np.float64), requires_grad=True, name=k)
         for k, v in zip("UWVbc", (U, W, V, b, c))}
    h = initial_state(Tensor(np.zeros(P["W"].shape[0]) if h0 is None
                             else np.asarray(h0, np.float64), name="h0"))
    hs, os_, loss = [], [], None
    for t, (x, y) in enumerate(zip(np.asarray(xs, np.float64), np.asarray(ys))):
        with scope("elman", step=t):
            with scope(role="h"):
                h = (P["b"] + P["W"] @ h + P["U"] @ Tensor(x, name=f"x[{t}]")).tanh()
            with scope(role="o"):
                o = P["c"] + P["V"] @ h
            lt = F.cross_entropy(o[None, :], [int(y)])
        hs.append(h)
        os_.append(o)
        loss = lt if loss is None else loss + lt
    return loss, P, hs, os_


def _per_use(graph, name: str) -> list:
    """Gradient each use of parameter ``name`` sent back, ordered by time step."""
    (node,) = graph.find(name=name, kind="param")
    uses = sorted((graph.nodes[e.dst].meta["step"], e) for e in graph.edges if e.src == node.id)
    return [np.array(e.grad["values"]).reshape(node.shape) for _, e in uses]


def _compare(report, term, t, hand, tape, atol):
    diff = float(np.max(np.abs(np.asarray(hand) - np.asarray(tape))))
    report[term] = max(report.get(term, 0.0), diff)
    if diff > atol:
        where = f" at t={t}" if t is not None else ""
        raise GradError(f"check_bptt: {term}{where} disagrees: max |hand - tape| = {diff:.3g} "
                        f"(tolerance {atol:g})")


def check_elman_bptt(U, W, V, b, c, xs, ys, h0=None, atol: float = 1e-12) -> dict:
    """Compare eqs. 4-7, term by term and step by step, with the tape; raise GradError naming the
    first (term, t) that disagrees. Returns the largest difference per term."""
    hand = elman_bptt(U, W, V, b, c, xs, ys, h0)
    loss, P, hs, os_ = elman_tape(U, W, V, b, c, xs, ys, h0)
    loss.backward(retain_grads=True)
    g = trace(loss, max_values=10**9)
    report: dict = {}
    _compare(report, "loss", None, hand["loss"], loss.item(), atol)
    for t in range(len(hs)):
        _compare(report, "eq.4 grad_o", t, hand["grad_o"][t], os_[t].grad, atol)
        _compare(report, "eq.5 grad_h", t, hand["grad_h"][t], hs[t].grad, atol)
    for name, eq in (("c", "6"), ("b", "6"), ("V", "6"), ("W", "7"), ("U", "7")):
        for t, contrib in enumerate(_per_use(g, name)):
            _compare(report, f"eq.{eq} grad_{name}^(t)", t, hand[f"grad_{name}_t"][t], contrib,
                     atol)
        _compare(report, f"eq.{eq} grad_{name}", None, hand[f"grad_{name}"], P[name].grad, atol)
    return report


def _lstm_forward(w_ih, w_hh, b, V, c_out, xs):
    H = w_hh.shape[1]
    h, c = np.zeros(H), np.zeros(H)
    steps = []
    for x in xs:
        z = w_ih @ x + w_hh @ h + b
        i, f, o = _sig(z[:H]), _sig(z[H:2 * H]), _sig(z[3 * H:])
        g = np.tanh(z[2 * H:3 * H])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        steps.append({"x": x, "h_prev": h, "c_prev": c, "i": i, "f": f, "g": g, "o": o,
                      "c": c_new, "h": h_new, "y_hat": _softmax(c_out + V @ h_new)})
        h, c = h_new, c_new
    return steps


def lstm_bptt(w_ih, w_hh, b, V, c_out, xs, ys) -> dict:
    """Hand BPTT through an LSTM (PyTorch gate order i, f, g, o; b = bias_ih + bias_hh) with a
    softmax output o^(t) = c + V h^(t). Per step: grad_h, grad_c (the cell-state path),
    gate gradients grad_i/f/g/o (w.r.t. the gate outputs), per-step weight contributions; sums.

        dc^(t)   = dh^(t) * o * (1 - tanh^2 c^(t)) + f^(t+1) * dc^(t+1)      (the additive path)
        dz^(t)   = [dc g i(1-i), dc c^(t-1) f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]
        dh^(t-1) = V^T (y_hat - 1_y) at t-1 + W_hh^T dz^(t)
    """
    w_ih, w_hh, b, V, c_out, xs = (np.asarray(a, np.float64) for a in (w_ih, w_hh, b, V, c_out,
                                                                          xs))
    steps = _lstm_forward(w_ih, w_hh, b, V, c_out, xs)
    T, K = len(steps), len(c_out)
    r = {k: [None] * T for k in ("grad_h", "grad_c", "grad_i", "grad_f", "grad_g", "grad_o",
                                 "grad_w_ih_t", "grad_w_hh_t", "grad_V_t")}
    dh_next, dc_next, f_next = np.zeros(w_hh.shape[1]), np.zeros(w_hh.shape[1]), None
    for t in range(T - 1, -1, -1):
        s = steps[t]
        dout = s["y_hat"] - np.eye(K)[ys[t]]
        dh = V.T @ dout + dh_next
        tc = np.tanh(s["c"])
        dc = dh * s["o"] * (1 - tc**2) + (f_next * dc_next if f_next is not None else 0.0)
        gi, gf, gg, go = dc * s["g"], dc * s["c_prev"], dc * s["i"], dh * tc
        dz = np.concatenate([gi * s["i"] * (1 - s["i"]), gf * s["f"] * (1 - s["f"]),
                             gg * (1 - s["g"] ** 2), go * s["o"] * (1 - s["o"])])
        for k, v in (("grad_h", dh), ("grad_c", dc), ("grad_i", gi), ("grad_f", gf),
                     ("grad_g", gg), ("grad_o", go), ("grad_w_ih_t", np.outer(dz, s["x"])),
                     ("grad_w_hh_t", np.outer(dz, s["h_prev"])),
                     ("grad_V_t", np.outer(dout, s["h"]))):
            r[k][t] = v
        dh_next, dc_next, f_next = w_hh.T @ dz, dc, s["f"]
    for k in ("w_ih", "w_hh", "V"):
        r[f"grad_{k}"] = sum(r[f"grad_{k}_t"])
    r["loss"] = -sum(np.log(s["y_hat"][y]) for s, y in zip(steps, ys))
    return r


def check_lstm_bptt(w_ih, w_hh, b, V, c_out, xs, ys, atol: float = 1e-12) -> dict:
    """Compare :func:`lstm_bptt` with the tape (composite LSTM step) term by term, step by step."""
    hand = lstm_bptt(w_ih, w_hh, b, V, c_out, xs, ys)
    P = {k: Tensor(np.asarray(v, np.float64), requires_grad=True, name=k)
         for k, v in (("w_ih", w_ih), ("w_hh", w_hh), ("b", b), ("V", V), ("c", c_out))}
    H = P["w_hh"].shape[1]
    h, c = Tensor(np.zeros((1, H))), Tensor(np.zeros((1, H)))
    hs, cs, loss = [], [], None
    zero_b = Tensor(np.zeros_like(P["b"].data))
    for t, (x, y) in enumerate(zip(np.asarray(xs, np.float64), ys)):
        with scope("lstm", step=t):
            h, c = lstm_step(Tensor(x[None, :]), h, c, (P["w_ih"], P["w_hh"], P["b"], zero_b))
            lt = F.cross_entropy(F.linear(h, P["V"], P["c"]), [int(y)])
        hs.append(h)
        cs.append(c)
        loss = lt if loss is None else loss + lt
    loss.backward(retain_grads=True)
    g = trace(loss, max_values=10**9)
    report: dict = {}
    _compare(report, "loss", None, hand["loss"], loss.item(), atol)
    for t in range(len(hs)):
        _compare(report, "grad_h", t, hand["grad_h"][t], hs[t].grad[0], atol)
        _compare(report, "grad_c", t, hand["grad_c"][t], cs[t].grad[0], atol)
        for gate in "ifgo":
            (node,) = g.find(role=f"gate_{gate}", step=t, op="tanh" if gate == "g" else "sigmoid")
            _compare(report, f"grad_{gate}", t, hand[f"grad_{gate}"][t], node.grad["values"],
                     atol)
    for name in ("w_ih", "w_hh", "V"):
        for t, contrib in enumerate(_per_use(g, name)):
            _compare(report, f"grad_{name}^(t)", t, hand[f"grad_{name}_t"][t], contrib, atol)
        _compare(report, f"grad_{name}", None, hand[f"grad_{name}"], P[name].grad, atol)
    return report
