"""A Hopfield network: the dynamical system s^(t) = f(s^(t-1); theta) of seed 000, unfolded.

Seed 002 writes it X_{t+1} = phi(W X_t + Theta). Store P patterns p in {-1, +1}^N with the
Hebbian rule, then recall one from a corrupted copy by iterating the map:

    W = (1/N) sum_p p p^T  with W_ii = 0           (symmetric, no self-connections)
    s^(t) = sign(W s^(t-1) + Theta)                (recall; a zero field keeps the old sign)
    E(s) = -1/2 s^T W s - Theta^T s                (energy)

Updated one unit at a time (asynchronous), E never increases, so recall must stop in a local
minimum; with few patterns (P < ~0.14 N) the stored ones are such minima. Updated all at once
(synchronous) the energy usually falls too, but the state may end in a 2-cycle.

The differentiable version replaces sign by tanh(beta .) and records every iteration on the tape
inside ``tr.scope("hopfield", step=t)``: the unfolded graph of seed 000, with W shared by all
steps (its gradient is the sum of the per-step copies' contributions).
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import functional as F
from tinygrad_rnn.dtypes import check_float_dtype, get_default_dtype
from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.nn.layers import check_size
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor, initial_state

MODES = ("synchronous", "asynchronous")


def _signs(s, func: str, arg: str, n: int | None = None, ndim=(1, 2)) -> np.ndarray:
    """A float array of +-1 values with its last axis of size ``n`` (checked)."""
    arr = np.asarray(s.data if isinstance(s, Tensor) else s, dtype=np.float64)
    if arr.ndim not in ndim or (n is not None and arr.shape[-1] != n):
        size = "N" if n is None else n
        want = " or ".join({1: f"({size},)", 2: f"(batch, {size})"}[d] for d in ndim)
        raise ShapeError(f"{func}: argument '{arg}' must have shape {want}; got {arr.shape}")
    if not np.all(np.abs(arr) == 1):
        bad = tuple(int(i) for i in np.argwhere(np.abs(arr) != 1)[0])
        raise ArgumentError(f"{func}: argument '{arg}' must hold only -1 and +1; got "
                            f"{float(arr[bad]):g} at position {bad}")
    return arr


def ascii_states(states, side: int) -> str:
    """+-1 states of side * side units as text pictures side by side ("#" for +1, "." for -1)."""
    rows = ["   ".join("".join("#" if v > 0 else "." for v in s[r * side:(r + 1) * side])
                       for s in states) for r in range(side)]
    return "\n".join(rows)


def hamming(a, b) -> np.ndarray | int:
    """Number of units where two +-1 states differ (per row for (B, N) states)."""
    d = np.sum(np.asarray(a) != np.asarray(b), axis=-1)
    return int(d) if np.ndim(d) == 0 else d


def flip_signs(pattern, n_flips: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of the +-1 ``pattern`` (N,) with ``n_flips`` distinct units (drawn by rng) flipped."""
    p = _signs(pattern, "flip_signs", "pattern", ndim=(1,)).copy()
    if not 0 <= n_flips <= p.size:
        raise ArgumentError(f"flip_signs: argument 'n_flips' must be in [0, {p.size}]; got "
                            f"{n_flips!r}")
    p[rng.choice(p.size, size=n_flips, replace=False)] *= -1
    return p


class HopfieldNetwork(Module):
    """N binary units fully connected by a symmetric W with zero diagonal, and thresholds Theta.

    ``weight`` (W, (N, N)) and ``bias`` (Theta, (N,)) are Tensors with ``requires_grad`` so the
    unfolded graph (:meth:`forward`) shows them as shared parameters; :meth:`store` sets W.
    """

    def __init__(self, n_units: int, dtype=None):
        check_size("HopfieldNetwork", n_units=n_units)
        dt = check_float_dtype(dtype, "HopfieldNetwork", "dtype") if dtype else get_default_dtype()
        self.n_units = n_units
        self.n_patterns = 0
        self.weight = Tensor(np.zeros((n_units, n_units), dtype=dt), requires_grad=True, name="W")
        self.bias = Tensor(np.zeros(n_units, dtype=dt), requires_grad=True, name="theta")

    def extra_repr(self) -> str:
        return f"n_units={self.n_units}, patterns={self.n_patterns}"

    def store(self, patterns, append: bool = False) -> HopfieldNetwork:
        """Hebbian rule W = (1/N) sum_p p p^T, W_ii = 0. patterns: (P, N) of +-1. Returns self.

        append=True adds the patterns to those already stored instead of replacing them.
        """
        P = _signs(patterns, "HopfieldNetwork.store", "patterns", self.n_units, ndim=(2,))
        W = P.T @ P / self.n_units
        np.fill_diagonal(W, 0.0)  # no self-connections: a unit must not reinforce itself
        if append:
            W += self.weight.data
        self.weight.data = W.astype(self.weight.dtype)
        self.n_patterns = P.shape[0] + (self.n_patterns if append else 0)
        return self

    def energy(self, s) -> np.ndarray | float:
        """E(s) = -1/2 s^T W s - Theta^T s for s (N,) (a float) or (B, N) (an array (B,))."""
        x = np.asarray(s.data if isinstance(s, Tensor) else s, dtype=np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != self.n_units:
            raise ShapeError(f"HopfieldNetwork.energy: argument 's' must have shape "
                             f"({self.n_units},) or (batch, {self.n_units}); got {x.shape}")
        W, theta = self.weight.data.astype(np.float64), self.bias.data.astype(np.float64)
        e = -0.5 * np.einsum("...i,ij,...j->...", x, W, x) - x @ theta
        return float(e) if x.ndim == 1 else e

    def step(self, s, mode: str = "synchronous", rng: np.random.Generator | None = None):
        """One update of every unit: s' = sign(W s + Theta) (a zero field keeps the sign).

        mode='synchronous' updates all units from the same s; 'asynchronous' updates them one
        at a time in an order drawn from ``rng``, each seeing the units already updated.
        """
        func = "HopfieldNetwork.step"
        x = _signs(s, func, "s", self.n_units)
        if mode not in MODES:
            raise ArgumentError(f"{func}: argument 'mode' must be 'synchronous' or "
                                f"'asynchronous'; got {mode!r}")
        W, theta = self.weight.data.astype(np.float64), self.bias.data.astype(np.float64)
        if mode == "synchronous":
            h = x @ W + theta  # W is symmetric: x W = (W x)^T
            return np.where(h > 0, 1.0, np.where(h < 0, -1.0, x))
        if not isinstance(rng, np.random.Generator):
            raise DTypeError(f"{func}: mode 'asynchronous' needs argument 'rng', a "
                             f"numpy.random.Generator; got {type(rng).__name__}")
        x = x.copy()
        for i in rng.permutation(self.n_units):
            h = x @ W[i] + theta[i]
            x[..., i] = np.where(h > 0, 1.0, np.where(h < 0, -1.0, x[..., i]))
        return x

    def recall(self, s0, steps: int = 20, mode: str = "synchronous",
               rng: np.random.Generator | None = None) -> np.ndarray:
        """Iterate :meth:`step` from s0 until nothing changes (or ``steps`` updates).

        Returns the trajectory [s^(0), s^(1), ...] as an array (n + 1, N) (or (n + 1, B, N)).
        """
        if not isinstance(steps, int) or steps < 0:
            raise ArgumentError(f"HopfieldNetwork.recall: argument 'steps' must be an int >= 0;"
                                f" got {steps!r}")
        states = [_signs(s0, "HopfieldNetwork.recall", "s0", self.n_units)]
        for _ in range(steps):
            nxt = self.step(states[-1], mode, rng)
            if np.array_equal(nxt, states[-1]):
                break  # a fixed point: every later step would repeat it
            states.append(nxt)
        return np.stack(states)

    def forward(self, s0, steps: int = 5, beta: float = 4.0) -> Tensor:
        """Differentiable unfolding: s^(t) = tanh(beta (W s^(t-1) + Theta)), t = 1..steps.

        s0: (N,) or (B, N) Tensor or array (any real values; it may require grad).
        -> Tensor (steps, N) or (steps, B, N). Large beta approaches the sign recall.
        """
        func = "HopfieldNetwork.forward"
        s = s0 if isinstance(s0, Tensor) else Tensor(np.asarray(s0), dtype=self.weight.dtype)
        if s.ndim not in (1, 2) or s.shape[-1] != self.n_units:
            raise ShapeError(f"{func}: argument 's0' must have shape ({self.n_units},) or "
                             f"(batch, {self.n_units}); got {s.shape}")
        if not isinstance(steps, int) or steps < 1:
            raise ArgumentError(f"{func}: argument 'steps' must be a positive int; got {steps!r}")
        if not beta > 0:
            raise ArgumentError(f"{func}: argument 'beta' must be > 0; got {beta!r}")
        if s.is_leaf:  # s^(0): drawn as an input (with its gradient), not as a weight
            initial_state(s, "s0")
        states = []
        for t in range(1, steps + 1):
            with scope("hopfield", step=t):
                s = (F.linear(s, self.weight, self.bias) * beta).tanh()
            states.append(s)
        return F.stack(states, axis=0)
