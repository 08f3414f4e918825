"""The static page of :func:`viz.replay`: one frame at a time, Prev/Next buttons and arrow keys.

Plain HTML with a few lines of inline JavaScript and no external assets, so the folder can be
opened from disk, zipped or served as is. Without JavaScript a list of links to the frames
remains. The frame list is embedded as JSON; ``</`` is escaped so no caption can end the script.
"""

from __future__ import annotations

import html
import json

_STYLE = """body{font-family:sans-serif;margin:1em;max-width:1400px}
nav{margin:.5em 0}button{font-size:1em;margin-right:.3em}
#pos{display:inline-block;min-width:7em;text-align:center}
#cap{white-space:pre-wrap;font-family:monospace;background:#f6f6f6;padding:.6em;
border:1px solid #ddd}
#frame{max-width:100%;border:1px solid #ddd;margin-top:.5em}
.key span{display:inline-block;padding:0 .5em;margin-right:.3em;border:1px solid #999}"""

_SCRIPT = """(function () {
  var frames = JSON.parse(document.getElementById("frames").textContent);
  var img = document.getElementById("frame"), cap = document.getElementById("cap");
  var pos = document.getElementById("pos"), link = document.getElementById("link");
  var k = 0;
  function show(n) {
    k = Math.max(0, Math.min(frames.length - 1, n));
    var f = frames[k], isImage = /\\.(svg|png)$/.test(f.src);
    img.style.display = isImage ? "" : "none";
    if (isImage) { img.src = f.src; img.alt = "backward step " + (k + 1); }
    link.href = f.src; link.textContent = f.src;
    cap.textContent = f.caption;
    pos.textContent = (k + 1) + " / " + frames.length;
    if (history.replaceState) { history.replaceState(null, "", "#" + (k + 1)); }
  }
  document.getElementById("first").onclick = function () { show(0); };
  document.getElementById("prev").onclick = function () { show(k - 1); };
  document.getElementById("next").onclick = function () { show(k + 1); };
  document.getElementById("last").onclick = function () { show(frames.length - 1); };
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowLeft") { show(k - 1); e.preventDefault(); }
    else if (e.key === "ArrowRight" || e.key === " ") { show(k + 1); e.preventDefault(); }
    else if (e.key === "Home") { show(0); }
    else if (e.key === "End") { show(frames.length - 1); }
  });
  document.getElementById("js").style.display = "";
  document.getElementById("nojs").style.display = "none";
  show((parseInt(location.hash.slice(1), 10) || 1) - 1);
})();"""


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{t}</title>
<style>
{style}
</style>
</head>
<body>
<h1>{t}</h1>
<p>{steps} backward steps, in the order the tape visits the ops (reverse creation
order). Keys: &larr; / &rarr; step, Home / End jump.</p>
<p class="key">{legend}</p>
<div id="js" style="display:none">
<nav><button id="first">|&lt;</button><button id="prev">&lt; Prev</button>
<span id="pos"></span>
<button id="next">Next &gt;</button><button id="last">&gt;|</button>
<a id="link" href="{first}"></a></nav>
<pre id="cap"></pre>
<img id="frame" alt="">
</div>
<ol id="nojs">
{links}
</ol>
<script type="application/json" id="frames">{data}</script>
<script>
{script}
</script>
</body>
</html>
"""


def page(items: list, title: str, colors: dict, total: int) -> str:
    """The page for ``items``: dicts with ``src`` (a file name next to the page) and
    ``caption`` (plain text); ``colors``: legend name -> the fill it has in the frames;
    ``total``: the number of backward steps (more than the frames when they were capped)."""
    data = json.dumps(items, ensure_ascii=True, sort_keys=True).replace("</", "<\\/")
    t = html.escape(title)
    links = "\n".join(f'<li><a href="{html.escape(it["src"], quote=True)}">'
                      f'{html.escape(it["src"])}</a><pre>{html.escape(it["caption"])}</pre></li>'
                      for it in items)
    legend = "".join(f'<span style="background:{html.escape(c, quote=True)}">'
                     f'{html.escape(n)}</span>' for n, c in colors.items())
    first = html.escape(items[0]["src"], quote=True) if items else ""
    steps = str(total) if total == len(items) else f"The first {len(items)} of {total}"
    return _PAGE.format(t=t, style=_STYLE, steps=steps, legend=legend, first=first,
                        links=links, data=data, script=_SCRIPT)
