"""PNG encoding of the app's pictures, fast: rows unfiltered, one zlib stream at its fastest level.

Pillow chooses a filter for every row (PNG's adaptive filtering) even at ``compress_level=0``; on the app's
pictures (flat colour fields, tiles on white) that search costs more than the deflate that follows it and gains
little. Measured on ``/explain``'s three pictures (one thread, this machine; ``benchmarks/view_pictures.py``):
Pillow at level 1 4.5 + 2.2 + 7.4 ms (38, 30, 64 KB), unfiltered 1.9 + 1.1 + 2.4 ms (46, 37, 61 KB).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type: grey, grey + alpha, RGB, RGBA


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
    idat = zlib.compress(rows, level)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
