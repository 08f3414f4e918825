"""Optimizers and gradient clipping (``tr.optim``).

    opt = tr.optim.Adam(params, lr=1e-3)        # params: Tensors, or anything with .parameters()
    for x, y in batches:
        loss = model_loss(x, y)
        loss.backward()
        tr.optim.clip_grad_norm(params, 5.0)    # seeds: if ||g|| > 5, g <- 5 g / ||g||
        opt.step()
        opt.zero_grad()

SGD, Adagrad, Adam and RMSprop use PyTorch's formulas, argument names and defaults (Adagrad's
eps excepted, see its docstring), so a run can be checked against ``torch.optim`` number for
number. ``state_dict()`` holds only NumPy arrays and numbers: ``np.savez(path, **sd)`` and
``opt.load_state_dict(np.load(path))`` resume training exactly, without pickle.
"""

from tinygrad_rnn.optim.base import Optimizer
from tinygrad_rnn.optim.clip import clip_grad_norm, clip_grad_value, grad_norm
from tinygrad_rnn.optim.optimizers import SGD, Adagrad, Adam, RMSprop

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "Adam",
    "RMSprop",
    "clip_grad_norm",
    "clip_grad_value",
    "grad_norm",
]
