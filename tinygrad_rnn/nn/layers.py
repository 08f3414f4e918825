"""Feed-forward building blocks: Linear, Embedding, Dropout."""

from __future__ import annotations

import math

from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError
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
