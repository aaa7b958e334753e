"""The external test sets: present, well formed, and exactly what the committed command makes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from resnet.data import dataset_info
from resnet.external import SETS, load_external, prepare_all

ROOT = Path(__file__).resolve().parent.parent


def _make_external():
    spec = importlib.util.spec_from_file_location("make_external", ROOT / "scripts" / "make_external.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("s", SETS, ids=lambda s: s.name)
def test_each_set_is_well_formed(s):
    images, labels = load_external(s.name)
    classes = dataset_info(s.dataset).classes
    assert images.dtype == np.uint8 and len(images) == len(labels) >= 400
    assert labels.min() >= 0 and labels.max() < len(classes)
    assert (np.bincount(labels, minlength=len(classes)) > 0).sum() >= 9  # all classes but a pullover
    x = prepare_all(images[:20], s.dataset, 64)
    assert x.shape == (20, 1, 64, 64)


def test_pen_digits_are_what_the_script_makes():
    """The committed set is the seeded output of scripts/make_external.py (no outside source needed for it)."""
    images, labels = _make_external().pen_digits(100, 2026)
    shipped_images, shipped_labels = load_external("digits-pens")
    assert np.array_equal(labels, shipped_labels) and np.array_equal(images, shipped_images)


def test_the_misread_sheet_shows_every_misread_input_and_only_those():
    """benchmarks/recognition.py --misread: one captioned cell per misread input, in order, the input as handed over."""
    spec = importlib.util.spec_from_file_location("recognition", ROOT / "benchmarks" / "recognition.py")
    recognition = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recognition)
    images = np.stack([np.full((8, 8), 40 * k, np.uint8) for k in range(5)])  # each input a grey of its own
    labels, preds = np.array([0, 1, 2, 3, 4]), np.array([0, 7, 2, 9, 8])
    sheet = np.asarray(recognition.misread_sheet(images, labels, preds, np.full(5, 0.5), [str(c) for c in range(10)]))
    tile = 96
    assert sheet.shape == (tile + 34, 10 * (tile + 4), 3)  # three misread: one row
    for k, i in enumerate([1, 3, 4]):
        x = k * (tile + 4) + 2
        assert (sheet[2 : 2 + tile, x : x + tile] == 40 * i).all()
    assert (sheet[2 : 2 + tile, 3 * (tile + 4) + 2] == 128).all()  # no fourth cell (grey): input 2 was read right
