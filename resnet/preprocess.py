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
from PIL import Image, ImageOps, UnidentifiedImageError

from resnet import prepare_graph, seen
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

    @property
    def view(self) -> np.ndarray:
        """(28, 28) uint8: ``image`` quantised as the network gets it (what the page shows, what a link carries)."""
        return quantised(self.image)


def quantised(image: np.ndarray) -> np.ndarray:
    """[0, 1] grey levels as uint8, rounded: as the training set's bytes."""
    return np.round(image * 255).astype(np.uint8)


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


def pixels_of(image: str | bytes | Image.Image | np.ndarray) -> torch.Tensor:
    """The decoded input as uint8 grey levels (H, W), or RGBA (H, W, 4) where it has transparency, upright (EXIF)
    and at most ``WORK_SIDE`` a side. A canvas (uint8 (H, W, 4) or (H, W)) is taken as it is, not copied."""
    canvas = isinstance(image, np.ndarray) and image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2:] == (4,))
    if canvas and min(image.shape[:2]) >= MIN_SIDE and max(image.shape[:2]) <= WORK_SIDE:
        # what Pillow's "L" or "RGBA" would give; never written to (a read-only array is copied: torch warns)
        return torch.from_numpy(np.ascontiguousarray(image) if image.flags.writeable else image.copy())
    img = ImageOps.exif_transpose(open_image(image))
    if min(img.size) < MIN_SIDE:
        raise InvalidImageError(f"the image is {img.width}x{img.height} pixels; it needs at least {MIN_SIDE} a side")
    if max(img.size) > WORK_SIDE:
        img = img.copy()
        img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    return torch.from_numpy(np.array(img.convert("RGBA" if has_alpha else "L")))


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels of a (H, W) bool mask: twice the area over the boundary (2 for 1-2 px lines)."""
    return prepare_graph.stroke_width(torch.from_numpy(mask))


def thicken(ink: np.ndarray, side: int) -> np.ndarray:
    """(H, W) light-on-dark ink whose strokes are at least ``STROKE * side`` wide (a max filter; never thinner)."""
    return prepare_graph.thicken(torch.from_numpy(ink), side, STROKE).numpy()


def _paste(patch: np.ndarray, top: int, left: int) -> np.ndarray:
    """``patch`` on a black 28x28 canvas at (top, left), clipping whatever falls outside it."""
    canvas = np.zeros((28, 28), np.float32)
    h, w = patch.shape
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + h, 28), min(left + w, 28)
    if t1 > t0 and l1 > l0:
        canvas[t0:t1, l0:l1] = patch[t0 - top : t1 - top, l0 - left : l1 - left]
    return canvas


def place_digit(patch: np.ndarray) -> np.ndarray:
    """A digit's box fitted into 20x20 -> (28, 28) with its centre of mass at MNIST's (14, 14) (measured on its test
    set: mean 14.0 on both axes). In NumPy: on arrays this small it keeps the GIL, and its sums add in NumPy's
    order, which decides a centre of mass that falls on a half pixel (``tests/test_preprocess.py``)."""
    total = patch.sum()
    ys, xs = np.indices(patch.shape)
    cy, cx = (ys * patch).sum() / total, (xs * patch).sum() / total
    return _paste(patch, round(14 - cy), round(14 - cx))


def place_product(patch: np.ndarray) -> np.ndarray:
    """A product's longest edge at 28 -> centred on (28, 28); an odd margin puts its extra pixel before the object,
    as in Fashion-MNIST itself."""
    h, w = patch.shape
    return _paste(patch, (29 - h) // 2, (29 - w) // 2)


def normalise_digit(ink: np.ndarray) -> np.ndarray:
    """MNIST's normalisation: (H, W) light-on-dark -> (28, 28), box fitted to 20x20, centre of mass centred.

    Thin strokes are first thickened to MNIST's width (``thicken``), so that a fine pen does not fade.
    """
    return place_digit(prepare_graph.digit_patch(torch.from_numpy(ink), INK, STROKE).numpy())


def fitted(image: str | bytes | Image.Image | np.ndarray, digits: bool) -> tuple[np.ndarray, bool]:
    """A new input fitted as its dataset was made: (28, 28) float32 in [0, 1], light on black, and whether it was
    negated. ``EmptyDrawingError`` for a blank or fully transparent image."""
    # Two TorchScript graphs and a few operations on arrays of at most 28x28, which keep the GIL: under a class the
    # GIL is given up three times, where the same steps in NumPy and PyTorch gave it up ~40 times, each time waiting
    # up to 5 ms to win it back (resnet/prepare_graph.py, benchmarks/label_gil.py)
    args = (pixels_of(image), digits, MIN_CONTRAST, INK, STROKE, TRIM)
    status, inverted, patch = prepare_graph.run(prepare_graph.prepare_pixels, *args)
    if status == prepare_graph.TRANSPARENT:
        raise EmptyDrawingError("the image is fully transparent: nothing to classify")
    if status == prepare_graph.BLANK:
        raise EmptyDrawingError("the image is blank (one flat colour): draw or upload something to classify")
    out = (place_digit if digits else place_product)(patch.numpy())
    return np.clip(out, 0, 1).astype(np.float32), bool(inverted)


def preprocess(image: str | bytes | Image.Image | np.ndarray | None, dataset: str, image_size: int = 64) -> Prepared:
    """Turn a drawing or upload into the model's input for ``dataset`` ("digits" or "clothing").

    A PNG marked as this dataset's view (``resnet.seen``: a link's input in the upload box) is taken as it is.
    Raises ``EmptyDrawingError`` for nothing or a blank image and ``InvalidImageError`` for unusable input.
    """
    info = dataset_info(dataset)
    if image is None:
        raise EmptyDrawingError("nothing drawn yet")
    view = None
    if not isinstance(image, np.ndarray):
        image = open_image(image)  # opened once: first its mark, then its pixels
        view = seen.from_upload(image, info.name)
    if view is not None:  # a link's view of an input prepared before: taken as it is (``resnet.seen``)
        out, inverted = view.astype(np.float32) / 255, False
    else:
        out, inverted = fitted(image, info.name == "digits")
    as_uint8 = torch.from_numpy(quantised(out))[None]  # quantised like the training set
    return Prepared(out, prepare_graph.run(resize, as_uint8, image_size), inverted)
