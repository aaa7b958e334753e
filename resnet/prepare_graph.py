"""A decoded input's preprocessing as one TorchScript function: the GIL given up once, not ~40 times.

``resnet.preprocess`` turned a drawing into the model's input in ~40 NumPy and PyTorch operations on the 280x280
canvas (1.8 ms alone). Each one gave Python's GIL up and, under a class, beside a thread running Python, waited up
to the interpreter's 5 ms switch interval to win it back: the preprocessing took ~195 ms of a label's ~270 ms there
(benchmarks/label_gil.py). ``prepare_pixels`` is that arithmetic from the decoded pixels to the fitted patch,
written in TorchScript's Python and run as one graph (23 ms there): the same operations in the same order, in
float32 as NumPy computed them, and Python's rounding (half to even) wherever the NumPy code rounded a Python float.
The centre of mass and the placing on 28x28 stay in NumPy (``preprocess.place_digit``): on arrays that small NumPy
keeps the GIL, and its sums decide a centre of mass that falls on a half pixel as they always did. Against the NumPy
code: the same model input, byte for byte, and the same errors, on 10,629 inputs (benchmarks/serving-log.md);
``tests/test_preprocess.py`` holds the graph to its eager run and checks that it compiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from resnet import graphs

OK, TRANSPARENT, BLANK = 0, 1, 2  # prepare_pixels' status


def py_round(x: float) -> int:
    """Python's ``round(x)``: to the nearest integer, halves to even (TorchScript's own ``round`` differs)."""
    r = math.floor(x)
    d = x - r
    if d > 0.5 or (d == 0.5 and r % 2 == 1):
        r += 1
    return int(r)


def bbox(mask: torch.Tensor) -> list[int]:
    """[r0, r1, c0, c1] of the True pixels of a (H, W) bool mask (at least one)."""
    rows = torch.nonzero(mask.any(1)).flatten()
    cols = torch.nonzero(mask.any(0)).flatten()
    return [int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1]


def fit(patch: torch.Tensor, side: int) -> torch.Tensor:
    """(h, w) -> its longer edge at ``side`` pixels, aspect kept, bilinear with antialiasing."""
    h, w = patch.shape[0], patch.shape[1]
    scale = side / max(h, w)
    size = [max(1, py_round(h * scale)), max(1, py_round(w * scale))]
    t = patch.contiguous()[None, None]
    return F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]


def gray_of(pixels: torch.Tensor, min_contrast: float) -> tuple[torch.Tensor, int]:
    """Decoded uint8 (H, W) grey levels or (H, W, 4) RGBA -> (H, W) float32 in [0, 1]; transparent areas become the
    paper (white under dark ink, black under light); status TRANSPARENT for a fully transparent image."""
    if pixels.dim() == 2:
        return pixels.float() / 255, 0  # OK (TorchScript reads no global)
    rgba = pixels.float() / 255
    gray = rgba[:, :, :3] @ torch.tensor([0.299, 0.587, 0.114])  # the weights of ITU-R 601, as PIL's "L"
    alpha = rgba[:, :, 3]
    if float(alpha.max()) < min_contrast:
        return gray, 1  # TRANSPARENT
    ink_is_dark = float((gray * alpha).sum() / alpha.sum()) < 0.5
    paper = 1.0 if ink_is_dark else 0.0
    return gray * alpha + paper * (1 - alpha), 0


def median(x: torch.Tensor) -> float:
    """NumPy's median of a flat float32 tensor: the middle value, or the mean of the two middle values."""
    s = torch.sort(x).values
    n = s.numel()
    if n % 2 == 1:
        return float(s[n // 2])
    return float((s[n // 2 - 1 : n // 2 + 1].sum()) / 2)


def stroke_width(mask: torch.Tensor) -> float:
    """Mean stroke width in pixels of a (H, W) bool mask: twice the area over the boundary (2 for 1-2 px lines)."""
    m = mask.float()[None, None]
    inner = -F.max_pool2d(-m, 3, stride=1, padding=1)
    return float(2 * m.sum() / (m - inner).sum().clamp(min=1))


def thicken(ink: torch.Tensor, side: int, stroke: float) -> torch.Tensor:
    """(H, W) light-on-dark ink whose strokes are at least ``stroke * side`` wide (a max filter; never thinner)."""
    k = 2 * py_round((stroke * side - stroke_width(ink > 0.5)) / 2) + 1
    if k < 3:
        return ink
    return F.max_pool2d(ink.contiguous()[None, None], k, stride=1, padding=k // 2)[0, 0]


def digit_patch(ink: torch.Tensor, ink_level: float, stroke: float) -> torch.Tensor:
    """MNIST's normalisation up to the centre of mass: the digit's box, thin strokes thickened first (room padded
    for them), fitted into 20x20."""
    r0, r1, c0, c1 = bbox(ink > ink_level)
    side = max(r1 - r0, c1 - c0)
    pad = py_round(stroke * side)
    ink = thicken(F.pad(ink[r0:r1, c0:c1], [pad, pad, pad, pad]), side, stroke)
    r0, r1, c0, c1 = bbox(ink > ink_level)
    return fit(ink[r0:r1, c0:c1], 20)


def product_patch(ink: torch.Tensor, trim: float) -> torch.Tensor:
    """Fashion-MNIST's conversion up to the placing: the background border trimmed (``trim``: the ink level that
    still counts as background), the longest edge to 28."""
    r0, r1, c0, c1 = bbox(ink > trim)
    return fit(ink[r0:r1, c0:c1], 28)


def prepare_pixels(
    pixels: torch.Tensor, digits: bool, min_contrast: float, ink_level: float, stroke: float, trim: float
) -> tuple[int, bool, torch.Tensor]:
    """Decoded pixels (uint8 (H, W) or (H, W, 4)) -> (status, inverted, the fitted patch (``digit_patch`` or
    ``product_patch``)): ``preprocess.preprocess`` up to placing the patch on 28x28, before its errors (``status``).
    """
    gray, status = gray_of(pixels, min_contrast)
    if status != 0:
        return status, False, gray
    h, w = gray.shape[0], gray.shape[1]
    k = max(1, min(h, w) // 20)
    border = torch.cat([gray[:k].flatten(), gray[-k:].flatten(), gray[:, :k].flatten(), gray[:, -k:].flatten()])
    background = median(border)
    inverted = background > 0.5
    ink = (background - gray) if inverted else (gray - background)
    ink = ink.clamp(min=0)
    peak = float(ink.max())
    if peak < min_contrast:
        return 2, inverted, ink  # BLANK
    # Contrast is stretched to a full-range object, but the background is trimmed in the input's own units: a pale
    # product on a graded backdrop would otherwise keep the backdrop (measured on clothing-products).
    patch = digit_patch(ink / peak, ink_level, stroke) if digits else product_patch(ink / peak, trim / peak)
    return 0, inverted, patch


def run(fn: Callable, *args: object, graph: bool | None = None) -> Any:
    """``fn(*args)`` (``prepare_pixels``, ``data.resize``) as one TorchScript graph, unoptimised as in
    resnet/gradcam.py (``graphs.scripted``), or eagerly where ``graph`` is False (default: ``graphs.ENABLED``, as
    the labels' forward passes) or TorchScript is gone."""
    with torch.no_grad(), torch.jit.optimized_execution(False):
        return (graphs.scripted(fn) if (graphs.ENABLED if graph is None else graph) else fn)(*args)
