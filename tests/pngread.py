"""A minimal PNG reader for tests (8-bit greyscale/RGB/RGBA, not interlaced): enough to check that
a headless browser's screenshot is not blank without adding an imaging dependency."""

from __future__ import annotations

import struct
import zlib

import numba
import numpy as np

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


@numba.njit(cache=False)
def _unfilter(raw, height, stride, bpp):
    """Undo PNG's per-row filters (0 none, 1 sub, 2 up, 3 average, 4 Paeth); jitted because
    sub/average/Paeth depend on the byte just decoded, which no NumPy expression vectorises."""
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    cur = np.zeros(stride, dtype=np.int64)
    pos = 0
    for y in range(height):
        kind = raw[pos]
        for i in range(stride):
            x = np.int64(raw[pos + 1 + i])
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                x += a
            elif kind == 2:
                x += b
            elif kind == 3:
                x += (a + b) // 2
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                x += a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[i] = x & 255
        for i in range(stride):
            out[y, i] = cur[i]
            prev[i] = cur[i]
        pos += stride + 1
    return out


def read_png(path: str) -> np.ndarray:
    """(height, width, channels) uint8 pixels of an 8-bit, non-interlaced PNG."""
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(blob):
        (length,), kind = struct.unpack(">I", blob[pos:pos + 4]), blob[pos + 4:pos + 8]
        body = blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in _CHANNELS, f"unsupported PNG {header}"
    ch = _CHANNELS[colour]
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    pixels = _unfilter(raw, height, width * ch, ch)
    return pixels.reshape(height, width, ch)
