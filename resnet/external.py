"""External test sets: inputs the models never trained on, made outside MNIST and Fashion-MNIST.

Each set is one ``assets/external/<name>.npz`` with ``images`` (N, H, W) or (N, H, W, 3) uint8, as a person would
hand them to the app (dark ink on white paper, product shots on white), and ``labels`` (N,) int64 in the
dataset's class order. ``scripts/make_external.py`` makes them (and says how); nothing here downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from resnet.preprocess import preprocess

EXTERNAL_DIR = Path(__file__).resolve().parent.parent / "assets" / "external"


@dataclass(frozen=True)
class ExternalSet:
    """One external set: which dataset's classes it uses and how it was made (one line, for tables)."""

    name: str
    dataset: str  # "digits" or "clothing"
    made_from: str


SETS: tuple[ExternalSet, ...] = (
    ExternalSet("digits-writers", "digits", "UCI optdigits test set: 13 writers outside MNIST, 8x8 counts upscaled"),
    ExternalSet("digits-pens", "digits", "pen strokes drawn on a 280x280 canvas: 2-34 px pens, sizes, slants, places"),
    ExternalSet("clothing-products", "clothing", "open emoji artwork (Noto, Twemoji) as product shots on white"),
    ExternalSet("clothing-renders", "clothing", "Fluent Emoji 3D renders of the same items as product shots on white"),
)


def load_external(name: str, folder: Path = EXTERNAL_DIR) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, H, W[, 3]) uint8, labels (N,) int64) of one set."""
    with np.load(folder / f"{name}.npz") as f:
        return f["images"], f["labels"].astype(np.int64)


def prepare_all(images: np.ndarray, dataset: str, image_size: int) -> torch.Tensor:
    """Every image through the app's own preprocessing: (N, 1, S, S) float32."""
    return torch.cat([preprocess(img, dataset, image_size).tensor for img in images])
