"""The unrolled picture: one cluster per time step (nested per layer and direction), every op of
every step, and parameters drawn as the seeds' per-step copies W^(t).

A graph with several loops (a seq2seq model's encoder and decoder) draws each loop as an outer
cluster around its own steps, each loop ranked after the one that ran before it (the decoder
above its encoder for rankdir BT); the layers and directions of one ``nn`` layer are one loop
(:func:`viz.graph_index.GraphIndex.loops`). Steps keep time order left to right, and inside every
step the forward half comes before the reverse half.

A weight W (a leaf that requires grad) used at T steps appears as T small nodes W^(t), each
labelled with its own gradient contribution ||nabla_{W^(t)} L|| (the gradient that use sent
back, from the edge), plus one shared W node labelled with ||nabla_W L|| = ||sum_t nabla_{W^(t)}
L|| (seeds' eqs. 6-7). Shared across steps means weight. A leaf that requires grad but is used
at one step only, in the place where later steps read the previous step's value (an initial
state s^(0), h0, c0), is an input: it is drawn in that step as an input box with a gradient
and a bold blue outline, without copies (:meth:`viz.graph_index.GraphIndex._initial_states`). The
backward view (``backward.py``) reuses :func:`build` with another :class:`Style`.
"""

from __future__ import annotations

from dataclasses import dataclass

import graphviz

from viz._dot import LogScale, clean, fmt, fmt_values, label, shape_str, sort_key
from viz._style import FONT_SIZE, edge_style
from viz.collapse import Reduction, check_options, reduce
from viz.graph_index import PLACE_KEYS, GraphIndex
from viz.loading import load
from viz.views.grid_dot import draw_grid
from viz.views.scene import Scene, graph_attrs

PARAM_FILL = "#dbe9f6"
COPY_FILL = "#eef5fb"
STATE_COLOR = "#2f6f9f"
GROUP_FILL = "#f4f4f4"
HIGHLIGHT = "#1f5fbf"
CUT_STYLE = {"style": "dashed", "color": "red", "fontcolor": "red", "label": "cut (TBPTT)",
             "constraint": "false", "penwidth": "1.5"}


@dataclass
class Style:
    """What a view shows on top of the shared layout."""

    copies: bool = True  # per-step parameter copies W^(t)
    scale: LogScale | None = None  # fill nodes by gradient norm
    values: bool = False  # micrograd-style "data [...]" / "grad [...]" lines
    edge_grads: bool = False  # label edges with the gradient each use sent back
    on_path: list | None = None  # per node id: on the highlighted loss->node path


def draw_unrolled(graph, *, expand=None, keep_ends="auto", keep_steps=(),
                  collapse: str | None = None, max_nodes: int = 500, title: str | None = None,
                  rankdir: str = "BT") -> graphviz.Digraph:
    """Draw an unrolled graph as the textbook grid: time steps left to right, layers bottom to
    top, one box h⁽ᵗ⁾ per (layer, direction, step) cell with ‖∂L/∂h‖ (:mod:`viz.views.grid`).

    ``graph``: a ``tr.Graph``, its dict, a JSON path, or Tensor(s) (traced). ``expand`` opens
    cells to gate level: a step, ``{"layer": 1}``, a list of (layer, step) pairs, a predicate
    over node metadata, or ``"all"`` -- today's gate-level picture, one cluster per step with
    every op and the per-step copies W⁽ᵗ⁾. Long unrolls keep the first/last ``keep_ends`` steps
    plus ``keep_steps`` and merge the rest into "… × N steps" boxes (``"auto"``: loops of up
    to 16 steps whole, else 3 at each end; ``None`` draws all). A graph without recorded steps
    (a tree, a plain expression) is drawn op by op. In the gate-level picture
    ``collapse="cell"`` draws each cell as one node and more than ``max_nodes`` nodes are
    summarised with a warning. The result has ``.members``: box id -> the node ids it stands for.
    """
    gi = GraphIndex(load(graph))
    check_options(keep_ends, keep_steps, collapse, max_nodes, "viz.draw(view='unrolled')")
    if expand != "all":
        dg = draw_grid(gi, gradients=False, keep_ends=keep_ends, keep_steps=keep_steps,
                       expand=expand, title=title, rankdir=rankdir)
        if dg is not None:
            return dg
    red = reduce(gi, keep_ends=_gate_ends(keep_ends), keep_steps=keep_steps, collapse=collapse,
                 max_nodes=max_nodes)
    scene = build(gi, red, Style(), "unrolled", title, rankdir)
    return scene.to_digraph()


def _gate_ends(keep_ends):
    """The gate-level picture keeps 2 steps at each end by default (every op is a node)."""
    return 2 if keep_ends == "auto" else keep_ends


def build(gi: GraphIndex, red: Reduction, style: Style, name: str, title, rankdir) -> Scene:
    """Fill a Scene from the graph as reduced by ``red``, drawn in ``style``."""
    attrs = graph_attrs(name, rankdir, title)
    scene = Scene(name, attrs)
    places = gi.places()
    copies = _copy_uses(gi, red, places) if style.copies else {}
    roots = set(gi.roots)
    _loop_clusters(scene, gi)
    for i in range(len(gi)):
        did = red.owner[i]
        if did is None or did in scene.nodes:
            continue
        if did in red.groups:
            _group_node(scene, gi, red.groups[did], style)
        else:
            _plain_node(scene, gi, i, style, places[i], i in roots, i in copies)
        _cluster_labels(scene, scene.nodes[did].cluster)
    _edges(scene, gi, red, style, places, copies)
    _time_axis(scene, gi)
    return scene


def cluster_path(place, loop=None) -> tuple:
    """Cluster path of a place (step, layer, direction), inside its loop's cluster if any."""
    out = () if loop is None else (("loop", loop),)
    if place is None:
        return out
    return out + tuple((k, v) for k, v in zip(PLACE_KEYS, place) if v is not None)


def _loop_clusters(scene: Scene, gi: GraphIndex) -> None:
    """Labels of the loop clusters: the loop's scope path, less what all loops share
    ("encoder", "decoder_step" for "seq2seq/encoder", "seq2seq/decoder_step")."""
    loops = gi.loop_order()
    parts = [x.split("/") for x in loops]
    common = 0
    while parts and all(len(p) > common + 1 and p[common] == parts[0][common] for p in parts):
        common += 1
    for x, p in zip(loops, parts):
        scene.cluster_attr[(("loop", x),)] = {
            "label": label("/".join(p[common:]) or x or "loop"), "tooltip": label(f"loop {x}"),
            "style": "rounded,bold", "color": "gray45", "fontcolor": "gray20",
            "fontsize": str(FONT_SIZE)}


def _direction_key(v) -> tuple:
    return (0 if v in ("forward", "fwd", 0) else 1, sort_key(v))  # forward first


def _time_axis(scene: Scene, gi: GraphIndex) -> None:
    """Order the clusters along the scene's time axis: loops as they ran, then steps by t,
    then directions (forward first). Each (loop, step, direction) is a point of its own; a
    cluster without a direction (the step, a layer) hangs from its step's first point, so
    layers still stack while forward stays on the same side in every step."""
    loop_rank = {x: k for k, x in enumerate(gi.loop_order())}
    keys: dict = {}  # cluster path -> (loop rank, step, direction key or None)
    for nd in scene.nodes.values():
        for j in range(1, len(nd.cluster) + 1):
            d = dict(nd.cluster[:j])
            if "step" not in d and "steps" not in d:
                continue  # a loop's own cluster: placed by its steps
            step = d["step"] if "step" in d else d["steps"]
            keys[nd.cluster[:j]] = (loop_rank.get(d.get("loop"), -1), sort_key(step),
                                    _direction_key(d["direction"]) if "direction" in d else None)
    dirs: dict = {}  # (loop, step) -> its directions
    for k in keys.values():
        dirs.setdefault(k[:2], set()).update([k[2]] if k[2] is not None else [])
    chain = [s + (dk,) for s in sorted(dirs) for dk in (sorted(dirs[s]) or [None])]
    pos = {k: n for n, k in enumerate(chain)}
    first = {k[:2]: n for n, k in reversed(list(enumerate(chain)))}
    at = {p: pos[k] if k[2] is not None else first[k[:2]] for p, k in keys.items()}
    scene.axis = [[] for _ in chain]
    for p in sorted(at, key=_path_order):
        scene.axis[at[p]].append(p)
    scene.cluster_rank = dict(at)
    for x in loop_rank:  # a loop's cluster sits where its first step does
        scene.cluster_rank[(("loop", x),)] = min(
            (n for p, n in at.items() if p[0] == ("loop", x)), default=len(chain))
    scene.chain = [paths[0] for paths in scene.axis]
    scene.stack = [(("loop", x),) for x in loop_rank]


def _path_order(path: tuple) -> tuple:
    return (len(path), tuple((k, sort_key(v)) for k, v in path))


def _cluster_labels(scene: Scene, path: tuple) -> None:
    names = {"step": "t = {}", "layer": "layer {}", "direction": "{}"}
    for k in range(1, len(path) + 1):
        key, v = path[k - 1]
        scene.cluster_attr.setdefault(path[:k], {
            "label": label(names.get(key, "{}").format(v)), "style": "rounded",
            "color": "gray60", "fontcolor": "gray30"})


def _copy_uses(gi: GraphIndex, red: Reduction, places) -> dict:
    """param id -> [(edge, consumer DOT id, place)] for the uses drawn as per-step copies."""
    out: dict = {}
    for p in range(len(gi)):
        if gi.kind(p) != "param" or red.owner[p] != f"n{p}":
            continue
        for e in gi.outs[p]:
            d, place = red.owner[e["dst"]], places[e["dst"]]
            grp = red.groups.get(d)
            if d is None or place is None or (grp is not None and grp.kind != "cell"):
                continue
            out.setdefault(p, []).append((e, d, place))
    return out


def grad_lines(nd: dict, values: bool) -> list:
    g = nd.get("grad") if isinstance(nd.get("grad"), dict) else None
    if not values:
        return [] if g is None else [f"\u2016\u2207\u2016={fmt(g.get('norm'))}"]
    out = []
    for tag, d in (("data", nd.get("value") or {}), ("grad", g)):
        if d is None:
            continue
        vals = d.get("values")
        out.append(f"{tag} {fmt_values(vals)}" if vals is not None and len(vals) > 0
                   else f"{tag} \u2016\u00b7\u2016={fmt(d.get('norm'))}")
    return out


def _plain_node(scene, gi, i, style, place, is_root, has_copies) -> None:
    nd, kind = gi.nodes[i], gi.kind(i)
    name = gi.label_name(i)
    lines = [name, (f"{nd.get('op')} " if kind == "op" else "") + shape_str(nd.get("shape", []))]
    if kind == "param" and has_copies:
        lines.append("\u2207 = \u03a3 of its copies")
    lines.append(kind_line(kind))
    lines += grad_lines(nd, style.values)
    meta = nd.get("meta") or {}
    tips = [name, f"n{i} ({kind})", f"site {meta['site']}" if meta.get("site") else None,
            f"\u2016value\u2016={fmt((nd.get('value') or {}).get('norm'))}"]
    attrs = _kind_attrs(kind)
    if style.scale is not None:
        g = gi.grad_norm(i)
        attrs.update(style="filled" + (",rounded" if kind != "op" else ""),
                     fillcolor=style.scale.color(g), fontcolor=style.scale.font(g))
    if is_root:
        attrs["peripheries"] = "2"
    if style.on_path is not None and style.on_path[i]:
        attrs.update(color=HIGHLIGHT, penwidth="2.5")
    cluster = cluster_path(place, gi.loops()[i]) if kind != "param" else ()
    scene.node(f"n{i}", lines, tips, cluster, members=[i], **attrs)


def _kind_attrs(kind: str) -> dict:
    if kind == "param":
        return {"shape": "box", "style": "filled,rounded,bold", "fillcolor": PARAM_FILL}
    if kind == "cut":
        return {"shape": "box", "style": "dashed,rounded", "color": "red"}
    if kind == "input":
        return {"shape": "box", "style": "rounded"}
    if kind == "state":  # an input that receives a gradient: an input's box, a weight's outline
        return {"shape": "box", "style": "rounded,bold", "color": STATE_COLOR}
    return {"shape": "ellipse"}


def kind_line(kind: str) -> str | None:
    """The label line that says what a leaf is when its shape alone does not."""
    return "initial state (input with \u2207)" if kind == "state" else None


def _group_node(scene: Scene, gi: GraphIndex, grp, style: Style) -> None:
    n_ops = sum(1 for i in grp.members if gi.kind(i) == "op")
    n = len(grp.members)
    lines = [grp.title, grp.info, f"{n_ops} ops" if n == n_ops else f"{n} nodes ({n_ops} ops)"]
    outs = _group_outputs(gi, grp) if grp.kind == "cell" else []
    lines += [f"{gi.label_name(i, False)} \u2016\u2207\u2016={fmt(gi.grad_norm(i))}"
              for i in outs[:3]]
    attrs = {"shape": "box3d" if grp.kind == "cell" else "box",
             "style": "filled,dashed" if grp.kind == "steps" else "filled",
             "fillcolor": GROUP_FILL}
    if style.scale is not None and outs:
        g = max((gi.grad_norm(i) or 0.0) for i in outs)
        attrs.update(fillcolor=style.scale.color(g), fontcolor=style.scale.font(g))
    if style.on_path is not None and any(style.on_path[i] for i in grp.members):
        attrs.update(color=HIGHLIGHT, penwidth="2.5")
    tips = [grp.title, grp.info, "members " + " ".join(f"n{i}" for i in grp.members[:50])]
    path = cluster_path(grp.place, grp.loop) if grp.kind == "cell" else ()
    if grp.kind == "steps":  # an invisible cluster, so the run keeps its place in time order
        path = cluster_path(None, grp.loop) + (("steps", grp.place[0]),)
        scene.cluster_attr[path] = {"label": "", "peripheries": "0"}
    stands = outs[0] if outs else max(grp.members)  # a cell: its state output h
    scene.node(grp.did, lines, tips, path, members=grp.members, stands_for=stands, **attrs)


def _group_outputs(gi: GraphIndex, grp) -> list:
    """Members whose value leaves the group (h^(t), c^(t) of a cell), last first."""
    inside = set(grp.members)
    outs = [i for i in grp.members if gi.kind(i) == "op"
            and any(e["dst"] not in inside for e in gi.outs[i])]
    return sorted(outs, reverse=True)


def _edges(scene, gi, red, style, places, copies) -> None:
    merged: dict = {}
    copied = {id(u[0]) for uses in copies.values() for u in uses}  # membership only
    for dst in range(len(gi)):
        for e in gi.ins[dst]:
            s, d = red.owner[e["src"]], red.owner[dst]
            if s is None or d is None or s == d:
                continue
            if id(e) in copied:
                continue  # drawn through its per-step copy below
            key = (s, d, e.get("kind", "data"))
            merged.setdefault(key, []).append(e)
    for (s, d, kind), es in merged.items():
        scene.edge(s, d, (scene.nodes[d].order, scene.nodes[s].order),
                   **_edge_attrs(gi, es, kind, style, places))
    for p, uses in copies.items():
        _copy_nodes(scene, gi, p, uses, style)


def _edge_attrs(gi, es, kind, style, places) -> dict:
    if kind == "cut":
        return dict(CUT_STYLE)
    e = es[0]
    ps, pd = places[e["src"]], places[e["dst"]]
    attrs = {}
    if ps is not None and pd is not None and ps[0] is not None and pd[0] is not None \
            and ps[0] != pd[0]:
        attrs["constraint"] = "false"  # recurrent edge: keep the steps side by side
        attrs["color"] = "gray35"
    elif ps is None and gi.kind(e["src"]) == "param" and len(gi.outs[e["src"]]) > 1:
        # a weight drawn once (no copies) feeds ops in many step clusters: such edges must
        # not rank, or Graphviz 2.43 can fail ("trouble in init_rank") on long encoders
        attrs["constraint"] = "false"
    if style.edge_grads:
        # arrows show where each gradient goes; its size is the edge's width and colour on the
        # nodes' log scale, its value the tooltip: a label on an edge adds a node to the
        # layout, and Graphviz 2.43 failed ("trouble in init_rank") on big graphs with them
        attrs["dir"] = "back"
        norms = [(x.get("grad") or {}).get("norm") for x in es]
        norms = [x for x in norms if x is not None]
        attrs.update(edge_style(style.scale, max(norms) if norms else None))
        if norms:
            attrs["tooltip"] = label("\u2016\u2207\u2016 sent back: "
                                     + ", ".join(fmt(x) for x in norms[:8]))
    if style.on_path is not None and all(style.on_path[x["src"]] and style.on_path[x["dst"]]
                                         for x in es):
        attrs.update(color=HIGHLIGHT, penwidth="2.5")
    return attrs


def _copy_nodes(scene: Scene, gi: GraphIndex, p: int, uses, style: Style) -> None:
    """One small node W^(t) per use (per cell when cells are collapsed), in the consumer's
    cluster, labelled with that use's gradient contribution."""
    by_dst: dict = {}
    for e, d, place in uses:
        by_dst.setdefault(d, []).append((e, place))
    pname = gi.label_name(p)
    for d, items in by_dst.items():
        e0, place = items[0]
        cid = f"n{p}_{e0['dst']}_{e0.get('arg', 0)}" if len(items) == 1 else f"n{p}_{d}"
        tag = clean(place[0]) if place[0] is not None else "\u00b7"  # the step t of W^(t)
        norms = [(e.get("grad") or {}).get("norm") for e, _ in items]
        lines = [f"{pname}^({tag})", "\u2016\u2207\u2016=" + ", ".join(fmt(x) for x in norms)
                 if any(x is not None for x in norms) else None]
        tips = [f"{pname}^({tag}): the copy of {pname} used here",
                "its gradient contribution; the shared node holds the sum"]
        scene.node(cid, lines, tips, cluster_path(place, gi.loops()[e0["dst"]]), shape="box",
                   style="filled,rounded", fillcolor=COPY_FILL, height="0.3",
                   id=f"copy-{p}-{e0['dst']}-{e0.get('arg', 0)}")
        for e, _ in items:
            on = style.on_path is not None and style.on_path[p] and style.on_path[e["dst"]]
            extra = {"color": HIGHLIGHT, "penwidth": "2.5"} if on else {}
            scene.edge(cid, d, (scene.nodes[d].order, scene.nodes[cid].order), **extra)
        scene.edge(f"n{p}", cid, (scene.nodes[cid].order, -1), style="dotted",
                   arrowhead="none", color="gray50", constraint="false")
