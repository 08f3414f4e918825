"""``tr.nn.Module``: parameters found by walking attributes, scopes pushed on call, safe saves.

A module's parameters are the Tensors with ``requires_grad`` among its attributes and inside its
lists, tuples and dicts, and those of its sub-modules, in attribute order. Calling a module runs
``forward`` inside ``tr.scope(<attribute name>)``, so every recorded node knows which module made
it ("seq2seq/encoder/...").
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor


def _children(value):
    """(key, item) pairs inside a container attribute, in a deterministic order."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(value)]
    return []


class Module:
    """Base class: subclass it, create parameters/sub-modules in ``__init__``, write ``forward``."""

    training = True
    _scope_name: str | None = None

    def __setattr__(self, key, value):
        if isinstance(value, Module) and value._scope_name is None:
            object.__setattr__(value, "_scope_name", key)
        object.__setattr__(self, key, value)

    def __call__(self, *args, **kwargs):
        with scope(self._scope_name or type(self).__name__.lower()):
            return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ---- walking ---------------------------------------------------------------------------
    def _walk(self):
        """Yield (dotted name, object) for every Module and Tensor below, iteratively."""
        stack = [("", self)]
        seen = set()
        while stack:
            prefix, obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield prefix, obj
            if isinstance(obj, Module):
                items = [(k, v) for k, v in vars(obj).items() if not k.startswith("_")]
            else:
                items = _children(obj)
            found = []
            for k, v in items:
                if isinstance(v, (Module, Tensor)) or _children(v):
                    found.append((f"{prefix}.{k}" if prefix else k, v))
            stack.extend(reversed(found))  # pop in attribute order

    def named_parameters(self):
        """(name, Tensor) for every parameter, e.g. ('encoder.weight_ih_l0', W)."""
        return [(n, t) for n, t in self._walk() if isinstance(t, Tensor) and t.requires_grad]

    def parameters(self) -> list:
        return [t for _, t in self.named_parameters()]

    def modules(self) -> list:
        return [m for _, m in self._walk() if isinstance(m, Module)]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Copies of every parameter's array, keyed by dotted name (PyTorch's names for RNNs)."""
        return OrderedDict((n, p.data.copy()) for n, p in self.named_parameters())

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Copy arrays into the parameters. Everything is checked before anything is changed:
        a bad state leaves the model as it was."""
        own = OrderedDict(self.named_parameters())
        name = type(self).__name__
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise ArgumentError(f"{name}.load_state_dict: state does not match the model: "
                                f"missing {missing or 'none'}, unexpected {unexpected or 'none'}")
        new = {}
        for k, p in own.items():
            if k not in state:
                continue
            arr = np.asarray(state[k])
            if arr.shape != p.shape:
                raise ShapeError(f"{name}.load_state_dict: '{k}' must have shape {p.shape}; "
                                 f"got {arr.shape}")
            if arr.dtype.kind not in "fiu":
                raise DTypeError(f"{name}.load_state_dict: '{k}' must be numeric; got {arr.dtype}")
            new[k] = arr.astype(p.dtype, copy=True)
        for k, arr in new.items():
            own[k].data = arr

    def save(self, path, optimizer=None) -> None:
        """Write the parameters (and ``optimizer.state_dict()`` under 'optim/') to ``path`` (.npz).

        Atomic: the file is written next to ``path`` under a temporary name, flushed to disk and
        renamed over ``path``; a crash at any moment leaves either the old or the new file.
        """
        arrays = {f"param/{k}": v for k, v in self.state_dict().items()}
        if optimizer is not None:
            arrays.update({f"optim/{k}": np.asarray(v) for k, v in
                           optimizer.state_dict().items()})
        atomic_savez(os.fspath(path), arrays)

    def load(self, path, optimizer=None) -> None:
        """Load what :meth:`save` wrote. A missing, truncated, corrupted or foreign file, or one
        whose names or shapes do not match, raises and leaves the model (and optimizer) as is."""
        arrays = read_npz(os.fspath(path), f"{type(self).__name__}.load")
        params = {k[6:]: v for k, v in arrays.items() if k.startswith("param/")}
        if not params:
            raise ArgumentError(f"{type(self).__name__}.load: '{path}' holds no model parameters "
                                f"(keys {sorted(arrays)[:5]}...); was it written by Module.save?")
        optim = {k[6:]: v for k, v in arrays.items() if k.startswith("optim/")}
        before = self.state_dict()
        self.load_state_dict(params)
        if optimizer is not None:
            try:
                optimizer.load_state_dict({k: (v.item() if v.ndim == 0 else v)
                                           for k, v in optim.items()})
            except Exception:
                self.load_state_dict(before)  # all or nothing
                raise

    def to_torch(self):
        """The equal ``torch.nn`` module: same options, parameters copied by name, same mode.

        For RNN, LSTM, GRU, the cells, Linear, Embedding, Dropout, Tanh, ReLU, Sigmoid and a
        Sequential of those (the inverse of ``tr.nn.from_torch``). Needs PyTorch
        (``pip install "tinygrad-rnn[torch]"``); float64 parameters give a float64 torch module.
        Any module's ``state_dict()`` also loads into PyTorch's equal module by the same names.
        """
        from tinygrad_rnn.nn.torch_bridge import to_torch  # torch stays optional

        return to_torch(self)

    def __repr__(self) -> str:
        """PyTorch's style: ``LSTM(10, 20, num_layers=2, ...)``, and a module with sub-modules
        lists them, one per line, nested (``Seq2Seq(\n  (encoder): GRU(16, 64, ...)\n  ...)``);
        sub-modules in lists and dicts are named like their parameters (``cells.0``)."""
        return _module_repr(self)

    def extra_repr(self) -> str:
        """The constructor arguments worth showing in the repr (subclasses override it)."""
        return ""

    def _child_modules(self) -> list:
        """(name, module) of the direct sub-modules, in attribute order."""
        out = []
        for k, v in vars(self).items():
            if k.startswith("_"):
                continue
            if isinstance(v, Module):
                out.append((k, v))
            else:
                out += [(f"{k}.{i}", m) for i, m in _children(v) if isinstance(m, Module)]
        return out


def _module_repr(module: Module) -> str:
    """Iterative (a stack of open modules), so a module that holds its parent prints once."""
    out: list = []
    stack = [(module, "", 0, ())]
    while stack:
        m, label, depth, path = stack.pop()
        pad = "  " * depth
        if isinstance(m, str):  # the closing parenthesis of a module with children
            out.append(pad + m)
            continue
        head = f"{pad}{f'({label}): ' if label else ''}{type(m).__name__}("
        if any(m is p for p in path):
            out.append(f"{head}...)")  # a cycle: already being printed above
            continue
        children, extra = m._child_modules(), m.extra_repr()
        if not children:
            out.append(f"{head}{extra})")
            continue
        out.append(head)
        if extra:
            out.append(f"{pad}  {extra}")
        stack.append((")", "", depth, ()))
        stack.extend((c, name, depth + 1, (*path, m)) for name, c in reversed(children))
    return "\n".join(out)


def atomic_savez(path: str, arrays: dict) -> None:
    """np.savez to a temporary file in the target's folder, fsync, then rename over ``path``."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_npz(path: str, func: str) -> dict:
    """All arrays of an .npz file, without pickle; any failure becomes a clear error."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise ArgumentError(f"{func}: '{path}' is not a readable .npz checkpoint "
                            f"(truncated, corrupted or another format): {exc}") from None
