"""The tour's static page: one section per concept (text, pictures, numbers), no external assets.

Every dynamic string (numbers, captions) is HTML-escaped; the explanatory text is ours and may
carry a few inline tags (<i>, <code>, <b>, <sup>, <sub>). Pictures show at one pixel per point of
their SVG size (14 pt text at 14 px), a wide one scrolling sideways in its figure; each drawn
graph links its inspector page. A small inline script counts images that failed to load, and
those drawn smaller than that, and writes the counts to ``<body data-broken-images=...
data-shrunk-images=...>``, so a headless browser can check the page without a screenshot diff.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2430;
background:#fafafa}
header{background:#1d3557;color:#fff;padding:24px 40px}
header h1{margin:0 0 6px 0;font-size:26px}
header p{margin:0;opacity:.85}
nav{padding:12px 40px;background:#e9eef5;font-size:14px}
nav a{margin-right:14px;color:#1d3557;white-space:nowrap}
main{padding:8px 40px 40px 40px}
section>p,.eq{max-width:1100px}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;margin:22px 0;
padding:6px 24px 18px 24px}
h2{color:#1d3557;margin-bottom:2px}
.seeds{color:#667;font-size:13px;margin-top:0}
.eq{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f3f5f8;padding:6px 10px;
border-radius:4px;display:block;white-space:pre-wrap;margin:8px 0}
figure{display:inline-block;vertical-align:top;margin:10px 18px 10px 0;max-width:100%;
overflow-x:auto}
figure img{max-width:none;height:auto;border:1px solid #e3e6ea;background:#fff}
figcaption{font-size:13px;color:#445;max-width:640px}
table.nums{border-collapse:collapse;margin:10px 0;font-size:14px}
table.nums td{border-bottom:1px solid #e3e6ea;padding:3px 14px 3px 0}
table.nums td.v{font-family:ui-monospace,Menlo,Consolas,monospace;text-align:right}
.api{font-size:13px;color:#445}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
footer{color:#667;font-size:13px;padding:0 40px 30px 40px}
"""

# Counts images that did not load (after every image settled), and those drawn smaller than
# their size (text would shrink below legible), for headless checks.
_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, broken = 0, shrunk = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) { broken++; }
    var w = +imgs[i].getAttribute('width');
    if (w && imgs[i].getBoundingClientRect().width < w - 1) { shrunk++; }
  }
  document.body.setAttribute('data-broken-images', String(broken));
  document.body.setAttribute('data-shrunk-images', String(shrunk));
  document.body.setAttribute('data-images', String(imgs.length));
});
"""


@dataclass
class Chapter:
    """One concept of the course: what the page shows for it."""

    key: str  # file-name prefix and anchor, e.g. "bptt"
    title: str
    seeds: str  # where the concept is in the lecture notes
    text: list = field(default_factory=list)  # paragraphs (trusted HTML, ours)
    figures: list = field(default_factory=list)  # (relative path, caption[, inspector page])
    numbers: list = field(default_factory=list)  # (label, value) -> a two-column table
    api: str = ""  # the library calls that did it
    seconds: float = 0.0

    def say(self, *paragraphs: str) -> None:
        self.text.extend(paragraphs)

    def number(self, label: str, value) -> None:
        self.numbers.append((label, _fmt(value)))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if (value == 0 or 1e-3 <= abs(value) < 1e4) else f"{value:.2e}"
    return str(value)


def _figure(folder: str, path: str, caption: str, page: str | None = None) -> str:
    """A picture (linked to itself) with its caption, and a link to its inspector page."""
    src = html.escape(path, quote=True)
    cap = html.escape(caption)
    if page is not None:
        cap += (f' &middot; <a class="inspect" href="{html.escape(page, quote=True)}">'
                "open in the inspector</a>")
    if not path.endswith((".svg", ".png")):  # a page, a worksheet, or (no renderer) a .dot
        note = " (install Graphviz to see the picture)" if path.endswith(".dot") else ""
        return (f'<figure><a href="{src}">{html.escape(path)}</a>'
                f"<figcaption>{cap}{note}</figcaption></figure>")
    size = _size(os.path.join(folder, path))
    return (f'<figure><a href="{src}"><img src="{src}"{size} '
            f'alt="{html.escape(caption, quote=True)}"></a><figcaption>{cap}</figcaption>'
            "</figure>")


_SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="([\d.]+)(pt|px)?"[^>]*?\sheight="([\d.]+)(pt|px)?"')
PX_PER_PT = 1.0  # pictures at 3/4 of their natural size (1.33 px per pt): 14 pt text at 14 px


def _size(path: str) -> str:
    """`` width=.. height=..`` for an SVG picture: its size in pt, one pixel per point, so its
    text stays legible whatever its size (a wide one scrolls sideways in its figure)."""
    try:
        with open(path, encoding="utf-8") as f:
            m = _SVG_SIZE.search(f.read(4000))
    except (OSError, UnicodeDecodeError):
        return ""
    if not m:
        return ""
    # a length without a unit, or in px, is a CSS pixel: 0.75 pt
    w, h = (float(m.group(k)) * PX_PER_PT * (1 if m.group(k + 1) == "pt" else 0.75)
            for k in (1, 3))
    return f' width="{round(w)}" height="{round(h)}"'


def _section(n: int, ch: Chapter, folder: str) -> str:
    parts = [f'<section id="{ch.key}"><h2>{n}. {html.escape(ch.title)}</h2>',
             f'<p class="seeds">{html.escape(ch.seeds)} &middot; built in {ch.seconds:.1f} s</p>']
    parts += [p if p.startswith("<") else f"<p>{p}</p>" for p in ch.text]
    if ch.numbers:
        rows = "".join(f'<tr><td>{html.escape(k)}</td><td class="v">{html.escape(v)}</td></tr>'
                       for k, v in ch.numbers)
        parts.append(f'<table class="nums">{rows}</table>')
    parts += [_figure(folder, *f) for f in ch.figures]
    if ch.api:
        parts.append(f'<p class="api">Library calls: <code>{html.escape(ch.api)}</code></p>')
    parts.append("</section>")
    return "\n".join(parts)


def write_page(folder: str, chapters: list, subtitle: str, footer: str) -> str:
    """Write ``folder/index.html`` for ``chapters`` (in order); returns its path."""
    nav = " ".join(f'<a href="#{c.key}">{n}. {html.escape(c.title)}</a>'
                   for n, c in enumerate(chapters, 1))
    body = "\n".join(_section(n, c, folder) for n, c in enumerate(chapters, 1))
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>tinygrad_rnn: a tour of recurrent and recursive nets</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}'
        "</style></head>\n<body>\n<header><h1>A tour of recurrent and recursive networks"
        f"</h1><p>{html.escape(subtitle)}</p></header>\n<nav>{nav}</nav>\n<main>\n{body}\n"
        f"</main>\n<footer>{html.escape(footer)}</footer>\n<script>{_SCRIPT}</script>\n"
        "</body></html>\n")
    path = os.path.join(folder, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
