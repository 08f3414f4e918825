"""How big the smallest text of an SVG is on a screen, in CSS pixels.

A browser sizes an SVG by its ``width``/``height`` (Graphviz writes points: 1 pt = 96/72 px),
maps the ``viewBox`` onto that box, and applies every ``transform`` above a ``<text>``. Shown
whole on a ``screen`` (1600 x 1200 by default) and never enlarged, the picture is scaled by
``min(1, 1600 / width_px, 1200 / height_px)``; the smallest text is then the smallest
``font-size`` times all of those factors.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
UNITS = {"pt": 96 / 72, "px": 1.0, "": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}


def length_px(value: str) -> float:
    """A CSS length such as ``"3881pt"`` in px."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([a-z]*)\s*", value)
    if m is None or m.group(2) not in UNITS:
        raise ValueError(f"length_px: cannot read the SVG length {value!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def transform_scale(transform: str | None) -> float:
    """The factor by which ``transform`` scales lengths (the x factor of each ``scale()``)."""
    out = 1.0
    for args in re.findall(r"scale\(([^)]*)\)", transform or ""):
        out *= float(re.split(r"[\s,]+", args.strip())[0])
    return out


def text_sizes(path) -> dict:
    """``{"width_px", "height_px", "fit", "sizes"}``: the SVG's size, the fit-to-screen factor
    for a 1600 x 1200 screen, and the font size in px of every ``<text>`` at 100 %."""
    root = ET.parse(path).getroot()
    w, h = length_px(root.get("width")), length_px(root.get("height"))
    box = [float(v) for v in re.split(r"[\s,]+", (root.get("viewBox") or "").strip()) if v]
    unit = w / box[2] if len(box) == 4 and box[2] > 0 else 1.0  # px per user unit
    sizes = []
    stack = [(root, unit * transform_scale(root.get("transform")))]
    while stack:  # iterative: deep SVGs must not hit the recursion limit
        el, scale = stack.pop()
        if el.tag == f"{SVG}text" and el.get("font-size"):
            sizes.append(float(el.get("font-size")) * scale)
        for kid in el:
            stack.append((kid, scale * transform_scale(kid.get("transform"))))
    return {"width_px": w, "height_px": h, "fit": min(1.0, 1600 / w, 1200 / h), "sizes": sizes}


def smallest_text_px(path, screen=(1600, 1200)) -> float:
    """The smallest text of the SVG at ``path`` in px, when fitted to ``screen`` (never
    enlarged)."""
    info = text_sizes(path)
    fit = min(1.0, screen[0] / info["width_px"], screen[1] / info["height_px"])
    return min(info["sizes"], default=float("inf")) * fit
