"""One look for every view and both renderers: the font, the role colours and their legend,
math names in the seeds' notation (h⁽ᵗ⁾, W⁽ᵗ⁾, ∂L/∂h), and how wide a line of text is.

Font: DejaVu Sans. Graphviz ``dot`` measures it with the real font and graphviz-pure with its
built-in table of the same widths (within 2 %), and it has every glyph our labels use (∇, ⁽, ⁾).
It is also the widest common sans-serif: a viewer without it draws a narrower font, so text
never runs out of its box. ("Helvetica" was measured as DejaVu Sans by ``dot``, whose font
lookup falls back to sans-serif, but as Arial by graphviz-pure: 13 % narrower boxes.)
graphviz-pure knows the widths of ASCII only (any other character counts as a space), so boxes
and table cells get a minimum width from :func:`text_width`, which knows ours.
"""

from __future__ import annotations

from viz._dot import PALETTE, fmt, h

FONT = "DejaVu Sans"
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

# DejaVu Sans advance widths of ASCII 32..126, in 1/1000 em
_ASCII = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
    770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732,
    684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
    634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,
    525, 636, 337, 636, 838)
# the other characters of our labels
_OTHER = {"‖": 500, "∂": 517, "∇": 669, "⁽": 246, "⁾": 246, "ᵗ": 295, "ⁱ": 179, "ⁿ": 398,
          "⁺": 528, "⁻": 528, "…": 1000, "×": 838, "Σ": 632, "≥": 838, "–": 500, "“": 518,
          "”": 518, "·": 318, "→": 838, "←": 838, "⏎": 838,
          **dict.fromkeys("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉", 401), **dict.fromkeys("▁▂▃▄▅▆▇█", 769)}
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


def td(text: str, attrs: str = "", inner: str | None = None, size: float = FONT_SIZE) -> str:
    """An HTML-like table cell holding ``text`` (escaped; ``inner``: markup to use instead).
    A cell whose text is not all ASCII gets a minimum ``WIDTH``: graphviz-pure counts such
    characters as spaces and would draw the text past the cell."""
    width = "" if text.isascii() else f' WIDTH="{int(text_width(text, size)) + 8}"'
    return f"<TD{attrs}{width}>{inner if inner is not None else h(text)}</TD>"


def anchor(did: str, tip: str) -> str:
    """Attributes that make an HTML-like table cell an element of its own in SVG, with id
    ``a_<did>`` and tooltip ``tip``: dot 2.43 writes a cell's ID only for a cell with an HREF
    (graphviz-pure for any TOOLTIP too)."""
    return f' ID="{did}" HREF="#" TOOLTIP="{h(tip)}"'


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
    fills = [td("\u2016\u2207\u2016, log scale", ' BORDER="0"')]
    lines = [td("edges (wider: larger)", ' BORDER="0"')]
    for k, lo in enumerate(scale.edges()[:-1] if scale.any else []):
        font = "white" if k >= len(PALETTE) - 3 else "black"
        text = f"\u2265{fmt(lo)}"
        fills.append(td(text, f' BGCOLOR="{PALETTE[k]}"',
                        f'<FONT COLOR="{font}">{h(text)}</FONT>'))
        lines.append(f'<TD BGCOLOR="{EDGE_PALETTE[k]}"></TD>')
    fills.append('<TD BGCOLOR="#ffffff">0</TD><TD BGCOLOR="#e8e8e8">no grad</TD>')
    out = f"<TR>{''.join(fills)}</TR>"
    if edges:
        out += f"<TR>{''.join(lines)}<TD BORDER=\"0\"></TD><TD BORDER=\"0\"></TD></TR>"
    return out
