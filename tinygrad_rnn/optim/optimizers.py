"""SGD, Adagrad, Adam and RMSprop with PyTorch's update formulas, argument names and defaults.

Notation: p a parameter, g its gradient, t the number of updates this parameter has had (counted
per parameter, as in PyTorch), wd the weight decay: an L2 penalty added to the gradient,
``d = g + wd p`` (for Adam this is PyTorch's ``Adam``, not the decoupled ``AdamW``). Updates are
in place on ``p.data``, in its dtype; gradients are not modified.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.errors import ArgumentError
from tinygrad_rnn.kernels import optim as K
from tinygrad_rnn.optim.base import (
    Optimizer,
    check_real,
    nonneg,
    positive,
    scalar_type,
    unit_interval,
)


def _wd(p, g, wd: float):
    return g + wd * p if wd != 0 else g  # a new array: p.grad stays as backward left it


def _bool(where: str, arg: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{where}: argument '{arg}' must be True or False; got {value!r}")
    return bool(value)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum mu.

        d = g + wd p
        b <- mu b + d                  (b starts at 0, so b = d after the first step)
        d <- d + mu b  if nesterov,  else  d <- b          (only when mu > 0)
        p <- p - lr d

    >>> opt = tr.optim.SGD(model_params, lr=0.1, momentum=0.9)
    >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    HP = ("lr", "momentum", "nesterov", "weight_decay")
    COUNTS_STEPS = False

    def __init__(
        self,
        params,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(
            params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )

    @classmethod
    def check_hp(cls, hp: dict) -> dict:
        w = cls.__name__
        out = {k: nonneg(w, k, hp[k]) for k in ("lr", "momentum", "weight_decay")}
        out["nesterov"] = _bool(w, "nesterov", hp["nesterov"])
        if out["nesterov"] and out["momentum"] == 0:
            raise ArgumentError(
                f"{w}: argument 'nesterov=True' needs momentum > 0; got momentum={hp['momentum']!r}"
            )
        return out

    def buffer_names(self, hp: dict) -> tuple[str, ...]:
        return ("momentum_buffer",) if hp["momentum"] != 0 else ()

    def kernel_min_size(self) -> int:
        # measured crossovers (benchmarks/README.md, "optim/"): momentum costs NumPy 4 passes
        return 1024 if self.momentum != 0 else 8192

    def update(self, p, g, st: dict, fused: bool) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if fused:
            c = scalar_type(p)
            buf = st.get("momentum_buffer", p[:0])
            K.sgd_update(p, g, buf, c(lr), c(mu), c(wd), self.nesterov)
            return
        d = _wd(p, g, wd)
        if mu != 0:
            buf = st["momentum_buffer"]
            buf *= mu
            buf += d
            d = d + mu * buf if self.nesterov else buf
        p -= lr * d


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step shrinks with its accumulated squared gradients.

        d = g + wd p
        s <- s + d^2                                   (s starts at 0)
        p <- p - lr d / (sqrt(s) + eps)                PyTorch's form (the default)
        p <- p - lr d / sqrt(s + eps)                  if eps_inside_sqrt=True

    min-char-rnn writes the second form (``mem += dparam**2; param -= lr * dparam /
    np.sqrt(mem + 1e-8)``). The two differ only while s is tiny: with eps outside the sqrt
    the first step is lr g / (|g| + eps), about lr sign(g); with eps inside it is
    lr g / sqrt(g^2 + eps). PyTorch's form is the default so numbers match ``torch.optim``;
    PyTorch's default eps is 1e-10, ours 1e-8 (min-char-rnn's).
    """

    HP = ("lr", "eps", "weight_decay", "eps_inside_sqrt")

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        eps_inside_sqrt: bool = False,
    ):
        super().__init__(
            params, lr=lr, eps=eps, weight_decay=weight_decay, eps_inside_sqrt=eps_inside_sqrt
        )

    @classmethod
    def check_hp(cls, hp: dict) -> dict:
        w = cls.__name__
        return {
            "lr": nonneg(w, "lr", hp["lr"]),
            "eps": positive(w, "eps", hp["eps"]),
            "weight_decay": nonneg(w, "weight_decay", hp["weight_decay"]),
            "eps_inside_sqrt": _bool(w, "eps_inside_sqrt", hp["eps_inside_sqrt"]),
        }

    def buffer_names(self, hp: dict) -> tuple[str, ...]:
        return ("sum",)

    def update_many(self, items: list) -> None:
        c = scalar_type(items[0][0])
        args = c(self.lr), c(self.eps), c(self.weight_decay), self.eps_inside_sqrt
        ps, gs = K.groups([it[0] for it in items]), K.groups([it[1] for it in items])
        for group in zip(ps, gs, K.groups([it[2]["sum"] for it in items])):
            K.adagrad_many(*group, *args)

    def update(self, p, g, st: dict, fused: bool) -> None:
        s, eps, wd = st["sum"], self.eps, self.weight_decay
        if fused:
            c = scalar_type(p)
            K.adagrad_update(p, g, s, c(self.lr), c(eps), c(wd), self.eps_inside_sqrt)
            return
        d = _wd(p, g, wd)
        s += d * d
        if self.eps_inside_sqrt:
            std = np.sqrt(s + eps)
        else:
            std = np.sqrt(s)
            std += eps
        p -= self.lr * d / std


class Adam(Optimizer):
    """Adam: momentum on the gradient (m) and on its square (v), with bias correction.

        d = g + wd p
        m <- b1 m + (1 - b1) d                         (m, v start at 0)
        v <- b2 v + (1 - b2) d^2
        p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    ``betas = (b1, b2)``. The corrections 1 - b^t undo the pull towards the zero start.
    """

    HP = ("lr", "betas", "eps", "weight_decay")

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    @classmethod
    def check_hp(cls, hp: dict) -> dict:
        w, betas = cls.__name__, hp["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ArgumentError(
                f"{w}: argument 'betas' must be a pair (b1, b2) of numbers in [0, 1); got {betas!r}"
            )
        return {
            "lr": nonneg(w, "lr", hp["lr"]),
            "betas": tuple(unit_interval(w, f"betas[{k}]", b) for k, b in enumerate(betas)),
            "eps": positive(w, "eps", hp["eps"]),
            "weight_decay": nonneg(w, "weight_decay", hp["weight_decay"]),
        }

    def buffer_names(self, hp: dict) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def update(self, p, g, st: dict, fused: bool) -> None:
        (b1, b2), t, wd = self.betas, st["step"], self.weight_decay
        step_size = self.lr / (1 - b1**t)
        bc2_sqrt = math.sqrt(1 - b2**t)
        m, v = st["exp_avg"], st["exp_avg_sq"]
        if fused:
            c = scalar_type(p)
            K.adam_update(
                p,
                g,
                m,
                v,
                c(step_size),
                c(1 - b1),
                c(b2),
                c(1 - b2),
                c(self.eps),
                c(wd),
                c(bc2_sqrt),
            )
            return
        d = _wd(p, g, wd)
        m += (1 - b1) * (d - m)  # PyTorch's lerp, = b1 m + (1 - b1) d
        v *= b2
        v += (1 - b2) * d * d
        denom = np.sqrt(v)
        denom /= bc2_sqrt
        denom += self.eps
        p -= step_size * m / denom


class RMSprop(Optimizer):
    """RMSprop: divide by a running root-mean-square of the gradient (no bias correction).

    d = g + wd p
    a <- alpha a + (1 - alpha) d^2                 (a starts at 0)
    u = d / (sqrt(a) + eps)
    b <- mu b + u;  p <- p - lr b                  if momentum mu > 0
    p <- p - lr u                                  otherwise
    """

    HP = ("lr", "alpha", "eps", "momentum", "weight_decay")

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        super().__init__(
            params, lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay
        )

    @classmethod
    def check_hp(cls, hp: dict) -> dict:
        w = cls.__name__
        out = {k: nonneg(w, k, hp[k]) for k in ("lr", "momentum", "weight_decay")}
        out["alpha"] = check_real(w, "alpha", hp["alpha"], "in [0, 1]", lambda x: 0 <= x <= 1)
        out["eps"] = positive(w, "eps", hp["eps"])
        return {k: out[k] for k in cls.HP}

    def buffer_names(self, hp: dict) -> tuple[str, ...]:
        return ("square_avg", "momentum_buffer") if hp["momentum"] != 0 else ("square_avg",)

    def update(self, p, g, st: dict, fused: bool) -> None:
        a, alpha, mu, wd = st["square_avg"], self.alpha, self.momentum, self.weight_decay
        if fused:
            c = scalar_type(p)
            buf = st.get("momentum_buffer", p[:0])
            K.rmsprop_update(
                p, g, a, buf, c(self.lr), c(alpha), c(1 - alpha), c(self.eps), c(mu), c(wd)
            )
            return
        d = _wd(p, g, wd)
        a *= alpha
        a += (1 - alpha) * d * d
        avg = np.sqrt(a)
        avg += self.eps
        if mu != 0:
            buf = st["momentum_buffer"]
            buf *= mu
            buf += d / avg
            p -= self.lr * buf
        else:
            p -= self.lr * d / avg
