"""The data of an inspector page, as one JSON-able dict (the page's JavaScript reads only this).

``payload(...)`` returns::

    graph   the Graph.to_dict() data (the page exports it): per node its value and gradient
            summaries (min/max/mean/norm exact, the values when small, to 6 digits), per edge
            the gradient that use sent back
    info    per node id: label (lstm.l0.f_gate[t=3]), kind (op, param, input, cut, state), step
            (the time step it is placed at, leaves included), rule (index into ``rules``)
    rules   distinct rules: the op's forward equation, one rule per input (or a template for
            input k of a variadic op); see viz.inspector_rules.rule_of
    uses    per weight id: its uses [edge index, "t=3", ||∇_{W⁽ᵗ⁾} L||] in step order, and the
            check that they add up to W.grad (sum of the uses' means vs the mean of W.grad, and
            the norm of their sum when the values were kept)
    replay  the backward steps in the tape's order (viz.replay_frames), each with the op, the
            caption and the contributions [src, edge index, uses done, uses in all, W⁽ᵗ⁾]
    views, boxes, notes: filled in by viz.inspector from viz.inspector_views
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np

from viz._dot import clean, sort_key
from viz._errors import GraphFormatError
from viz.graph_index import GraphIndex
from viz.inspector_rules import rule_of
from viz.replay import replay_frames

VALUE_BUDGET = 100_000  # values kept in a page (about 1 MB); beyond it only their summaries
DIGITS = 6  # significant digits of the values embedded in the page (the panel shows 4)


def node_info(gi: GraphIndex) -> tuple:
    """(info, rules): per node its label, kind, step and rule index; the distinct rule lists."""
    places = gi.places()
    rules: list = []
    index: dict = {}
    info = []
    for i in range(len(gi)):
        item = {"label": gi.label_name(i), "kind": gi.kind(i)}
        step = places[i][0] if places[i] is not None else None
        if step is not None:
            item["step"] = step
        if gi.kind(i) == "op":
            n_in = sum(1 for e in gi.ins[i] if e.get("kind", "data") == "data")
            rule = rule_of(gi.nodes[i].get("op"), n_in)
            key = json.dumps(rule, sort_keys=True)
            if key not in index:
                index[key] = len(rules)
                rules.append(rule)
            item["rule"] = index[key]
        info.append(item)
    return info, rules


def _tag(gi: GraphIndex, info: list, i: int) -> str | None:
    """Where a use happens: "t=3", "node 5" (a tree node), or None."""
    if "step" in info[i]:
        return f"t={clean(info[i]['step'])}"
    node = gi.meta(i, "tree_node")
    return None if node is None else f"node {clean(node)}"


def param_uses(gi: GraphIndex, info: list, edge_index: dict) -> dict:
    """Per weight (or initial state) with uses: the gradient each use sent back, in step order,
    and how they add up to its .grad (seeds' eqs. 6-7: ∇_W L = Σ_t ∇_{W⁽ᵗ⁾} L)."""
    out = {}
    for p in range(len(gi)):
        if gi.kind(p) not in ("param", "state"):
            continue
        uses = [e for e in gi.outs[p] if e.get("kind", "data") == "data"]
        if not uses:
            continue
        uses.sort(key=lambda e: (sort_key(info[e["dst"]].get("step")), e["dst"], e.get("arg", 0)))
        items = [[edge_index[id(e)], _tag(gi, info, e["dst"]), _norm(e.get("grad"))]
                 for e in uses]
        out[str(p)] = {"uses": items, **_sum_check(gi.nodes[p].get("grad"),
                                                   [e.get("grad") for e in uses])}
    return out


def _norm(summary):
    return summary.get("norm") if isinstance(summary, dict) else None


def _sum_check(total, parts: list) -> dict:
    """Σ_t ∇_{W⁽ᵗ⁾} L against ∇_W L. The mean is linear, so the uses' means add up to the mean
    of W.grad even when only summaries were kept; with values, the sum itself is compared."""
    if not isinstance(total, dict) or not parts or not all(isinstance(g, dict) for g in parts):
        return {}
    out = {}
    if all("mean" in g for g in parts) and "mean" in total:
        out["sum_mean"] = math.fsum(g["mean"] for g in parts)
        out["grad_mean"] = total["mean"]
    if total.get("values") is not None and all(g.get("values") is not None for g in parts):
        s = np.sum([np.asarray(g["values"], dtype=np.float64) for g in parts], axis=0)
        t = np.asarray(total["values"], dtype=np.float64)
        if s.shape == t.shape:
            out["sum_norm"] = float(np.linalg.norm(s))
            out["max_diff"] = float(np.max(np.abs(s - t))) if t.size else 0.0
    return out


def replay_data(d: dict, edge_index: dict, gi: GraphIndex, max_frames: int, notes: list):
    """The backward steps for the page, or None (with a note) when there is nothing to replay:
    no ops, or no intermediate gradients (backward ran without retain_grads=True)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frames = replay_frames(d, max_frames=max_frames, pictures=False)
    except GraphFormatError as exc:
        notes.append(f"No backward replay: {str(exc).removeprefix('viz.replay: ')}")
        return None
    notes += [str(w.message).replace("viz.replay", "viz.inspect (replay)") for w in caught]
    into = {(e["dst"], e.get("arg", 0)): edge_index[id(e)] for e in d["edges"]
            if e.get("kind", "data") == "data"}
    out = []
    for fr in frames:
        contrib = [[c.src, into.get((fr.node, c.arg)), c.uses_done, c.uses_total, c.copy]
                   for c in fr.contributions]
        out.append({"node": fr.node, "caption": fr.caption, "c": contrib})
    total = frames[0].total if frames else 0
    return {"frames": out, "total": total}


def page_graph(d: dict, notes: list) -> dict:
    """The graph as embedded in the page (and exported by it): the tensors' values rounded to
    ``DIGITS`` significant digits (min/max/mean/norm stay exact), or, when a big graph holds
    more than ``VALUE_BUDGET`` of them, left out, so the page stays a few megabytes."""
    sums = [nd.get(k) for nd in d["nodes"] for k in ("value", "grad")]
    sums += [e.get("grad") for e in d["edges"]]
    count = sum(len(s.get("values") or ()) for s in sums if isinstance(s, dict))
    huge = count > VALUE_BUDGET
    if huge:
        notes.append(f"viz.inspect: the graph's {len(d['nodes'])} nodes and {len(d['edges'])} "
                     f"edges hold {count} values, more than {VALUE_BUDGET}: the page keeps each "
                     f"tensor's min/max/mean/norm (to {DIGITS} digits) but not its values")

    def short(s):
        if not isinstance(s, dict) or (s.get("values") is None and not huge):
            return s
        if huge:  # and the statistics to DIGITS too: a big graph's JSON is mostly them
            return {k: _round(v) for k, v in s.items() if k != "values"}
        return dict(s, values=[_round(v) for v in s["values"]])

    nodes = [dict(nd, value=short(nd.get("value")), grad=short(nd.get("grad")))
             for nd in d["nodes"]]
    edges = [dict(e, grad=short(e.get("grad"))) for e in d["edges"]]
    return dict(d, nodes=nodes, edges=edges)


def _round(v):
    return float(f"{v:.{DIGITS}g}") if isinstance(v, float) else v


def steps_of(info: list) -> list:
    """The distinct time steps of the graph, in order (the page's step slider)."""
    return sorted({x["step"] for x in info if "step" in x}, key=sort_key)
