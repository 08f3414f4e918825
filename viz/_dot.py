"""DOT building blocks shared by every view: safe text, number formats, the colour map.

Two kinds of label are used. Plain labels (escString) carry user text with backslashes doubled
(so ``\\N``, ``\\l`` in a name stay literal) and are marked ``nohtml`` (so a name like ``<b>``
is never taken for an HTML label); the graphviz package then quotes them. HTML-like labels
(legend, heat strips) escape ``& < > "`` themselves. Numbers use 3 significant digits so golden
files do not change with the last bits of a float.
"""

from __future__ import annotations

import html
import json
import math
import re

import graphviz

MAX_LABEL = 40
MAX_LINE = 64
MAX_TOOLTIP = 400
_CTRL = re.compile(r"[\x00-\x1f\x7f]")

# 8 bins, pale to dark (a yellow-orange-red ramp): readable in print and for most colour-blind
# readers because lightness changes monotonically.
PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
ZERO_COLOR = "#ffffff"
NONE_COLOR = "#e8e8e8"


def clean(s) -> str:
    """One line of text: control characters (newlines included) become visible marks."""
    s = s if isinstance(s, str) else json.dumps(s, sort_keys=True, ensure_ascii=False)
    return _CTRL.sub(lambda m: "\u23ce" if m.group() in "\r\n" else " ", s)


def short(s, n: int = MAX_LABEL) -> str:
    s = clean(s)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def esc(s) -> str:
    """Text for an escString attribute (label, tooltip): backslashes made literal, and ``&``
    written as ``&amp;`` because Graphviz decodes entities such as ``&lt;`` in plain labels."""
    return clean(s).replace("\\", "\\\\").replace("&", "&amp;")


def label(*lines) -> graphviz.quoting.NoHtml:
    """A plain multi-line label. The first line (a name) is shortened to ``MAX_LABEL``
    characters, the others (numbers, sparklines) to ``MAX_LINE``."""
    lines = [x for x in lines if x is not None and x != ""]
    return graphviz.nohtml("\\n".join(esc(short(x, MAX_LABEL if k == 0 else MAX_LINE))
                                       for k, x in enumerate(lines)))


def tooltip(*lines) -> graphviz.quoting.NoHtml:
    text = " | ".join(clean(x) for x in lines if x is not None and x != "")
    return graphviz.nohtml(esc(short(text, MAX_TOOLTIP)))


def h(s) -> str:
    """Text for an HTML-like label."""
    return html.escape(short(s), quote=True)


def fmt(x) -> str:
    """A float with 3 significant digits ('0' for +-0, 'nan', 'inf'), or '-' for None."""
    if x is None:
        return "-"
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.3g}"


def fmt_values(vals, max_n: int = 4) -> str:
    if len(vals) > max_n:
        return "[" + ", ".join(fmt(v) for v in vals[:max_n]) + ", \u2026]"
    return "[" + ", ".join(fmt(v) for v in vals) + "]"


def shape_str(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def sort_key(v):
    """Order mixed JSON values (steps may be ints or strings) without comparing types."""
    if v is None:
        return (0, 0, "")
    if isinstance(v, bool):
        return (1, int(v), "")
    if isinstance(v, (int, float)):
        return (1, v, "")
    return (2, 0, v if isinstance(v, str) else json.dumps(v, sort_keys=True))


def dot_id_part(v) -> str:
    """A fragment safe inside a DOT id (cluster names): ints as is, anything else hashed."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v) if v >= 0 else f"m{-v}"
    s = re.sub(r"[^A-Za-z0-9]", "_", clean(v))[:24]
    return f"{s}_{_stable_hash(v)}"


def _stable_hash(v) -> str:
    # Python's hash() is salted per process; a tiny FNV-1a keeps ids stable run to run.
    data = json.dumps(v, sort_keys=True, ensure_ascii=True).encode()
    acc = 2166136261
    for byte in data:
        acc = ((acc ^ byte) * 16777619) & 0xFFFFFFFF
    return f"{acc:08x}"


class LogScale:
    """Map gradient norms to ``PALETTE`` bins on a log10 scale spanning the positive norms."""

    def __init__(self, norms):
        pos = sorted(float(x) for x in norms if x is not None and x > 0 and math.isfinite(x))
        self.lo = math.log10(pos[0]) if pos else 0.0
        self.hi = math.log10(pos[-1]) if pos else 0.0
        self.n = len(PALETTE)
        self.any = bool(pos)  # False: no positive norm (backward not run, or all zero)

    def bin(self, x) -> int | None:
        if x is None or not math.isfinite(x) or x <= 0:
            return None
        if self.hi <= self.lo:
            return self.n - 1
        k = int((math.log10(x) - self.lo) / (self.hi - self.lo) * self.n)
        return min(max(k, 0), self.n - 1)

    def color(self, x) -> str:
        if x is None:
            return NONE_COLOR
        k = self.bin(x)
        return ZERO_COLOR if k is None else PALETTE[k]

    def font(self, x) -> str:
        k = self.bin(x)
        return "white" if k is not None and k >= self.n - 3 else "black"

    def edges(self) -> list:
        span = self.hi - self.lo
        return [10 ** (self.lo + span * k / self.n) for k in range(self.n + 1)]


def legend_html(scale: LogScale, title: str = "\u2016\u2207\u2016 (log scale)") -> str:
    """A one-row HTML table: the colour bins with their lower bounds, plus 0 and 'no grad'."""
    cells = [f'<TD BGCOLOR="{ZERO_COLOR}">0</TD>']
    for k, lo in enumerate(scale.edges()[:-1] if scale.any else []):
        color = PALETTE[k]
        font = "white" if k >= scale.n - 3 else "black"
        cells.append(f'<TD BGCOLOR="{color}"><FONT COLOR="{font}">\u2265{fmt(lo)}</FONT></TD>')
    cells.append(f'<TD BGCOLOR="{NONE_COLOR}">no grad</TD>')
    head = f'<TR><TD COLSPAN="{len(cells)}"><B>{h(title)}</B></TD></TR>'
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            f"{head}<TR>{''.join(cells)}</TR></TABLE>>")


def sparkline(vals) -> str:
    """Per-step norms as text: the numbers when few, else a block-character sparkline."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return ""
    if len(vals) <= 4:
        return " ".join(fmt(v) for v in vals)
    scale, lo, hi = LogScale(vals), min(vals), max(vals)
    bars = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
    if len(vals) > 20:  # keep labels short: sample 20 evenly spaced steps
        vals = [vals[round(i * (len(vals) - 1) / 19)] for i in range(20)]
    marks = "".join(" " if scale.bin(v) is None else bars[scale.bin(v)] for v in vals)
    return f"{marks} {fmt(lo)}\u2013{fmt(hi)}"
