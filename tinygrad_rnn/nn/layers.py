"""Feed-forward building blocks: Linear, Embedding, Dropout, Tanh, ReLU, Sigmoid, Sequential."""

from __future__ import annotations

import math

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, DTypeError
from tinygrad_rnn.nn.init import as_rng, normal_param, uniform_param
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.tensor import Tensor


def check_size(func: str, **sizes) -> None:
    for k, v in sizes.items():
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ArgumentError(f"{func}: argument '{k}' must be a positive int; got {v!r}")


class Linear(Module):
    """y = x W^T + b. weight: (out_features, in_features), bias: (out_features,).

    Initialisation as PyTorch: W, b ~ U(-k, k), k = 1/sqrt(in_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None,
                 dtype=None):
        check_size("Linear", in_features=in_features, out_features=out_features)
        rng = as_rng(rng)
        k = 1.0 / math.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = uniform_param(rng, (out_features, in_features), k, "weight", dtype)
        self.bias = uniform_param(rng, (out_features,), k, "bias", dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """Lookup table: integer ids (any shape) -> rows of weight (num_embeddings, dim); N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None, dtype=None):
        check_size("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = normal_param(as_rng(rng), (num_embeddings, embedding_dim), 1.0, "weight",
                                   dtype)

    def forward(self, ids) -> Tensor:
        return F.embedding(self.weight, ids)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Dropout(Module):
    """Inverted dropout with its own generator; identity in eval mode."""

    def __init__(self, p: float = 0.5, rng=None):
        if not 0.0 <= p < 1.0:
            raise ArgumentError(f"Dropout: argument 'p' must be in [0, 1); got {p!r}")
        self.p = float(p)
        self.rng = as_rng(rng)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.rng, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Tanh(Module):
    """Elementwise tanh as a module (for Sequential): y = tanh(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class ReLU(Module):
    """Elementwise max(x, 0) as a module (for Sequential)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    """Elementwise 1 / (1 + exp(-x)) as a module (for Sequential)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Sequential(Module):
    """Modules applied in order: y = m_k(... m_2(m_1(x))).

    ``Sequential(m1, m2, ...)`` names the children "0", "1", ... as PyTorch's ``nn.Sequential``
    does (parameters "0.weight", "2.bias", ...), so state dicts move between the two;
    ``Sequential({"fc": m1, "act": m2})`` names them by the keys, in order.
    """

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], dict):
            items = [(str(k), m) for k, m in modules[0].items()]
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, m in items:
            if not isinstance(m, Module):
                raise DTypeError(f"Sequential: item {name!r} must be a tr.nn.Module; got "
                                 f"{type(m).__name__}")
            # a name like 'forward' or 'eval' would hide the method; '.' would break state names
            if not name or name.startswith("_") or "." in name or hasattr(Sequential, name):
                raise ArgumentError(f"Sequential: {name!r} cannot name a child (it is empty, "
                                    f"starts with '_', holds '.', or is a Module attribute)")
            setattr(self, name, m)
        self._names = [name for name, _ in items]

    def forward(self, x):
        for name in self._names:
            x = getattr(self, name)(x)
        return x

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, i: int) -> Module:
        return getattr(self, self._names[i])

    def extra_repr(self) -> str:
        return ", ".join(f"{n}={getattr(self, n)!r}" for n in self._names)
