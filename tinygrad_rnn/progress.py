"""Progress bars for long work (training loops, rendering many pictures), quiet unless a person
is watching a terminal.

A bar is shown when stderr is a terminal and neither pytest nor a CI system is running us; the
environment variable ``TINYGRAD_RNN_PROGRESS=1`` forces bars on, ``=0`` forces them off. Bars go
to stderr and vanish when done (``leave=False``), so the per-epoch summaries a script prints to
stdout stay the record of the run; print those with :func:`echo` so a live bar is not torn.

>>> from tinygrad_rnn.progress import progress
>>> for batch in progress(batches, desc="epoch 3", total=len(batches)):  # doctest: +SKIP
...     ...
"""

from __future__ import annotations

import os
import sys

from tinygrad_rnn.errors import ArgumentError, DTypeError

ENV = "TINYGRAD_RNN_PROGRESS"


def enabled() -> bool:
    """Whether :func:`progress` draws a bar now (see the module docstring for the rule)."""
    force = os.environ.get(ENV, "").strip().lower()
    if force in ("0", "false", "no", "off"):
        return False
    if force in ("1", "true", "yes", "on"):
        return _tqdm() is not None
    if "PYTEST_CURRENT_TEST" in os.environ or os.environ.get("CI"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) and _tqdm() is not None


def _tqdm():
    # tqdm is a dependency, but only imported when a bar is wanted: `import tinygrad_rnn` stays
    # light, and a bar is never worth a crash if it is missing from an odd environment.
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class _Quiet:
    """What :func:`progress` returns without an iterable when bars are off: the same methods a
    manual tqdm bar is driven by, counting in ``n`` and showing nothing."""

    n = 0

    def update(self, n=1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def progress(iterable=None, desc: str | None = None, total=None, unit: str = "it", **options):
    """A tqdm bar over ``iterable`` when :func:`enabled`, else ``iterable`` itself (no wrapper,
    no cost). Without an iterable, a manual bar (``update(n)``, ``set_postfix_str(s)``,
    ``close()``; a context manager) of ``total`` units, or an object that ignores those calls.

    ``options`` go to ``tqdm`` (e.g. ``bar_format``). Bars go to stderr and disappear when done.
    """
    _check(iterable, desc, total)
    if not enabled():
        return _Quiet() if iterable is None else iterable
    options.setdefault("leave", False)
    options.setdefault("dynamic_ncols", True)
    return _tqdm()(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, **options)


def _check(iterable, desc, total) -> None:
    # checked whether or not a bar is shown, so a mistake does not wait for a terminal to show
    if iterable is not None and not hasattr(iterable, "__iter__"):
        raise DTypeError(f"progress: argument 'iterable' must be iterable or None; got "
                         f"{type(iterable).__name__}")
    if desc is not None and not isinstance(desc, str):
        raise DTypeError(f"progress: argument 'desc' must be a string or None; got "
                         f"{type(desc).__name__}")
    ok = total is None or (isinstance(total, (int, float)) and not isinstance(total, bool)
                           and total >= 0 and total != float("inf"))
    if not ok:
        raise ArgumentError(f"progress: argument 'total' must be a number >= 0 or None; got "
                            f"{total!r}")


def echo(message: str) -> None:
    """Print ``message`` to stdout without tearing a live bar (tqdm clears and redraws it)."""
    tqdm = _tqdm() if "tqdm" in sys.modules else None  # no bar can be live if tqdm never loaded
    if tqdm is not None and getattr(tqdm, "_instances", None):
        tqdm.write(message, file=sys.stdout)
        sys.stdout.flush()
    else:
        print(message, flush=True)
