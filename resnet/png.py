"""PNG encoding of the app's pictures, fast: rows unfiltered, one zlib stream at its fastest level.

Pillow chooses a filter for every row (PNG's adaptive filtering) even at ``compress_level=0``; on the app's
pictures (flat colour fields, tiles on white) that search costs more than the deflate that follows it and gains
little. Measured on ``/explain``'s three pictures (one thread, this machine; ``benchmarks/view_pictures.py``):
Pillow at level 1 4.5 + 2.2 + 7.4 ms (38, 30, 64 KB), unfiltered 1.9 + 1.1 + 2.4 ms (46, 37, 61 KB).

The deflate itself is Intel's ISA-L (``isal``, where installed) rather than zlib: the same zlib stream format, any
inflater reads it. On the views' and ``/explain``'s pictures (36 of them, ~680 KB of rows each; best of five, one
thread, this machine, 2026-12-07): zlib level 1 1.86 ms a picture (6.3% of the rows' size), ISA-L level 1 0.35 ms
(6.6%), zlib-ng level 1 0.59 ms (8.0%). ``$RESNET_DEFLATE=zlib`` uses zlib (for side-by-side runs).
"""

from __future__ import annotations

import os
import struct
import zlib
from types import ModuleType

import numpy as np

try:
    from isal import isal_zlib
except ImportError:  # no wheel for this platform: zlib, the same stream a little slower
    isal_zlib = None

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type: grey, grey + alpha, RGB, RGBA


def deflater(level: int) -> ModuleType:
    """The module whose ``compress(data, level)`` makes the zlib stream: ISA-L's where installed and it has
    ``level`` (0-3) unless ``$RESNET_DEFLATE`` is ``zlib``, else zlib's."""
    isal_ok = isal_zlib is not None and level <= isal_zlib.ISAL_BEST_COMPRESSION
    return isal_zlib if isal_ok and os.environ.get("RESNET_DEFLATE", "isal") != "zlib" else zlib


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def encode(picture: np.ndarray, level: int = 1) -> bytes:
    """(H, W) or (H, W, C) uint8 with C in 1..4 -> the bytes of a PNG of it, 8 bits a sample, rows unfiltered."""
    if picture.dtype != np.uint8:
        raise ValueError(f"a PNG of uint8 samples, not {picture.dtype}")
    channels = 1 if picture.ndim == 2 else picture.shape[-1]
    if picture.ndim not in (2, 3) or channels not in COLOUR_TYPES or 0 in picture.shape:
        raise ValueError(f"a PNG of (H, W) or (H, W, 1..4) samples, not {picture.shape}")
    h, w = picture.shape[:2]
    # Each row: filter type 0 (none), then its samples, joined by Python (NumPy's copy of a picture of more than
    # a few hundred samples gives the GIL up: beside a thread running Python that cost a label's preview ~4 ms).
    samples, stride = memoryview(np.ascontiguousarray(picture)).cast("B"), w * channels
    rows = b"\x00" + b"\x00".join(samples[i * stride : (i + 1) * stride] for i in range(h))
    header = struct.pack(">IIBBBBB", w, h, 8, COLOUR_TYPES[channels], 0, 0, 0)
    idat = deflater(level).compress(rows, level)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
