"""From what a person draws or uploads to what the model sees.

Any size; numpy array or PIL image; L, RGB or RGBA; dark-on-light or light-on-dark (detected from the border).
Digits follow MNIST's normalisation (bounding box fitted into 20x20, centre of mass at the centre of 28x28);
clothing follows Fashion-MNIST's product conversion (trim the border that matches the corner colour, longest
edge to 28, centred). Both end as a light object on black, like the training sets.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from resnet.data import dataset_info, resize

MIN_SIDE = 8  # smaller images hold no drawing worth reading
WORK_SIDE = 560  # larger inputs are first reduced to this (keeps 8000x8000 uploads fast)
MIN_CONTRAST = 0.08  # difference between ink and background below which an image counts as blank
TRIM = 0.04  # difference from the corner colour that still counts as background (JPEG noise)
INK = 0.2  # ink level (after normalising to [0, 1]) that counts for the bounding box
# MNIST's strokes are about a tenth of the digit's longer side (2A/boundary over the box side, measured on 3,000
# training digits: 10th percentile 0.100, median 0.109). A pen thinner than that (a 2 px pen on a 280 px canvas
# is 0.03) fades to a faint trace at 20x20, which the model misreads (mostly as 1): such strokes are thickened.
STROKE = 0.1


class EmptyDrawingError(ValueError):
    """Nothing to classify: an empty canvas, or a blank (one flat colour or fully transparent) image."""


class InvalidImageError(ValueError):
    """An input that is not a usable image (unreadable, wrong shape, too small)."""


@dataclass
class Prepared:
    """The model's view of one input.

    Attributes:
        image: (28, 28) float32 in [0, 1], light object on black: "what the model sees" at the dataset's scale.
        tensor: (1, 1, S, S) float32, ``image`` resized to the model's input size S.
        inverted: whether the input was dark-on-light and was negated.
    """

    image: np.ndarray
    tensor: torch.Tensor
    inverted: bool


def open_image(source: str | bytes | Image.Image | np.ndarray) -> Image.Image:
    """A PIL image from a path, a numpy array or a PIL image, with ``InvalidImageError`` for anything else."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source)
    try:
        img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        img.load()
        return img
    except FileNotFoundError:
        # The server clears old uploads ($RESNET_CACHE_S in app.launch); a page left open longer still names them.
        raise InvalidImageError(
            "that image is no longer on the server (old uploads are cleared): upload or draw it again"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImageError(f"that file is not an image we can read ({type(exc).__name__})") from None


def _from_array(a: np.ndarray) -> Image.Image:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise InvalidImageError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.nan_to_num(a.astype(np.float32))
        a = a * 255 if a.max(initial=0) <= 1.0 else a
        a = np.clip(a, 0, 255).astype(np.uint8)
    return Image.fromarray(a)


def to_gray(img: Image.Image) -> np.ndarray:
    """(H, W) float32 in [0, 1]. Transparent areas become the paper: white under dark ink, black under light."""
    img = ImageOps.exif_transpose(img)
    if min(img.size) < MIN_SIDE:
        raise InvalidImageError(f"the image is {img.width}x{img.height} pixels; it needs at least {MIN_SIDE} a side")
    if max(img.size) > WORK_SIDE:
        img = img.copy()
        img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if not has_alpha:
        return np.asarray(img.convert("L"), dtype=np.float32) / 255
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = rgba[..., 3]
    if alpha.max() < MIN_CONTRAST:
        raise EmptyDrawingError("the image is fully transparent: nothing to classify")
    ink_is_dark = (gray * alpha).sum() / alpha.sum() < 0.5
    paper = 1.0 if ink_is_dark else 0.0
    return gray * alpha + paper * (1 - alpha)


def _light_on_dark(gray: np.ndarray) -> tuple[np.ndarray, bool, float]:
    """A light object on a black background, in the input's own contrast, its peak (at most 1) and whether it was
    inverted; the polarity is detected from the border."""
    h, w = gray.shape
    k = max(1, min(h, w) // 20)
    border = np.concatenate([gray[:k].ravel(), gray[-k:].ravel(), gray[:, :k].ravel(), gray[:, -k:].ravel()])
    background = float(np.median(border))
    inverted = background > 0.5
    ink = (background - gray) if inverted else (gray - background)
    ink = np.clip(ink, 0, None)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise EmptyDrawingError("the image is blank (one flat colour): draw or upload something to classify")
    return ink, inverted, peak


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _fit(patch: np.ndarray, side: int) -> np.ndarray:
    """Scale so the longer edge is ``side`` pixels, keeping the aspect ratio, anti-aliased."""
    h, w = patch.shape
    scale = side / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    t = torch.from_numpy(np.ascontiguousarray(patch))[None, None]
    return F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0].numpy()


def _paste(canvas: np.ndarray, patch: np.ndarray, top: int, left: int) -> np.ndarray:
    """Paste ``patch`` at (top, left), clipping whatever falls outside the canvas."""
    h, w = patch.shape
    ch, cw = canvas.shape
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + h, ch), min(left + w, cw)
    if t1 > t0 and l1 > l0:
        canvas[t0:t1, l0:l1] = patch[t0 - top : t1 - top, l0 - left : l1 - left]
    return canvas


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels of a (H, W) bool mask: twice the area over the boundary (2 for 1-2 px lines)."""
    m = torch.from_numpy(mask.astype(np.float32))[None, None]
    inner = -F.max_pool2d(-m, 3, stride=1, padding=1)
    return float(2 * m.sum() / (m - inner).sum().clamp(min=1))


def thicken(ink: np.ndarray, side: int) -> np.ndarray:
    """(H, W) light-on-dark ink whose strokes are at least ``STROKE * side`` wide (a max filter; never thinner)."""
    missing = STROKE * side - stroke_width(ink > 0.5)
    k = 2 * round(missing / 2) + 1
    if k < 3:
        return ink
    t = torch.from_numpy(np.ascontiguousarray(ink))[None, None]
    return F.max_pool2d(t, k, stride=1, padding=k // 2)[0, 0].numpy()


def normalise_digit(ink: np.ndarray) -> np.ndarray:
    """MNIST's normalisation: (H, W) light-on-dark -> (28, 28), box fitted to 20x20, centre of mass centred.

    Thin strokes are first thickened to MNIST's width (``thicken``), so that a fine pen does not fade.
    """
    r0, r1, c0, c1 = _bbox(ink > INK)
    pad = round(STROKE * max(r1 - r0, c1 - c0))  # room for the thickened strokes
    ink = thicken(np.pad(ink[r0:r1, c0:c1], pad), max(r1 - r0, c1 - c0))
    r0, r1, c0, c1 = _bbox(ink > INK)
    patch = _fit(ink[r0:r1, c0:c1], 20)
    total = patch.sum()
    ys, xs = np.indices(patch.shape)
    cy, cx = (ys * patch).sum() / total, (xs * patch).sum() / total
    # MNIST puts the centre of mass at index (14, 14) (measured on its test set: mean 14.0 on both axes).
    return _paste(np.zeros((28, 28), np.float32), patch, round(14 - cy), round(14 - cx))


def normalise_product(ink: np.ndarray, trim: float = TRIM) -> np.ndarray:
    """Fashion-MNIST's conversion: trim the background border, longest edge to 28, centred on 28x28.

    ``trim`` is the ink level that still counts as background, on ``ink``'s scale.
    """
    r0, r1, c0, c1 = _bbox(ink > trim)  # ink is 0 where the input matched the border's colour
    patch = _fit(ink[r0:r1, c0:c1], 28)
    h, w = patch.shape
    # An odd margin puts its extra pixel before the object, as in Fashion-MNIST itself.
    return _paste(np.zeros((28, 28), np.float32), patch, (29 - h) // 2, (29 - w) // 2)


def preprocess(image: str | bytes | Image.Image | np.ndarray | None, dataset: str, image_size: int = 64) -> Prepared:
    """Turn a drawing or upload into the model's input for ``dataset`` ("digits" or "clothing").

    Raises ``EmptyDrawingError`` for nothing or a blank image and ``InvalidImageError`` for unusable input.
    """
    info = dataset_info(dataset)
    if image is None:
        raise EmptyDrawingError("nothing drawn yet")
    ink, inverted, peak = _light_on_dark(to_gray(open_image(image)))
    # Contrast is stretched to a full-range object, but the background is trimmed in the input's own units: a
    # pale product on a graded backdrop would otherwise keep the backdrop (measured on clothing-products).
    out = normalise_digit(ink / peak) if info.name == "digits" else normalise_product(ink / peak, TRIM / peak)
    out = np.clip(out, 0, 1).astype(np.float32)
    as_uint8 = torch.from_numpy(np.round(out * 255).astype(np.uint8))[None]  # quantised like the training set
    return Prepared(out, resize(as_uint8, image_size), inverted)
