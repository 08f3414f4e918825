"""Layer 1: every op defined once (forward + VJP) and registered by name in ``REGISTRY``."""

from tinygrad_rnn.ops import (  # noqa: F401  (importing registers the ops)
    cells,
    elementwise,
    gruseq,
    linalg,
    nnops,
    reduce,
    seqcells,
    shape,
    treeops,
    treeseq,
)
from tinygrad_rnn.ops.registry import REGISTRY, Op, unbroadcast

__all__ = ["REGISTRY", "Op", "unbroadcast"]
