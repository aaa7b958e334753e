"""Digits set in the machine's fonts: real digits, labelled right, normalised as the app normalises an upload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from resnet.checkpoint import load_model
from resnet.fontdigits import FONT_PACKAGES, font_digits, font_files, printed_digit, render_digit
from resnet.preprocess import preprocess

FONTS = font_files()
needs_fonts = pytest.mark.skipif(not FONTS, reason="no font with digits: scripts/setup.sh --dev installs them")


@needs_fonts
def test_every_font_kept_has_ten_distinct_digits():
    assert all(p.suffix.lower() in (".ttf", ".otf") for p in FONTS)
    assert not any("cjk" in p.name.lower() or "symbol" in p.name.lower() for p in FONTS)


@needs_fonts
def test_a_font_digit_is_what_the_app_makes_of_the_same_print():
    """Reference: the same printed digit, dark ink on white paper, handed to the app's ``preprocess`` as an upload."""
    for i, path in enumerate(FONTS[:: max(1, len(FONTS) // 8)]):
        for digit in (1, 4, 7):
            ours = render_digit(path, digit, np.random.default_rng(i))
            page = 255 - printed_digit(path, digit, np.random.default_rng(i))
            app = np.round(preprocess(page, "digits", 28).image * 255)
            assert np.abs(ours.astype(float) - app).max() <= 1, (path.name, digit)


@needs_fonts
def test_font_digits_cycle_through_fonts_and_digits_and_repeat_with_the_seed():
    n = 10 * min(len(FONTS), 6)
    images, labels = font_digits(n, seed=3, paths=FONTS[:6])
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert (labels == np.arange(n) % 10).all()
    assert (images.reshape(n, -1).max(1) == 255).all()  # every digit drawn, stretched to full ink
    again, _ = font_digits(n, seed=3, paths=FONTS[:6])
    other, _ = font_digits(n, seed=4, paths=FONTS[:6])
    assert (again == images).all() and (other != images).any()
    with pytest.raises(FileNotFoundError, match="install"):
        font_digits(10, paths=[])


@needs_fonts
def test_the_shipped_model_reads_the_font_digits_as_their_labels():
    """The labels are right: a model that reads MNIST reads most printed digits as their labels."""
    images, labels = font_digits(400, seed=0)
    model, card = load_model("assets/weights/digits.safetensors")
    x = torch.cat([preprocess(255 - d, "digits", card.image_size).tensor for d in images])
    with torch.no_grad():
        read = model(x).argmax(1).numpy()
    assert (read == labels).mean() >= 0.9


def test_the_setup_script_installs_the_font_packages():
    setup = (Path(__file__).resolve().parent.parent / "scripts" / "setup.sh").read_text()
    listed = setup.split('FONTS="', 1)[1].split('"', 1)[0].split()
    assert listed == list(FONT_PACKAGES)
