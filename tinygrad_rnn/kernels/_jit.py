"""The one place that calls ``numba.njit``.

Kernels are plain Python functions decorated with :func:`kernel`. Numba is imported and the
function compiled only on the first call (``import tinygrad_rnn`` must not pay Numba's start-up),
then once per new argument-type signature (float32 and float64 compile separately, lazily).

Configuration, chosen once for every kernel:

* ``cache=True`` so a second process loads machine code from disk; if no cache directory is
  writable, Numba refuses at decoration time and we fall back to ``cache=False`` (slower first
  call, same results).
* a *subset* of fastmath: reassociation/contraction/reciprocals are allowed, but not ``nnan``
  or ``ninf``, which would let LLVM delete the NaN/Inf checks that anomaly detection relies on.
* ``boundscheck`` stays off: inputs are validated in the Python wrappers before a kernel runs.

``NUMBA_DISABLE_JIT=1`` makes ``njit`` return the Python function, so every kernel also runs
(slowly) as plain Python; the test suite passes both ways.
"""

from __future__ import annotations

import functools
import os
import threading

FASTMATH = frozenset({"contract", "arcp", "reassoc", "nsz", "afn"})

_lock = threading.RLock()  # re-entered: compiling a kernel compiles the helpers it calls
_warm = False  # some kernel has been compiled or loaded in this process


def _with_compiled_helpers(py_func):
    """``py_func`` seeing, in place of every :class:`Kernel` it names as a global, that kernel's
    compiled function: a kernel may call another (a helper such as ``tanh_f32``), which Numba
    then compiles into it. Keep a helper in the file of the kernels that call it: Numba's disk
    cache notices changes to a kernel's own file only."""
    import types

    found = {n: v for n in py_func.__code__.co_names
             if isinstance(v := py_func.__globals__.get(n), Kernel)}
    if not found:
        return py_func
    env = dict(py_func.__globals__)
    env.update((n, k.compiled_function()) for n, k in found.items())
    return types.FunctionType(py_func.__code__, env, py_func.__name__, py_func.__defaults__,
                              py_func.__closure__)


def _compile(py_func):
    import numba  # deferred: importing numba costs ~0.3 s

    py_func = _with_compiled_helpers(py_func)
    options = dict(nogil=True, fastmath=set(FASTMATH), error_model="numpy")
    try:
        return numba.njit(cache=True, **options)(py_func)
    except RuntimeError:
        # "cannot cache function ...: no locator available" (read-only install, no writable
        # home): compile in memory instead.
        return numba.njit(cache=False, **options)(py_func)


class Kernel:
    """A lazily compiled Numba kernel; call it like the function it wraps."""

    __slots__ = ("py_func", "_compiled", "__name__", "__wrapped__")

    def __init__(self, py_func):
        self.py_func = py_func
        self._compiled = None
        self.__name__ = py_func.__name__
        self.__wrapped__ = py_func  # help() and inspect see the kernel's own docstring

    def __call__(self, *args):
        fn = self._compiled
        if fn is None:
            fn = self.compiled_function()
        return fn(*args)

    def compiled_function(self):
        """The Numba dispatcher (the Python function under ``NUMBA_DISABLE_JIT``), compiled
        on first use."""
        global _warm
        if self._compiled is None:
            with _lock:
                if self._compiled is None:
                    self._compiled = _compile(self.py_func)
            _warm = True
        return self._compiled

    @property
    def compiled(self) -> bool:
        """Whether Numba has compiled (or loaded from cache) this kernel in this process."""
        return self._compiled is not None

    def __repr__(self) -> str:
        state = "compiled" if self.compiled else "not yet compiled"
        return f"<kernel {self.__name__} ({state})>"


@functools.cache
def jit_enabled() -> bool:
    """False when ``NUMBA_DISABLE_JIT`` is set: kernels would then be Python loops.

    Read once, like Numba itself reads it once at import.
    """
    return os.environ.get("NUMBA_DISABLE_JIT", "0").strip() in ("", "0")


def warm() -> bool:
    """Whether a kernel has already been called in this process. The first call pays for
    importing Numba and starting its compiler (~1 s together, even with every kernel cached on
    disk); an optional fast path that saves microseconds (the trace's summaries) takes its
    kernel only once that is paid, so a small trace in a NumPy-only process stays instant."""
    return _warm


def kernel(py_func) -> Kernel:
    """Decorator: mark ``py_func`` as a Numba kernel compiled on first call."""
    return Kernel(py_func)
