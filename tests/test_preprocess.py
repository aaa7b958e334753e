from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import torch
from drawing import draw_like_a_person
from PIL import Image, ImageDraw

from resnet.preprocess import STROKE, EmptyDrawingError, InvalidImageError, preprocess, stroke_width, thicken
from resnet.samples import load_samples


@pytest.mark.parametrize("dataset", ["digits", "clothing"])
def test_recovers_known_test_images(dataset):
    """A test-set image given as it is comes back (nearly) unchanged: we normalise as the dataset did."""
    s = load_samples(dataset)
    diffs = np.array([np.abs(preprocess(im, dataset).image - im / 255).mean() for im in s.images[:300]])
    assert np.median(diffs) < 0.005
    assert (diffs < 0.02).mean() > (0.95 if dataset == "digits" else 0.85)


def test_dark_on_light_upscaled_digit_is_inverted_and_recovered():
    digit = load_samples("digits").images[0]
    big = np.asarray(Image.fromarray(255 - digit).resize((280, 280), Image.Resampling.BILINEAR))
    p = preprocess(big, "digits")
    assert p.inverted
    assert np.abs(p.image - digit / 255).mean() < 0.06
    assert p.tensor.shape == (1, 1, 64, 64) and p.tensor.dtype == torch.float32


def test_centre_of_mass_is_centred_and_box_is_20():
    canvas = np.full((300, 500), 255, np.uint8)
    canvas[20:120, 400:430] = 0  # a tall bar in a corner of a wide canvas
    img = preprocess(canvas, "digits").image
    rows, _cols = np.nonzero(img > 0.2)
    assert rows.max() - rows.min() + 1 in (20, 21)
    ys, xs = np.indices(img.shape)
    assert abs((ys * img).sum() / img.sum() - 14) <= 0.75 and abs((xs * img).sum() / img.sum() - 14) <= 0.75


def test_clothing_is_trimmed_and_fitted_to_28():
    photo = np.full((400, 300, 3), 240, np.uint8)  # light grey backdrop
    photo[100:300, 50:150] = (20, 30, 200)  # a dark blue coat
    p = preprocess(photo, "clothing")
    rows, cols = np.nonzero(p.image > 0.5)
    assert rows.max() - rows.min() + 1 == 28 and 12 <= cols.max() - cols.min() + 1 <= 16
    assert p.inverted and p.image[0, 0] == 0


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "LA", "I;16", "1"])
def test_any_pil_mode(mode):
    img = Image.new("L", (120, 90), 255)
    img.paste(0, (40, 20, 70, 80))
    img = img.convert(mode) if mode != "I;16" else img.convert("I").convert("I;16")
    p = preprocess(img, "digits")
    assert p.image.max() == pytest.approx(1.0, abs=0.01)


def test_transparent_strokes_on_nothing():
    """A sketch layer: black strokes, transparent elsewhere."""
    layer = np.zeros((200, 200, 4), np.uint8)
    layer[50:150, 90:110] = (0, 0, 0, 255)
    p = preprocess(layer, "digits")
    assert p.image.max() > 0.9 and p.image[0, 0] == 0
    white_on_clear = layer.copy()
    white_on_clear[..., :3] = 255
    assert np.allclose(preprocess(white_on_clear, "digits").image, p.image, atol=1e-6)


@pytest.mark.parametrize(
    "image",
    [
        np.full((280, 280), 255, np.uint8),
        np.zeros((280, 280), np.uint8),
        np.zeros((100, 100, 4), np.uint8),
        np.full((50, 50, 3), 128, np.uint8),
        None,
    ],
    ids=["white", "black", "transparent", "grey", "none"],
)
def test_blank_inputs_raise_empty(image):
    with pytest.raises(EmptyDrawingError):
        preprocess(image, "digits")


@pytest.mark.parametrize("bad", [np.zeros((1, 1), np.uint8), np.zeros((5, 300), np.uint8), np.zeros((3, 3, 7))])
def test_tiny_or_malformed_inputs_raise_invalid(bad):
    with pytest.raises(InvalidImageError):
        preprocess(bad, "clothing")


def test_unreadable_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(InvalidImageError):
        preprocess(str(tmp_path / "notes.txt"), "digits")
    buf = io.BytesIO()
    Image.new("L", (64, 64)).save(buf, format="PNG")
    (tmp_path / "broken.png").write_bytes(buf.getvalue()[:40])
    with pytest.raises(InvalidImageError):
        preprocess(str(tmp_path / "broken.png"), "digits")


def test_huge_image_is_handled(tmp_path):
    big = Image.new("RGB", (8000, 8000), "white")
    big.paste((0, 0, 0), (3000, 2000, 4000, 6000))
    p = preprocess(big, "digits")
    assert p.image.max() > 0.9


def test_drawn_digits_are_classified(models):
    """Test digits drawn as a person would (dark strokes on a 280x280 white canvas, off-centre, several sizes
    and stroke widths) are classified by the shipped model at >= 98%."""
    model, card = models["digits"]
    s = load_samples("digits")
    rng = np.random.default_rng(0)
    xs, ys = [], []
    for (box, stroke), i in zip(
        itertools.cycle(itertools.product([90, 150, 220], [-1, 0, 2])), range(0, 1000, 2), strict=False
    ):
        room = (280 - box) // 2 - 2
        offset = tuple(int(v) for v in rng.integers(-room, room + 1, size=2))
        drawing = draw_like_a_person(s.images[i], box, stroke, offset)
        xs.append(preprocess(drawing, "digits", card.image_size).tensor)
        ys.append(s.labels[i])
    with torch.no_grad():
        pred = torch.cat([model(torch.cat(xs[j : j + 100])).argmax(1) for j in range(0, len(xs), 100)])
    accuracy = (pred.numpy() == np.array(ys)).mean()
    print(f"drawn digits: {accuracy:.4f}")
    assert accuracy >= 0.98, accuracy


def test_a_fine_pen_is_thickened_to_mnist_width(models):
    """A 7 drawn with a 2 px pen on the 280 px canvas fades at 20x20 unless thickened: the shipped model read such
    drawings mostly as 1 (digits-pens: 84.9% before, 99.3% after)."""
    canvas = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(canvas).line([(60, 50), (200, 50), (110, 240)], fill=0, width=2)
    ink = 1 - np.asarray(canvas, np.float32) / 255
    assert stroke_width(ink > 0.5) <= 3
    thick = thicken(ink, 190)
    assert stroke_width(thick > 0.5) >= STROKE * 190 - 2
    model, card = models["digits"]
    with torch.no_grad():
        assert model(preprocess(np.asarray(canvas), "digits", card.image_size).tensor).argmax().item() == 7


def test_strokes_as_wide_as_mnist_are_left_alone():
    digit = load_samples("digits").images[0].astype(np.float32) / 255
    assert np.array_equal(thicken(digit, 20), digit)  # MNIST's own strokes at its own scale
    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 100:130] = 1  # a 30 px bar, 200 px tall: 0.15 of the side
    assert np.array_equal(thicken(canvas, 200), canvas)


def test_a_pale_product_on_a_graded_backdrop_is_trimmed_to_itself():
    """Background is trimmed in the input's own units: a pale product's contrast stretch must not turn a graded
    backdrop (255 at the top to 243 at the bottom) into object."""
    photo = np.repeat(np.linspace(255, 243, 200)[:, None], 200, 1)[..., None].repeat(3, 2)
    photo[40:160, 70:130] = (205, 225, 240)  # a pale blue top, 120 x 60
    p = preprocess(photo.astype(np.uint8), "clothing")
    rows, cols = np.nonzero(p.image > 0.5)
    assert rows.max() - rows.min() + 1 == 28 and 13 <= cols.max() - cols.min() + 1 <= 15


def test_an_upload_cleared_from_the_server_says_so(tmp_path):
    with pytest.raises(InvalidImageError, match="no longer on the server"):
        preprocess(str(tmp_path / "gone.png"), "digits")


def test_the_preprocessing_graph_equals_its_eager_run():
    """The preprocessing runs as TorchScript graphs (``resnet.prepare_graph``: under a class the GIL is given up a
    few times, not ~40). Both compile (a graph that failed to compile would fall back to the eager function and
    quietly bring the convoy back), and each gives what the same function gives eagerly, bit for bit, on drawings
    of every size and pen, both polarities, photos of clothing and blank or transparent images. (Against the NumPy
    code it replaced: the same model input, byte for byte, and the same errors on 10,629 inputs: the three
    external sets, 7,000 test images, 300 load-test drawings, noise: benchmarks/serving-log.md.)"""
    from resnet import graphs, prepare_graph
    from resnet.data import resize
    from resnet.external import load_external
    from resnet.preprocess import INK, MIN_CONTRAST, TRIM, pixels_of

    fn = prepare_graph.prepare_pixels
    assert isinstance(graphs.scripted(fn), torch.jit.ScriptFunction)
    assert isinstance(graphs.scripted(resize), torch.jit.ScriptFunction)
    pens, _ = load_external("digits-pens")
    products, _ = load_external("clothing-products")
    inputs = [(im, True) for im in pens[:40]] + [(255 - im, True) for im in pens[40:50]]
    inputs += [(im, False) for im in products[:30]]
    inputs += [(np.full((40, 40), 200, np.uint8), True), (np.zeros((40, 40, 4), np.uint8), True)]
    for (image, digits), _ in itertools.product(inputs, range(3)):  # three calls: an optimiser would act by then
        args = (pixels_of(image), digits, MIN_CONTRAST, INK, STROKE, TRIM)
        graph, eager = prepare_graph.run(fn, *args), prepare_graph.run(fn, *args, graph=False)
        assert graph[:2] == eager[:2] and torch.equal(graph[2], eager[2])
    u8 = torch.from_numpy(load_samples("digits").images[:1].copy())
    assert torch.equal(prepare_graph.run(resize, u8, 64), resize(u8, 64))


def test_python_rounding_in_the_graph():
    """The graph rounds a Python float as Python does (half to even), as the NumPy code did with ``round``."""
    from resnet.prepare_graph import py_round

    for x in (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, 2.5001, 3.0, 7.5, 0.49999999):
        assert py_round(x) == round(x)
