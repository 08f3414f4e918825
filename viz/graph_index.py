"""The graph index the views read: :class:`GraphIndex`, the ``Graph.to_dict()`` data (as
:func:`viz.loading.load` gives it) plus adjacency lists and the derived facts every picture needs
(where a node is placed, its semantic name). Nothing here touches the core's tape objects.
"""

from __future__ import annotations

import json
import re

from viz._dot import clean, fmt, sort_key

PLACE_KEYS = ("step", "layer", "direction")
_LAYER_LOOP = re.compile(r"(?:^|/)l\d+(?:_reverse)?$")  # ".../l1", ".../l0_reverse"


def loop_group(loop) -> str | None:
    """The loop a step belongs to, less the layer/direction an ``nn`` layer adds:
    ``"seq2seq/encoder/l0_reverse"`` -> ``"seq2seq/encoder"``; ``"rnn"`` stays ``"rnn"``. The
    layers and directions of one module are one loop: they are drawn inside its steps."""
    return None if loop is None else _LAYER_LOOP.sub("", str(loop))


_PLAIN_TYPES = frozenset({type(None), str, int, float, bool})  # hv() keeps these as they are


def hv(v):
    """A hashable, orderable stand-in for a JSON meta value."""
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return json.dumps(v, sort_keys=True)


class GraphIndex:
    """The graph dict plus adjacency: ``ins[i]`` (by arg) and ``outs[i]`` (by dst, arg)."""

    def __init__(self, d: dict):
        self.nodes = d["nodes"]
        n = len(self.nodes)
        self.ins = [[] for _ in range(n)]
        self.outs = [[] for _ in range(n)]
        for e in sorted(d["edges"], key=lambda e: (e["dst"], e.get("arg", 0), e["src"])):
            self.ins[e["dst"]].append(e)
            self.outs[e["src"]].append(e)
        roots = [r for r in d.get("roots") or [] if isinstance(r, int) and 0 <= r < n]
        self.roots = roots or [i for i in range(n) if not self.outs[i]]
        # plain lists: meta() and kind() run for every node in every pass
        self.kinds = [nd.get("kind") or "op" for nd in self.nodes]
        self.metas = [nd.get("meta") or {} for nd in self.nodes]
        self._places: dict = {}
        self._last: dict | None = None
        self._loops: list | None = None
        self._loop_order: list = []
        for i in self._initial_states():
            self.kinds[i] = "state"
        self._places = {}  # leaf places depend on kinds: recompute them with the new ones

    def __len__(self) -> int:
        return len(self.nodes)

    def meta(self, i: int, key: str):
        v = self.metas[i].get(key)
        return v if v is None or isinstance(v, (str, int, float)) else hv(v)

    def kind(self, i: int) -> str:
        """"op", "input", "cut", "param" (a weight), or "state": an initial state, see
        :meth:`_initial_states`."""
        return self.kinds[i]

    def _initial_states(self) -> list:
        """Leaves recorded as parameters (``requires_grad``) that are really inputs with a
        gradient: an initial state s^(0), h0, c0 (a Hopfield net's noisy start pattern).
        The library's layers record theirs (kind ``state``, ``tr.initial_state``); this finds
        them in hand-written loops that do not say, and in graphs saved before the record.

        Rule: a weight is shared across steps, so it is drawn once with per-step copies; a
        leaf used at one step only, in slots that later steps fill with the previous step's
        value (the same op site and argument reading across a step boundary), starts a
        recurrence: it is an input. A per-step head used only at the last step stays a
        weight (its slot is never recurrent), and so does everything in a one-step graph."""
        step = [None if p is None else p[0] for p in self.places()]

        def crosses(src: int, dst: int) -> bool:  # an edge from one step to another
            return self.kinds[src] == "op" and None not in (step[src], step[dst]) \
                and step[src] != step[dst]

        recurrent = {self._slot(d, e) for d in range(len(self.nodes)) for e in self.ins[d]
                     if crosses(e["src"], d)}
        out = []
        for i in range(len(self.nodes)):
            if self.kinds[i] != "param":
                continue
            uses = [e for e in self.outs[i] if e.get("kind", "data") == "data"]
            steps = {step[e["dst"]] for e in uses}
            if len(steps) == 1 and None not in steps \
                    and all(self._slot(e["dst"], e) in recurrent for e in uses):
                out.append(i)
        return out

    def _slot(self, d: int, e: dict) -> tuple:
        """(op site, argument): the same for the T copies of one cell op's input."""
        site = self.meta(d, "site")
        if site is None:  # graphs without sites: scope, op and role name the site
            site = (self.meta(d, "scope"), self.nodes[d].get("op"), self.meta(d, "role"))
        return (site, self.meta(d, "layer"), self.meta(d, "direction"), e.get("arg", 0))

    def grad_norm(self, i: int):
        g = self.nodes[i].get("grad")
        return g.get("norm") if isinstance(g, dict) else None

    def places(self, keys=PLACE_KEYS) -> list:
        """Per node, the tuple of meta ``keys`` (e.g. step, layer, direction) it belongs to.

        Ops carry their own meta; an op recorded outside any scope (e.g. ``h @ W_y`` written
        after the step's ``with`` block) takes the place of its op inputs when they all agree;
        a non-parameter leaf (x^(t), h0, a cut) takes the place of its consumers when they all
        agree; parameters are shared, so they get None."""
        if keys in self._places:
            return self._places[keys]
        out: list = []
        kinds, metas = self.kinds, self.metas
        plain = _PLAIN_TYPES.issuperset
        for i in range(len(self.nodes)):
            if kinds[i] != "op":
                out.append(None)
                continue
            p = tuple(map(metas[i].get, keys))  # map, not a generator: runs per op node
            if not plain(map(type, p)):
                p = tuple(map(hv, p))
            if p.count(None) == len(p):
                srcs = [out[e["src"]] for e in self.ins[i] if kinds[e["src"]] == "op"]
                p = srcs[0] if srcs and all(s == srcs[0] for s in srcs) else None
            out.append(p)
        for i in range(len(self.nodes)):  # leaves after ops: consumers are known by now
            if self.kind(i) not in ("op", "param"):
                cons = [out[e["dst"]] for e in self.outs[i] if e.get("kind", "data") == "data"]
                out[i] = cons[0] if cons and all(c == cons[0] for c in cons) else None
        self._places[keys] = out
        return out

    def loops(self) -> list:
        """Per node, the :func:`loop_group` of its place (``meta["loop"]``, found like
        :meth:`places`), or None. Only loops that run on time axes of their own are told apart:
        a loop whose steps meet another's only at the same step (a per-step head reading
        h^(t)) joins it, and all are None when fewer than two loops remain (one loop, or a
        graph saved before steps recorded their loop). An encoder and its decoder stay apart."""
        if self._loops is not None:
            return self._loops
        places = self.places(("loop",) + PLACE_KEYS)
        out = [None if p is None else loop_group(p[0]) for p in places]
        rank = {g: k for k, g in enumerate(dict.fromkeys(g for g in out if g is not None))}
        aligned, apart = set(), set()
        for i in range(len(out)):
            for e in self.ins[i]:
                a, b = out[e["src"]], out[i]
                if a is not None and b is not None and a != b:
                    same = places[e["src"]][1] == places[i][1]  # same step t
                    (aligned if same else apart).add(tuple(sorted((a, b), key=rank.get)))
        root = {g: g for g in rank}

        def find(g):
            while root[g] != g:
                g = root[g]
            return g

        for a, b in sorted(aligned - apart, key=lambda p: (rank[p[0]], rank[p[1]])):
            ra, rb = sorted((find(a), find(b)), key=rank.get)
            root[rb] = ra  # the earlier loop names the joined one
        out = [None if g is None else find(g) for g in out]
        if len(set(out) - {None}) < 2:
            out = [None] * len(out)
        self._loops = out
        self._loop_order = self._order_loops(out, places)
        return out

    def loop_order(self) -> list:
        """The loops of :meth:`loops` in the order they ran: a loop fed by another (a decoder
        by its encoder) comes after it. Node ids alone do not say so: a decoder's first ops
        (embedding its start token) need nothing from the encoder."""
        self.loops()
        return self._loop_order

    def _order_loops(self, loops: list, places: list) -> list:
        # key: how deep (longest path from the leaves) the loop's first step reaches
        depth = [0] * len(loops)
        for i in range(len(loops)):
            depth[i] = max((depth[e["src"]] + 1 for e in self.ins[i]), default=0)
        first: dict = {}
        for i, g in enumerate(loops):
            if g is not None:
                step = sort_key(places[i][1])
                if g not in first or step < first[g][0]:
                    first[g] = (step, depth[i], i)
                elif step == first[g][0]:
                    first[g] = (step, max(depth[i], first[g][1]), first[g][2])
        return sorted(first, key=lambda g: (first[g][1], first[g][2]))

    def label_name(self, i: int, with_place: bool = True) -> str:
        """Semantic name: ``rnn.h[t=3]``, ``lstm.l0.f_gate[t=3]``, ``rnn.h.matmul[t=3]``,
        ``lstm.l1.reverse.h[t=0]``, or a leaf's own name (``W``, ``x[3]``)."""
        nd = self.nodes[i]
        if self.kind(i) != "op":
            return clean(nd.get("name") or self._leaf_default(i))
        meta = nd.get("meta") or {}
        parts = [p for p in str(meta.get("scope") or "").split("/") if p]
        # layer/direction only when the scope does not already say it (nn layers use
        # scopes such as "l1_reverse")
        layer, direction = meta.get("layer"), meta.get("direction")
        if layer is not None and not any(p == f"l{layer}" or p.startswith(f"l{layer}_")
                                         for p in parts):
            parts.append(f"l{clean(layer)}")
        if direction not in (None, "forward", 0) and not any(clean(direction) in p
                                                            for p in parts):
            parts.append(clean(direction))  # forward is the default: only name the others
        what = nd.get("name") or nd.get("op") or "op"
        role = meta.get("role")
        if role is not None:
            rname = role_name(clean(role))
            parts.append(rname if self._is_role_output(i) and not nd.get("name")
                         else f"{rname}.{what}")
        else:
            parts.append(what)
        name = ".".join(clean(p) for p in parts)
        return name + (self.place_suffix(i) if with_place else "")

    def _leaf_default(self, i: int) -> str:
        if self.kind(i) == "cut":
            return "cut"
        vals = (self.nodes[i].get("value") or {}).get("values")
        if isinstance(vals, list) and len(vals) == 1:  # a constant such as the 2 of x ** 2
            return f"const {fmt(vals[0])}"
        return f"{self.kind(i)} {i}"

    def place_suffix(self, i: int) -> str:
        step, node = self.meta(i, "step"), self.meta(i, "tree_node")
        if step is not None:
            return f"[t={clean(step)}]"
        return f"[node={clean(node)}]" if node is not None else ""

    def _is_role_output(self, i: int) -> bool:
        # The last op of a role group (e.g. the add that makes c^(t)) *is* that role's value.
        if self._last is None:
            self._last = {}
            for j in range(len(self.nodes)):
                if self.kind(j) == "op" and self.meta(j, "role") is not None:
                    self._last[self._role_key(j)] = j
        return self._last.get(self._role_key(i)) == i

    def _role_key(self, i: int) -> tuple:
        keys = ("scope", "step", "tree_node", "layer", "direction", "role")
        return tuple(self.meta(i, k) for k in keys)


def role_name(role: str) -> str:
    # gate_f -> f_gate reads like the textbooks ("forget gate f"); other roles stay as given.
    if role.startswith("gate_") and len(role) > 5:
        return f"{role[5:]}_gate"
    return role
