"""Kernels of the whole-sequence ops (:mod:`tinygrad_rnn.ops.sequence`).

* ``rnn_step_bwd``, ``lstm_step_bwd``: the per-step element-wise backward work, fused (products
  with saved gates, 1 - x^2). One loop replaces ~4 (RNN) or ~20 (LSTM) NumPy calls and as many
  passes over memory per step; the recurrent GEMMs stay on BLAS. ``dh`` may be any strided
  (B, H) view (the recurrent product arrives transposed).
* ``rnn_step_fwd``, ``lstm_step_fwd``, ``gru_step_fwd``/``gru_step_bwd``: the NumPy/BLAS
  paths' per-step element-wise work (bias, gates, cell, activation; the GRU's gate gradients),
  fused, one call per step after its recurrent GEMM. Numba has no vector math library on this
  build: libm's tanh runs scalar, so float32 uses :func:`tanh_f32` (NumPy's float32 tanh is
  scalar here too); float64 keeps libm.
* ``rnn_loop_fwd``, ``rnn_loop_bwd``: the whole vanilla-RNN recurrence as one compiled loop, for
  small batches (B = 1 or B * H <= :data:`SMALL`), where NumPy's per-call overhead costs as much
  as a step's arithmetic. The matrix-vector products vectorise (summed as columns of W^T in the
  forward, rows of W in the backward: no horizontal sums); in float64 tanh stays scalar (libm),
  in float32 it is :func:`tanh_f32`, which vectorises (libm's tanhf was 2/3 of the float32
  forward loop at T=25, H=100: 62 us, 30 us with ``tanh_f32``). Same equations
  as the op's NumPy path (``h_t = f(xp_t + W_hh h_(t-1))``, ``da_t = (g_t + dh_t) f'(a_t)``,
  ``dh_(t-1) = W_hh^T da_t``); the sums run in another order, so results agree to rounding
  (~1e-16 relative in float64), not bit for bit.
"""

from __future__ import annotations

import numpy as np

from tinygrad_rnn.kernels._jit import kernel

#: B = 1, or B * H up to this, runs the loop kernels; above it BLAS wins (benchmarks/README.md,
#: "kernels/sequence.py").
SMALL = 256

#: Activation codes of the forward loop kernels: libm tanh, relu, :func:`tanh_f32`.
TANH, RELU, TANH_F32 = 0, 1, 2

# tanh(x) = x P(x^2) / Q(x^2) for |x| <= _CLAMP, where float32 tanh has reached +-1 within an
# ulp. Coefficients fitted here for float32 (least squares on the relative error, reweighted
# towards the minimax fit: 1.6e-9 relative in exact arithmetic; in float32 arithmetic within
# 6 ulp of tanh over all floats, libm's tanhf within 2).
_CLAMP = 7.90531110763549805
_P = (0.9999999984830433, 0.13127992509059327, 0.003153489882542425, 1.168777685706137e-05,
      -2.2517576630918444e-08, 6.478365558699711e-11, -1.1910504589332102e-13)
_Q = (1.0, 0.46461324244803176, 0.024691265129429187, 0.00026190967748349666)


@kernel
def tanh_f32(x):
    """tanh of a float32 scalar, as a rational function: no branches, no libm call, so a loop
    applying it to an array vectorises (~10x faster than libm's scalar tanhf). Odd; +-inf give
    +-1; NaN stays NaN (every comparison with it is false). A helper for the kernels below."""
    c = np.float32(_CLAMP)
    a = c if x > c else (-c if x < -c else x)
    s = a * a
    num = np.float32(_P[6])
    for k in range(5, -1, -1):  # Horner; a constant trip count, unrolled by LLVM
        num = num * s + np.float32(_P[k])
    den = np.float32(_Q[3])
    for k in range(2, -1, -1):
        den = den * s + np.float32(_Q[k])
    r = a * num / den
    r = np.float32(1.0) if x > c else r
    return np.float32(-1.0) if x < -c else r


@kernel
def _add_xw(out, x, w_t, h):
    """out (G,) = x + h W for W^T = w_t (H, G) C-contiguous: summed as rows of w_t (columns of
    W), which vectorises without a horizontal sum per output (~1.3x faster than row dot
    products at H=100). The recurrent pre-activation of the forward loops."""
    for i in range(out.size):
        out[i] = x[i]
    for j in range(h.size):
        hj = h[j]
        for i in range(out.size):
            out[i] += w_t[j, i] * hj


@kernel
def _zw(out, z, w):
    """out (H,) = z W for W = w (G, H) C-contiguous, summed as rows of W (vectorised): the
    gradient reaching h_(t-1) in the backward loops."""
    for j in range(out.size):
        out[j] = 0.0
    for i in range(z.size):
        zi = z[i]
        for j in range(out.size):
            out[j] += zi * w[i, j]


@kernel
def rnn_step_bwd(g, dh, h, relu, da):
    """da (B, H) = (g + dh) * f'(a), f' = 1 - h^2 (tanh) or [h > 0] (relu); h = f(a) the new
    state, g the output gradient, dh the gradient from the next step."""
    one = np.ones(1, da.dtype)[0]  # 1 in the arrays' dtype: a 1.0 literal is float64
    B, H = da.shape
    for b in range(B):
        for j in range(H):
            d = g[b, j] + dh[b, j]
            hj = h[b, j]
            if relu:
                da[b, j] = d if hj > 0 else 0.0 * d
            else:
                da[b, j] = d * (one - hj * hj)


@kernel
def lstm_step_bwd(g_t, dh, dc, act, c_prev, tc, dz, dc_out):
    """One LSTM step back. g_t (B, 2H) = [gh | gc], the output gradients at h_t and c_t;
    act (B, 4H) = activated [i, f, g, o]; tc = tanh(c_t); dh, dc: from the next step. With
    dh' = gh + dh, dc' = gc + dc + dh' o (1 - tc^2):

    dz (B, 4H) = [dc' g i(1-i), dc' c_prev f(1-f), dc' i (1-g^2), dh' tc o(1-o)],
    dc_out (B, H) = dc' f  (dL/dc_(t-1) through the cell). dc_out may alias dc.

    Every argument should be C-contiguous: the loop below vectorises only then (one 1-D view
    per gate and row; with strided views or act[b, k * H + j] indexing it ran 2.8x slower at
    B=32, H=256 float32). Other layouts still give the right numbers."""
    one = np.ones(1, dz.dtype)[0]  # 1 in the arrays' dtype: a 1.0 literal is float64
    B, H = tc.shape
    for b in range(B):
        a_i, a_f, a_g, a_o = act[b, :H], act[b, H:2 * H], act[b, 2 * H:3 * H], act[b, 3 * H:]
        z_i, z_f, z_g, z_o = dz[b, :H], dz[b, H:2 * H], dz[b, 2 * H:3 * H], dz[b, 3 * H:]
        ghb, gcb, dhb, dcb = g_t[b, :H], g_t[b, H:], dh[b], dc[b]
        cpb, tcb, dco = c_prev[b], tc[b], dc_out[b]
        for j in range(H):
            i = a_i[j]
            f = a_f[j]
            gg = a_g[j]
            o = a_o[j]
            t = tcb[j]
            dhv = ghb[j] + dhb[j]
            dcv = gcb[j] + dcb[j] + dhv * o * (one - t * t)
            z_i[j] = dcv * gg * (i * (one - i))
            z_f[j] = dcv * cpb[j] * (f * (one - f))
            z_g[j] = dcv * i * (one - gg * gg)
            z_o[j] = dhv * t * (o * (one - o))
            dco[j] = dcv * f


@kernel
def rnn_loop_fwd(xp, w_hh_t, h0, reverse, act, hs, acc):
    """hs[t] (T, B, H) = f(xp[t] + h_(t-1) W_hh^T), h_(-1) = h0 (B, H); t = T-1 .. 0 if reverse.

    act: f as :data:`TANH`, :data:`RELU` or :data:`TANH_F32` (float32 arrays only).
    Takes W_hh^T (H, H) contiguous (see :func:`_add_xw`). acc: (H,) scratch.
    """
    T, B, H = xp.shape
    for b in range(B):
        prev = h0[b]
        for k in range(T):
            t = T - 1 - k if reverse else k
            _add_xw(acc, xp[t, b], w_hh_t, prev)
            cur = hs[t, b]
            _act_row(cur, acc, act)
            prev = cur


@kernel
def _act_row(dst, src, act):
    """dst (H,) = f(src), f as :data:`TANH`, :data:`RELU` or :data:`TANH_F32` (float32 arrays
    only). One loop per activation: each vectorises on its own, but only when dst is not src:
    LLVM's run-time overlap check then picks the scalar loop (measured 7x slower)."""
    if act == TANH_F32:
        for i in range(dst.size):
            dst[i] = tanh_f32(src[i])
    elif act == RELU:
        for i in range(dst.size):
            s = src[i]
            dst[i] = s if s > 0 else 0.0 * s
    else:
        for i in range(dst.size):
            dst[i] = np.tanh(src[i])


@kernel
def rnn_step_fwd(xp_t, zt, act, hn):
    """hn (B, H) = f(xp_t + zt^T): one RNN step's element-wise work after its recurrent GEMM
    (the NumPy/BLAS path: B * H > :data:`SMALL`, or masked). xp_t (B, H) = x_t W_ih^T + b;
    zt (H, B) = W_hh h_(t-1)^T, the transposed product (the faster GEMM shape), read with a
    stride; rows of hn contiguous. Replaces an add and NumPy's tanh, which is scalar for
    float32 here (1.6 ms of tanh per sequence at B=32, H=256, T=50)."""
    H, B = zt.shape
    acc = np.empty(H, dtype=hn.dtype)
    for b in range(B):
        x = xp_t[b]
        for j in range(H):
            acc[j] = x[j] + zt[j, b]
        _act_row(hn[b], acc, act)  # not in place: see _act_row


@kernel
def rnn_loop_bwd(g, hs, w_hh, reverse, relu, da, dh):
    """Backward of :func:`rnn_loop_fwd`. g (T, B, H): output gradients; dh (B, H): in, the
    gradient at the last state; out, dL/dh0. da (T, B, H) <- dL/da_t, a_t the pre-activation."""
    one = np.ones(1, da.dtype)[0]  # 1 in the arrays' dtype: a 1.0 literal is float64
    T, B, H = hs.shape
    for b in range(B):
        d = dh[b]
        for k in range(T):
            t = k if reverse else T - 1 - k  # the reverse of the forward order
            a = da[t, b]
            for i in range(H):
                y = hs[t, b, i]
                v = g[t, b, i] + d[i]
                if relu:
                    a[i] = v if y > 0 else 0.0 * v
                else:
                    a[i] = v * (one - y * y)
            _zw(d, a, w_hh)


@kernel
def _activate(a, sigmoid, f32):
    """a <- sigmoid(a) (as 0.5 tanh(a/2) + 0.5, the bits of NumPy's stable sigmoid) or
    tanh(a), in place, for a 1-D view; f32: float32 arrays, with :func:`tanh_f32`. One
    branch-free loop per case from index 0, so each vectorises (a loop over range(lo, hi) of the
    whole row did not: Numba's negative-index wraparound check stays in it, 4x slower)."""
    if f32:
        half = np.float32(0.5)
        if sigmoid:
            for i in range(a.size):
                a[i] = tanh_f32(a[i] * half) * half + half
        else:
            for i in range(a.size):
                a[i] = tanh_f32(a[i])
    elif sigmoid:
        for i in range(a.size):
            a[i] = np.tanh(a[i] * 0.5) * 0.5 + 0.5
    else:
        for i in range(a.size):
            a[i] = np.tanh(a[i])


@kernel
def _activate_gates(a, f32):
    """a (4H,) = [z_i, z_f, z_g, z_o] <- [s(z_i), s(z_f), tanh(z_g), s(z_o)], in place."""
    H = a.size // 4
    _activate(a[:2 * H], True, f32)
    _activate(a[2 * H:3 * H], False, f32)
    _activate(a[3 * H:], True, f32)


@kernel
def _cell(a, c, f32, hn, cn, tc):
    """One row of the cell update from activated gates a (4H,) and c = c_(t-1) (H,):
    cn = f c + i g, tc = tanh(cn), hn = o tc."""
    H = c.size
    a_i, a_f, a_g, a_o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]  # views: see _activate
    for j in range(H):
        cn[j] = a_f[j] * c[j] + a_i[j] * a_g[j]
    for j in range(H):
        tc[j] = cn[j]
    _activate(tc, False, f32)
    for j in range(H):
        hn[j] = a_o[j] * tc[j]


@kernel
def lstm_step_fwd(xp, bias, zt, c_prev, f32, gates, out, tcs, t):
    """One LSTM step of a batch after its recurrent GEMM, the element-wise work fused (the
    NumPy/BLAS path: B * H > :data:`SMALL`). xp (T, B, 4H) = X W_ih^T; bias (4H,) =
    b_ih + b_hh; zt (4H, B) = W_hh h_(t-1)^T, the transposed product (the faster GEMM shape,
    read with a stride: cheaper than a copy); c_prev (B, H): c_(t-1), rows contiguous.
    Writes gates[t] = activated [i, f, g, o] of z = (xp[t] + bias) + zt^T,
    out[t] = [h_t | c_t], tcs[t] = tanh(c_t), as :func:`lstm_loop_fwd` does.
    One pass per row instead of ~10 NumPy calls and temporaries: at B=32, H=256, T=50, float32,
    one thread, NumPy's scalar float32 tanh and the cell passes took ~9 ms per sequence, this
    ~3 ms with :func:`tanh_f32` (float64 keeps libm's tanh, as fast as NumPy's here)."""
    G, B = zt.shape
    H = G // 4
    for b in range(B):
        a, x = gates[t, b], xp[t, b]
        for j in range(G):
            a[j] = (x[j] + bias[j]) + zt[j, b]
        _activate_gates(a, f32)
        _cell(a, c_prev[b], f32, out[t, b, :H], out[t, b, H:], tcs[t, b])


@kernel
def lstm_loop_fwd(xp, w_hh_t, h0, c0, reverse, f32, gates, out, tcs):
    """The LSTM recurrence for small batches, the whole loop compiled (cf. :func:`rnn_loop_fwd`).

    xp (T, B, 4H): x_t W_ih^T + b; w_hh_t (H, 4H): W_hh^T, C-contiguous; h0, c0 (B, H).
    Writes gates[t] (T, B, 4H) = activated [i, f, g, o] = [s(z_i), s(z_f), tanh(z_g), s(z_o)],
    z = xp_t + h_(t-1) W_hh^T; out[t] (T+1, B, 2H) = [h_t | c_t] with c_t = f c_(t-1) + i g,
    tcs[t] (T, B, H) = tanh(c_t), h_t = o tanh(c_t); t = T-1 .. 0 if reverse. f32: float32
    arrays (tanh_f32). out[T] is left to the caller.
    """
    T, B, G = xp.shape
    H = G // 4
    for b in range(B):
        h, c = h0[b], c0[b]
        for k in range(T):
            t = T - 1 - k if reverse else k
            a = gates[t, b]
            _add_xw(a, xp[t, b], w_hh_t, h)
            _activate_gates(a, f32)
            hn, cn = out[t, b, :H], out[t, b, H:]
            _cell(a, c, f32, hn, cn, tcs[t, b])
            h, c = hn, cn


@kernel
def lstm_loop_bwd(g, gates, c_prev, tcs, w_hh, reverse, dz, dh, dc):
    """Backward of :func:`lstm_loop_fwd` (no mask). g (T+1, B, 2H): output gradients [gh | gc]
    (g[T] is the caller's: it seeds dh, dc); c_prev (T, B, H): c_(t-1) for each t; w_hh (4H, H).
    dz (T, B, 4H) <- dL/dz_t; dh, dc (B, H): in, the gradients at the last states; out, dL/dh0
    and dL/dc0. Each step is :func:`lstm_step_bwd`, then dh = dz_t W_hh (rows of W: vectorised).
    """
    T, B, G = gates.shape
    H = G // 4
    dc_new = np.empty_like(dc)
    for k in range(T):
        t = k if reverse else T - 1 - k  # the reverse of the forward order
        lstm_step_bwd(g[t], dh, dc, gates[t], c_prev[t], tcs[t], dz[t], dc_new)
        for b in range(B):
            _zw(dh[b], dz[t, b], w_hh)
            for j in range(H):
                dc[b, j] = dc_new[b, j]


@kernel
def gru_step_fwd(xp_t, zt, b_hn, h, f32, act, inner, hn):
    """One GRU step (reset_after, PyTorch's form) after its recurrent GEMM, the element-wise work
    fused (cf. :func:`lstm_step_fwd`). xp_t (B, 3H) = x_t W_ih^T + b_ih + [b_hr, b_hz, 0];
    zt (3H, B) = W_hh h^T (read with a stride); b_hn (H,); h (B, H) = h_(t-1).
    Writes act (B, 3H) = [r, z, n] with r, z = s(xp + zt^T), inner (B, H) = W_hn h + b_hn,
    n = tanh(xp_n + r inner), and hn (B, H) = n + z (h - n). f32: float32 arrays."""
    G, B = zt.shape
    H = G // 3
    for b in range(B):
        a, x, inn, hb, out = act[b], xp_t[b], inner[b], h[b], hn[b]
        for j in range(2 * H):
            a[j] = x[j] + zt[j, b]
        _activate(a[:2 * H], True, f32)
        for j in range(H):
            inn[j] = zt[2 * H + j, b] + b_hn[j]
        r, z, n, x_n = a[:H], a[H:2 * H], a[2 * H:], x[2 * H:]  # views: see _activate
        for j in range(H):
            n[j] = x_n[j] + r[j] * inn[j]
        _activate(n, False, f32)
        for j in range(H):
            out[j] = n[j] + z[j] * (hb[j] - n[j])


@kernel
def gru_step_bwd(dh_new, act, h, inner, dzx, dzh, skip):
    """One GRU step back (reset_after) from dh_new (B, H) = dL/dh_t, the element-wise work
    fused; act = [r, z, n], h = h_(t-1), inner = W_hn h + b_hn as saved by :func:`gru_step_fwd`.
    dn = dh' (1 - z)(1 - n^2), dz = dh' (h - n) z (1 - z), dr = dn inner r (1 - r).
    Writes dzx (B, 3H) = [dr, dz, dn] (at the input pre-activations), dzh (B, 3H) =
    [dr, dz, dn r] (at the W_hh products) and skip (B, H) = dh' z, the part of dL/dh_(t-1)
    that bypasses the cell (the caller adds dzh W_hh, one GEMM)."""
    one = np.ones(1, dzx.dtype)[0]  # 1 in the arrays' dtype: a 1.0 literal is float64
    B, H = h.shape
    for b in range(B):
        a, hb, inn, d, sk = act[b], h[b], inner[b], dh_new[b], skip[b]
        r, z, n = a[:H], a[H:2 * H], a[2 * H:]
        xr, xz, xn = dzx[b, :H], dzx[b, H:2 * H], dzx[b, 2 * H:]
        hr, hz, hn = dzh[b, :H], dzh[b, H:2 * H], dzh[b, 2 * H:]
        for j in range(H):
            dv, rj, zj, nj = d[j], r[j], z[j], n[j]
            dn = dv * (one - zj) * (one - nj * nj)
            dz = dv * (hb[j] - nj) * (zj * (one - zj))
            dr = dn * inn[j] * (rj * (one - rj))
            xr[j] = dr
            xz[j] = dz
            xn[j] = dn
            hr[j] = dr
            hz[j] = dz
            hn[j] = dn * rj
            sk[j] = dv * zj
