"""Hand-written NumPy references: a char-RNN training step with backpropagation through time
written out by hand, no tape.

* :class:`MinCharRNN` is min-char-rnn's step as it is usually quoted (column vectors, the output
  layer and softmax inside the time loop, loss = sum over steps, every gradient clipped to
  [-5, 5], Adagrad with ``mem += g*g; p -= lr * g / sqrt(mem + 1e-8)``). The one-hot inputs are
  built once by the caller, as they are for the tape.
* :class:`BatchedRNN` is the same model on (T, B) batches, written the way a careful NumPy
  programmer would: the input projection of all T steps is one GEMM, so are the output layer,
  the softmax and the weight gradients; only h W_hh^T and its transpose stay in the time loop.

Both start from the same weights as the other workloads (PyTorch names, see :func:`make_weights`).
min-char-rnn has one hidden bias b_h; it is b_ih + b_hh here, and its gradient is the gradient of
each of the two.
"""

from __future__ import annotations

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def make_weights(kind: str, V: int, H: int, seed: int = 0, dtype=np.float64) -> dict:
    """One parameter set in PyTorch's names and init (U(-1/sqrt(H), 1/sqrt(H))) for all sides."""
    rng = np.random.default_rng(seed)
    k, G = 1.0 / np.sqrt(H), GATES[kind] * H
    shapes = {"weight_ih_l0": (G, V), "weight_hh_l0": (G, H), "bias_ih_l0": (G,),
              "bias_hh_l0": (G,), "head.weight": (V, H), "head.bias": (V,)}
    return {n: rng.uniform(-k, k, s).astype(dtype) for n, s in shapes.items()}


def make_batch(V: int, T: int, B: int, seed: int = 1, dtype=np.float64) -> tuple:
    """(ids (T, B), one-hot inputs x (T, B, V), targets y (T, B)): predict the next id."""
    ids = np.random.default_rng(seed).integers(0, V, (T + 1, B))
    x = np.eye(V, dtype=dtype)[ids[:-1]]
    return ids[:-1], x, ids[1:]


class MinCharRNN:
    """min-char-rnn's lossFun + Adagrad update, for batch 1 (column vectors)."""

    def __init__(self, w: dict, lr: float = 0.1, clip: float = 5.0):
        self.Wxh, self.Whh = w["weight_ih_l0"].copy(), w["weight_hh_l0"].copy()
        self.bh = (w["bias_ih_l0"] + w["bias_hh_l0"])[:, None]
        self.Why, self.by = w["head.weight"].copy(), w["head.bias"][:, None].copy()
        self.params = [self.Wxh, self.Whh, self.Why, self.bh, self.by]
        self.mem = [np.zeros_like(p) for p in self.params]
        self.lr, self.clip = lr, clip

    def loss_and_grads(self, xs: list, targets) -> tuple:
        """xs: T one-hot columns (V, 1); targets: T ints -> (loss, [dWxh, dWhh, dWhy, dbh, dby])."""
        hs, ps, loss = {-1: np.zeros_like(self.bh)}, {}, 0.0
        for t in range(len(xs)):
            hs[t] = np.tanh(np.dot(self.Wxh, xs[t]) + np.dot(self.Whh, hs[t - 1]) + self.bh)
            ys = np.dot(self.Why, hs[t]) + self.by
            ps[t] = np.exp(ys) / np.sum(np.exp(ys))
            loss += -np.log(ps[t][targets[t], 0])
        grads = [np.zeros_like(p) for p in self.params]
        dWxh, dWhh, dWhy, dbh, dby = grads
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(xs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(self.Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(self.Whh.T, dhraw)
        return loss, grads

    def step(self, xs: list, targets) -> float:
        loss, grads = self.loss_and_grads(xs, targets)
        for g in grads:
            np.clip(g, -self.clip, self.clip, out=g)
        for p, g, m in zip(self.params, grads, self.mem):
            m += g * g
            p += -self.lr * g / np.sqrt(m + 1e-8)
        return loss

    def named_grads(self, xs: list, targets) -> dict:
        """Gradients in PyTorch's names, before clipping (for the equal-work check)."""
        _, (dWxh, dWhh, dWhy, dbh, dby) = self.loss_and_grads(xs, targets)
        return {"weight_ih_l0": dWxh, "weight_hh_l0": dWhh, "bias_ih_l0": dbh[:, 0],
                "bias_hh_l0": dbh[:, 0], "head.weight": dWhy, "head.bias": dby[:, 0]}


class BatchedRNN:
    """Elman char-RNN on (T, B) batches, hoisted GEMMs; loss 'mean' or 'sum' over T * B."""

    def __init__(self, w: dict, lr: float = 0.1, clip: float = 5.0, reduction: str = "mean"):
        self.Wih, self.Whh = w["weight_ih_l0"].copy(), w["weight_hh_l0"].copy()
        self.b = w["bias_ih_l0"] + w["bias_hh_l0"]
        self.Why, self.by = w["head.weight"].copy(), w["head.bias"].copy()
        self.params = [self.Wih, self.Whh, self.b, self.Why, self.by]
        self.mem = [np.zeros_like(p) for p in self.params]
        self.lr, self.clip, self.reduction = lr, clip, reduction

    def _forward(self, x):
        T, B, V = x.shape
        hs = np.zeros((T + 1, B, self.Whh.shape[0]), dtype=x.dtype)
        a = (x.reshape(-1, V) @ self.Wih.T).reshape(T, B, -1)
        a += self.b
        for t in range(T):
            z = hs[t] @ self.Whh.T
            z += a[t]
            np.tanh(z, out=hs[t + 1])
        return hs

    def loss_and_grads(self, x, y) -> tuple:
        """x (T, B, V) one-hot, y (T, B) ints -> (loss, [dWih, dWhh, db, dWhy, dby])."""
        T, B, V = x.shape
        hs = self._forward(x)
        h2 = hs[1:].reshape(T * B, -1)
        z = h2 @ self.Why.T
        z += self.by
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1)
        rows, yy = np.arange(T * B), y.reshape(-1)
        n = T * B if self.reduction == "mean" else 1
        loss = float((np.log(s) - z[rows, yy]).sum()) / n
        dz = e / s[:, None]
        dz[rows, yy] -= 1
        dz /= n
        return loss, self._backward(x, hs, h2, dz)

    def _backward(self, x, hs, h2, dz) -> list:
        T, B, V = x.shape
        dH = (dz @ self.Why).reshape(T, B, -1)
        dA = np.empty_like(dH)
        dnext = np.zeros_like(dH[0])
        for t in reversed(range(T)):
            h = hs[t + 1]
            da = dH[t] + dnext
            da *= 1 - h * h
            dA[t] = da
            dnext = da @ self.Whh
        dA2 = dA.reshape(T * B, -1)
        return [dA2.T @ x.reshape(-1, V), dA2.T @ hs[:-1].reshape(T * B, -1), dA2.sum(axis=0),
                dz.T @ h2, dz.sum(axis=0)]

    def step(self, x, y) -> float:
        loss, grads = self.loss_and_grads(x, y)
        for g in grads:
            np.clip(g, -self.clip, self.clip, out=g)
        for p, g, m in zip(self.params, grads, self.mem):
            m += g * g
            p -= self.lr * g / np.sqrt(m + 1e-8)
        return loss

    def named_grads(self, x, y) -> dict:
        _, (dWih, dWhh, db, dWhy, dby) = self.loss_and_grads(x, y)
        return {"weight_ih_l0": dWih, "weight_hh_l0": dWhh, "bias_ih_l0": db, "bias_hh_l0": db,
                "head.weight": dWhy, "head.bias": dby}


class ProductsOnly:
    """Only the matrix products of one training step, in plain NumPy, on random arrays of the
    step's shapes: the input projection X W_ih^T, T recurrent products W_hh h^T, the output
    layer (forward, dW, dX), T backward products W_hh^T dz^T, dW_ih and dW_hh over all steps;
    G = gates * H. Both our layers (fused and ``fused=False``) run these same GEMMs, so their
    time is a floor under either, and its share of the ``fused=False`` step bounds how much
    faster the fused layer can be. No gradients: nothing to compare."""

    def __init__(self, kind: str, V: int, H: int, T: int, B: int, dtype):
        rng, G = np.random.default_rng(0), GATES[kind] * H
        a = {n: rng.standard_normal(s).astype(dtype) for n, s in {
            "x": (T * B, V), "w_ih": (G, V), "w_hh": (G, H), "h": (B, H), "hs": (T * B, H),
            "w_out": (V, H), "g_out": (T * B, V), "dz": (T * B, G), "dz_t": (B, G)}.items()}
        self.a, self.T = a, T

    def step(self) -> None:
        a, T = self.a, self.T
        a["x"] @ a["w_ih"].T
        for _ in range(T):
            a["w_hh"] @ a["h"].T
        a["hs"] @ a["w_out"].T
        a["g_out"].T @ a["hs"]
        a["g_out"] @ a["w_out"]
        for _ in range(T):
            a["w_hh"].T @ a["dz_t"].T
        a["dz"].T @ a["x"]
        a["dz"].T @ a["hs"]
