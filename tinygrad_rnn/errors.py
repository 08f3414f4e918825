"""The project's error types.

Every user-facing error is one of these, so callers can catch them precisely, and each is also a
subclass of the builtin a Python user would expect (``ShapeError`` is a ``ValueError``, ...).
Messages answer four questions: which op or function, which argument, expected vs got, and where
(scope, time step, tree node).
"""

from __future__ import annotations


class TinyGradRNNError(Exception):
    """Base class of every error this library raises on purpose."""


class ShapeError(TinyGradRNNError, ValueError):
    """An argument has the wrong shape or rank."""


class DTypeError(TinyGradRNNError, TypeError):
    """An argument has a dtype (or Python type) the function cannot use."""


class ArgumentError(TinyGradRNNError, ValueError):
    """An argument has a bad value (out of range index, negative rate, unknown option, ...)."""


class GraphFormatError(ArgumentError):
    """A saved graph (a ``Graph.to_dict()`` dict, JSON text or file) cannot be read: malformed,
    truncated, too big, not UTF-8, or written by a newer version; the message names the source
    (the file), the field and the node."""


class GradError(TinyGradRNNError, RuntimeError):
    """Backward cannot run: freed graph, non-scalar root without a seed, gradient check failed."""


class AnomalyError(TinyGradRNNError, FloatingPointError):
    """``detect_anomaly`` found the first op whose forward or backward produced NaN or Inf."""


class ParseError(TinyGradRNNError, ValueError):
    """Malformed text input (trees, CoNLL-U); the message carries line, column and a caret."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


class MissingDependencyError(TinyGradRNNError, ImportError):
    """An optional package a function needs is not installed; the message names the extra."""
