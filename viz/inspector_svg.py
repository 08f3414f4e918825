"""Graphviz SVG made ready for the inspector page: every drawn node and edge tagged with the
``tr.Graph`` data it stands for, and nothing left that could clash on a page holding several
inspectors.

After :func:`tag_svg`, in the SVG of any view:

* a node element ``<g class="node">`` has ``data-node-id`` = the graph node id it stands for; a
  collapsed box also has ``data-box`` = a key of the page's box table (its members, its
  pre-rendered inside); a per-step copy W⁽ᵗ⁾ has the weight's id and ``data-edge`` = that use;
* inside a grid row's header (a node standing for the row's weights), each weight's cells have
  ``data-node-id`` = that weight, its strip cells also ``data-copy`` and ``data-edge`` = the
  use the cell shows;
* an edge element ``<g class="edge">`` has ``data-edge`` = the indices (into the graph's
  ``edges``) of the uses it draws;
* a step cluster has ``data-step`` = its t.

Every ``id`` and ``<title>`` Graphviz wrote is removed (``node1``, ``clust3``, ``graph0`` would
repeat in every view and every inspector). Parsing is done with ElementTree, so the output of
Graphviz ``dot`` and of graphviz-pure are read alike.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from viz._errors import INSTALL_HINT, RendererNotFoundError, RenderError
from viz._render import find_renderers

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)
_G = f"{{{SVG}}}g"
_TITLE = f"{{{SVG}}}title"
MAX_EDGE_REFS = 200  # a merged edge between two big boxes lists at most this many uses
TIMEOUT = 120  # seconds one layout may take

_ID_NODE = re.compile(r"node-(\d+)")  # the views' ids: a node drawn as itself
_ID_BOX = re.compile(r"box-(\d+)")  # a box standing for several nodes (a cell: its h)
_ID_COPY = re.compile(r"copy-(\d+)-(\d+)-(\d+)")  # the copy W^(t) of weight p used by dst
# cells of a grid row's weights (Graphviz writes a table cell's ID as "a_<ID>" on its group)
_ANCHOR_PARAM = re.compile(r"a_param-(\d+)-.*")
_ANCHOR_USE = re.compile(r"a_use-(\d+)-(\d+)-(\d+)")
_DOT_NODE = re.compile(r"n(\d+)")  # the gate-level pictures' DOT names: n<id>
_DOT_COPY = re.compile(r"n(\d+)_(\d+)_(\d+)|n(\d+)_([a-z]\w*)")  # copies n<p>_<dst>_<arg>
_STEP = re.compile(r"cluster_(?:step|steps)_(m?\d+)(?:_|$)")
_TIP_ID = re.compile(r"\bn(\d+)\b")  # "n4 (input)" in a tooltip
_TIP = f"{{{XLINK}}}title"
_HREF = f"{{{XLINK}}}href"


def node_ref(svg_id: str | None, name: str) -> tuple | None:
    """What one drawn node (or a weight's table cell) stands for, from its SVG ``id`` and its
    DOT name (the ``<title>``).

    The one place that knows how the views name their nodes. Returns ``("node", i)``, ``("box",
    key)`` (a collapsed box: ``key`` is looked up in the drawing's member map, by SVG id first,
    then by DOT name), ``("copy", p, dst, arg)`` (the copy W⁽ᵗ⁾ of weight p used by node dst as
    input arg, or the strip cell of that use), ``("copy", p, name)`` (the copies used inside
    the box ``name``) or ``("other", name)`` (a delay marker, a legend, a summary note)."""
    sid = svg_id or ""
    for pattern, kind in ((_ID_NODE, "node"), (_ANCHOR_PARAM, "node"), (_ID_BOX, "box")):
        m = pattern.fullmatch(sid)
        if m:
            return (kind, int(m.group(1))) if kind == "node" else (kind, sid)
    m = _ID_COPY.fullmatch(sid) or _ANCHOR_USE.fullmatch(sid)
    if m:
        return ("copy", *map(int, m.groups()))
    m = _DOT_NODE.fullmatch(name)
    if m:
        return ("node", int(m.group(1)))
    m = _DOT_COPY.fullmatch(name)
    if m and m.group(1):
        return ("copy", int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m:
        return ("copy", int(m.group(4)), m.group(5))
    return ("other", name)


@dataclass
class Drawing:
    """One picture to tag: its DOT ``source``; ``ids[k]`` = the graph node id of node k of the
    graph it was drawn from (a sub-graph's nodes are renumbered, or None: the same numbers);
    ``boxes``: DOT name (or SVG id) -> (page box key, the node it stands for, member ids), all
    in graph node ids."""

    source: str
    ids: list | None = None
    boxes: dict | None = None
    svg: str = ""
    error: str = ""  # what went wrong laying it out (and, with an svg, what it lacks)


def render_all(drawings: list, who: str = "viz.inspect") -> None:
    """Lay out every drawing with the first renderer found, two processes at a time, one
    process per drawing.
    (Graphviz reads several graphs from one input, but dot 2.43 then lays a graph out
    differently after another one, and was seen to crash after a backward view.)"""
    if not find_renderers():
        raise RendererNotFoundError(f"{who}: the page is laid out by Graphviz, and no renderer "
                                    f"was found; {INSTALL_HINT}.")
    order = sorted(drawings, key=lambda dr: -len(dr.source))  # the longest first
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(_render_one, order))


def _render_one(dr: Drawing) -> None:
    """One drawing. A renderer that reports an error but still writes the picture (Graphviz
    2.43 ``dot`` could not route an edge of the old gate-level pictures: "lost edge") leaves
    the picture in ``dr.svg`` and what went wrong in ``dr.error``; the page keeps it with a
    note. (The views of the zoo, ``viz.zoo``, lay out without a message in dot 2.43.)"""
    dr.svg, dr.error = _layout(find_renderers()[0], dr.source)


def _layout(exe: str, source: str) -> tuple:
    """(svg or "", error or ""): the renderer's picture, even when it reported errors."""
    try:
        proc = subprocess.run([exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return "", f"{Path(exe).name} took more than {TIMEOUT} s"
    except OSError as exc:
        raise RenderError(f"viz.inspect: cannot run {exe!r}: {exc}") from exc
    out = proc.stdout.decode("utf-8", "replace")
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    err = next((x for x in reversed(lines) if x.startswith("Error")), lines[-1] if lines else "")
    if proc.returncode == 0:
        return out, ""
    return (out if out.rstrip().endswith("</svg>") else ""), err[:200] or f"exit {proc.returncode}"


def tag_svg(dr: Drawing, gi, edge_index: dict) -> str:
    """The SVG of ``dr`` with the ``data-*`` attributes above; returns the SVG text."""
    root = ET.fromstring(dr.svg.encode("utf-8"))
    nodes, edges = [], []
    for g in root.iter(_G):
        title = g.find(_TITLE)
        name = title.text or "" if title is not None else ""
        cls = g.get("class", "")
        if cls == "node":
            nodes.append((g, name))
        elif not cls and (g.get("id") or "").startswith("a_"):
            _tag_cell(g, dr, gi, edge_index)
        elif cls == "edge":
            edges.append((g, name))
        elif cls == "cluster" and _STEP.match(name):
            g.set("data-step", _STEP.match(name).group(1).replace("m", "-"))
    sets = _tag_nodes(nodes, dr, gi, edge_index, _delay_sources(edges))
    for g, name in edges:
        src, _, dst = name.partition("->")
        a, b = sets.get(src), sets.get(dst)
        refs = _edge_refs(gi, a, b, edge_index) if a and b else []
        if refs:
            g.set("data-edge", " ".join(map(str, refs)))
    if dr.ids is not None:  # tooltips of a sub-graph's picture name its own numbers
        for el in root.iter():
            if el.get(_TIP):
                el.set(_TIP, _TIP_ID.sub(lambda m: f"n{dr.ids[int(m.group(1))]}"
                                         if int(m.group(1)) < len(dr.ids) else m.group(),
                                         el.get(_TIP)))
    _strip(root)
    return ET.tostring(root, encoding="unicode")


def _tag_nodes(nodes: list, dr: Drawing, gi, edge_index: dict, delays: dict) -> dict:
    """Tag every node element; returns DOT name -> (member ids, the use a copy stands for).
    A delay marker stands for the value it delays (its source's node); what stands for no
    graph node (a legend, a note) gets ``data-helper`` = its DOT name instead."""
    sets = {}
    for g, name in nodes:
        sets[name] = _tag_node(g, name, dr)
        use = sets[name][1] if sets[name] else None
        if g.get("data-copy") and use is not None and not isinstance(use[0], set):
            p = next(iter(sets[name][0]))  # one use of weight p: say which edge it is
            refs = [edge_index[id(e)] for e in gi.ins[use[0]] if e["src"] == p
                    and e.get("arg", 0) == use[1]]
            g.set("data-edge", " ".join(map(str, refs)))
    ids = {name: g.get("data-node-id") for g, name in nodes}
    for g, name in nodes:
        if name in delays and ids.get(delays[name]):
            g.set("data-node-id", ids[delays[name]])
            g.set("data-delay", "1")
            sets[name] = sets.get(delays[name])
        elif not g.get("data-node-id"):
            g.set("data-helper", name)
    return sets


def _tag_node(g, name: str, dr: Drawing):
    """Set the data attributes of one node element; returns (member ids, use or None)."""
    ref = node_ref(g.get("id"), name)
    ids = dr.ids
    boxes = dr.boxes or {}
    box = boxes.get(g.get("id")) or boxes.get(name)
    if box is not None:
        key, rep, members = box
        g.set("data-node-id", str(rep))
        if key is not None:  # None: a single node under another name (folded view)
            g.set("data-box", key)
        return set(members), None
    if ref[0] == "node":
        i = ref[1] if ids is None else ids[ref[1]]
        g.set("data-node-id", str(i))
        return {i}, None
    if ref[0] == "copy":
        p = ref[1] if ids is None else ids[ref[1]]
        g.set("data-node-id", str(p))
        g.set("data-copy", "1")
        if len(ref) == 4:  # one use: node dst, input arg
            dst = ref[2] if ids is None else ids[ref[2]]
            return {p}, (dst, ref[3])
        inner = boxes.get(ref[2])
        return {p}, (set(inner[2]) if inner else {_plain(ref[2], ids)}, None)
    return None


def _tag_cell(g, dr: Drawing, gi, edge_index: dict) -> None:
    """A weight's table cell in a grid row's header: the weight, or one of its uses."""
    ref = node_ref(g.get("id"), "")
    if ref[0] not in ("node", "copy"):
        return
    ids = dr.ids
    p = ref[1] if ids is None else ids[ref[1]]
    g.set("data-node-id", str(p))
    if ref[0] == "copy":
        dst = ref[2] if ids is None else ids[ref[2]]
        g.set("data-copy", "1")
        g.set("data-edge", " ".join(str(edge_index[id(e)]) for e in gi.ins[dst]
                                    if e["src"] == p and e.get("arg", 0) == ref[3]))


def _plain(name: str, ids) -> int | None:
    m = _DOT_NODE.fullmatch(name)
    if not m:
        return None
    return int(m.group(1)) if ids is None else ids[int(m.group(1))]


def _delay_sources(edges: list) -> dict:
    """Delay marker name -> the DOT name of the node it delays (the folded views draw
    ``src -> d<k> -> consumers``, or ``delay<k>`` for a grid row, the marker standing for src's
    previous-step value)."""
    out = {}
    for _, name in edges:
        src, _, dst = name.partition("->")
        if re.fullmatch(r"d\d+|delay\d+", dst):
            out[dst] = src
    return out


def _edge_refs(gi, a, b, edge_index: dict) -> list:
    """Indices of the graph edges a drawn edge from ``a`` to ``b`` stands for."""
    srcs, use = a
    dsts, b_use = b
    use = use or b_use  # a copy node stands for one use (dst, arg) or for uses into a box
    if use is not None and not isinstance(use[0], set):
        dst, arg = use
        return [edge_index[id(e)] for e in gi.ins[dst] if e["src"] in srcs
                and e.get("arg", 0) == arg]
    if use is not None:
        dsts = use[0]
    refs = []
    for d in sorted(dsts):
        refs += [edge_index[id(e)] for e in gi.ins[d] if e["src"] in srcs]
        if len(refs) >= MAX_EDGE_REFS:
            break
    return refs[:MAX_EDGE_REFS]


def _strip(root) -> None:
    """Remove ids and titles (they would clash between views and inspectors), links, and the
    fixed size: the page sets the viewBox itself."""
    for el in root.iter():
        el.attrib.pop("id", None)
        el.attrib.pop(_HREF, None)  # a table cell's link to "#": the page handles the click
        for t in el.findall(_TITLE):
            el.remove(t)
    for key in ("width", "height"):
        root.attrib.pop(key, None)
