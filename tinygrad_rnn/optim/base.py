"""The optimizer base class: parameters, per-parameter state, ``state_dict``, kernel choice.

Each update runs either as one fused Numba loop (``tinygrad_rnn.kernels.optim``) or as
the same formulas in NumPy. The loop never lost for Adagrad, Adam and RMSprop; for SGD, NumPy's
one or two calls win on small parameters (``SGD.kernel_min_size``; benchmarks/README.md,
"optim/"). NumPy also handles parameters that are not C-contiguous, and everything when
``NUMBA_DISABLE_JIT`` is set (the loops would then run as slow Python).
"""

from __future__ import annotations

import math
import numbers
from operator import is_

import numpy as np

from tinygrad_rnn.errors import ArgumentError, DTypeError, ShapeError
from tinygrad_rnn.kernels._jit import jit_enabled
from tinygrad_rnn.tensor import Tensor

#: "auto" (fused kernels where possible, see the module docstring), "numba" or "numpy".
#: Tests pin it to check that both paths give the same numbers.
_BACKEND = "auto"


def scalar_type(a: np.ndarray):
    """How to pass a scalar to a kernel working on ``a``: a float32 loop needs float32 scalars
    (float64 ones would promote its arithmetic); Python floats are float64 and dispatch fastest.
    """
    return np.float32 if a.dtype == np.float32 else float


def use_kernel(a: np.ndarray, min_size: int = 0) -> bool:
    """Whether to update (or clip) ``a`` in place with a kernel on its flat view."""
    if not _writable_c(a):
        return False  # reshape(-1) would copy and the update would be lost
    if _BACKEND != "auto":
        return _BACKEND == "numba"
    return a.size >= min_size and jit_enabled()


def check_real(where: str, arg: str, value, expected: str, ok) -> float:
    """``float(value)`` if it is a real number with ``ok(value)``, else an ArgumentError."""
    # type() first: the numbers.Real check (an ABC) is the slow part on every clip/step call
    good = type(value) in (float, int) or (isinstance(value, numbers.Real)
                                           and not isinstance(value, bool))
    if not good or not ok(float(value)):
        raise ArgumentError(f"{where}: argument '{arg}' must be {expected}; got {value!r}")
    return float(value)


def nonneg(where, arg, v):
    return check_real(where, arg, v, "a finite number >= 0", lambda x: 0 <= x < math.inf)


def positive(where, arg, v):
    return check_real(where, arg, v, "a finite number > 0", lambda x: 0 < x < math.inf)


def unit_interval(where, arg, v):
    return check_real(where, arg, v, "in [0, 1)", lambda x: 0 <= x < 1)


def collect_params(params, where: str, optimizer: bool = True) -> list[Tensor]:
    """A list of Tensors from a Tensor, an iterable of Tensors or anything with ``.parameters()``.

    For an optimizer each must be a leaf that requires grad and appear once.
    """
    if isinstance(params, Tensor):
        params = [params]
    elif callable(getattr(params, "parameters", None)):
        params = params.parameters()
    try:
        items = list(params)
    except TypeError:
        raise DTypeError(
            f"{where}: argument 'params' must be an iterable of Tensors or have a "
            f".parameters() method; got {type(params).__name__}"
        ) from None
    first: dict[int, int] = {}
    for i, p in enumerate(items):
        if not isinstance(p, Tensor):
            raise DTypeError(f"{where}: params[{i}] must be a Tensor; got {type(p).__name__}")
        if optimizer:
            _check_trainable(p, i, first.setdefault(id(p), i), where)
    if optimizer and not items:
        raise ArgumentError(f"{where}: argument 'params' is empty; expected at least one Tensor")
    return items


def _check_trainable(p: Tensor, i: int, first: int, where: str) -> None:
    """params[i] must require grad, be a leaf, and not repeat params[first]."""
    if not p.requires_grad:
        raise DTypeError(
            f"{where}: params[{i}] {p.label()} does not require grad; create it with "
            f"requires_grad=True"
        )
    if not p.is_leaf:
        raise ArgumentError(
            f"{where}: params[{i}] {p.label()} is not a leaf (an op made it); optimize the leaf "
            f"tensors it was computed from"
        )
    if first != i:
        raise ArgumentError(
            f"{where}: params[{first}] and params[{i}] are the same tensor {p.label()}; list "
            f"each parameter once"
        )


class Optimizer:
    """Shared machinery: the parameter list, per-parameter state, ``state_dict`` round trip.

    Subclasses define ``HP`` (hyper-parameter names), ``check_hp`` (validate and normalise),
    ``buffer_names`` (state arrays the hyper-parameters need) and ``update``. Hyper-parameters
    are plain attributes (``opt.lr = 1e-4`` changes the learning rate for the next step).
    """

    HP: tuple[str, ...] = ()
    COUNTS_STEPS = True  # keep a per-parameter update count "step" (all but SGD)

    def __init__(self, params, **hp):
        hp = self.check_hp(hp)
        self.params = collect_params(params, type(self).__name__)
        self.__dict__.update(hp)
        self.steps = 0  # number of step() calls
        self.state: list[dict] = [{"step": 0} if self.COUNTS_STEPS else {} for _ in self.params]
        for i in range(len(self.params)):
            self._buffers(i)
        self._views: tuple = ()  # what the kernel path needs, kept (see _kernel_views)

    @classmethod
    def check_hp(cls, hp: dict) -> dict:
        raise NotImplementedError

    def buffer_names(self, hp: dict) -> tuple[str, ...]:
        raise NotImplementedError

    def update(self, p, g, st: dict, fused: bool) -> None:
        raise NotImplementedError

    def kernel_min_size(self) -> int:
        """Smallest parameter (elements) for which the fused kernel beat NumPy end to end."""
        return 0

    def hyper_parameters(self) -> dict:
        return {name: getattr(self, name) for name in self.HP}

    def _buffers(self, i: int, names=None) -> dict:
        """Parameter i's state, creating buffers the current hyper-parameters need (zeros).
        ``names``: the buffer names, when the caller already has them (step, per parameter)."""
        p, st = self.params[i].data, self.state[i]
        if names is None:
            names = self.buffer_names(self.hyper_parameters())
        for name in names:
            buf = st.get(name)
            if buf is None:
                st[name] = np.zeros(p.shape, p.dtype)
            elif buf.shape != p.shape:
                raise ShapeError(
                    f"{type(self).__name__}: parameter {i} "
                    f"{self.params[i].label()} has shape {p.shape} but its state "
                    f"'{name}' has shape {buf.shape}; was p.data replaced?"
                )
            elif buf.dtype != p.dtype or not buf.flags.c_contiguous:
                st[name] = np.array(buf, dtype=p.dtype, order="C")  # kernels need flat views
        return st

    def _grad(self, i: int) -> np.ndarray:
        p = self.params[i]
        g = np.asarray(p.grad)
        if g.shape != p.data.shape:
            raise ShapeError(
                f"{type(self).__name__}.step: params[{i}] {p.label()} has shape "
                f"{p.data.shape} but its grad has shape {g.shape}"
            )
        return g if g.dtype == p.data.dtype else g.astype(p.data.dtype)

    def step(self) -> None:
        """Update every parameter whose ``grad`` is not None, in place."""
        names = self.buffer_names(self.hyper_parameters())  # once, not per parameter
        views = self._kernel_views(names)
        fast: dict = {}  # dtype -> [(flat p, flat g, flat state)]: see update_many
        for i, t in enumerate(self.params):
            g = t.grad
            if g is None:
                continue
            p, fst, st = views[i]
            if (p is not None and type(g) is np.ndarray and g.dtype == p.dtype
                    and g.shape == t.data.shape and _writable_c(g)):
                # the common case, with the flat views made once (~4 us a parameter less)
                if self.COUNTS_STEPS:
                    st["step"] += 1
                    fst["step"] = st["step"]
                fast.setdefault(p.dtype, []).append((p, g.reshape(-1), fst))
                continue
            g, st = self._grad(i), self._buffers(i, names)
            if self.COUNTS_STEPS:
                st["step"] += 1
            if p is not None:
                self.update(p, np.ascontiguousarray(g).reshape(-1), _flat(st), True)
            else:
                self.update(t.data, g, st, False)
        for items in fast.values():
            self.update_many(items)
        self.steps += 1

    def update_many(self, items: list) -> None:
        """The fused update of several parameters of one dtype: items are (flat p, flat g,
        flat state), every array C-contiguous and writeable. Subclasses with a multi-parameter
        kernel override this (one kernel call per GROUP parameters instead of one each)."""
        for p, g, st in items:
            self.update(p, g, st, True)

    def _kernel_views(self, names) -> list:
        """Per parameter (flat p or None if NumPy updates it, flat state, state).

        Kept between steps while every parameter's ``data``, its state dict and that dict's
        buffers are the very same objects and ``names``, the kernel policy and the minimum size
        are unchanged (one identity comparison over all of them); rebuilt, checking shapes (see
        ``_buffers``), otherwise."""
        key = (names, _BACKEND, self.kernel_min_size())
        state = self.state
        held = ([t.data for t in self.params] + state
                + [st.get(n) for st in state for n in names])
        cached = self._views
        if (cached and cached[0] == key and len(cached[1]) == len(held)
                and all(map(is_, held, cached[1]))):
            return cached[2]
        views = []
        for i, t in enumerate(self.params):
            st = self._buffers(i, names)
            flat = t.data.reshape(-1) if use_kernel(t.data, key[2]) else None
            views.append((flat, _flat(st), st))
        held = [t.data for t in self.params] + state + [st[n] for st in state for n in names]
        self._views = (key, held, views)
        return views

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to None (the next backward starts from zero)."""
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        """Copies of the state as plain NumPy arrays and scalars (``np.savez`` needs no pickle).

        Keys: ``"step"`` (step() calls), ``"hp.<name>"`` (hyper-parameters) and
        ``"state.<i>.<name>"`` (parameter i's buffers and update count).
        """
        hp = self.hyper_parameters()
        names = self.buffer_names(hp)
        d: dict = {"step": self.steps}
        d.update((f"hp.{k}", np.array(v) if isinstance(v, tuple) else v) for k, v in hp.items())
        for i in range(len(self.params)):
            st = self._buffers(i)
            d.update((f"state.{i}.{name}", st[name].copy()) for name in names)
            if self.COUNTS_STEPS:
                d[f"state.{i}.step"] = st["step"]
        return d

    def _keys(self, hp: dict, names) -> list[str]:
        """The keys of ``state_dict()`` had the hyper-parameters been ``hp``."""
        keys = ["step"] + [f"hp.{k}" for k in hp]
        step = ("step",) if self.COUNTS_STEPS else ()
        for i in range(len(self.params)):
            keys += [f"state.{i}.{name}" for name in (*names, *step)]
        return keys

    def load_state_dict(self, state_dict) -> None:
        """Load what ``state_dict`` (or ``np.load`` of its ``np.savez`` file) returned.

        Strict: missing or unexpected keys, shapes or values raise an error naming the key,
        expected vs got, and leave the optimizer unchanged. Arrays are copied into each
        parameter's dtype. Hyper-parameters are restored too.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not callable(getattr(state_dict, "keys", None)):
            raise DTypeError(
                f"{where}: argument 'state_dict' must be a dict or an np.load() "
                f"result; got {type(state_dict).__name__}"
            )
        src = {str(k): np.asarray(state_dict[k]) for k in state_dict.keys()}
        hp = self.hyper_parameters()
        if all(f"hp.{n}" in src for n in self.HP):
            try:
                hp = self.check_hp({n: _py_value(where, src, f"hp.{n}") for n in self.HP})
            except ArgumentError as exc:
                raise ArgumentError(f"{where}: bad hyper-parameter: {exc}") from None
        names = self.buffer_names(hp)
        _check_keys(where, src, self._keys(hp, names))
        steps = _count(where, src, "step")
        state = [self._load_param(where, src, i, names) for i in range(len(self.params))]
        self.__dict__.update(hp)
        self.steps, self.state = steps, state

    def _load_param(self, where: str, src: dict, i: int, names) -> dict:
        t = self.params[i]
        st = {"step": _count(where, src, f"state.{i}.step")} if self.COUNTS_STEPS else {}
        for name in names:
            key = f"state.{i}.{name}"
            a = src[key]
            if a.dtype.kind != "f":
                raise DTypeError(f"{where}: key '{key}' must hold floats; got dtype {a.dtype}")
            if a.shape != t.data.shape:
                raise ShapeError(
                    f"{where}: key '{key}' has shape {a.shape}; expected "
                    f"{t.data.shape}, the shape of params[{i}] {t.label()}"
                )
            st[name] = np.array(a, dtype=t.data.dtype, order="C")
        return st

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyper_parameters().items())
        return f"{type(self).__name__}({len(self.params)} params, {hp})"


def _writable_c(a: np.ndarray) -> bool:
    flags = a.flags  # one flags object, not two
    return flags.c_contiguous and flags.writeable


def _flat(st: dict) -> dict:
    return {k: v.reshape(-1) if type(v) is np.ndarray else v for k, v in st.items()}


def _check_keys(where: str, src: dict, expected: list[str]) -> None:
    known = set(expected)
    problems = [
        f"{what} keys {_few(keys)}"
        for what, keys in (
            ("missing", [k for k in expected if k not in src]),
            ("unexpected", sorted(k for k in src if k not in known)),
        )
        if keys
    ]
    if problems:
        raise ArgumentError(
            f"{where}: {'; '.join(problems)} (expected the keys that "
            f"state_dict() gives for these parameters and hyper-parameters)"
        )


def _few(keys: list[str], n: int = 8) -> str:
    more = f" and {len(keys) - n} more" if len(keys) > n else ""
    return f"{keys[:n]}{more}"


def _py_value(where: str, src: dict, key: str):
    """A loaded hyper-parameter as Python bool, float or tuple of floats."""
    a = src[key]
    if a.dtype.kind == "b" and a.shape == ():
        return bool(a)
    if a.dtype.kind in "iuf" and a.ndim <= 1:
        return float(a) if a.ndim == 0 else tuple(float(x) for x in a)
    raise ArgumentError(
        f"{where}: key '{key}' must be a number, bool or 1-d array of numbers; "
        f"got dtype {a.dtype}, shape {a.shape}"
    )


def _count(where: str, src: dict, key: str) -> int:
    a = src[key]
    ok = a.shape == () and a.dtype.kind in "iuf" and 0 <= float(a) < math.inf
    if not (ok and float(a).is_integer()):
        raise ArgumentError(f"{where}: key '{key}' must be a whole number >= 0; got {a!r}")
    return int(a)
