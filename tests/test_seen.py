"""What the model sees, carried whole: a link's view reads exactly as the input it was made from."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from resnet import seen
from resnet.external import load_external
from resnet.pictures import enlarge
from resnet.preprocess import preprocess


def view_of(image, dataset: str) -> np.ndarray:
    """What the page shows as "what it sees" (and the network gets): the preparation quantised to bytes."""
    return preprocess(image, dataset).view


def test_a_view_survives_its_link():
    rng = np.random.default_rng(0)
    for view in (rng.integers(0, 256, (28, 28), dtype=np.uint8), np.zeros((28, 28), np.uint8)):
        text = seen.to_link(view)
        assert len(text) <= seen.MAX_CHARS and set(text) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
        assert np.array_equal(seen.from_link(text), view)


def png_text(size: tuple[int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("L", size).save(buffer, "PNG")
    return base64.urlsafe_b64encode(buffer.getvalue()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("A" * (seen.MAX_CHARS + 1), "longer than"),
        ("not*base64", "not base64url"),
        (base64.urlsafe_b64encode(b"GIF89a not a png").decode(), "not a 28x28 PNG"),
        (png_text((27, 28)), "not a 28x28 PNG"),
    ],
)
def test_a_hand_edited_view_is_refused_with_a_reason(text, why):
    with pytest.raises(ValueError, match=why):
        seen.from_link(text)


@pytest.mark.parametrize(("external", "dataset"), [("digits-pens", "digits"), ("clothing-renders", "clothing")])
def test_the_upload_of_a_view_reads_exactly_as_its_input(external, dataset, tmp_path):
    """The reference is the page's own preparation of the original input: the network gets the same tensor, bit for
    bit. Prepared again as an ordinary upload the same view moves (the box fit and centring are not idempotent)."""
    moved = 0
    for image in load_external(external)[0][:12]:
        first = preprocess(image, dataset)
        view = first.view
        back = preprocess(str(seen.to_upload(seen.from_link(seen.to_link(view)), dataset, tmp_path)), dataset)
        assert torch.equal(back.tensor, first.tensor) and not back.inverted
        assert np.array_equal(back.view, view)
        moved += not torch.equal(preprocess(enlarge(view, 8), dataset).tensor, first.tensor)
    assert moved > 0  # why the mark is needed


def test_only_an_intact_view_of_the_same_dataset_is_taken_as_it_is(tmp_path):
    view = view_of(load_external("digits-pens")[0][0], "digits")
    path = seen.to_upload(view, "digits", tmp_path)
    image = Image.open(path)
    assert image.text[seen.MARK] == "digits"
    assert seen.from_upload(Image.open(path), "clothing") is None  # another domain's view: prepared as usual
    assert torch.equal(preprocess(str(path), "clothing").tensor, preprocess(enlarge(view, 8), "clothing").tensor)
    edited = np.array(image)
    edited[3, 5] ^= 1  # one pixel of one 8x8 square: no longer an enlargement
    info = PngInfo()
    info.add_text(seen.MARK, "digits")
    Image.fromarray(edited).save(tmp_path / "edited.png", pnginfo=info)
    assert seen.from_upload(Image.open(tmp_path / "edited.png"), "digits") is None
    Image.fromarray(view).save(tmp_path / "small.png", pnginfo=info)  # the view itself, not enlarged: taken too
    assert np.array_equal(seen.from_upload(Image.open(tmp_path / "small.png"), "digits"), view)
    Image.fromarray(np.array(image)).save(tmp_path / "unmarked.png")
    assert seen.from_upload(Image.open(tmp_path / "unmarked.png"), "digits") is None
