"""PyTorch modules in, PyTorch modules out: ``tr.nn.from_torch(m)`` and ``Module.to_torch()``.

Our layers share PyTorch's parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``, "0.weight"
in a Sequential), shapes and gate order (LSTM i, f, g, o; GRU r, z, n), so a conversion builds
the same layer on the other side with the same options and copies every parameter by name.

Supported, both ways: RNN, LSTM, GRU (num_layers, bidirectional, batch_first, bias, dropout,
RNN's nonlinearity), RNNCell, LSTMCell, GRUCell, Linear, Embedding, Dropout, Tanh, ReLU, Sigmoid,
and a Sequential of those. torch is imported only inside these functions: ``import tinygrad_rnn``
never loads it.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from tinygrad_rnn.dtypes import check_float_dtype, get_default_dtype
from tinygrad_rnn.errors import ArgumentError, DTypeError, MissingDependencyError
from tinygrad_rnn.nn import cells, layers, recurrent
from tinygrad_rnn.nn.module import Module

RECURRENT = ("RNN", "LSTM", "GRU")
CELLS = ("RNNCell", "LSTMCell", "GRUCell")
SIMPLE = ("Dropout", "Tanh", "ReLU", "Sigmoid")
SUPPORTED = (*RECURRENT, *CELLS, "Linear", "Embedding", *SIMPLE, "Sequential")
_OURS = {**{k: getattr(recurrent, k) for k in RECURRENT}, **{k: getattr(cells, k) for k in CELLS},
         **{k: getattr(layers, k) for k in ("Linear", "Embedding", *SIMPLE, "Sequential")}}
_HINT = ("supported: torch.nn." + ", ".join(SUPPORTED) + " (a model of your own: convert its "
         "parts, e.g. tr.nn.from_torch(model.lstm))")


def _import_torch(func: str):
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(
            f'{func}: needs PyTorch, which is not installed; pip install "tinygrad-rnn[torch]" '
            f"(or pip install torch)") from None
    return torch


# ---- PyTorch -> tinygrad_rnn -------------------------------------------------------------------
def from_torch(module, dtype=None, rng=None) -> Module:
    """A tinygrad_rnn module equal to the PyTorch ``module``: same options, same parameters.

    ``dtype``: float32 or float64 (NumPy or torch dtype); by default the module's own (a float32
    torch model gives float32 parameters). ``rng``: seed or Generator for our dropout masks.
    The training/eval mode is copied. The result runs, traces and draws like any of our modules:

    >>> lstm = tr.nn.from_torch(torch.nn.LSTM(8, 16, num_layers=2))
    >>> out, (h_n, c_n) = lstm(x)            # x: (T, B, 8) -> out (T, B, 16), h_n (2, B, 16)
    """
    torch = _import_torch("from_torch")
    if not isinstance(module, torch.nn.Module):
        raise DTypeError(f"from_torch: argument 'module' must be a torch.nn.Module; got "
                         f"{type(module).__name__}")
    dt = _our_dtype(torch, module, dtype)
    ours = _build_ours(torch, module, dt, rng)
    ours.load_state_dict({n: _numpy(torch, p, dt) for n, p in module.named_parameters()})
    return ours.train(module.training)


def _our_dtype(torch, module, dtype) -> np.dtype:
    by_torch = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64)}
    if dtype is not None:
        return by_torch.get(dtype) or check_float_dtype(dtype, "from_torch", "dtype")
    found = sorted({str(p.dtype) for p in module.parameters()})
    if not found:
        return np.dtype(get_default_dtype())
    if len(found) > 1 or found[0] not in ("torch.float32", "torch.float64"):
        raise DTypeError(f"from_torch: the module's parameters are {', '.join(found)}; we compute "
                         f"in float32 or float64: pass dtype=np.float32 or dtype=np.float64")
    return np.dtype(found[0][len("torch."):])


def _numpy(torch, p, dt) -> np.ndarray:
    want = torch.float64 if dt == np.float64 else torch.float32
    return p.detach().to(device="cpu", dtype=want).numpy()


def _torch_kind(torch, module) -> str:
    """The supported torch.nn class name of ``module`` (exactly that class), or an error."""
    name = type(module).__name__
    if name in SUPPORTED and type(module) is getattr(torch.nn, name):
        return name
    base = next((c.__name__ for c in type(module).__mro__[1:] if c.__name__ in SUPPORTED
                 and c is getattr(torch.nn, c.__name__, None)), None)
    why = f" (a subclass of torch.nn.{base}: its forward may differ)" if base else ""
    raise DTypeError(f"from_torch: cannot convert {name}{why}; {_HINT}")


def _build_ours(torch, module, dt, rng) -> Module:
    """Our module with ``module``'s options (parameters still to be copied)."""
    kind = _torch_kind(torch, module)
    ours = _OURS[kind]
    if kind == "Sequential":
        return ours({name: _build_child(torch, child, dt, rng)
                     for name, child in module.named_children()})
    if kind in SIMPLE:
        return ours(p=module.p, rng=rng) if kind == "Dropout" else ours()
    if kind == "Linear":
        return ours(module.in_features, module.out_features, bias=module.bias is not None,
                    rng=rng, dtype=dt)
    if kind == "Embedding":
        _check_embedding(module)
        return ours(module.num_embeddings, module.embedding_dim, rng=rng, dtype=dt)
    extra = {"nonlinearity": module.nonlinearity} if kind in ("RNN", "RNNCell") else {}
    extra.update({"reset_after": True} if kind in ("GRU", "GRUCell") else {})
    if kind in CELLS:
        return ours(module.input_size, module.hidden_size, bias=module.bias, rng=rng, dtype=dt,
                    **extra)
    if module.proj_size:
        raise ArgumentError(f"from_torch: torch.nn.LSTM(proj_size={module.proj_size}) is not "
                            f"supported (our LSTM has no projection); use proj_size=0")
    return ours(module.input_size, module.hidden_size, num_layers=module.num_layers,
                bias=module.bias, batch_first=module.batch_first, dropout=module.dropout,
                bidirectional=module.bidirectional, rng=rng, dtype=dt, **extra)


def _build_child(torch, child, dt, rng) -> Module:
    if _torch_kind(torch, child) == "Sequential":  # keeps the walk flat (no recursion)
        raise ArgumentError("from_torch: a Sequential inside a Sequential is not supported; "
                            "flatten it into one Sequential")
    return _build_ours(torch, child, dt, rng)


def _check_embedding(module) -> None:
    unsupported = {"padding_idx": None, "max_norm": None, "scale_grad_by_freq": False,
                   "sparse": False}
    for arg, plain in unsupported.items():
        if getattr(module, arg) != plain:
            raise ArgumentError(f"from_torch: torch.nn.Embedding({arg}={getattr(module, arg)!r})"
                                f" is not supported (our Embedding is a plain lookup table); "
                                f"use {arg}={plain!r}")


# ---- tinygrad_rnn -> PyTorch -------------------------------------------------------------------
def to_torch(module: Module):
    """A ``torch.nn`` module equal to ``module`` (see :meth:`Module.to_torch`)."""
    torch = _import_torch(f"{type(module).__name__}.to_torch")
    params = module.parameters()
    wide = any(p.dtype == np.float64 for p in params) or (
        not params and get_default_dtype() == np.float64)
    dt = torch.float64 if wide else torch.float32
    theirs = _build_torch(torch, module, dt)
    theirs.load_state_dict({n: torch.from_numpy(np.array(p.data, copy=True))
                            for n, p in module.named_parameters()})
    return theirs.train(module.training)


def _our_kind(module) -> str:
    kind = type(module).__name__
    if _OURS.get(kind) is not type(module):
        raise DTypeError(f"{kind}.to_torch: PyTorch has no counterpart of {kind}; supported: "
                         f"tr.nn." + ", ".join(SUPPORTED))
    return kind


def _build_torch(torch, module, dt):
    """The torch.nn module with ``module``'s options (parameters still to be copied)."""
    kind = _our_kind(module)
    cls = getattr(torch.nn, kind)
    if kind == "Sequential":
        children = []
        for name in module._names:
            child = getattr(module, name)
            if _our_kind(child) == "Sequential":  # keeps the walk flat (no recursion)
                raise ArgumentError("Sequential.to_torch: a Sequential inside a Sequential is "
                                    "not supported; flatten it into one Sequential")
            children.append((name, _build_torch(torch, child, dt)))
        return cls(OrderedDict(children))
    if kind in SIMPLE:
        return cls(p=module.p) if kind == "Dropout" else cls()
    if kind == "Linear":
        return cls(module.in_features, module.out_features, bias=module.bias is not None,
                   dtype=dt)
    if kind == "Embedding":
        return cls(module.num_embeddings, module.embedding_dim, dtype=dt)
    if kind in ("GRU", "GRUCell") and not module.reset_after:
        raise ArgumentError(f"{kind}.to_torch: PyTorch's {kind} is the reset_after=True form; "
                            f"this one has reset_after=False (Cho et al. 2014)")
    extra = {"nonlinearity": module.nonlinearity} if kind in ("RNN", "RNNCell") else {}
    bias = module.bias_ih is not None if kind in CELLS else module.bias_ih_l0 is not None
    if kind in CELLS:
        return cls(module.input_size, module.hidden_size, bias=bias, dtype=dt, **extra)
    return cls(module.input_size, module.hidden_size, num_layers=module.num_layers, bias=bias,
               batch_first=module.batch_first, dropout=module.dropout,
               bidirectional=module.bidirectional, dtype=dt, **extra)
