"""Render test-set digits the way a person draws them: dark strokes on a large white canvas."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def draw_like_a_person(
    digit: np.ndarray, box: int, stroke: int, offset: tuple[int, int], canvas: int = 280
) -> np.ndarray:
    """A (28, 28) uint8 light-on-dark digit as a (canvas, canvas) uint8 drawing: black ink on white.

    ``box`` is the digit's height in pixels on the canvas, ``stroke`` thickens (> 0) or thins (< 0) the
    strokes by that many pixels, ``offset`` moves the digit from the centre (dy, dx).
    """
    x = torch.tensor(digit, dtype=torch.float32)[None, None] / 255
    x = F.interpolate(x, size=(box, box), mode="bilinear", align_corners=False)
    for _ in range(abs(stroke)):
        x = F.max_pool2d(x, 3, 1, 1) if stroke > 0 else -F.max_pool2d(-x, 3, 1, 1)
    ink = (x[0, 0] > 0.4).float().numpy()  # a brush leaves hard-edged strokes
    page = np.zeros((canvas, canvas), np.float32)
    top = (canvas - box) // 2 + offset[0]
    left = (canvas - box) // 2 + offset[1]
    page[top : top + box, left : left + box] = ink
    return ((1 - page) * 255).astype(np.uint8)


def pixels(picture: np.ndarray | str) -> np.ndarray:
    """A view's picture as an array: as it is, or read from the PNG file the app sends (a path)."""
    if isinstance(picture, str):
        from PIL import Image

        return np.asarray(Image.open(picture))
    return picture
