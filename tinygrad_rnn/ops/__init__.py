"""Layer 1: every op defined once (forward + VJP) and registered by name in ``REGISTRY``."""

from tinygrad_rnn.ops import cells, elementwise, linalg, nnops, reduce, shape, treeops  # noqa: F401
from tinygrad_rnn.ops.registry import REGISTRY, Op, unbroadcast

__all__ = ["REGISTRY", "Op", "unbroadcast"]
