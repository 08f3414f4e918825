"""Recycled work buffers for the whole-sequence and whole-tree ops.

A fused op over a batch allocates a few large arrays per call (every step's gates, states, the
gradients flowing back): at B = 32, H = 256, T = 50 about 15 MB per forward. Fresh memory of
that size comes from the kernel page by page, and touching it the first time costs more than the
arithmetic that fills it (benchmarks/README.md, "workspace.py").

So the ops ask this module for their arrays, by a key naming the op and the array. A buffer is
handed out again only when nothing refers to it any more: not the tensor the op returned, not
the values saved for backward (the tape drops those after backward unless retain_graph=True),
not a view a user kept. CPython's reference count says exactly that: every NumPy view refers to
the buffer that owns the memory, so the buffer's count is back to the pool's own references
only when no array made from it is alive. Nothing is ever overwritten while readable.

Whether that count rule holds is checked once, at import, by a probe (:func:`_probe`); where it
does not, nothing is reused. At most :data:`KEEP` buffers per key are kept (a training loop
needs two: the previous step's graph is alive until the next forward has replaced ``loss``) and
at most :data:`MAX_BYTES` in all; :func:`clear` gives the memory back. Arrays under
:data:`MIN_BYTES` are not pooled.
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

KEEP = 2
MAX_BYTES = 512 * 2**20
#: Smaller arrays are plain ``np.empty``: malloc hands them out from memory it already holds
#: (below glibc's mmap threshold, 128 KiB), with no fresh pages to fault in, in ~0.4 us; the
#: pool's bookkeeping costs ~2.5 us a call (3-5 calls in every small RNN/LSTM training step).
MIN_BYTES = 64 * 2**10

_pool: dict = {}  # key -> list of 1-D uint8 buffers
_lock = threading.Lock()


def _refs(bufs: list, i: int) -> int:
    """The reference count of ``bufs[i]`` as this function sees it. Which number means "free"
    depends on the interpreter (CPython documents counts as unstable across versions: 3.14
    skips some increments), so :func:`_probe` calibrates it with this same function."""
    return sys.getrefcount(bufs[i])


def _probe() -> int | None:
    """The count :func:`_refs` gives a buffer that only the pool holds, if the rule "a view
    alive raises it, its death lowers it back" holds on this interpreter; else None (and no
    buffer is ever reused)."""
    bufs = [np.empty(8, np.uint8)]
    free = _refs(bufs, 0)
    view = bufs[0][:4].view(np.float32)
    held = _refs(bufs, 0)
    del view
    return free if held > free and _refs(bufs, 0) == free else None


_FREE = _probe()


def empty(key, shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype``, recycled from an earlier
    call with the same ``key`` when no array made from that buffer is still alive."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if _FREE is None or nbytes < MIN_BYTES:  # no count rule here: never reuse; or small
        return np.empty(shape, dtype)
    with _lock:
        bufs = _pool.setdefault(key, [])
        small = None
        for i in range(len(bufs)):
            if _refs(bufs, i) == _FREE:
                buf = bufs[i]
                if buf.nbytes >= nbytes:
                    return _view(buf, nbytes, shape, dtype)
                small = i
        buf = np.empty(max(nbytes, 1), np.uint8)
        if small is not None:  # a free buffer too small for this shape: replace it
            bufs[small] = buf
        elif len(bufs) < KEEP and _total() + buf.nbytes <= MAX_BYTES:
            bufs.append(buf)
        return _view(buf, nbytes, shape, dtype)


def buf(op: str, name: str, shape, dtype) -> np.ndarray:
    """:func:`empty` keyed by the op and the array's role in it (e.g. "lstm_seq", "gates")."""
    return empty((op, name), shape, dtype)


def zeros(key, shape, dtype) -> np.ndarray:
    """:func:`empty`, filled with zeros."""
    out = empty(key, shape, dtype)
    out.fill(0)
    return out


def _view(buf, nbytes, shape, dtype):
    return buf[:nbytes].view(dtype).reshape(shape)


def _total() -> int:
    return sum(b.nbytes for bufs in _pool.values() for b in bufs)


def clear() -> None:
    """Forget every pooled buffer (arrays still in use keep their memory until they die)."""
    with _lock:
        _pool.clear()


def pooled_bytes() -> int:
    """Bytes held by the pool, in use or free."""
    with _lock:
        return _total()
