"""Reading a saved ``tr.Graph`` safely: whatever the bytes (huge, truncated, not UTF-8, nested
deeper than the JSON reader can follow, from a newer version, fields of the wrong type), the only
error is a ``GraphFormatError`` that names the source and the problem.

``viz`` reads graph files with these functions too (passing its own error class), so a file is
judged the same way wherever it is opened.
"""

from __future__ import annotations

import json
import math
import os
from itertools import chain
from operator import itemgetter, methodcaller

from tinygrad_rnn.errors import GraphFormatError

MAX_GRAPH_BYTES = 512 * 2**20  # a 4,000-node LSTM graph is ~10 MB; past this, refuse up front
NODE_KINDS = ("op", "param", "input", "cut", "state")
EDGE_KINDS = ("data", "cut")
SUMMARY_NUMBERS = ("min", "max", "mean", "norm")


def read_graph_file(path, *, max_bytes: int | None = None, func: str = "Graph.from_file",
                    error=GraphFormatError) -> dict:
    """The dict in the JSON file at ``path``; files over ``max_bytes`` (default
    :data:`MAX_GRAPH_BYTES`) are refused before anything is read."""
    limit = _limit(max_bytes, func, error)
    if not isinstance(path, (str, os.PathLike)):
        raise error(f"{func}: argument 'path' must be a file path; got {type(path).__name__}")
    where = f"{func}: graph file {os.fspath(path)!r}"
    try:
        size = os.stat(path).st_size
        if size > limit:
            raise error(f"{where} is {size:,} bytes, over the limit of {limit:,} bytes; pass "
                        "max_bytes=... to read it anyway")
        with open(path, "rb") as f:
            data = f.read(limit + 1)  # a pipe or device reports no size: cap the read too
    except OSError as exc:
        raise error(f"{func}: cannot read graph file {os.fspath(path)!r}: "
                    f"{exc.strerror or exc}") from None
    return parse_graph_json(data, source=where, max_bytes=limit, error=error)


def parse_graph_json(data, *, source: str = "Graph.from_json: the graph JSON",
                     max_bytes: int | None = None, error=GraphFormatError) -> dict:
    """The dict in ``data`` (JSON as ``str`` or UTF-8 ``bytes``), with its ``schema`` checked.

    ``source`` starts every message (it names the function and the file)."""
    limit = _limit(max_bytes, source, error)
    if not isinstance(data, (str, bytes, bytearray)):
        raise error(f"{source}: expected JSON text (str or bytes); got {type(data).__name__}")
    if len(data) > limit:
        raise error(f"{source} is over the limit of {limit:,} bytes; pass max_bytes=... to read "
                    "it anyway")
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8-sig")  # strict: a bad byte is an error, not U+FFFD
        except UnicodeDecodeError as exc:
            raise error(f"{source} is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at "
                        f"offset {exc.start} ({exc.reason})") from None
    try:
        d = json.loads(data)
    except json.JSONDecodeError as exc:
        end = " (the text ends early: is the file truncated?)" if exc.pos >= len(data) else ""
        raise error(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column "
                    f"{exc.colno}{end}") from None
    except RecursionError:  # the C decoder recurses once per nesting level
        raise error(f"{source} is nested too deeply to read (more levels than the Python "
                    "recursion limit); a saved graph is at most a few levels deep") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise error(f"{source} holds a value JSON cannot turn into a number: {exc}") from None
    if not isinstance(d, dict):
        raise error(f"{source}: expected a JSON object with 'nodes' and 'edges'; got a JSON "
                    f"{type(d).__name__}")
    return d


def check_schema(d: dict, newest: int, source: str, error=GraphFormatError) -> None:
    """A graph written by a newer version (schema > ``newest``) is refused by name; a graph
    without a schema is from before it was recorded (version 1)."""
    v = d.get("schema", 1)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise error(f"{source}: 'schema' must be a positive integer; got {_short(v)}")
    if v > newest:
        raise error(f"{source} was written by a newer version of tinygrad_rnn (graph schema "
                    f"{v}; this version reads schema {newest} and older): upgrade tinygrad_rnn "
                    "to read it")


def check_fields(d: dict, source: str, *, required: bool = True,
                 error=GraphFormatError) -> None:
    """Every field of every node and edge has the type a reader relies on; the message names
    the field and the node (edge) index. ``required=False``: only the known fields present are
    checked (``viz`` draws hand-written dicts that give just ids and edges, and ignores fields it
    does not read); ``True``: every required field is there and none is unknown (the core
    builds dataclasses from them)."""
    for key in ("nodes", "edges"):
        if not isinstance(d.get(key), list):
            raise error(f"{source}: {key!r} must be a list; got {type(d.get(key)).__name__}")
    for key in ("roots", "order"):
        v = d.get(key)
        if v is not None and not (isinstance(v, list) and (set(map(type, v)) <= {int}
                                                            or all(_is_int(x) for x in v))):
            raise error(f"{source}: {key!r} must be a list of node ids; got {_short(v)}")
    for what, fields in (("node", _NODE_FIELDS), ("edge", _EDGE_FIELDS)):
        records = d[what + "s"]
        if _all_fine(records, fields, required):
            continue  # the common case, checked column by column at C speed
        for i, rec in enumerate(records):  # find the first bad record and say what is wrong
            where = f"{source}: {what} {i}"
            if not isinstance(rec, dict):
                raise error(f"{where} must be an object; got {type(rec).__name__}")
            _check_record(rec, fields, where, required, error)


def _all_fine(records: list, fields: dict, required: bool) -> bool:
    """True when every record certainly passes: exact JSON types, column by column. False
    means "look closer" (a numpy int or a bool may still be acceptable)."""
    if not set(map(type, records)) <= {dict}:
        return False
    keys = set().union(*map(dict.keys, records)) if records else set()
    if required and not keys <= fields.keys():
        return False
    for key, (types, check, needed) in fields.items():
        try:  # map/itemgetter/filter: no Python frame per record
            column = list(map(itemgetter(key), records))
            present = list(filter(None, column))  # None, {} and [] have nothing to check
        except KeyError:
            column = [r.get(key, _ABSENT) for r in records]
            present = [v for v in column if v is not _ABSENT and v]
        # viz (not required) reads a null object field (meta, value, ...) as an empty one
        allowed = set(types) | ({_Absent} if not (required and needed) else set()) \
            | ({type(None)} if not required and dict in types else set())
        if not set(map(type, column)) <= allowed:
            return False
        if check is _shape and not _shapes_fine(present):
            return False
        if check is _summary and not _summaries_fine(present):
            return False
        if check is not None and check not in (_shape, _summary) \
                and any(check(v) for v in set(present)):
            return False  # kinds and args: few distinct values
    return True


def _shapes_fine(shapes: list) -> bool:
    sizes = list(chain.from_iterable(shapes))
    return set(map(type, sizes)) <= {int} and min(sizes, default=0) >= 0 \
        and max(map(len, shapes), default=0) <= 64


def _summaries_fine(summaries: list) -> bool:
    nums = list(chain.from_iterable(map(methodcaller("get", k), summaries)
                                    for k in SUMMARY_NUMBERS))
    shapes = [s["shape"] for s in summaries if "shape" in s]
    values = [s["values"] for s in summaries if s.get("values") is not None]
    return set(map(type, nums)) <= {int, float, type(None)} \
        and set(map(type, shapes)) <= {list} and _shapes_fine(shapes) \
        and set(map(type, values)) <= {list} \
        and set(map(type, chain.from_iterable(values))) <= _NUMBER_TYPES


def _check_record(rec: dict, fields: dict, where: str, required: bool, error) -> None:
    for key, value in rec.items():
        spec = fields.get(key)
        if not required and (spec is None or (value is None and dict in spec[0])):
            continue  # a reader that takes what it knows (viz) ignores the rest
        if spec is None:
            raise error(f"{where} has an unknown field {key!r}; expected some of "
                        f"{', '.join(fields)}")
        types, check, _ = spec
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            problem = _TYPE_TEXT[types]  # (True is an int to isinstance)
        else:
            problem = check(value) if check is not None else None
        if problem:
            raise error(f"{where}: field {key!r} must be {problem}; got {_short(value)}")
    if required:
        missing = [k for k, (_, _, needed) in fields.items() if needed and k not in rec]
        if missing:
            raise error(f"{where} lacks the field(s) {', '.join(map(repr, missing))}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numbers(values) -> bool:
    return all(_is_number(x) for x in values)


def _shape(v) -> str | None:
    ok = len(v) <= 64 and all(_is_int(x) and x >= 0 for x in v)
    return None if ok else "a list of sizes (non-negative integers)"


def _summary(v) -> str | None:
    """A value/grad summary: shape, min/max/mean/norm numbers, values a list of numbers."""
    if v is None:
        return None
    what = "an object with shape/min/max/mean/norm/values"  # other keys: not read
    shape, vals = v.get("shape"), v.get("values")
    if shape is not None and (not isinstance(shape, list) or _shape(shape)):
        return what + " (shape: a list of sizes)"
    if not _numbers(v[k] for k in SUMMARY_NUMBERS if v.get(k) is not None):
        return what + " (min/max/mean/norm: numbers)"
    if vals is not None and not (isinstance(vals, list) and _numbers(vals)):
        return what + " (values: a list of numbers)"
    return None


def _kind(options) -> callable:
    return lambda v: None if v in options else f"one of {', '.join(map(repr, options))}"


class _Absent:
    """Marks a field a record does not have (None is a value: a null field)."""


_ABSENT = _Absent()
_NUMBER_TYPES = {int, float}
_STR, _INT, _OPT_STR, _DICT, _OPT_DICT = (str,), (int,), (str, type(None)), (dict,), \
    (dict, type(None))
_TYPE_TEXT = {_STR: "a string", _INT: "an integer", _OPT_STR: "a string or null",
              _DICT: "an object", _OPT_DICT: "an object or null", (list,): "a list"}
# field -> (types, a further check returning a problem or None, required)
_NODE_FIELDS = {
    "id": (_INT, None, True), "kind": (_STR, _kind(NODE_KINDS), True),
    "op": (_OPT_STR, None, True), "name": (_OPT_STR, None, True),
    "shape": ((list,), _shape, True), "dtype": (_STR, None, True),
    "params": (_DICT, None, False), "meta": (_DICT, None, False),
    "value": (_DICT, _summary, False), "grad": (_OPT_DICT, _summary, False),
}
_EDGE_FIELDS = {
    "src": (_INT, None, True), "dst": (_INT, None, True),
    "arg": (_INT, lambda v: None if v >= 0 else "a non-negative integer", True),
    "kind": (_STR, _kind(EDGE_KINDS), False), "grad": (_OPT_DICT, _summary, False),
}


def _limit(max_bytes, func: str, error) -> int:
    if max_bytes is None:
        return MAX_GRAPH_BYTES
    if not _is_number(max_bytes) or not max_bytes > 0 or not math.isfinite(max_bytes):
        raise error(f"{func}: argument 'max_bytes' must be a positive number; got "
                    f"{_short(max_bytes)}")
    return int(max_bytes)


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
