"""Whole-sequence fused ops: one recorded node runs a whole RNN/LSTM layer in one direction
(the GRU's is in :mod:`~tinygrad_rnn.ops.sequence_gru`).

What the per-step fused cells cannot avoid, these hoist out of the time loop: the input
projection X W_ih^T + b for all T steps is one GEMM, and the weight gradients are one GEMM each
after the backward loop (dW_hh = sum_t dz_t^T h_(t-1), dW_ih = sum_t dz_t^T x_t) instead of T
small products accumulated one by one. Only the recurrence itself stays a loop, and inside it
values are written into preallocated per-step slices (few temporaries). The recurrent products
are formed as (W h^T)^T, and dh as (W^T dz^T)^T: the shapes OpenBLAS runs faster than h W^T and
dz W (benchmarks/README.md, "ops/sequence.py"); their transposed results are only read.
In the batched RNN and LSTM one fused kernel per step does all the element-wise work of each
direction (:func:`~tinygrad_rnn.kernels.sequence.rnn_step_fwd`, ``rnn_step_bwd``,
``lstm_step_fwd``, ``lstm_step_bwd``), and unmasked, the backward pass reads h_(t-1) (and the
LSTM's c_(t-1)) from the saved outputs instead of shifted copies.

Inputs: X (T, B, I), h0 (B, H) [, c0 (B, H)], W_ih (G*H, I), W_hh (G*H, H), b_ih, b_hh (G*H,).
Params: reverse (run t = T-1 .. 0), mask ((T, B, 1) bool or None: a padded step keeps the state
and outputs zeros), nonlinearity (RNN). The single output packs everything downstream needs:
out[:T, :, :H] = the per-step outputs, out[T, :, :H] = h_n, and for the LSTM out[T, :, H:] = c_n
(out[:T, :, H:] holds c_t, readable for pictures).
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels.sequence import (
    RELU,
    SMALL,
    TANH,
    TANH_F32,
    lstm_loop_bwd,
    lstm_loop_fwd,
    lstm_step_bwd,
    lstm_step_fwd,
    rnn_loop_bwd,
    rnn_loop_fwd,
    rnn_step_bwd,
    rnn_step_fwd,
)
from tinygrad_rnn.ops.registry import register
from tinygrad_rnn.workspace import buf

_ARGS = ("x", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh")


def step_order(T, reverse):
    """The time steps in the order a direction visits them."""
    return range(T - 1, -1, -1) if reverse else range(T)


def seq_explain(gates: int, n_states: int):
    """An ``explain`` for a whole-sequence op: which argument has the wrong shape, expected vs
    got, given X (T, B, I) and h0 (B, H)."""
    names = ("x", "h0", "c0")[:1 + n_states] + ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def explain(shapes, params):
        if len(shapes[0]) != 3 or len(shapes[1]) != 2:
            return (f"argument 'x' must be (T, B, I) and 'h0' (B, H); got {shapes[0]} and "
                    f"{shapes[1]}")
        (T, B, I), H = shapes[0], shapes[1][-1]
        G = gates * H
        want = [(T, B, I)] + [(B, H)] * n_states + [(G, I), (G, H), (G,), (G,)]
        for name, w, s in zip(names, want, shapes):
            if tuple(s) != w:
                return f"argument '{name}' must have shape {w}; got {tuple(s)}"
        m = params.get("mask")
        if m is not None and m.shape != (T, B, 1):
            return f"param 'mask' must have shape {(T, B, 1)}; got {m.shape}"
        return None

    return explain


def input_projection(X, w_ih, bias, op: str, add_bias: bool = True, states: tuple = ()):
    """X (T, B, I) -> X W_ih^T + bias (T, B, G) as one 2-D GEMM: NumPy runs a 3-D @ 2-D
    product as T separate small GEMMs (measured ~2x slower at T=50, B=32). The result is a
    recycled work array of ``op``. add_bias=False: X W_ih^T only (bias still checked), for a
    step kernel that adds it on its pass (one pass less over (T, B, G): 0.5 ms at B=32, 4H=1024,
    T=50 float32). The dtype is the widest of X, W_ih, bias and the initial ``states``: the
    whole recurrence runs in it, as the composite layer's would (the wider float wins)."""
    T, B, I = X.shape
    if w_ih.shape[1] != I or bias.shape != (w_ih.shape[0],):
        raise ValueError("shape mismatch")  # apply() names the argument
    G = w_ih.shape[0]
    dt = np.result_type(X, w_ih, bias, *states)
    xp = buf(op, "xp", (T, B, G), dt)
    if dt == np.result_type(X, w_ih):
        np.dot(X.reshape(T * B, I), w_ih.T, out=xp.reshape(T * B, G))
    else:  # np.dot's out= takes no casting: a float64 h0 or bias on float32 weights
        xp.reshape(T * B, G)[...] = X.reshape(T * B, I) @ w_ih.T
    if add_bias:
        xp += bias
    return xp


def _weight_grads(dz, X, Hprev, needs):
    """One GEMM per weight over all steps; the two biases share one sum."""
    G = dz.shape[-1]
    dz2 = dz.reshape(-1, G)
    gwi = dz2.T @ X.reshape(-1, X.shape[-1]) if needs[0] else None
    gwh = dz2.T @ Hprev.reshape(-1, Hprev.shape[-1]) if needs[1] else None
    gb = dz2.sum(axis=0) if (needs[2] or needs[3]) else None
    return gwi, gwh, gb, gb


def carry(new, h, mask, t, out):
    """The state after step t: ``new`` where the step is real, the old ``h`` where it is padding;
    a padded step's output ``out[t]`` is zero. Unmasked, ``new`` already sits in its slot."""
    if mask is None:
        return new
    np.multiply(new, mask[t], out=out[t])
    return np.where(mask[t], new, h)


def use_loop_kernels(B, H, mask) -> bool:
    """Whether the whole recurrence runs as one compiled loop (small unmasked batches, where
    per-step NumPy call overhead outweighs BLAS; :mod:`tinygrad_rnn.kernels.sequence`)."""
    return mask is None and (B == 1 or B * H <= SMALL)


def use_lstm_loop_kernels(B, H, mask) -> bool:
    """The same for the LSTM, whose step has 4x the products: B * H <= SMALL only (at B=1,
    H=256 the compiled mat-vec already lost the forward to BLAS's, 2.0 vs 1.4 ms at T=25)."""
    return mask is None and B * H <= SMALL


def check_kernel_shapes(gates: int, xp, w_hh, states, b_hh=None) -> None:
    """The step and loop kernels do not check bounds: a shape that does not fit must fail
    before they run (``apply`` turns the ValueError into an error naming the argument).
    With G = gates * H: xp (T, B, G) from :func:`input_projection`, W_hh (G, H), each initial
    state (B, H), b_hh (G,) when given."""
    H = states[0].shape[-1]
    G, B = gates * H, xp.shape[1]
    if (w_hh.shape != (G, H) or xp.shape[-1] != G or any(s.shape != (B, H) for s in states)
            or (b_hh is not None and b_hh.shape != (G,))):
        raise ValueError("shape mismatch")


def _fwd_rnn_seq(X, h0, w_ih, w_hh, b_ih, b_hh, *, reverse, mask, nonlinearity):
    T, B, _ = X.shape
    H = h0.shape[-1]
    xp = input_projection(X, w_ih, b_ih + b_hh, "rnn_seq", states=(h0,))
    out = buf("rnn_seq", "out", (T + 1, B, H), xp.dtype)  # every slot is written below
    act = RELU if nonlinearity != "tanh" else TANH_F32 if xp.dtype == np.float32 else TANH
    check_kernel_shapes(1, xp, w_hh, (h0,))
    if use_loop_kernels(B, H, mask):
        # h0 in the loop's dtype (a narrower h0 is widened): Numba types the carried state once
        rnn_loop_fwd(xp, np.ascontiguousarray(w_hh.T), h0.astype(xp.dtype, copy=False), reverse,
                     act, out[:T], np.empty(H, dtype=xp.dtype))
        out[T] = out[0 if reverse else T - 1] if T else h0
        return out, (X, w_ih, w_hh, h0, None, out[:T])
    # Unmasked, h_t is written straight into its output slot and the backward pass reads the
    # states from there (no copies per step).
    hprev = None if mask is None else buf("rnn_seq", "hprev", (T, B, H), xp.dtype)
    hnew = out[:T] if mask is None else buf("rnn_seq", "hnew", (T, B, H), xp.dtype)
    zt = np.empty((H, B), dtype=np.result_type(h0, w_hh))  # matmul's out= takes no casting
    h = h0
    for t in step_order(T, reverse):
        if mask is not None:
            hprev[t] = h
        hn = hnew[t]
        np.matmul(w_hh, h.T, out=zt)  # (W h^T)^T: the faster shape (module doc)
        rnn_step_fwd(xp[t], zt, act, hn)  # f(xp_t + zt^T), one fused pass
        h = carry(hn, h, mask, t, out)
    out[T] = h
    return out, (X, w_ih, w_hh, h0, hprev, hnew)


def _shifted_states(h0, hnew, reverse):
    """h_(t-1) for every t (T, B, H) from h0 and the new states: one copy after the loop
    (in the states' dtype, as the per-step copies it replaces); T = 0 gives (0, B, H)."""
    if len(hnew) == 0:
        return hnew.copy()
    if reverse:
        return np.concatenate((hnew[1:], h0[None]), dtype=hnew.dtype)
    return np.concatenate((h0[None], hnew[:-1]), dtype=hnew.dtype)


def _rnn_bwd_steps(g, hnew, w_hh, mask, reverse, relu, da, dh):
    """The NumPy/BLAS backward recurrence: fills da (T, B, H), returns dL/dh0."""
    w_t = np.ascontiguousarray(w_hh.T)
    for t in step_order(len(da), not reverse):
        dat = da[t]
        rnn_step_bwd(g[t], dh, hnew[t], relu, dat)  # (g + dh) f'(a), one fused pass
        if mask is not None:
            dat *= mask[t]  # a padded step's new h reaches neither output nor state
        cell = (w_t @ dat.T).T
        dh = cell if mask is None else cell + dh * ~mask[t]  # padded: h passes through
    return dh


def _vjp_rnn_seq(g, saved, needs, *, reverse, mask, nonlinearity):
    X, w_ih, w_hh, h0, hprev, hnew = saved
    T = X.shape[0]
    da = buf("rnn_seq", "da", hnew.shape, hnew.dtype)  # dL/da_t, a_t the pre-activation
    relu = nonlinearity != "tanh"
    dh = np.array(g[T], dtype=hnew.dtype)  # gradient reaching the final state h_n
    if use_loop_kernels(*dh.shape, mask):
        rnn_loop_bwd(g, hnew, w_hh, reverse, relu, da, dh)  # in place: dh becomes dL/dh0
    else:
        dh = _rnn_bwd_steps(g, hnew, w_hh, mask, reverse, relu, da, dh)
    if hprev is None and T > 0 and not use_loop_kernels(*dh.shape, mask):
        # the saved states in place (a shifted copy of them was 1.4 ms at B=32, H=256, T=50)
        gwi, _, gbi, gbh = _weight_grads(da, X, None, (needs[2], False) + needs[4:])
        gwh = _hh_grad(da, h0, hnew, reverse) if needs[3] else None
    else:
        if hprev is None:
            hprev = _shifted_states(h0, hnew, reverse)
        gwi, gwh, gbi, gbh = _weight_grads(da, X, hprev, needs[2:])
    gx = (da.reshape(-1, da.shape[-1]) @ w_ih).reshape(X.shape) if needs[0] else None
    return gx, (np.ascontiguousarray(dh) if needs[1] else None), gwi, gwh, gbi, gbh


rnn_seq = register("rnn_seq", _fwd_rnn_seq, _vjp_rnn_seq, arity=6, explain=seq_explain(1, 1),
                   arg_names=_ARGS)


def _lstm_fwd_loop(xp, h0, c0, w_hh, reverse, out, gates, tcs):
    """The forward as one compiled loop (small unmasked batches, see use_loop_kernels)."""
    T = len(tcs)
    dt = xp.dtype  # the states in the loop's dtype: Numba types the carried state once
    lstm_loop_fwd(xp, np.ascontiguousarray(w_hh.T), np.ascontiguousarray(h0, dtype=dt),
                  np.ascontiguousarray(c0, dtype=dt), reverse, dt == np.float32, gates, out, tcs)
    out[T] = out[0 if reverse else T - 1] if T else np.concatenate((h0, c0), axis=-1)


def _fwd_lstm_seq(X, h0, c0, w_ih, w_hh, b_ih, b_hh, *, reverse, mask):
    T, B, _ = X.shape
    H = h0.shape[-1]
    loop = use_lstm_loop_kernels(B, H, mask)
    bias = b_ih + b_hh
    xp = input_projection(X, w_ih, bias, "lstm_seq", add_bias=loop, states=(h0, c0))
    check_kernel_shapes(4, xp, w_hh, (h0, c0))
    dt = xp.dtype
    out = buf("lstm_seq", "out", (T + 1, B, 2 * H), dt)  # every slot is written below
    gates = buf("lstm_seq", "gates", (T, B, 4 * H), dt)  # activated i, f, g, o
    if loop:
        tcs = buf("lstm_seq", "tanh_c", (T, B, H), dt)
        _lstm_fwd_loop(xp, h0, c0, w_hh, reverse, out, gates, tcs)
        return out, (X, w_ih, w_hh, gates, None, None, tcs, h0, c0, out)
    # unmasked, h_(t-1) and c_(t-1) are the previous steps' outputs: backward derives them
    hprev = None if mask is None else buf("lstm_seq", "hprev", (T, B, H), dt)
    cprev = None if mask is None else buf("lstm_seq", "cprev", (T, B, H), dt)
    tcs = buf("lstm_seq", "tanh_c", (T, B, H), dt)
    _lstm_fwd_steps(xp, bias, h0, c0, w_hh, reverse, mask, out, gates, tcs, hprev, cprev)
    return out, (X, w_ih, w_hh, gates, hprev, cprev, tcs, h0, c0, out)


def _lstm_fwd_steps(xp, bias, h0, c0, w_hh, reverse, mask, out, gates, tcs, hprev, cprev):
    """The NumPy/BLAS forward recurrence: per step one GEMM (h_(t-1) W_hh^T into a C-contiguous
    scratch) and one fused kernel for the bias, the gates and the cell (:func:`lstm_step_fwd`;
    xp = X W_ih^T without the bias), which
    writes gates[t], out[t] = [h_t | c_t] and tcs[t]. Masked: hprev, cprev get the states each
    step starts from; a padded step keeps them and outputs h = 0 (its c_t slot is unmasked)."""
    T, B, G = xp.shape
    H = G // 4
    zt = np.empty((G, B), dtype=np.result_type(h0, w_hh))  # matmul's out= takes no casting
    h, c = h0, c0
    for t in step_order(T, reverse):
        if mask is not None:
            hprev[t], cprev[t] = h, c
        np.matmul(w_hh, h.T, out=zt)  # (W h^T)^T: the faster shape (module doc)
        lstm_step_fwd(xp, bias, zt, c, xp.dtype == np.float32, gates, out, tcs, t)
        if mask is None:
            h, c = out[t, :, :H], out[t, :, H:]
        else:
            h, c = np.where(mask[t], out[t, :, :H], h), np.where(mask[t], out[t, :, H:], c)
            out[t, :, :H] *= mask[t]
    out[T, :, :H], out[T, :, H:] = h, c


def _prev_views(x0, states, reverse):
    """[x_(t-1) for each t] as views of the saved states (T, B, H) and x0 (B, H): what
    :func:`_shifted_states` copies (1.6 MB twice per call at B=32, H=256, T=50 float32)."""
    T = len(states)
    if reverse:
        return [states[t + 1] for t in range(T - 1)] + [x0]
    return [x0] + [states[t] for t in range(T - 1)]


def _hh_grad(dz, h0, hs, reverse):
    """dW_hh = sum_t dz_t^T h_(t-1) from the saved states hs (T, B, H), a strided view, read in
    place: one GEMM over the T-1 steps whose h_(t-1) is a saved state (BLAS takes the row
    stride), one small one for the step that starts from h0 (T >= 1)."""
    T, B, G = dz.shape
    H = hs.shape[-1]
    d, s, edge = (dz[:T - 1], hs[1:], dz[T - 1]) if reverse else (dz[1:], hs[:T - 1], dz[0])
    gwh = d.reshape(-1, G).T @ s.reshape(-1, H)
    gwh += edge.T @ h0
    return gwh


def _vjp_lstm_seq(g, saved, needs, *, reverse, mask):
    X, w_ih, w_hh, gates, hprev, cprev, tcs, h0, c0, out = saved
    T, B, G = gates.shape
    H = G // 4
    loop = use_lstm_loop_kernels(B, H, mask)
    views = hprev is None and not loop and T > 0  # the states in place: no shifted copies
    if views:
        cprev = _prev_views(c0, out[:T, :, H:], reverse)
    elif hprev is None:
        hprev = _shifted_states(h0, out[:T, :, :H], reverse)
        cprev = _shifted_states(c0, out[:T, :, H:], reverse)
    dz = buf("lstm_seq", "dz", gates.shape, gates.dtype)
    g = np.ascontiguousarray(g)  # the step kernel vectorises on C-contiguous rows only
    dh, dc = g[T, :, :H].copy(), g[T, :, H:].copy()
    if loop:  # in place: dh, dc become dL/dh0, dL/dc0
        lstm_loop_bwd(g, gates, cprev, tcs, np.ascontiguousarray(w_hh), reverse, dz, dh, dc)
    else:
        dh, dc = _lstm_bwd_steps(g, gates, cprev, tcs, w_hh, mask, reverse, dz, dh, dc)
    if views:
        gwi, _, gbi, gbh = _weight_grads(dz, X, None, (needs[3], False) + needs[5:])
        gwh = _hh_grad(dz, h0, out[:T, :, :H], reverse) if needs[4] else None
    else:
        gwi, gwh, gbi, gbh = _weight_grads(dz, X, hprev, needs[3:])
    gx = (dz.reshape(-1, G) @ w_ih).reshape(X.shape) if needs[0] else None
    return (gx, (np.ascontiguousarray(dh) if needs[1] else None), (dc if needs[2] else None),
            gwi, gwh, gbi, gbh)


def _lstm_bwd_steps(g, gates, cprev, tcs, w_hh, mask, reverse, dz, dh, dc):
    """The NumPy/BLAS backward recurrence: fills dz, returns (dL/dh0, dL/dc0). cprev[t]:
    c_(t-1) of step t, an array (T, B, H) or a list of views (:func:`_prev_views`)."""
    T, B, G = gates.shape
    H = G // 4
    w_t = np.ascontiguousarray(w_hh.T)
    dc_new = np.empty_like(dc)
    dhT = np.empty((H, B), dtype=np.result_type(w_t, dz))  # np.dot's out= takes no casting
    if mask is not None:
        gm, zero = np.empty((B, 2 * H), dtype=dh.dtype), np.zeros_like(dh)
    # views of the saved [h | c] rows are strided: the kernel ran 1.5x slower on them than on a
    # C-contiguous copy (32 KB a step at B=32, H=256, from cache)
    cp = np.empty(dc.shape, dtype=gates.dtype) if isinstance(cprev, list) else None
    for t in step_order(T, not reverse):
        c_t = cprev[t]
        if cp is not None:
            np.copyto(cp, c_t)
            c_t = cp
        if mask is None:  # one fused pass: gate gradients and dc_new = dL/dc_(t-1) via f
            lstm_step_bwd(g[t], dh, dc, gates[t], c_t, tcs[t], dz[t], dc_new)
            # (W^T dz^T)^T is the faster GEMM shape; copying it into C order (3 us at B=32,
            # H=256) keeps the next step's kernel vectorised
            np.dot(w_t, dz[t].T, out=dhT)
            np.copyto(dh, dhT.T)
            dc, dc_new = dc_new, dc  # swap: dc is rewritten next step
            continue
        # a padded step's new h reaches neither output nor state; the c_t output slot is
        # unmasked. The masked inputs go in as [gh | gc] (with zero dh, dc).
        np.add(g[t, :, :H], dh, out=gm[:, :H])
        gm[:, :H] *= mask[t]
        np.multiply(dc, mask[t], out=gm[:, H:])
        gm[:, H:] += g[t, :, H:]
        lstm_step_bwd(gm, zero, zero, gates[t], c_t, tcs[t], dz[t], dc_new)
        cell = (w_t @ dz[t].T).T
        keep = ~mask[t]  # a padded step passes h and c through
        dh, dc = cell + dh * keep, dc_new + dc * keep
    return dh, dc


lstm_seq = register("lstm_seq", _fwd_lstm_seq, _vjp_lstm_seq, arity=7, explain=seq_explain(4, 2),
                    arg_names=("x", "h0", "c0") + _ARGS[2:])
