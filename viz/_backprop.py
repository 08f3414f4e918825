"""What the teaching features (exercise, replay) share: the tape's visit order, the local
derivative rule of each op, gradient arrays read back from the trace, and the base picture.

Everything works on the plain graph data (``Graph.to_dict()``): node ``grad`` summaries hold the
gradient dL/d(node) and each edge's ``grad`` the part one use sent back, when backward ran with
``retain_grads=True`` and the tensors were small enough for the trace to keep their values.
"""

from __future__ import annotations

import numpy as np

from viz._dot import fmt, label, shape_str
from viz._errors import GraphFormatError
from viz.collapse import reduce
from viz.graph_index import GraphIndex
from viz.loading import load
from viz.views.scene import Scene
from viz.views.unrolled import Style, build

MAX_VALUES = 4096  # a Tensor is traced keeping this many values, so answers can be checked

# Per op: the rule for each input (y = the op's output, dL/dy = the upstream gradient).
_UNARY = {
    "tanh": "dL/dx = dL/dy * (1 - y^2)",
    "sigmoid": "dL/dx = dL/dy * y * (1 - y)",
    "relu": "dL/dx = dL/dy * [x > 0]",
    "exp": "dL/dx = dL/dy * y",
    "log": "dL/dx = dL/dy / x",
    "neg": "dL/dx = -dL/dy",
    "sum": "dL/dx = dL/dy, copied to every summed entry",
    "mean": "dL/dx = dL/dy / N, copied to each of the N averaged entries",
    "max": "dL/dx = dL/dy at the largest entry, 0 elsewhere",
    "softmax": "dL/dx = y * (dL/dy - sum(dL/dy * y))",
    "log_softmax": "dL/dx = dL/dy - softmax(x) * sum(dL/dy)",
    "cross_entropy": "dL/dz = dL/dy * (softmax(z) - onehot(target)), / N for the mean",
    "embedding": "dL/dE[i] += the row of dL/dy, for each looked-up index i",
    "dropout": "dL/dx = dL/dy * mask / (1 - p)",
    "reshape": "dL/dx = dL/dy reshaped back to x's shape",
    "transpose": "dL/dx = dL/dy with the axes swapped back",
    "getitem": "dL/dx = 0, except dL/dy in the entries that were selected",
    "split": "dL/dx = the pieces' gradients, concatenated",
}
_MULTI = {
    "add": ("dL/da = dL/dy", "dL/db = dL/dy"),
    "sub": ("dL/da = dL/dy", "dL/db = -dL/dy"),
    "mul": ("dL/da = dL/dy * b", "dL/db = dL/dy * a"),
    "div": ("dL/da = dL/dy / b", "dL/db = -dL/dy * a / b^2"),
    "pow": ("dL/da = dL/dy * b * a^(b-1)", "dL/db = dL/dy * y * log(a)"),
    "where": ("dL/da = dL/dy where cond, else 0", "dL/db = dL/dy where not cond, else 0"),
    "linear": ("dL/dx = dL/dy @ W", "dL/dW = dL/dy^T @ x", "dL/db = dL/dy summed over rows"),
    "affine": ("dL/dx = dL/dy @ W_ih", "dL/dh = dL/dy @ W_hh", "dL/dW_ih = dL/dy^T @ x",
               "dL/dW_hh = dL/dy^T @ h", "dL/db_ih = dL/dy summed over rows",
               "dL/db_hh = dL/dy summed over rows"),
}
_ELEMENTWISE = ("add", "sub", "mul", "div", "pow", "where")


def load_traced(obj, who: str) -> dict:
    """The graph dict of ``obj``; a Tensor is traced keeping up to ``MAX_VALUES`` values per
    tensor (the default trace keeps 16), so every small gradient can be read back."""
    d = load(obj, max_values=MAX_VALUES)
    if not any(nd.get("kind", "op") == "op" for nd in d["nodes"]):
        raise GraphFormatError(f"{who}: the graph has no ops, so there is no backward to show")
    return d


def require_retained(gi: GraphIndex, who: str) -> None:
    """Intermediate gradients are only on the tape after ``backward(retain_grads=True)``."""
    ops = [i for i in range(len(gi)) if gi.kind(i) == "op"]
    if not any(isinstance(gi.nodes[i].get("grad"), dict) for i in ops):
        raise GraphFormatError(
            f"{who}: the graph's ops carry no gradients; run loss.backward(retain_grads=True) "
            "before tracing (plain backward() keeps only the parameters' .grad)")


def backward_order(d: dict, gi: GraphIndex) -> list:
    """Op node ids in the order the tape's backward visits them: reverse creation order, only
    ops a gradient reached. Graphs saved without ``order`` fall back to reverse id order (also
    consumers before inputs, but not always the tape's own order)."""
    n = len(gi)
    created = [i for i in d.get("order") or [] if isinstance(i, int) and 0 <= i < n
               and gi.kind(i) == "op"] or [i for i in range(n) if gi.kind(i) == "op"]
    return [i for i in reversed(created) if isinstance(gi.nodes[i].get("grad"), dict)]


def grad_array(summary) -> np.ndarray | None:
    """A gradient summary's values as an array of its shape (None when only norms were kept)."""
    if not isinstance(summary, dict) or summary.get("values") is None:
        return None
    return np.asarray(summary["values"], dtype=np.float64).reshape(summary.get("shape") or ())


def uses(gi: GraphIndex, i: int) -> list:
    """The data edges out of node ``i`` that carried a gradient back (one per use)."""
    return [e for e in gi.outs[i] if e.get("kind", "data") == "data"
            and isinstance(e.get("grad"), dict)]


def rule(gi: GraphIndex, dst: int, arg: int) -> str:
    """The local derivative rule op node ``dst`` applies to its input number ``arg``."""
    op = gi.nodes[dst].get("op") or "op"
    ins = [e for e in gi.ins[dst] if e.get("kind", "data") == "data"]
    src = next((e["src"] for e in ins if e.get("arg", 0) == arg), None)
    if op == "matmul" and len(ins) == 2:
        text = _matmul_rule(gi, ins, arg)
    elif op in _MULTI and arg < len(_MULTI[op]):
        text = _MULTI[op][arg]
    elif op in _UNARY:
        text = _UNARY[op]
    elif op in ("concat", "stack"):
        text = f"dL/dx{arg} = the part of dL/dy that input #{arg} filled"
    else:  # fused cells, tree ops: a hand-written VJP with no one-line rule
        text = f"dL/d(input #{arg}) = the VJP of '{op}' applied to dL/dy"
    if op in _ELEMENTWISE and src is not None and \
            gi.nodes[src].get("shape") != gi.nodes[dst].get("shape"):
        text += ", summed over the broadcast axes"
    return text


def _matmul_rule(gi: GraphIndex, ins: list, arg: int) -> str:
    # the textbook forms dA = dC B^T, dB = A^T dC, written out for vector operands
    a, b = (len(gi.nodes[e["src"]].get("shape") or []) for e in ins[:2])
    if arg == 0:
        return ("dL/da = B @ dL/dC" if a == 1 else
                "dL/dA = outer(dL/dC, b)" if b == 1 else "dL/dA = dL/dC @ B^T")
    return ("dL/db = A^T @ dL/dC" if b == 1 else
            "dL/dB = outer(a, dL/dC)" if a == 1 else "dL/dB = A^T @ dL/dC")


def arg_name(gi: GraphIndex, dst: int, arg: int) -> str:
    """How :func:`rule` calls input ``arg`` of ``dst`` (x, a, b, A, B, W ...)."""
    text = rule(gi, dst, arg)
    return text.split(" = ", 1)[0].removeprefix("dL/d").split("[", 1)[0]


def step_of(gi: GraphIndex, i: int):
    """The time step a node belongs to (its place), or None."""
    place = gi.places()[i]
    return None if place is None else place[0]


def describe(gi: GraphIndex, i: int) -> str:
    """``rnn.h.tanh[t=1] (tanh, shape (1, 3))`` / ``W (param, shape (3, 3))``."""
    nd = gi.nodes[i]
    what = nd.get("op") if gi.kind(i) == "op" else gi.kind(i)
    return f"{gi.label_name(i)} ({what}, shape {shape_str(nd.get('shape') or [])})"


def num(x, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits (3 is :func:`viz._dot.fmt`)."""
    if digits == 3 or x is None or float(x) == 0:
        return fmt(x)
    return f"{float(x):.{digits}g}"


def values_text(summary, max_n: int = 9, digits: int = 3) -> str:
    """``[0.1, -0.2, ...]`` (a bare number for a 0-d tensor) when the values were kept, else
    ``||.||=3.2``."""
    if not isinstance(summary, dict):
        return "-"
    vals = summary.get("values")
    if vals is None:
        return f"\u2016\u00b7\u2016={fmt(summary.get('norm'))}"
    if len(vals) == 1 and not summary.get("shape"):
        return num(vals[0], digits)
    more = ", \u2026" if len(vals) > max_n else ""
    return "[" + ", ".join(num(v, digits) for v in vals[:max_n]) + more + "]"


def array_text(arr, max_n: int = 9, digits: int = 3) -> str:
    return values_text({"shape": list(np.shape(arr)),
                        "values": np.asarray(arr, dtype=np.float64).ravel().tolist()},
                       max_n, digits)


def base_scene(gi: GraphIndex, name: str, rankdir: str, max_nodes: int, who: str):
    """The shared unrolled layout (step clusters, time order) with no per-step copies and no
    gradient colours or edge labels: callers write their own labels. Returns (scene, owner)
    where ``owner[i]`` is the DOT id node ``i`` is drawn as (``n<i>`` unless summarised)."""
    red = reduce(gi, keep_ends=None, collapse=None, max_nodes=max_nodes, who=who)
    scene = build(gi, red, Style(copies=False), name, None, rankdir)
    return scene, red.owner


def own_node(scene: Scene, owner: list, i: int):
    """Node ``i``'s DOT node if it is drawn as itself (not merged into a summary), else None."""
    did = owner[i]
    return scene.nodes.get(did) if did == f"n{i}" else None


def data_line(nd: dict, max_n: int = 9, digits: int = 3) -> str:
    return "data " + values_text(nd.get("value"), max_n, digits)


def label_edges(scene: Scene, gi: GraphIndex) -> None:
    """Name each edge by the input it feeds (x, a, b, A, B ...): the rules speak of them."""
    for de in scene.edges:
        s, d = de.src.removeprefix("n"), de.dst.removeprefix("n")
        if not (s.isdigit() and d.isdigit()):
            continue  # a summary node
        names = [arg_name(gi, int(d), e.get("arg", 0)) for e in gi.ins[int(d)]
                 if e["src"] == int(s) and e.get("kind", "data") == "data"]
        if names:
            de.attrs["label"] = label(",".join(names))


def head_lines(gi: GraphIndex, i: int) -> list:
    """The first label lines of node ``i``: its name, then ``op (shape)`` or ``param (shape)``."""
    nd = gi.nodes[i]
    what = nd.get("op") if gi.kind(i) == "op" else gi.kind(i)
    return [gi.label_name(i), f"{what} {shape_str(nd.get('shape') or [])}"]
