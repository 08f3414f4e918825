"""Layer 0: Numba kernels on plain arrays (``<op>_fwd`` / ``<op>_bwd``), compiled lazily.

Importing this package does not import Numba; the first call of a kernel does. A module is
named for the ops that call it: ``sequence`` (ops/sequence.py), ``tree`` (ops/tree.py), ``xent``
(cross_entropy), ``scatter`` (embedding and index backward, tree gathers), ``optim`` (optimizer
updates and clipping).
"""

from tinygrad_rnn.kernels.scatter import gather_rows, scatter_add_rows
from tinygrad_rnn.kernels.sequence import (
    lstm_loop_bwd,
    lstm_loop_fwd,
    lstm_step_bwd,
    rnn_loop_bwd,
    rnn_loop_fwd,
    rnn_step_bwd,
    rnn_step_fwd,
    tanh_f32,
)
from tinygrad_rnn.kernels.xent import exp_f32, xent_bwd, xent_fwd

__all__ = ["scatter_add_rows", "gather_rows",
           "xent_fwd", "xent_bwd", "rnn_step_fwd", "rnn_step_bwd", "lstm_step_bwd",
           "rnn_loop_fwd", "rnn_loop_bwd", "lstm_loop_fwd", "lstm_loop_bwd", "tanh_f32", "exp_f32"]
