"""Reading any graph-like input into the plain dict form the views index (:mod:`graph_index`):
a ``tr.Graph``, its dict, a JSON path or string, or Tensor(s), traced. A saved file is read with
the core's checks; whatever is wrong raises ``GraphFormatError`` naming the file and the problem.
"""

from __future__ import annotations

import os

from tinygrad_rnn.graph import SCHEMA_VERSION
from tinygrad_rnn.graph_io import check_fields, check_schema, parse_graph_json, read_graph_file
from viz._errors import GraphFormatError


def load(obj, max_values: int = 16, *, max_bytes: int | None = None) -> dict:
    """Return the dict form of a ``tr.Graph``, its dict, a JSON path/string, or Tensor(s);
    tensors are traced keeping values for those of at most ``max_values`` elements.

    A JSON file or string is read with the core's checks (over ``max_bytes``, default 512 MB,
    truncated, not UTF-8, nested too deeply, a newer schema): each is a ``GraphFormatError``
    naming the file and the problem, as is a field of the wrong type (naming field and node).
    """
    source = "viz"
    if isinstance(obj, dict):
        d = obj
    elif callable(getattr(obj, "to_dict", None)):
        d = obj.to_dict()
    elif isinstance(obj, (str, os.PathLike, bytes)):
        d, source = _read_json(obj, max_bytes)
    else:
        d = _trace(obj, max_values)
    _validate(d, source)
    return d


def _read_json(src, max_bytes) -> tuple:
    """(the dict, the source that messages name: the file when there is one)."""
    if isinstance(src, bytes) or (isinstance(src, str) and src.lstrip().startswith("{")):
        source = "viz: the graph JSON"
        return parse_graph_json(src, source=source, max_bytes=max_bytes,
                                error=GraphFormatError), source
    d = read_graph_file(src, max_bytes=max_bytes, func="viz", error=GraphFormatError)
    return d, f"viz: graph file {os.fspath(src)!r}"


def _trace(obj, max_values: int) -> dict:
    import tinygrad_rnn as tr  # the core is needed here only to trace tensors

    items = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    if items and all(isinstance(t, tr.Tensor) for t in items):
        return tr.trace(*items, max_values=max_values).to_dict()
    raise GraphFormatError(
        "viz: expected a tr.Graph, its to_dict() form, a JSON path, or Tensor(s); got "
        f"{type(obj).__name__}")


def _validate(d, where: str = "viz") -> None:
    if not isinstance(d, dict) or not isinstance(d.get("nodes"), list) or not isinstance(
            d.get("edges"), list):
        raise GraphFormatError(f"{where}: expected a dict with lists 'nodes' and 'edges' (the "
                               "output of Graph.to_dict())")
    # the fields the views read, typed as the core writes them (only those present: a
    # hand-written dict may give just ids and edges)
    check_schema(d, SCHEMA_VERSION, where, error=GraphFormatError)
    check_fields(d, where, required=False, error=GraphFormatError)
    n = len(d["nodes"])
    for i, nd in enumerate(d["nodes"]):
        if not isinstance(nd, dict) or nd.get("id") != i:
            raise GraphFormatError(f"{where}: node #{i} must be a dict with id {i}; node ids are "
                                   "0..n-1 in order")
    for e in d["edges"]:
        s, t = (e.get("src"), e.get("dst")) if isinstance(e, dict) else (None, None)
        if not (isinstance(s, int) and isinstance(t, int) and 0 <= s < t < n):
            raise GraphFormatError(f"{where}: edge {s}->{t} must join two of the {n} nodes with "
                                   "src < dst (ids are topological)")
