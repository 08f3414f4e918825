"""Small hand-built models whose traced graphs the viz tests draw (imported by test_viz*.py).

Every builder takes a seed and returns a fresh ``tr.Graph`` after ``backward(retain_grads=True)``,
so drawing the same model twice exercises determinism end to end.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr

try:
    import viz  # noqa: F401
except ImportError:  # an editable install made before viz/ existed: use this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]


def _param(rng, name, *shape, scale=0.5):
    return tr.Tensor(rng.standard_normal(shape) * scale, requires_grad=True, name=name)


def _total(losses):
    loss = losses[0]
    for lt in losses[1:]:
        loss = loss + lt
    return loss


def elman(T=2, H=3, D=2, K=2, seed=0, cut_at=None):
    """The seeds' Elman RNN: h^(t) = tanh(b + W h^(t-1) + U x^(t)), o^(t) = c + V h^(t).

    ``cut_at``: detach h with a truncated-BPTT cut marker before that step."""
    rng = np.random.default_rng(seed)
    U, W, V = _param(rng, "U", H, D), _param(rng, "W", H, H), _param(rng, "V", K, H)
    b, c = _param(rng, "b", H), _param(rng, "c", K)
    h = tr.Tensor(np.zeros(H), name="h0")
    losses = []
    for t in range(T):
        if t == cut_at:
            h = h.detach(cut=True)
        with tr.scope("rnn", step=t):
            x = tr.Tensor(rng.standard_normal(D), name=f"x[{t}]")
            with tr.scope(role="h"):
                h = (b + W @ h + U @ x).tanh()
            with tr.scope(role="o"):
                o = c + V @ h
            losses.append(tr.F.cross_entropy(o[None, :], [t % K]))
    loss = _total(losses)
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def lstm(T=2, H=2, D=2, seed=0, retain=True):
    """A hand-written LSTM cell (PyTorch gate order i, f, g, o), unrolled T steps."""
    rng = np.random.default_rng(seed)
    Wx, Wh = _param(rng, "W_ih", D, 4 * H), _param(rng, "W_hh", H, 4 * H)
    bias, Wy = _param(rng, "bias", 4 * H), _param(rng, "W_y", H, 1)
    h = tr.Tensor(np.zeros((1, H)), name="h0")
    c = tr.Tensor(np.zeros((1, H)), name="c0")
    outs = []
    for t in range(T):
        with tr.scope("lstm", step=t):
            x = tr.Tensor(rng.standard_normal((1, D)), name=f"x[{t}]")
            z = x @ Wx + h @ Wh + bias
            zi, zf, zg, zo = tr.split(z, 4, axis=-1)
            with tr.scope(role="gate_i"):
                i = zi.sigmoid()
            with tr.scope(role="gate_f"):
                f = zf.sigmoid()
            with tr.scope(role="gate_g"):
                g = zg.tanh()
            with tr.scope(role="gate_o"):
                o = zo.sigmoid()
            with tr.scope(role="c"):
                c = f * c + i * g
            with tr.scope(role="h"):
                h = o * c.tanh()
        outs.append(h @ Wy)
    loss = (tr.concat(outs, axis=0) ** 2).mean()
    loss.backward(retain_grads=retain)
    return tr.trace(loss)


@functools.cache
def lstm200() -> dict:
    """The T=200 hand LSTM as a dict, built once per test session (viz never mutates it)."""
    return lstm(T=200).to_dict()


WORDS = ("the", "cat", "sat")


def tree3(seed=0, words=WORDS):
    """Recursive net over ((w0 w1) w2): p = tanh(W [c1; c2] + b) at each internal node."""
    rng = np.random.default_rng(seed)
    H = 2
    W, b = _param(rng, "W", H, 2 * H), _param(rng, "b", H)
    leaves = []
    for k, w in enumerate(words):
        vec = _param(rng, w, H)
        with tr.scope("tree", tree_node=k, depth=2 if k < 2 else 1, word=w):
            leaves.append(vec.tanh())
    with tr.scope("tree", tree_node=3, depth=1):
        p = (W @ tr.concat([leaves[0], leaves[1]]) + b).tanh()
    with tr.scope("tree", tree_node=4, depth=0):
        root = (W @ tr.concat([p, leaves[2]]) + b).tanh()
    loss = (root * root).sum()
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def birnn(T=3, H=2, seed=0):
    """A bidirectional one-layer Elman RNN with ``layer``/``direction`` metadata, as the
    recurrent layers will record it, and a per-step head reading both directions."""
    rng = np.random.default_rng(seed)
    xs = [tr.Tensor(rng.standard_normal(H), name=f"x[{t}]") for t in range(T)]
    outs = {}
    for d, order in (("forward", range(T)), ("reverse", range(T - 1, -1, -1))):
        W, U = _param(rng, f"W_{d}", H, H), _param(rng, f"U_{d}", H, H)
        h = tr.Tensor(np.zeros(H), name=f"h0_{d}")
        for t in order:
            with tr.scope("birnn", step=t, layer=0, direction=d), tr.scope(role="h"):
                h = (W @ h + U @ xs[t]).tanh()
            outs[(d, t)] = h
    losses = []
    for t in range(T):
        with tr.scope("head", step=t):
            losses.append((tr.concat([outs[("forward", t)], outs[("reverse", t)]]) ** 2).sum())
    loss = _total(losses)
    loss.backward(retain_grads=True)
    return tr.trace(loss)


@functools.cache
def synthetic(n=50_000, block=30):
    """A 50,000-node graph in dict form, built directly (no tensors): a chain of
    matmul/add/tanh ops in scopes ``block<k>``, one weight per block, no time steps."""
    g = {"v": 0.5, "shape": [2], "norm": 0.5}
    nodes, edges, prev = [], [], None
    ops = ("matmul", "add", "tanh")
    while len(nodes) < n:
        i = len(nodes)
        k = i // block
        if prev is None or i % block == 0:
            nodes.append({"id": i, "kind": "param", "op": None, "name": f"W{k}", "shape": [2],
                          "dtype": "float64", "params": {}, "meta": {}, "value": dict(g),
                          "grad": dict(g)})
            if prev is None:
                prev = i
                continue
            w = i
            i += 1
        else:
            w = None
        op = ops[i % 3]
        nodes.append({"id": i, "kind": "op", "op": op, "name": None, "shape": [2],
                      "dtype": "float64", "params": {}, "meta": {"scope": f"block{k}",
                      "site": f"block{k}/{op}#{i}"}, "value": dict(g), "grad": dict(g)})
        edges.append({"src": prev, "dst": i, "arg": 0, "kind": "data", "grad": None})
        if w is not None:
            edges.append({"src": w, "dst": i, "arg": 1, "kind": "data", "grad": None})
        prev = i
    return {"schema": 1, "nodes": nodes, "edges": edges, "roots": [prev]}  # cached: read only


def test_builders_trace_valid_graphs():
    for g in (elman(), lstm(), tree3(), elman(T=3, cut_at=2)):
        g.check()
        assert g.nodes[g.roots[0]].grad is not None
    assert any(e.kind == "cut" for e in elman(T=3, cut_at=2).edges)
    birnn().check()
    big = synthetic(n=3000)
    tr.Graph.from_dict(big).check()
    assert len(synthetic()["nodes"]) >= 50_000


def bilstm(T=4, seed=0):
    """``tr.nn.LSTM(2, 3, bidirectional=True)`` on a (T, 1, 2) input: loops "lstm/l0" and
    "lstm/l0_reverse", one loop for the pictures (the two directions of one layer)."""
    m = tr.nn.LSTM(2, 3, bidirectional=True, rng=seed)
    out, _ = m(tr.Tensor(np.random.default_rng(seed).standard_normal((T, 1, 2))))
    loss = (out ** 2).mean()
    loss.backward(retain_grads=True)
    return tr.trace(loss)


def seq2seq(S=3, T=3, seed=0):
    """A tiny bidirectional ``tr.nn.Seq2Seq``: an encoder loop ("seq2seq/encoder/l0",
    ".../l0_reverse") and a decoder loop ("seq2seq/decoder_step") that both count t from 0.
    Composite cells (fused=False): a fused encoder is one node per direction, with no steps
    to draw."""
    m = tr.nn.Seq2Seq(5, 4, embed=3, enc_hidden=3, dec_hidden=3, bidirectional=True,
                      fused=False, rng=seed)
    src = (np.arange(S) % 4 + 1).reshape(S, 1)
    tgt = (np.arange(T) % 3).reshape(T, 1)
    loss = (m(src, tgt) ** 2).mean()
    loss.backward(retain_grads=True)
    return tr.trace(loss)
