"""Initialisation helpers. Every module takes ``rng`` (a seed or ``np.random.Generator``)."""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.dtypes import check_float_dtype, get_default_dtype
from tinygrad_rnn.errors import DTypeError
from tinygrad_rnn.tensor import Tensor


def as_rng(rng) -> np.random.Generator:
    """None -> a fresh generator (OS entropy); int -> ``default_rng(seed)``; Generator as is."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise DTypeError(f"rng must be None, an int seed or a numpy.random.Generator; got "
                     f"{type(rng).__name__}")


def uniform_param(rng, shape, bound: float, name: str, dtype=None) -> Tensor:
    """U(-bound, bound): PyTorch's default for Linear and recurrent weights (1/sqrt(fan))."""
    dtype = check_float_dtype(dtype, "init", "dtype") if dtype is not None else get_default_dtype()
    data = rng.uniform(-bound, bound, size=shape).astype(dtype)
    return Tensor(data, requires_grad=True, name=name)


def normal_param(rng, shape, std: float, name: str, dtype=None) -> Tensor:
    dtype = check_float_dtype(dtype, "init", "dtype") if dtype is not None else get_default_dtype()
    return Tensor((rng.standard_normal(shape) * std).astype(dtype), requires_grad=True, name=name)
