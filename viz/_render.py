"""Render DOT to SVG/PNG/PDF with a Graphviz executable: ``dot`` if on PATH, else graphviz-pure.

The renderer runs as a subprocess with an argument list (never through a shell) and a timeout;
DOT goes in on stdin, so the only file written is the one asked for. Without any renderer the
DOT source is written next to the requested path and the error (or warning) says how to install
one. PNG output is capped (``size``/``dpi``): an uncapped 2,000-node PNG can take gigabytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import graphviz

from viz._errors import INSTALL_HINT, OptionError, RendererNotFoundError, RenderError

FORMATS = ("svg", "png", "pdf")
PURE_FORMATS = ("svg", "png")  # what the graphviz-pure renderer can write
PNG_MAX_INCHES = 40
_warned_missing = False


def find_renderers() -> list:
    """Paths of the usable renderers, best first: Graphviz ``dot``, then ``graphviz-pure``
    (also looked for next to ``sys.executable``, for virtualenvs that are not activated)."""
    found = []
    for name in ("dot", "graphviz-pure"):
        path = shutil.which(name)
        if path is None:
            for cand in (name, name + ".exe"):
                p = Path(sys.executable).parent / cand
                if p.is_file() and os.access(p, os.X_OK):
                    path = str(p)
                    break
        if path is not None:
            found.append(path)
    return found


def render(obj, path, format: str | None = None, *, view: bool = False, renderer=None,
           timeout: float = 60.0, dpi: int | None = None, missing: str = "raise") -> Path:
    """Write the picture of ``obj`` to ``path`` and return the path written.

    ``obj``: a ``graphviz.Digraph`` (from :func:`viz.draw`) or anything ``viz.draw`` accepts
    (drawn with the unrolled view). ``format``: "svg", "png" or "pdf"; by default taken from the
    extension of ``path`` (svg when it has none). ``renderer``: a path to a dot-compatible
    executable (default: :func:`find_renderers`). ``view``: open the result afterwards.
    Without a renderer the ``.dot`` file is written and, with ``missing="raise"`` (default),
    :class:`RendererNotFoundError` is raised; ``missing="warn"`` warns once and returns the
    ``.dot`` path instead.
    """
    out, fmt = _target(path, format)
    if missing not in ("raise", "warn"):
        raise OptionError(f"viz.render: missing={missing!r}; expected 'raise' or 'warn'")
    if not isinstance(obj, graphviz.Digraph):
        from viz import draw  # a graph-like input: draw it first

        obj = draw(obj)
    exe = renderer if renderer is not None else next(iter(find_renderers()), None)
    if exe is None:
        return _no_renderer(obj, out, missing)
    if Path(exe).name.startswith("graphviz-pure") and fmt not in PURE_FORMATS:
        raise RenderError(f"viz.render: the graphviz-pure renderer cannot write {fmt!r}; use "
                          f"{' or '.join(PURE_FORMATS)}, or for {fmt}: {INSTALL_HINT}")
    cmd = [str(exe), f"-T{fmt}", "-o", str(out)] + quiet(exe) + _caps(obj, fmt, dpi)
    _run(cmd, obj.source, timeout)
    if view:
        _open(out)
    return out


def quiet(exe) -> list:
    """``["-q"]`` for graphviz-pure: its text measure has the widths of ASCII characters only
    and says so (once per run) for any other, such as the ‖ of ‖∇‖; the views give every box a
    minimum width that holds its text (:func:`viz._style.box_width`), so that notice says
    nothing the user must act on. ``-q`` silences warnings only: errors still fail the run.
    Graphviz ``dot`` measures with the real font and gets no flag."""
    return ["-q"] if Path(str(exe)).name.startswith("graphviz-pure") else []


def _target(path, format) -> tuple:
    out = Path(path)
    fmt = (format or out.suffix.lstrip(".") or "svg").lower()
    if fmt not in FORMATS:
        raise OptionError(f"viz.render: format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not out.suffix:
        out = out.with_suffix("." + fmt)
    return out, fmt


def _caps(dg: graphviz.Digraph, fmt: str, dpi) -> list:
    if fmt != "png":
        return []
    n = sum(1 for line in dg.body if "->" not in line and "[" in line)  # node statements
    dpi = dpi if dpi is not None else (96 if n <= 500 else 72)
    # size is an upper bound in inches (scaled down to fit, never up): at most 40 x 40 inches.
    return [f"-Gdpi={int(dpi)}", f"-Gsize={PNG_MAX_INCHES},{PNG_MAX_INCHES}"]


def _run(cmd: list, source: str, timeout: float) -> bytes:
    try:
        proc = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"viz.render: {Path(cmd[0]).name} took more than {timeout:g} s; draw "
                          "a smaller picture (keep_ends=..., collapse='cell', max_nodes=...) "
                          "or pass a larger timeout") from exc
    except OSError as exc:
        raise RenderError(f"viz.render: cannot run {cmd[0]!r}: {exc}") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise RenderError(f"viz.render: {Path(cmd[0]).name} failed with exit status "
                          f"{proc.returncode}: {err}")
    return proc.stdout


def _no_renderer(dg: graphviz.Digraph, out: Path, missing: str) -> Path:
    global _warned_missing
    dot_path = out.with_suffix(".dot")
    dot_path.write_text(dg.source, encoding="utf-8")
    msg = (f"viz.render: no Graphviz renderer found (neither `dot` nor `graphviz-pure`); wrote "
           f"the DOT source to {dot_path} instead. To render pictures, {INSTALL_HINT}.")
    if missing == "warn":
        if not _warned_missing:
            _warned_missing = True
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
        return dot_path
    raise RendererNotFoundError(msg)


def _open(path: Path) -> None:
    if sys.platform.startswith("win"):
        os.startfile(str(path))
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    exe = shutil.which(opener)
    if exe is None:
        warnings.warn(f"viz.render: cannot open {path}: no {opener!r} on PATH", stacklevel=3)
        return
    subprocess.Popen([exe, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pipe(source: str, format: str = "svg", *, renderer=None, timeout: float = 60.0) -> bytes:
    """Render DOT ``source`` and return the bytes (no file written)."""
    exe = renderer if renderer is not None else next(iter(find_renderers()), None)
    if exe is None:
        raise RendererNotFoundError(f"viz: no Graphviz renderer found to draw this picture; "
                                    f"{INSTALL_HINT}.")
    return _run([str(exe), f"-T{format}"] + quiet(exe), source, timeout)


class VizDigraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that displays in Jupyter through :func:`pipe`, so it also works
    with only the pip-installed graphviz-pure renderer (the graphviz package needs ``dot``)."""

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        mime = "image/svg+xml"
        if (include is not None and mime not in include) or (exclude and mime in exclude):
            return {}
        return {mime: pipe(self.source, "svg").decode("utf-8")}
