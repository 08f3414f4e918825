"""Errors raised by ``viz``: each is also a core ``TinyGradRNNError`` and the builtin a caller
would expect, so ``except ValueError`` / ``except RuntimeError`` keep working."""

from __future__ import annotations

from tinygrad_rnn.errors import GraphFormatError as CoreGraphFormatError
from tinygrad_rnn.errors import TinyGradRNNError

INSTALL_HINT = ('install a Graphviz renderer: `pip install "tinygrad-rnn[render]"` (the '
                'graphviz-pure renderer, no system package needed) or `apt-get install graphviz` '
                '(Debian/Ubuntu; `brew install graphviz` on macOS)')
PLOT_HINT = 'install matplotlib: `pip install "tinygrad-rnn[plot]"` (or `pip install matplotlib`)'


class VizError(TinyGradRNNError):
    """Base class of the errors ``viz`` raises on purpose."""


class GraphFormatError(VizError, CoreGraphFormatError):
    """The input is not a graph ``viz`` can draw (bad dict, bad JSON, unknown type); also a
    ``tr.GraphFormatError`` (and a ``ValueError``), so one ``except`` catches both packages'."""


class RenderError(VizError, RuntimeError):
    """The renderer ran and failed (bad exit status, timeout, unsupported format)."""


class RendererNotFoundError(RenderError):
    """Neither Graphviz ``dot`` nor the graphviz-pure renderer could be found."""


class OptionError(VizError, ValueError):
    """A drawing option has a bad value (unknown view, node to highlight not found, ...)."""


class MatplotlibNotFoundError(VizError, ImportError):
    """A chart of :mod:`viz.plots` was asked for and matplotlib (the ``plot`` extra) is missing."""


class SummaryWarning(UserWarning):
    """The graph was too large to draw node by node, so a summary was drawn instead."""
