"""The pictures' building blocks against their references."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torchvision.utils import make_grid

from resnet import depth, pictures, plain_vs_residual, why
from resnet.pictures import tile_grid
from resnet.strings import translate_figure

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("n", "columns"), [(1, 1), (5, 5), (16, 4), (7, 3), (64, 8), (3, 8)])
def test_the_tile_grid_is_torchvisions_make_grid(n, columns):
    tiles = torch.randint(0, 256, (n, 3, 9, 11), dtype=torch.uint8)
    grid = tile_grid(tiles.permute(0, 2, 3, 1).numpy(), columns)  # (N, h, w, 3) -> (H, W, 3)
    assert torch.equal(
        torch.from_numpy(grid), make_grid(tiles, nrow=columns, padding=2, pad_value=255).permute(1, 2, 0)
    )


def test_the_server_never_imports_torchvision():
    """Its import alone held 160 MB of the server's memory (measured: VmRSS after ``import app``, 800 -> 641 MB)."""
    code = (
        "import sys, app; ctx = app.Context.create(runs_dir=sys.argv[1]); app.build_demo(ctx);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torchvision'))"
    )
    out = subprocess.run([sys.executable, "-c", code, "/tmp/unused-runs"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_digest_in_pieces_is_sha1_of_the_whole():
    """Hashed in pieces that keep the GIL, the digest is the one hashlib gives the bytes at once (with the shape for
    an array: the same bytes in another shape are another picture)."""
    import hashlib

    import numpy as np

    from resnet.pictures import HASH_PIECE, digest

    picture = np.random.default_rng(1).integers(0, 256, (97, 89, 3), dtype=np.uint8)  # not a multiple of a piece
    assert picture.nbytes > 10 * HASH_PIECE
    whole = hashlib.sha1(str(picture.shape).encode() + picture.tobytes()).hexdigest()[:32]
    assert digest(picture) == whole == digest(np.asfortranarray(picture))
    assert digest(picture.reshape(89, 97, 3)) != whole
    assert digest(b"abc") == hashlib.sha1(b"abc").hexdigest()[:32]


def test_a_png_file_holds_the_picture_once(tmp_path):
    import numpy as np
    from PIL import Image

    from resnet import pictures, png
    from resnet.pictures import png_file

    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    path = Path(png_file(picture, tmp_path / "cache", "grid"))  # the folder is made with its first file
    assert path.parent == tmp_path / "cache" and path.name.endswith("-grid.png")
    assert np.array_equal(np.asarray(Image.open(path)), picture)
    written = path.stat().st_ino
    os.utime(path, (1e9, 1e9))  # written long ago (2001), as by an earlier server: Gradio's cleaner goes by age
    assert png_file(picture.copy(), tmp_path / "cache", "grid") == str(path)
    assert path.stat().st_ino == written and path.stat().st_mtime > time.time() - 60  # the same file, young again
    other = png_file(picture[:, :, ::-1], tmp_path / "cache", "grid")  # other pixels, another file
    gray = png_file(picture[:, :, 0], tmp_path / "cache", "grid")
    assert len({str(path), other, gray}) == 3 and np.array_equal(np.asarray(Image.open(gray)), picture[:, :, 0])
    path.unlink()  # removed by Gradio's cleaner: written again
    assert png_file(picture, tmp_path / "cache", "grid") == str(path) and path.read_bytes() == png.encode(picture, 1)
    pictures._written.clear()  # a file this process did not write (an earlier server's, maybe cut short): replaced
    path.write_bytes(b"cut short")
    assert png_file(picture, tmp_path / "cache", "grid") == str(path) and path.read_bytes() == png.encode(picture, 1)
    assert not list(tmp_path.rglob("*.part")) and len(list((tmp_path / "cache").iterdir())) == 3


@pytest.mark.parametrize(
    ("shape", "size"),  # each pixel repeated (48 / 16, 48 / 2, 84 / 7), or picked where the size is no multiple
    [((16, 16, 16), 48), ((16, 2, 2), 48), ((4, 7, 7), 84), ((4, 16, 16), 84), ((3, 32, 32), 48)],
)
@pytest.mark.parametrize("cmap", ["viridis", "RdBu_r"])
def test_tiles_coloured_then_enlarged_are_the_enlarged_maps_coloured(shape, size, cmap):
    """Enlarged by PyTorch's own nearest-neighbour interpolation (what the views did before), then coloured."""
    import numpy as np
    import torch.nn.functional as F

    from resnet.pictures import colorize, colour_tiles

    maps = torch.randn(shape, generator=torch.Generator().manual_seed(sum(shape)))
    enlarged = F.interpolate(maps[:, None], size=(size, size), mode="nearest")[:, 0]
    tiles = colour_tiles(maps.numpy(), size, -1.5, 2.0, cmap)
    assert np.array_equal(tiles, colorize(enlarged.numpy(), -1.5, 2.0, cmap))


@pytest.mark.parametrize("deflate", ["isal", "zlib"])
@pytest.mark.parametrize("shape", [(1, 1), (37, 61), (37, 61, 1), (5, 3, 2), (40, 60, 3), (9, 300, 4)])
def test_a_png_decodes_to_its_picture(shape, deflate, monkeypatch):
    """``png.encode``'s unfiltered PNG, read back by Pillow (libpng's rules), gives the same samples and channels,
    deflated by ISA-L (what serves, where installed) or by zlib (``$RESNET_DEFLATE=zlib``)."""
    import numpy as np
    from PIL import Image

    from resnet import png

    monkeypatch.setenv("RESNET_DEFLATE", deflate)
    if deflate == "isal":
        pytest.importorskip("isal", reason="ISA-L's wheel is not installed: zlib serves")
    assert png.deflater(1).__name__ == ("isal.isal_zlib" if deflate == "isal" else "zlib")
    assert png.deflater(6).__name__ == "zlib"  # ISA-L has levels 0-3 only
    picture = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    picture[: shape[0] // 2] = 255  # a flat half too, as the app's pictures have
    decoded = np.asarray(Image.open(io.BytesIO(png.encode(picture))))
    assert decoded.shape == (picture.shape if len(shape) == 3 and shape[2] > 1 else shape[:2])
    assert np.array_equal(decoded, picture.reshape(decoded.shape))
    with pytest.raises(ValueError, match="uint8"):
        png.encode(picture.astype(np.float32))
    for wrong in [(4, 4, 5), (4,), (2, 2, 2, 3), (0, 4, 3)]:
        with pytest.raises(ValueError, match="samples"):
            png.encode(np.zeros(wrong, np.uint8))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_texts_from_stamps_are_pillows_texts_pixel_for_pixel(shipped_ctx, monkeypatch, lang):
    """Every picture with texts (block panel, feature grids and their scales, montages of the stages and their
    Grad-CAMs), drawn from kept stamps, twice (the second from the cache), equals the same drawn with
    ``ImageDraw.text``."""
    import numpy as np
    from PIL import ImageDraw

    from resnet import pictures
    from resnet.samples import load_samples

    snapshot = shipped_ctx.analyser.analyse(load_samples("digits").images[3], "digits", ("b3.0",)).snapshot

    def drawn() -> list[np.ndarray]:
        return [
            pictures.block_panel(snapshot.blocks, lang=lang),
            *pictures.feature_montages(snapshot, lang),
            pictures.stage_channels(snapshot, "b4", lang)[0],
            pictures.colour_bar(333, -0.123, 4.56, pictures.DIVERGING, "activation", lang=lang),
        ]

    stamped, again = drawn(), drawn()
    monkeypatch.setattr(
        pictures, "draw_text", lambda img, xy, w, fill, font: ImageDraw.Draw(img).text(xy, w, fill, font)
    )
    for s, r, picture in zip(stamped, again, drawn(), strict=True):
        assert np.array_equal(s, picture) and np.array_equal(r, picture)


def test_every_channel_of_a_stage_fits_a_screen():
    """The grid of every channel of a stage is at most ~770 px wide, so that at a projector's 720 px it is shrunk by
    a little, not by half (b5's 512 maps of 2x2 once made a 1,520 px square, its caption unreadable once it fit):
    tiles stay whole multiples of the map's side, and no stage's tiles get smaller than before but b5's."""
    import numpy as np

    from resnet import pictures

    stages = {"b1": (64, 16), "b2": (64, 16), "b3": (128, 8), "b4": (256, 4), "b5": (512, 2)}
    rng = np.random.default_rng(0)
    s = pictures.Snapshot(np.zeros((64, 64), np.float32), {}, [], {}, "7")
    for name, (c, side) in stages.items():
        s.stages[name] = rng.random((c, side, side), dtype=np.float32)
    widths = {name: pictures.stage_channels(s, name)[0].shape[1] for name in stages}
    assert max(widths.values()) <= 800 and widths["b5"] >= 600
    columns = {name: int(np.ceil(np.sqrt(c))) for name, (c, _) in stages.items()}
    tiles = {name: (widths[name] - 2) // columns[name] - 2 for name in stages}
    assert tiles == {"b1": 16, "b2": 16, "b3": 16, "b4": 32, "b5": 30}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_stage_s_caption_fits_its_picture(lang):
    """The caption above the grid of all channels is drawn whole: the picture's caption band equals the caption
    drawn by Pillow on a canvas wide enough for it, and nothing of it lies past the picture's right edge (b1's
    grid is 146 px wide, its caption ~300 px: it was cut off after "all 64 channels,")."""
    import numpy as np
    from PIL import Image, ImageDraw

    from resnet import pictures
    from resnet.strings import tr

    rng = np.random.default_rng(0)
    s = pictures.Snapshot(np.zeros((64, 64), np.float32), {}, [], {}, "7")
    for name, (c, side) in {"b1": (64, 16), "b3": (128, 8), "b5": (512, 2)}.items():
        s.stages[name] = rng.random((c, side, side), dtype=np.float32)
        grid, caption = pictures.stage_channels(s, name, lang)
        shown = pictures.montage([(grid, tr(caption, lang))], lang=lang)
        wide = Image.new("RGB", (2000, 20), "white")
        ImageDraw.Draw(wide).text((2, 3), tr(caption, lang), fill="black", font=pictures.font(12, lang))
        band = np.asarray(wide)
        assert (band[:, shown.shape[1] :] == 255).all(), f"{name}: the caption runs past the picture"
        assert np.array_equal(shown[:20], band[:, : shown.shape[1]]), name
        assert shown.shape[0] == 20 + grid.shape[0] and (shown[20:] != 255).any()


def test_a_chinese_block_panel_draws_its_formulas_as_the_english_one():
    """The lines without Chinese (‖F(x)‖/‖x‖ and cos(F(x), x)) in DejaVu Sans in both languages, pixel for pixel:
    Noto Sans CJK's full-width ‖ spread "‖F(x)‖/‖x‖" into "‖ F(x) ‖ / ‖ x ‖"."""
    rng = np.random.default_rng(0)
    block = pictures.BlockMaps(
        "b2.0", False, False, False, 0.96, -0.32, *(rng.normal(size=(4, 16, 16)) for _ in "xrpo")
    )
    en, zh = (pictures.block_panel([block], lang=lang) for lang in ("en", "zh"))
    formulas = slice(22 + 4 + 15 * 2, 22 + 4 + 15 * 4)  # the block's third and fourth lines, left of the tiles
    assert pictures.has_chinese("捷径：恒等") and not pictures.has_chinese("‖F(x)‖/‖x‖ = 0.96")
    assert np.array_equal(en[formulas, :190], zh[formulas, :190])
    assert not np.array_equal(en[22 : 22 + 4 + 30, :190], zh[22 : 22 + 4 + 30, :190])  # its name and shortcut differ


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_phones_block_panel_holds_the_same_tiles_with_its_texts_above_them(shipped_ctx, lang):
    """For a phone's column (~326 px) the block panel is 316 px wide, each block's three lines of text above its four
    tiles (beside them, 542 px, a phone showed 1.7 of the four). The reference is the panel with its texts beside the
    tiles drawn on the same 76 px tiles: tile for tile, pixel for pixel (lesioned blocks and the plain twin's empty
    tiles included); every line's words inside the picture, a line's left and right words apart."""
    from resnet.samples import load_samples

    seven = load_samples("digits").images[0]
    for key, lesions in (("digits", ("b3.0", "b4.1")), ("digits-plain", ())):
        blocks = shipped_ctx.analyser.analyse(seven, key, lesions).snapshot.blocks
        beside = pictures.block_panel(blocks, tile=76, lang=lang)
        above = pictures.block_panel(blocks, lang=lang, narrow=True)
        assert above.shape[1] == 316 and beside.shape[1] == 190 + 4 * 80
        assert np.array_equal(above[:22], beside[:22, 190 : 190 + 316])  # the columns' titles over the same tiles
        for i, b in enumerate(blocks):
            band = 22 + i * 133  # three lines of 14 px, then the tiles
            for j in range(4):
                tile_above = above[band + 47 : band + 47 + 76, j * 80 : j * 80 + 76]
                tile_beside = beside[22 + i * 80 : 22 + i * 80 + 76, 190 + j * 80 : 190 + j * 80 + 76]
                assert np.array_equal(tile_above, tile_beside), (key, b.name, j)
            for k in range(3):
                middle = above[band + 5 + 14 * k : band + 11 + 14 * k]  # the line's middle: no other line's ascents
                ink = np.flatnonzero((middle < 160).any(axis=(0, 2)))
                # every line holds words; the third the measures or the lesion (none where a plain block changes shape)
                assert bool(len(ink)) == (k < 2 or b.lesioned or b.ratio == b.ratio), (key, b.name, k)
                gaps = np.diff(ink) - 1
                two_sides = k == 0 or (k == 2 and not b.lesioned and b.cosine == b.cosine)
                assert (gaps.max(initial=0) >= 20) == two_sides, (key, b.name, k, gaps.max(initial=0))
        assert np.array_equal(above[-28:], beside[-28:, 190 : 190 + 316])  # the same colour scale


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_projectors_block_panel_is_a_stage_a_row_of_the_desks_blocks(shipped_ctx, lang):
    """In the projector view the block panel is a stage a row: the stages' first blocks (b2.0, and b3.0 … b5.0, which
    downsample) on the left, their second on the right, each column the desk's panel of those blocks pixel for pixel
    (lesioned blocks and the plain twin's empty tiles included), 24 px apart; 1,108 × 404 px, where the desk's one
    column is 542 × 756. A panel whose blocks do not pair up a stage stays one a row."""
    from resnet.samples import load_samples

    seven = load_samples("digits").images[0]
    for key, lesions in (("digits", ("b3.0", "b4.1")), ("digits-plain", ())):
        blocks = shipped_ctx.analyser.analyse(seven, key, lesions).snapshot.blocks
        assert [b.name for b in blocks] == ["b2.0", "b2.1", "b3.0", "b3.1", "b4.0", "b4.1", "b5.0", "b5.1"]
        stages = pictures.stage_panel(blocks, lang)
        first, second = (pictures.block_panel(blocks[j::2], lang=lang) for j in (0, 1))
        assert stages.shape == (404, 1108, 3) and pictures.block_panel(blocks, lang=lang).shape == (756, 542, 3)
        assert np.array_equal(stages[:, :542], first) and np.array_equal(stages[:, 566:], second)
        assert (stages[:, 542:566] == 255).all()
        desk = pictures.block_panel(blocks, lang=lang)
        for i, b in enumerate(blocks):  # each block's row (its texts and tiles) as in the desk's column
            row, column = divmod(i, 2)
            shown = stages[22 + row * 88 : 22 + (row + 1) * 88, column * 566 : column * 566 + 542]
            assert np.array_equal(shown, desk[22 + i * 88 : 22 + (i + 1) * 88]), (key, b.name)
    three = pictures.stage_panel(blocks[:3], lang)  # b2.0, b2.1, b3.0: one a row, as a desk draws them
    assert np.array_equal(three, pictures.block_panel(blocks[:3], lang=lang))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_wide_charts_for_the_projector_have_larger_text_inside_the_picture(lang):
    """In the projector view the depth experiment and the gradients (10-inch charts, shown ~1.35× their drawn width at
    1280×720) are drawn as many pixels wide, their text 1.5× larger, and every text still inside the picture."""
    makers = {
        "depth": lambda projector: plain_vs_residual.depth_figure(depth.load_runs(), projector=projector),
        "gradients": lambda projector: plain_vs_residual.gradients_figure(why.load("gradients"), projector),
    }
    for name, make in makers.items():
        sizes, title_heights = [], []
        for projector in (False, True):
            fig = translate_figure(make(projector), lang)
            canvas = FigureCanvasAgg(fig)  # what savefig draws with: laid out as the page gets it
            canvas.draw()
            renderer = canvas.get_renderer()
            width, height = fig.bbox.width, fig.bbox.height
            sizes.append((round(width), round(height)))
            drawn = [ax.get_tightbbox(renderer) for ax in fig.axes]  # each chart with its drawn ticks, titles, legend
            drawn += [t.get_window_extent(renderer) for t in fig.texts]  # the figure's title
            for box in drawn:
                assert box.x0 >= -1 and box.x1 <= width + 1 and box.y0 >= -1 and box.y1 <= height + 1, (name, box)
            title_heights.append(fig.axes[0].title.get_window_extent(renderer).height)
        (desk_w, desk_h), (projector_w, projector_h) = sizes
        assert projector_w == desk_w and 1.3 <= projector_h / desk_h <= 1.5, (name, sizes)
        assert title_heights[1] >= 1.4 * title_heights[0], (name, title_heights)
