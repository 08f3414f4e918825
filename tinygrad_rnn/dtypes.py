"""Floating-point dtypes and the one rule for mixing them.

The rule: a Tensor holds float32 or float64. Python numbers, lists, bools and integer arrays become
the default dtype (float64 unless changed with :func:`set_default_dtype`); a float NumPy array keeps
its dtype. When two tensors meet in an op, the wider dtype wins (float32 with float64 gives
float64, as NumPy promotes); a Python scalar takes the dtype of the tensor it meets, so
``x32 * 2.0`` stays float32. Gradients always have the dtype of the value they belong to.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.errors import DTypeError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_default = [np.dtype(np.float64)]


def set_default_dtype(dtype) -> None:
    """Set the dtype used for data that has no float dtype of its own (float32 or float64)."""
    _default[0] = check_float_dtype(dtype, "set_default_dtype", "dtype")


def get_default_dtype() -> np.dtype:
    """The current default float dtype (float64 unless changed)."""
    return _default[0]


def check_float_dtype(dtype, func: str, arg: str) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in FLOAT_DTYPES:
        raise DTypeError(f"{func}: argument '{arg}' must be float32 or float64; got {dtype!r}")
    return dt


def as_float_array(data, dtype=None, func: str = "Tensor", arg: str = "data") -> np.ndarray:
    """Convert ``data`` to a float ndarray following the module's rule; never copies needlessly."""
    if dtype is not None:
        dtype = check_float_dtype(dtype, func, "dtype")
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise DTypeError(f"{func}: argument '{arg}' cannot become an array ({exc})") from None
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype in FLOAT_DTYPES:
        return arr if dtype is None or arr.dtype == dtype else arr.astype(dtype)
    if kind in "biuf":  # bool, ints, float16: exact in the default float dtype
        return arr.astype(dtype or _default[0])
    raise DTypeError(
        f"{func}: argument '{arg}' must hold real numbers; got dtype {arr.dtype} "
        f"(complex, object and string data cannot be differentiated)"
    )
