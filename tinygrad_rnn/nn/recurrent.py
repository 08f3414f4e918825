"""Recurrent layers unrolled into explicit graphs: tr.nn.RNN, LSTM, GRU (PyTorch's interface).

x: (T, B, I) (or (B, T, I) with batch_first, or unbatched (T, I)) -> output (T, B, D*H) and
h_n (L*D, B, H) (LSTM: (h_n, c_n)); D = 2 if bidirectional. Every step runs inside
``tr.scope("l<k>[_reverse]", layer=k, direction=..., step=t)``, so each recorded node knows its
layer, direction and time step. Parameter names are PyTorch's (``weight_ih_l0``,
``bias_hh_l1_reverse``, ...), so ``state_dict`` moves weights both ways.

Ragged batches: ``lengths`` (B,) or ``mask`` (T, B) bool. A padded step leaves the state as it
was (h = where(m_t, h_new, h)) and outputs zeros, so padding changes neither outputs nor gradients;
the reverse direction therefore starts at each sequence's own last element.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn import expansion, ops
from tinygrad_rnn import functional as F
from tinygrad_rnn.errors import ArgumentError, ShapeError
from tinygrad_rnn.nn.cells import cell_params, make_cell_params, set_forget_bias
from tinygrad_rnn.nn.init import as_rng
from tinygrad_rnn.nn.layers import check_size
from tinygrad_rnn.nn.module import Module
from tinygrad_rnn.nn.steps import bias_or_zeros, gru_step, lstm_step, rnn_step
from tinygrad_rnn.tape import scope
from tinygrad_rnn.tensor import Tensor, apply, initial_state


def check_lengths(lengths, func: str, T: int, B: int, min_length: int = 0):
    """(lengths (B,) int64, mask (T, B) bool) or (None, None) when ``lengths`` is None.

    mask[t, b] is True for the real steps t < lengths[b]; the rest is padding.
    """
    if lengths is None:
        return None, None
    lens = np.asarray(lengths)
    if lens.shape != (B,) or lens.dtype.kind not in "iu":
        raise ShapeError(f"{func}: argument 'lengths' must be {B} integers (one per sequence); "
                         f"got shape {lens.shape}, dtype {lens.dtype}")
    bad = (lens < min_length) | (lens > T)
    if bad.any():
        b = int(np.argmax(bad))
        raise ArgumentError(f"{func}: argument 'lengths' must be in [{min_length}, T={T}]; got "
                            f"{int(lens[b])} for sequence {b}")
    lens = lens.astype(np.int64)
    return lens, np.arange(T)[:, None] < lens[None, :]


def _slice(t, first, last):
    """``t[first, :, last]`` recorded as Tensor indexing records it (the index needs no
    normalising: ints and slices)."""
    return apply(ops.getitem, (t,), {"index": (first, slice(None), last)})


class _Recurrent(Module):
    GATES = 1
    N_STATES = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, fused=True, rng=None, dtype=None):
        name = type(self).__name__
        check_size(name, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        if not 0.0 <= dropout < 1.0:
            raise ArgumentError(f"{name}: argument 'dropout' must be in [0, 1); got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first, self.bidirectional, self.fused = batch_first, bidirectional, bool(fused)
        self.dropout = float(dropout)
        self.num_directions = 2 if bidirectional else 1
        self._rng = as_rng(rng)
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size * self.num_directions
            for d in range(self.num_directions):
                make_cell_params(self, self._suffix(layer, d), self.GATES, size, hidden_size,
                                 bias, self._rng, dtype)

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, fused={self.fused}")

    # ---- the unrolled loop (composite: every gate a node) ----------------------------------
    def _step(self, x_t, states, params):  # -> new states (tuple)
        raise NotImplementedError

    def _run_direction(self, xs, states, params, masks, reverse: bool):
        """Unroll one layer in one direction over the per-step inputs ``xs`` (list of (B, In))."""
        T = len(xs)
        outs = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            with scope(step=t):
                new = self._step(xs[t], states, params)
                m = None if masks is None else masks[t]
                if m is not None and not m.all():
                    with scope(role="mask"):
                        new = tuple(F.where(m, n, s) for n, s in zip(new, states))
                        outs[t] = F.where(m, new[0], 0.0)
                else:
                    outs[t] = new[0]
                states = new
        return outs, states

    def _composite(self, x, init, params, masks, drop):
        """Every layer and direction step by step: x (T, B, I) -> (output (T, B, D*H), finals).

        params[k]: (w_ih, w_hh, b_ih, b_hh) of layer/direction k; drop(layer, xs) -> xs applies
        dropout between layers. This is the ``fused=False`` forward, and what ``tr.trace`` reruns
        to open a fused call (same nodes, same metadata)."""
        xs = [x[t] for t in range(x.shape[0])]
        finals = []
        for layer in range(self.num_layers):
            per_dir = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                with _layer_scope(layer, d):
                    outs, states = self._run_direction(
                        xs, tuple(s[k] for s in init), params[k], masks, d == 1)
                per_dir.append(outs)
                finals.append(states)
            xs = per_dir[0] if len(per_dir) == 1 else [F.concat(list(p), axis=-1)
                                                       for p in zip(*per_dir)]
            if layer < self.num_layers - 1:
                xs = drop(layer, xs)
        return F.stack(xs, axis=0), finals

    SEQ_OP = None  # the whole-sequence fused op

    def forward(self, x, h0=None, lengths=None, mask=None):
        """Run the whole sequence; see the module docstring for shapes."""
        x, unbatched = self._input(x)
        T, B = x.shape[0], x.shape[1]
        masks = None if lengths is None and mask is None else self._masks(lengths, mask, T, B)
        init = self._initial(h0, B, unbatched)
        params = [cell_params(self, self._suffix(k // self.num_directions, k % self.num_directions))
                  for k in range(self.num_layers * self.num_directions)]
        if self.fused:
            output, finals = self._forward_sequence(x, masks, init, params)
        else:
            output, finals = self._composite(x, init, params, masks, self._dropout_steps)
        return self._pack(output, finals, unbatched)

    def _dropout_steps(self, layer, xs):
        if not (self.dropout and self.training):
            return xs
        return [F.dropout(v, self.dropout, self._rng) for v in xs]

    def _forward_sequence(self, x, masks, init, params):
        """fused=True: one node per layer and direction (ops/sequence.py, ops/sequence_gru.py); the
        input projection and the weight gradients are single GEMMs over all T steps. Leaves a
        note (:mod:`tinygrad_rnn.expansion`) so ``tr.trace`` can open it into the composite run.
        """
        anchor = expansion.begin()
        T, H = x.shape[0], self.hidden_size
        op_params = {"mask": None if masks is None else np.stack(masks)}
        op_params.update(self._seq_params())
        layer_in, finals, drops = x, [], {}
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                w_ih, w_hh, b_ih, b_hh = params[k]
                args = (layer_in, *(s[k] for s in init), w_ih, w_hh, bias_or_zeros(b_ih, w_ih),
                        bias_or_zeros(b_hh, w_hh))
                with _layer_scope(layer, d):
                    packed = apply(self.SEQ_OP, args, {**op_params, "reverse": d == 1})
                    with scope(role="h"):  # packed[:T, :, :H], packed[T, :, iH:(i+1)H]
                        outs.append(_slice(packed, slice(T), slice(H)))
                        finals.append(tuple(_slice(packed, T, slice(i * H, (i + 1) * H))
                                            for i in range(self.N_STATES)))
            layer_in = outs[0] if len(outs) == 1 else F.concat(outs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                # F.dropout's rule, with the mask kept: the rerun applies it step by step
                drops[layer] = F.dropout_mask(layer_in.shape, self.dropout, self._rng)
                layer_in = apply(ops.dropout, (layer_in,),
                                 {"mask": drops[layer], "p": self.dropout})
        expansion.record([layer_in, *(s for f in finals for s in f)],
                         self._replayer(x, init, params, masks, drops), anchor)
        return layer_in, finals

    def _replayer(self, x, init, params, masks, drops):
        """The composite rerun of one fused call, with the fused call's dropout masks."""
        p = self.dropout

        def drop(layer, xs):
            if layer not in drops:
                return xs
            return [apply(ops.dropout, (v,), {"mask": drops[layer][t], "p": p})
                    for t, v in enumerate(xs)]

        def replay():
            output, finals = self._composite(x, init, params, masks, drop)
            return [output, *(s for f in finals for s in f)]

        return replay

    def _seq_params(self) -> dict:
        return {}

    # ---- inputs and outputs ------------------------------------------------------------------
    def _input(self, x):
        name = f"{type(self).__name__}.forward"
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x), dtype=self.weight_ih_l0.dtype)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            order = "(batch, T, " if self.batch_first else "(T, batch, "
            raise ShapeError(f"{name}: argument 'x' must have shape {order}{self.input_size}) or "
                             f"(T, {self.input_size}); got {x.shape}")
        if x.shape[0 if x.ndim == 2 or not self.batch_first else 1] == 0:
            raise ShapeError(f"{name}: argument 'x' has no time steps (T = 0); got {x.shape}")
        if x.ndim == 2:
            return x.reshape(x.shape[0], 1, x.shape[1]), True
        return (x.transpose(1, 0, 2) if self.batch_first else x), False

    def _masks(self, lengths, mask, T, B):
        """Per-step (B, 1) bool masks, or None when every sequence is full length."""
        name = f"{type(self).__name__}.forward"
        if lengths is not None and mask is not None:
            raise ArgumentError(f"{name}: give 'lengths' or 'mask', not both")
        if lengths is not None:
            _, mask = check_lengths(lengths, name, T, B)
        elif mask is not None:
            mask = np.asarray(mask)
            if self.batch_first and mask.ndim == 2:
                mask = mask.T
            if mask.shape != (T, B) or mask.dtype != bool:
                raise ShapeError(f"{name}: argument 'mask' must be a bool array of shape "
                                 f"{(B, T) if self.batch_first else (T, B)}; got {mask.shape}, "
                                 f"{mask.dtype}")
        else:
            return None
        return None if mask.all() else [m[:, None] for m in mask]

    def _initial(self, h0, B, unbatched):
        """Initial states as tuples of per-(layer, direction) (B, H) tensors."""
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        given = (h0,) if self.N_STATES == 1 else (h0 if h0 is not None else (None, None))
        dtype = self.weight_ih_l0.dtype
        out = []
        for i, s in enumerate(given):
            role = ("h0", "c0")[i]
            if s is None:  # one per layer and direction: each row's picture starts with its own
                out.append([_zero_state((B, H), dtype, role) for _ in range(LD)])
                continue
            s = s if isinstance(s, Tensor) else Tensor(np.asarray(s), dtype=dtype)
            want = (LD, H) if unbatched else (LD, B, H)
            if s.shape != want:
                raise ShapeError(f"{type(self).__name__}.forward: initial state '{role}' must "
                                 f"have shape (num_layers * num_directions, batch, hidden) = "
                                 f"{want}; got {s.shape}")
            if s.is_leaf:  # recorded, so pictures draw it as an input, not a weight
                initial_state(s, role)
            s = s.reshape(LD, 1, H) if unbatched else s
            per = []
            for k in range(LD):  # each layer's slice is recorded as that layer's initial state
                with _layer_scope(*divmod(k, self.num_directions), role=role):
                    per.append(s[k])
            out.append(per)
        return out

    def _pack(self, output, finals, unbatched):
        """output (T, B, D*H); finals: per (layer, direction) tuples of final states."""
        if unbatched:
            output = output.reshape(output.shape[0], output.shape[2])
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        states = []
        for i in range(self.N_STATES):
            # F.stack's node without its argument checks (these are this layer's own tensors)
            s = apply(ops.stack, tuple([f[i] for f in finals]), {"axis": 0})  # (L*D, B, H)
            states.append(s.reshape(s.shape[0], s.shape[2]) if unbatched else s)
        return output, (states[0] if self.N_STATES == 1 else tuple(states))


class RNN(_Recurrent):
    """Elman RNN layer: h^(t) = tanh(U x^(t) + b_ih + W h^(t-1) + b_hh) per layer and direction."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: argument 'nonlinearity' must be 'tanh' or 'relu'; got "
                                f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, **kwargs)

    SEQ_OP = ops.rnn_seq

    def _seq_params(self) -> dict:
        return {"nonlinearity": self.nonlinearity}

    def _step(self, x_t, states, params):
        return (rnn_step(x_t, states[0], params, self.nonlinearity),)


class LSTM(_Recurrent):
    """LSTM layer (gates i, f, g, o). forward(x, (h0, c0)) -> (output, (h_n, c_n))."""

    GATES = 4
    N_STATES = 2
    SEQ_OP = ops.lstm_seq

    def __init__(self, input_size, hidden_size, num_layers=1, forget_bias=None, **kwargs):
        super().__init__(input_size, hidden_size, num_layers, **kwargs)
        if forget_bias is not None:
            for layer in range(num_layers):
                for d in range(self.num_directions):
                    set_forget_bias(self, self._suffix(layer, d), hidden_size, forget_bias)

    def _step(self, x_t, states, params):
        return lstm_step(x_t, states[0], states[1], params)


class GRU(_Recurrent):
    """GRU layer (gates r, z, n); reset_after=False gives the seeds' Cho 2014 form."""

    GATES = 3
    SEQ_OP = ops.gru_seq

    def __init__(self, input_size, hidden_size, num_layers=1, reset_after=True, **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(input_size, hidden_size, num_layers, **kwargs)

    def _seq_params(self) -> dict:
        return {"reset_after": self.reset_after}

    def _step(self, x_t, states, params):
        return (gru_step(x_t, states[0], params, self.reset_after),)


def _layer_scope(layer: int, d: int, **meta) -> scope:
    """The scope of one layer and direction: ``l<layer>[_reverse]``, with layer and direction."""
    return scope(f"l{layer}" + ("_reverse" if d else ""), layer=layer,
                 direction="reverse" if d else "forward", **meta)


def _zero_state(shape: tuple, dtype, role: str) -> Tensor:
    """A default initial state: zeros, named and marked as one (``tr.initial_state``)."""
    zero = Tensor._make(np.zeros(shape, dtype=dtype), None)
    zero.name = role
    return initial_state(zero, role)
