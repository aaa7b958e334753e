"""The low-resolution twin: MNIST digits as the optdigits scanner keeps them, then normalised as the app does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from resnet.lowres import lowres_digit, lowres_twin, optdigits_counts
from resnet.preprocess import preprocess
from resnet.samples import load_samples

PICK = np.arange(0, 1000, 25)  # four of each class from the shipped samples


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """40 shipped MNIST sample digits, (40, 28, 28) uint8 light on dark."""
    return load_samples("digits").images[PICK].copy()


def test_counts_are_a_32px_bitmap_in_4x4_blocks(digits):
    for d in digits:
        counts = optdigits_counts(d)
        assert counts.shape == (8, 8) and counts.min() >= 0 and counts.max() <= 16
        rows = np.flatnonzero(counts.sum(1))
        assert rows[0] == 0 and rows[-1] == 7  # like optdigits: every digit spans the bitmap's height


def test_the_twin_is_what_the_app_makes_of_the_coarse_scan(digits):
    """Reference: the counts drawn as ``scripts/make_external.py`` draws optdigits (dark ink on white, bicubic to
    32x32) and handed to the app's ``preprocess`` like any upload.

    The app takes the paper's colour from the image's border; where a scan's ink covers much of its border the
    app's estimate is greyer than the paper and it trims some ink: there the twin (which knows the paper is white)
    differs, and only there."""
    same = 0
    for d in digits:
        counts = optdigits_counts(d)
        scan = Image.fromarray((255 - counts * 255 / 16).astype(np.uint8)).resize((32, 32), Image.Resampling.BICUBIC)
        border = np.concatenate([np.asarray(scan)[[0, -1]].ravel(), np.asarray(scan)[:, [0, -1]].ravel()])
        if np.median(border) < 255:
            continue
        seen = np.round(preprocess(scan, "digits").image * 255)
        assert np.array_equal(seen, lowres_digit(d))
        same += 1
    assert same >= 0.7 * len(digits)  # 31 of these 40


def test_the_twin_loses_detail_but_keeps_the_digit(digits):
    twin = lowres_twin(torch.from_numpy(digits), workers=1).numpy()
    assert twin.shape == digits.shape and twin.dtype == np.uint8
    assert not np.array_equal(twin, digits)
    # Coarser: fewer distinct edges (sum of absolute horizontal differences) than the original at the same size.
    edges = lambda a: np.abs(np.diff(a.astype(np.int32), axis=2)).sum()  # noqa: E731
    assert edges(twin) < edges(digits)
    # Still the same digit: the twin is closest to an original of its own class.
    x = twin.reshape(len(twin), -1).astype(np.float64)
    y = digits.reshape(len(digits), -1).astype(np.float64)
    cos = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (y / np.linalg.norm(y, axis=1, keepdims=True)).T
    labels = load_samples("digits").labels[PICK]
    assert (labels[cos.argmax(1)] == labels).mean() >= 0.9


def test_processes_give_the_same_twins_as_one_by_one():
    images = torch.from_numpy(np.repeat(load_samples("digits").images[PICK], 63, axis=0))  # 2,520: the pool path
    assert torch.equal(
        lowres_twin(images, workers=2), torch.from_numpy(np.stack([lowres_digit(d) for d in images.numpy()]))
    )


def test_an_empty_image_stays_as_it_is():
    blank = np.zeros((28, 28), np.uint8)
    assert np.array_equal(lowres_digit(blank), blank)
