"""What the model sees, carried whole: an input's 28x28 view in a link, and back in the upload box as it is.

A link cannot carry a drawing or a photo (a phone photo is megabytes), but it can carry what the model made of it:
the 28x28 grey levels ``resnet.preprocess`` hands the network (quantised to bytes, as the network gets them), as a
PNG in base64url, 450-900 characters (measured on ``digits-pens`` and the clothing sets). Preparing that view a
second time would move it (the MNIST box fit and centring are not idempotent: up to 250 grey levels on the shipped
samples), so a link's view goes into the upload box as a PNG marked with the dataset it was prepared for (a text
chunk), which ``resnet.preprocess`` takes as it is: the link then reads exactly as the page it was copied from.

    >>> view = np.zeros((28, 28), np.uint8); view[4:24, 12:16] = 255
    >>> np.array_equal(from_link(to_link(view)), view)
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import threading
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

SIDE = 28  # the view's side: MNIST's and Fashion-MNIST's
ENLARGED = 8  # the upload box shows the view 8x, each pixel a square (as the shipped samples)
MARK = "resnet-seen"  # the PNG text chunk naming the dataset the view was prepared for
MAX_CHARS = 2048  # a 28x28 PNG of noise is ~1,200 characters; anything longer is not ours


def to_link(view: np.ndarray) -> str:
    """A (28, 28) uint8 view as base64url PNG, without padding (a link's ``seen=``)."""
    if view.shape != (SIDE, SIDE) or view.dtype != np.uint8:
        raise ValueError(f"a view is ({SIDE}, {SIDE}) uint8, got {view.shape} {view.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(view).save(buffer, "PNG", optimize=True)
    return base64.urlsafe_b64encode(buffer.getvalue()).decode().rstrip("=")


def from_link(text: str) -> np.ndarray:
    """The (28, 28) uint8 view of ``to_link``'s text; ``ValueError`` saying why for anything else (hand-edited)."""
    if len(text) > MAX_CHARS:
        raise ValueError(f"longer than {MAX_CHARS} characters")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG" or image.size != (SIDE, SIDE):
            raise ValueError(f"not a {SIDE}x{SIDE} PNG")
        return np.array(image.convert("L"))
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValueError(f"not a {SIDE}x{SIDE} PNG") from None


def to_upload(view: np.ndarray, dataset: str, folder: Path) -> Path:
    """The view enlarged 8x as a PNG in ``folder`` marked as prepared for ``dataset`` (for the upload box)."""
    from resnet.pictures import enlarge  # the page's own; here, not at the top: preprocessing does without matplotlib

    enlarged = enlarge(view, ENLARGED)
    info = PngInfo()
    info.add_text(MARK, dataset)
    buffer = io.BytesIO()
    Image.fromarray(enlarged).save(buffer, "PNG", pnginfo=info)
    path = folder / f"seen-{dataset}-{hashlib.sha1(view.tobytes()).hexdigest()[:16]}.png"  # one file a view
    folder.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.part")  # whole or not at all: two tabs may
    part.write_bytes(buffer.getvalue())  # open the same link at once
    os.replace(part, path)
    return path


def from_upload(image: Image.Image, dataset: str) -> np.ndarray | None:
    """The (28, 28) uint8 view an upload carries if it is ``to_upload``'s for ``dataset`` (marked, 28x28 or its
    exact 8x enlargement in grey levels); None for any other image, which is prepared as usual."""
    if image.format != "PNG" or getattr(image, "text", {}).get(MARK) != dataset or image.mode != "L":
        return None
    pixels = np.asarray(image)
    if pixels.shape == (SIDE, SIDE):
        return pixels.copy()
    if pixels.shape != (SIDE * ENLARGED, SIDE * ENLARGED):
        return None
    view = pixels[::ENLARGED, ::ENLARGED]
    squares = pixels.reshape(SIDE, ENLARGED, SIDE, ENLARGED)  # each view pixel's 8x8 square
    return view.copy() if (squares == view[:, None, :, None]).all() else None
