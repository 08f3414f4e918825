"""One look for every view and both renderers: the font, the role colours and their legend,
math names in the seeds' notation (h⁽ᵗ⁾, W⁽ᵗ⁾, ∂L/∂h), and how wide a line of text is.

Font: Helvetica. Graphviz ``dot`` lays it out with fontconfig's match (Liberation Sans, whose
advance widths are Arial's and Helvetica's), graphviz-pure with its built-in Helvetica table,
and SVG viewers draw it with the same match. graphviz-pure knows the widths of ASCII only (it
counts any other character as a space), so boxes get a minimum width from :func:`text_width`,
which also knows the few other characters our labels use.
"""

from __future__ import annotations

from viz._dot import PALETTE, fmt, h

FONT = "Helvetica"
FONT_SIZE = 14  # every label; a picture's legibility is its width over this size
TITLE_SIZE = 16

# role -> (outline, fill): an outline says what a box is in every view; the fill is the role's
# pale tint, or the gradient colour in the gradient views
ROLES = {
    "input": ("#9a7b00", "#fff6d5"),
    "parameter": ("#2f6f9f", "#dbe9f6"),
    "state h": ("#2e7d32", "#e3f1e0"),
    "state c": ("#6a3d9a", "#eee5f6"),
    "gate": ("#b35900", "#fde9d4"),
    "op": ("#555555", "#f4f4f4"),
    "loss": ("#b10026", "#fbe0e3"),
}
CUT_COLOR = "#d00000"
# edges on the gradient scale: the node ramp's hues, dark enough to read as lines on white
EDGE_PALETTE = ("#d9c36a", "#e8a838", "#f08a2c", "#e8622a", "#d93a26", "#b8201e", "#8e1016",
                "#5c000c")

# Liberation Sans (= Arial, Helvetica) advance widths of ASCII 32..126, in 1/1000 em
_ASCII = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722,
    722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722,
    667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
    556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500,
    500, 334, 260, 334, 584)
# the other characters of our labels (Liberation Sans, else DejaVu Sans, the fallback font)
_OTHER = {"‖": 413, "∂": 494, "∇": 669, "⁽": 246, "⁾": 246, "⁰": 401, "¹": 333, "²": 333,
          "³": 333, "⁴": 430, "⁵": 415, "⁶": 412, "⁷": 362, "⁸": 422, "⁹": 428, "⁺": 528,
          "⁻": 528, "ᵗ": 220, "ⁱ": 179, "ⁿ": 365, "…": 1000, "×": 584, "Σ": 618, "≥": 549,
          "–": 556, "“": 333, "”": 333, "·": 333, "→": 1000, "←": 1000,
          **dict.fromkeys("▁▂▃▄▅▆▇█", 769)}
_WIDE = 1000  # anything else: an em, so a box is never too narrow

_SUP = dict(zip("0123456789+-()tin", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᵗⁱⁿ"))
_SUB = dict(zip("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Width in points of one line of ``text`` at ``size`` pt."""
    em = 0
    for ch in text:
        k = ord(ch) - 32
        em += _ASCII[k] if 0 <= k < len(_ASCII) else _OTHER.get(ch, _WIDE)
    return em * size / 1000


def box_width(lines, size: float = FONT_SIZE, pad: float = 16.0) -> str:
    """A node's minimum ``width`` (inches) that holds ``lines`` with ``pad`` points to spare."""
    widest = max((text_width(x, size) for x in lines), default=0.0)
    return f"{(widest + pad) / 72:.2f}"


def sup(t) -> str:
    """``⁽ᵗ⁾`` for a step ``t`` when every character has a superscript form, else ``^(t)``."""
    s = str(t)
    if s and all(c in _SUP for c in s):
        return "⁽" + "".join(_SUP[c] for c in s) + "⁾"
    return f"^({s})"


def sub(k) -> str:
    """Subscript digits (a layer index), or ``_k`` when ``k`` is not a small number."""
    s = str(k)
    return "".join(_SUB[c] for c in s) if s and all(c in _SUB for c in s) else f"_{s}"


def grad_text(name: str, norm) -> str:
    """``‖∂L/∂h‖ = 0.0123`` (3 significant digits)."""
    return f"\u2016\u2202L/\u2202{name}\u2016 = {fmt(norm)}"


def edge_style(scale, norm) -> dict:
    """Width and colour of an edge carrying a gradient of norm ``norm`` on ``scale``."""
    k = scale.bin(norm) if scale is not None else None
    if k is None:
        return {"color": "#9a9a9a", "penwidth": "1"}
    return {"color": EDGE_PALETTE[k], "penwidth": f"{1 + 4 * k / (len(EDGE_PALETTE) - 1):.2f}"}


def legend(roles, scale=None, cut: bool = False, edges: bool = False) -> str:
    """An HTML-like table: the outlines of the ``roles`` drawn, and with a ``scale`` its log
    bins of ‖∇‖ as fills (and, with ``edges``, as edge colours), each with its lower bound."""
    cells = "".join(
        f'<TD BORDER="2" COLOR="{ROLES[r][0]}" BGCOLOR="{ROLES[r][1]}">{h(r)}</TD>'
        for r in ROLES if r in roles)
    if cut:
        cells += f'<TD BORDER="2" COLOR="{CUT_COLOR}" STYLE="dashed">truncation cut</TD>'
    out = f"<TR><TD>{_inner(f'<TR>{cells}</TR>')}</TD></TR>"
    if scale is not None:
        out += f"<TR><TD>{_inner(_scale_rows(scale, edges))}</TD></TR>"
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="0">{out}</TABLE>>'


def _inner(rows: str) -> str:
    return f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="3" CELLPADDING="3">{rows}</TABLE>'


def _scale_rows(scale, edges: bool) -> str:
    fills = ['<TD BORDER="0">‖∇‖, log scale</TD>']
    lines = ['<TD BORDER="0">edges (wider: larger)</TD>']
    for k, lo in enumerate(scale.edges()[:-1] if scale.any else []):
        font = "white" if k >= len(PALETTE) - 3 else "black"
        fills.append(f'<TD BGCOLOR="{PALETTE[k]}"><FONT COLOR="{font}">≥{fmt(lo)}</FONT>'
                     "</TD>")
        lines.append(f'<TD BGCOLOR="{EDGE_PALETTE[k]}"></TD>')
    fills.append('<TD BGCOLOR="#ffffff">0</TD><TD BGCOLOR="#e8e8e8">no grad</TD>')
    out = f"<TR>{''.join(fills)}</TR>"
    if edges:
        out += f"<TR>{''.join(lines)}<TD BORDER=\"0\"></TD><TD BORDER=\"0\"></TD></TR>"
    return out
