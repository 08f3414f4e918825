"""tinygrad_rnn: a small reverse-mode autodiff over NumPy for seeing how gradients flow through
time (recurrent nets) and through structure (recursive nets over trees).

>>> import tinygrad_rnn as tr
>>> W = tr.Tensor([[0.5]], requires_grad=True, name="W")
>>> h = tr.Tensor([[1.0]])
>>> for t in range(3):
...     with tr.scope("rnn", step=t):
...         h = (h @ W).tanh()
>>> h.sum().backward()        # W.grad = sum over t of nabla_{W^(t)} L   (seeds' eq. 7)

Not affiliated with the tinygrad project.
"""

from tinygrad_rnn import analysis, bptt, data, decode, functional, handbptt, nn, optim
from tinygrad_rnn import functional as F
from tinygrad_rnn.bptt import tbptt, truncation_cost
from tinygrad_rnn.dtypes import get_default_dtype, set_default_dtype
from tinygrad_rnn.errors import (
    AnomalyError,
    ArgumentError,
    DTypeError,
    GradError,
    GraphFormatError,
    MissingDependencyError,
    ParseError,
    ShapeError,
    TinyGradRNNError,
)
from tinygrad_rnn.functional import concat, split, stack, where
from tinygrad_rnn.gradcheck import gradcheck
from tinygrad_rnn.graph import Edge, Graph, Node
from tinygrad_rnn.tape import detect_anomaly, is_grad_enabled, no_grad, scope
from tinygrad_rnn.tensor import Tensor, initial_state
from tinygrad_rnn.threads import blas_threads
from tinygrad_rnn.tracing import trace

__version__ = "0.2.0"

__all__ = [
    "Tensor", "functional", "F", "analysis", "data", "nn", "optim", "bptt", "decode", "handbptt",
    "tbptt", "truncation_cost", "concat", "stack", "split", "where", "no_grad", "scope",
    "detect_anomaly", "is_grad_enabled", "set_default_dtype", "get_default_dtype", "trace",
    "initial_state", "Graph", "Node", "Edge", "gradcheck", "TinyGradRNNError", "ShapeError",
    "DTypeError", "ArgumentError", "GradError", "GraphFormatError", "AnomalyError", "ParseError",
    "MissingDependencyError", "blas_threads",
]
