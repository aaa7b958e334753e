"""Pictures of what happens inside the network, as uint8 RGB arrays, from NumPy arrays alone (no PyTorch).

Feature grids are tiles on a white grid (``tile_grid``) coloured by a colormap lookup table; text is drawn with
Pillow. What the pictures read of an analysis is a ``Snapshot``: its arrays, taken once (``viz.snapshot``), so
that the pictures can be drawn in a process of their own (``resnet.painter``), which never imports PyTorch.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib
import matplotlib.font_manager
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from resnet import png
from resnet.blockchart import BlockChart
from resnet.strings import tr

SEQUENTIAL = "viridis"  # activations after a ReLU: 0 .. max
DIVERGING = "RdBu_r"  # signed tensors (F(x), F(x) + x): blue < 0 < red, white at 0


@dataclass
class BlockFacts:
    """One block of one input: its name and kind, as ``probes.BlockTrace`` gives them, and its statistics, as
    ``probes.BlockStats`` gives them."""

    name: str
    projects: bool  # the shortcut is a 1×1 projection
    plain: bool  # no shortcut at all (the plain twin)
    lesioned: bool
    ratio: float  # ‖F(x)‖ / ‖x‖ (NaN where there is nothing to compare with)
    cosine: float  # cos(F(x), x)

    @property
    def shortcut(self) -> str:
        """The shortcut in words (``shortcut_kind``)."""
        return shortcut_kind(self.projects, self.plain)


@dataclass
class BlockMaps(BlockFacts):
    """``BlockFacts`` and the block's maps (C, h, w)."""

    x: np.ndarray | None = None  # the shortcut's output; None in a plain block
    residual: np.ndarray | None = None
    preact: np.ndarray | None = None
    output: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.output.shape


@dataclass
class Snapshot:
    """The arrays of one ``analysis.Analysis`` that its pictures read (float32; one input)."""

    image: np.ndarray  # (S, S) in [0, 1]: the model's input
    stages: dict[str, np.ndarray]  # "b1".."b5" -> (C, H, W)
    blocks: list[BlockMaps]
    cams: dict[str, np.ndarray]  # stage -> (S, S) Grad-CAM map in [0, 1]
    target_name: str  # the class Grad-CAM explains


@cache
def _lut(name: str) -> np.ndarray:
    """(256, 3) uint8 colour table of a matplotlib colormap."""
    return (matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


@cache
def font(size: int = 13, lang: str = "en") -> ImageFont.FreeTypeFont:
    """DejaVu Sans from matplotlib's own files (it has ×, ‖ and the other signs the labels use); for Chinese, Noto
    Sans CJK SC where it is installed (it has those signs too)."""
    if lang == "zh" and (cjk := _cjk_font_file()):
        return ImageFont.truetype(cjk[0], size, index=cjk[1])
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)


@cache
def _cjk_font_file() -> tuple[str, int] | None:
    """(file, face index) of a simplified-Chinese face, or None."""
    for entry in matplotlib.font_manager.fontManager.ttflist:
        if entry.name.startswith("Noto Sans CJK") and entry.fname.endswith(".ttc") and "Regular" in entry.fname:
            for index in range(10):
                try:
                    if ImageFont.truetype(entry.fname, 12, index=index).getname()[0] == "Noto Sans CJK SC":
                        return entry.fname, index
                except OSError:
                    break
    return None


def has_chinese(words: str) -> bool:
    """Whether ``words`` hold a CJK character or full-width sign: a line without one is drawn in DejaVu Sans even
    in Chinese (Noto Sans CJK's ‖ is a full-width sign: "‖F(x)‖/‖x‖" read "‖ F(x) ‖ / ‖ x ‖")."""
    return any("\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in words)


STAMP_PAD = 4  # px around a stamp's text: room for glyphs that reach left of or above the pen


def draw_text(img: Image.Image, xy: tuple[float, float], words: str, fill: str, font: ImageFont.FreeTypeFont) -> None:
    """``ImageDraw.Draw(img).text(xy, words, fill=fill, font=font)``, pixel for pixel, from a kept stamp.

    FreeType renders the same captions, titles and scale labels for every view: a quarter of the interpreter's time
    under 30 ``/explain`` clients (py-spy ``--gil``; ~0.2 ms a text, 44 texts in a block panel). A stamp is the
    text's coverage at the same sub-pixel start, and pasting the fill colour through it is the blend Pillow draws
    text with (tests/test_viz.py checks every view against ``ImageDraw.text``).
    """
    x, y = xy
    if x < 0 or y < 0:  # int() and the sub-pixel start below assume a non-negative pen position
        ImageDraw.Draw(img).text(xy, words, fill=fill, font=font)
        return
    stamp = _stamp(words, font, x % 1, y % 1)
    img.paste(fill, (int(x) - STAMP_PAD, int(y) - STAMP_PAD), stamp)


@functools.lru_cache(maxsize=4096)
def text_width(words: str, font: ImageFont.FreeTypeFont) -> float:
    """``font.getlength(words)`` in px, kept: the same captions and scale labels come back in every view (~50 µs a
    text, ~50 texts a view and explanation)."""
    return font.getlength(words)


@functools.lru_cache(maxsize=4096)  # ~2 KB a stamp
def _stamp(words: str, font: ImageFont.FreeTypeFont, dx: float, dy: float) -> Image.Image:
    """The coverage (mode "L") of ``words`` drawn at (STAMP_PAD + dx, STAMP_PAD + dy) with ``font``."""
    _, _, right, bottom = font.getbbox(words)
    stamp = Image.new("L", (int(right) + 2 * STAMP_PAD + 2, int(bottom) + 2 * STAMP_PAD + 2), 0)
    ImageDraw.Draw(stamp).text((STAMP_PAD + dx, STAMP_PAD + dy), words, fill=255, font=font)
    return stamp


def colour_codes(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """(...) values -> (...) uint8: each value's row of a colour table (``_lut``) with the scale [vmin, vmax]."""
    scaled = np.clip((values.astype(np.float32) - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    return np.rint(scaled * 255).astype(np.uint8)


def colorize(values: np.ndarray, vmin: float, vmax: float, cmap: str = SEQUENTIAL) -> np.ndarray:
    """(..., H, W) values -> (..., H, W, 3) uint8 through ``cmap`` with the scale [vmin, vmax]."""
    return np.take(_lut(cmap), colour_codes(values, vmin, vmax), axis=0)


def nearest(n: int, size: int) -> np.ndarray:
    """The source index of each of ``size`` pixels enlarged (or shrunk) from ``n``, nearest neighbour: what
    ``torch.nn.functional.interpolate(mode="nearest")`` picks (a test holds them equal)."""
    return np.minimum(np.floor(np.arange(size, dtype=np.float32) * np.float32(n / size)).astype(np.intp), n - 1)


def colour_tiles(maps: np.ndarray, size: int, vmin: float, vmax: float, cmap: str = SEQUENTIAL) -> np.ndarray:
    """(N, h, w) maps -> (N, size, size, 3) uint8 with visible pixels (nearest neighbour): the same pixels as the
    maps enlarged and then coloured (a test holds them equal). The one-byte colour codes are enlarged, each pixel
    repeated where ``size`` is a multiple of the map's side, and then coloured: a quarter to three quarters less
    time than colouring the maps and enlarging their three bytes a pixel by two gathers (16 maps of 16×16 to 48 px
    0.31 -> 0.24 ms, 4 maps of 16×16 to 84 px 0.23 -> 0.14 ms, 64 maps of 16×16 at 16 px 0.37 -> 0.12 ms; one
    thread, this machine, 2026-12-07)."""
    n, h, w = maps.shape
    codes = colour_codes(maps, vmin, vmax)  # (N, h, w)
    if size % h == 0 and size % w == 0:  # then nearest() repeats each pixel size // h times
        kh, kw = size // h, size // w
        codes = np.broadcast_to(codes[:, :, None, :, None], (n, h, kh, w, kw)).reshape(n, size, size)
    else:
        codes = np.take(np.take(codes, nearest(h, size), axis=1), nearest(w, size), axis=2)
    return np.take(_lut(cmap), codes, axis=0)


def enlarge(image: np.ndarray, k: int) -> np.ndarray:
    """(H, W[, 3]) -> (kH, kW[, 3]) by repeating pixels, so a 28x28 preview shows its pixels, not a blur."""
    return image.repeat(k, axis=0).repeat(k, axis=1)


def order_channels(acts: np.ndarray) -> np.ndarray:
    """Channel indices of (C, H, W) sorted by mean activation, strongest first (ties in channel order)."""
    return np.argsort(-acts.mean(axis=(1, 2)), kind="stable")


def colour_bar(
    width: int,
    vmin: float,
    vmax: float,
    cmap: str,
    label: str = "",
    ends: tuple[str, str] | None = None,
    lang: str = "en",
) -> np.ndarray:
    """A horizontal colour scale with its end values (or the texts ``ends``), (28, width, 3) uint8; texts in
    ``lang``."""
    ramp = np.linspace(vmin, vmax, width, dtype=np.float32)
    bar = colorize(np.broadcast_to(ramp, (10, width)), vmin, vmax, cmap)
    img = Image.new("RGB", (width, 28), "white")
    img.paste(Image.fromarray(bar), (0, 0))
    f = font(11, lang)
    left, right = (tr(e, lang) for e in ends) if ends else (f"{vmin:.2g}", f"{vmax:.2g}")
    draw_text(img, (1, 12), left, "black", f)
    draw_text(img, (width - text_width(right, f) - 1, 12), right, "black", f)
    if label:
        label = tr(label, lang)
        draw_text(img, ((width - text_width(label, f)) / 2, 12), label, "#444", f)
    return np.asarray(img)


def tile_grid(tiles: np.ndarray, columns: int, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """(N, h, w, C) tiles -> (H, W, C): rows of ``columns`` tiles, ``padding`` px of ``pad_value`` around each.

    What ``torchvision.utils.make_grid`` draws (a test holds them equal), without importing torchvision into the
    server: its import cost the app 160 MB of resident memory and 1.3 s of import time, for this one function.
    """
    n, h, w, c = tiles.shape
    if n == 1:
        return tiles[0]  # as make_grid: one tile, no border
    columns = min(columns, n)
    rows = -(-n // columns)
    grid = np.full((rows * (h + padding) + padding, columns * (w + padding) + padding, c), pad_value, tiles.dtype)
    for i, tile in enumerate(tiles):
        top, left = (i // columns) * (h + padding) + padding, (i % columns) * (w + padding) + padding
        grid[top : top + h, left : left + w] = tile
    return grid


def feature_grid(
    acts: np.ndarray, max_channels: int | None = 16, tile: int = 48, columns: int | None = None, lang: str = "en"
) -> tuple[np.ndarray, list[int]]:
    """A stage's channel activations (C, H, W) as one picture with its colour scale.

    Channels are ordered by mean activation (strongest first) and share one scale from 0 to the largest value
    shown, so tiles are comparable. Returns the (H', W', 3) uint8 image and the channel indices shown.
    """
    order = order_channels(acts)
    if max_channels is not None:
        order = order[:max_channels]
    maps = acts[order]
    vmax = max(float(maps.max()), 1e-6)
    vmin = min(0.0, float(maps.min()))
    ncol = columns or int(np.ceil(np.sqrt(len(order))))
    grid = tile_grid(colour_tiles(maps, tile, vmin, vmax), ncol)
    bar = colour_bar(grid.shape[1], vmin, vmax, SEQUENTIAL, "activation", lang=lang)
    margin = np.full((30, grid.shape[1], 3), 255, np.uint8)  # room for a gallery caption below the scale
    return np.concatenate([grid, bar, margin]), order.tolist()


def gradcam_overlay(image: np.ndarray, cam: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The input (S, S) in [0, 1] in grey with a Grad-CAM map (S, S) in [0, 1] laid over it, (S, S, 3) uint8."""
    grey = np.clip(image, 0, 1)[..., None].astype(np.float32) * 255
    heat = colorize(cam, 0, 1, "jet").astype(np.float32)
    return np.rint((1 - alpha) * grey + alpha * heat).astype(np.uint8)


def shortcut_kind(projects: bool, plain: bool = False) -> str:
    """The shortcut of a block in words: "identity", "1×1 projection" or "none (plain)"."""
    return "none (plain)" if plain else "1×1 projection" if projects else "identity"


Text = tuple[tuple[float, float], str, str, ImageFont.FreeTypeFont]  # (xy, words, fill, font): a ``draw_text``'s


def with_texts(canvas: np.ndarray, texts: Sequence[Text]) -> np.ndarray:
    """(H, W, 3) uint8 pictures laid on a white array -> the same with ``texts`` drawn on it (``draw_text``).

    A picture built of many arrays is laid out in NumPy and made a Pillow image once, for its texts: a paste an array
    cost a copy into Pillow and one out (``block_panel``, ``montage``)."""
    img = Image.fromarray(canvas)
    for xy, words, fill, f in texts:
        draw_text(img, xy, words, fill, f)
    return np.asarray(img)


BLOCK_COLUMNS = ("shortcut x", "residual F(x)", "F(x) + x", "ReLU output")


def block_panel(
    blocks: Sequence[BlockMaps], tile: int | None = None, lang: str = "en", narrow: bool = False
) -> np.ndarray:
    """Every block of one input side by side: x, F(x), F(x) + x and the output, channel-averaged.

    The four tiles of a block share one symmetric scale (blue < 0 < red), so the size of F(x) against x reads
    directly. One row per block, labelled with its name, its shortcut kind and ‖F(x)‖/‖x‖, cos(F(x), x); every
    text in ``lang``. Beside the tiles (``tile`` 84 px by default: 542 px wide), or with ``narrow`` above them, on
    tiles of 76 px by default (316 px wide: a phone's column is ~326 px, where the texts beside the tiles left room
    for 1.7 of the four and the sum and the ReLU were swiped out of sight).
    """
    # Five lines of text in a column left of the tiles, or three in a band above them (47 px: the Chinese glyphs'
    # descents stay off the tiles); the line's first pixel row and the lines' spacing; the blocks' spacing.
    label_w, band_h, top, step, spacing = (0, 47, 1, 14, 6) if narrow else (190, 0, 4, 15, 0)
    tile, gap, head_h = tile or (76 if narrow else 84), 4, 22
    row_h = band_h + tile + gap + spacing
    tiles_w = len(BLOCK_COLUMNS) * (tile + gap) - gap
    width = label_w + tiles_w + gap * (not narrow)  # (the desk's a margin of one gap on the right)
    # The tiles and the scale laid on a white array, the texts drawn after (``with_texts``; 32 tiles a panel: with
    # the colour tiles' change and the kept scale and text widths, a panel 6.7 -> 3.2 ms p50, one thread, 2026-12-07).
    canvas = np.full((head_h + len(blocks) * row_h + 30, width, 3), 255, np.uint8)
    texts: list[Text] = []
    f11, f12 = font(11, lang), font(12, lang)
    for j, title in enumerate(BLOCK_COLUMNS):
        x0, title = label_w + j * (tile + gap), tr(title, lang)
        texts.append(((x0 + (tile - text_width(title, f12)) / 2, 4), title, "black", f12))
    for i, b in enumerate(blocks):
        # A plain block has no shortcut and adds nothing: its x and F(x) + x tiles stay empty, F(x) stands alone.
        shown = [b.x, b.residual, b.preact, b.output] if not b.plain else [None, b.residual, None, b.output]
        maps = np.stack([t.mean(0) for t in shown if t is not None])  # (k, h, w)
        vmax = max(float(np.abs(maps).max()), 1e-6)
        tiles = iter(colour_tiles(maps, tile, -vmax, vmax, DIVERGING))
        y0 = head_h + i * row_h + band_h
        for j, t in enumerate(shown):
            x0 = label_w + j * (tile + gap)
            if t is None:  # an empty tile's outline, 1 px of #bbb (Pillow's rectangle(outline=) of the tile)
                canvas[y0 : y0 + tile, x0 : x0 + tile] = 0xBB
                canvas[y0 + 1 : y0 + tile - 1, x0 + 1 : x0 + tile - 1] = 255
                words = tr("no shortcut" if j == 0 else "nothing added", lang)
                texts.append(((x0 + (tile - text_width(words, f11)) / 2, y0 + tile / 2 - 6), words, "#888", f11))
                continue
            canvas[y0 : y0 + tile, x0 : x0 + tile] = next(tiles)
        c, h, w = b.shape
        name, kind, scale = (
            f"{b.name}  ({c}×{h}×{w})",
            f"shortcut: {shortcut_kind(b.projects, b.plain)}",
            f"scale ±{vmax:.2g}",
        )
        ratio = f"‖F(x)‖/‖x‖ = {b.ratio:.2f}" if b.ratio == b.ratio else ""
        cosine = f"cos(F(x), x) = {b.cosine:+.2f}" if b.cosine == b.cosine else ""
        measures = ("LESIONED: F(x) removed", "") if b.lesioned else (ratio, cosine)
        # (left, right-aligned) a line; the third line holds the lesion or the two measures in either layout
        wide = [(name, ""), (kind, ""), (measures[0], ""), (measures[1], ""), (scale, "")]
        lines = [(name, scale), (kind, ""), measures] if narrow else wide
        for k, pair in enumerate(lines):
            for side, words in enumerate(pair):
                if not words:
                    continue
                words = tr(words, lang)
                f = font(12, lang if has_chinese(words) else "en")
                x = width - text_width(words, f) if side else 6 * (not narrow)
                colour = "#b00" if b.lesioned and k == 2 else "black"
                texts.append(((x, y0 - band_h + top + step * k), words, colour, f))
    bar = _panel_scale(tiles_w, lang)
    canvas[-28:, label_w : label_w + bar.shape[1]] = bar
    return with_texts(canvas, texts)


def stage_panel(blocks: Sequence[BlockMaps], lang: str = "en", gutter: int = 24) -> np.ndarray:
    """The block panel laid out a stage a row, for the projector view: (H, W, 3) uint8, 1,108 × 404 px for ResNet-18.

    Two block panels as a desk draws them (``block_panel``) side by side, ``gutter`` px apart: the stages' first
    blocks on the left (b2.0, b3.0, b4.0, b5.0: three of them downsample, through the 1×1 projection), their second
    on the right (b2.1 … b5.1, identity shortcuts). Shown as wide as a projector's screen (~1.04× at 1280×720 under
    a tour's text, its text ~12.5 px; ~1.7× at 1920×1080) the eight blocks are on one screen under the open tour:
    one block a row, shown 1.4× its size (text ~17 px), the panel was ~1.5 screens high at 1280×720. Blocks that do
    not pair up a stage (not two blocks in each) stay one a row.
    """
    columns = [[b for b in blocks if b.name.endswith(f".{j}")] for j in (0, 1)]
    if len(columns[0]) != len(columns[1]) or 2 * len(columns[0]) != len(blocks):
        return block_panel(blocks, lang=lang)
    first, second = (block_panel(column, lang=lang) for column in columns)
    return np.hstack([first, np.full((first.shape[0], gutter, 3), 255, np.uint8), second])


@functools.lru_cache(maxsize=8)
def _panel_scale(width: int, lang: str) -> np.ndarray:
    """The block panel's colour scale (28, width, 3), the same for every input: drawn once a width and language."""
    bar = colour_bar(width, -1, 1, DIVERGING, "channel mean; scale per block", ("−scale", "+scale"), lang)
    bar.setflags(write=False)
    return bar


def montage(
    items: Sequence[tuple[np.ndarray, str]], gap: int = 8, caption_h: int = 20, lang: str = "en", title: str = ""
) -> np.ndarray:
    """Pictures (H_i, W_i, 3) side by side on white with their captions above, and the ``title`` above all: one
    image (H, W, 3) instead of many.

    Each picture gets a slot as wide as it or its caption, whichever is wider, and sits in the middle of it: b1's
    64 channels make a grid of 146 px under a caption of ~300 ("b1 · 64 × 16 × 16: all 64 channels, strongest
    first"), which was cut off at the grid's edge.
    """
    title_h = 24 if title else 0
    f12 = font(12, lang)
    slots = [max(img.shape[1], int(np.ceil(text_width(caption, f12))) + 4) for img, caption in items]
    height = max(img.shape[0] for img, _ in items) + caption_h + title_h
    width = sum(slots) + gap * (len(items) - 1)
    if title:
        width = max(width, int(np.ceil(text_width(title, font(15, lang)))) + 4)
    canvas = np.full((height, width, 3), 255, np.uint8)  # the pictures laid on it, the texts drawn after
    texts: list[Text] = [((2, 2), title, "black", font(15, lang))] if title else []
    x = 0
    for (img, caption), slot in zip(items, slots, strict=True):
        left, top = x + (slot - img.shape[1]) // 2, caption_h + title_h
        canvas[top : top + img.shape[0], left : left + img.shape[1]] = img
        texts.append(((x + 2, title_h + 3), caption, "black", f12))
        x += slot + gap
    return with_texts(canvas, texts)


# -- the views of one snapshot ------------------------------------------------------------------------------------
def feature_maps(s: Snapshot, max_channels: int | None = 16, lang: str = "en") -> list[tuple[np.ndarray, str]]:
    """One grid per stage (b1..b5) with captions like "b3 · 128 × 8 × 8 (top 16)"."""
    out = []
    for name, acts in s.stages.items():  # b1..b5, in the order of the pass
        grid, _ = feature_grid(acts, max_channels, tile=48 if max_channels else 24, lang=lang)
        c, h, w = acts.shape
        shown = f"top {min(max_channels, c)}" if max_channels else "all"
        out.append((grid, f"{name} · {c} × {h} × {w} ({shown})"))
    return out


def stage_channels(s: Snapshot, stage: str, lang: str = "en") -> tuple[np.ndarray, str]:
    """Every channel of one stage, strongest first, and its caption."""
    acts = s.stages[stage]
    c, h, w = acts.shape
    columns = int(np.ceil(np.sqrt(c)))
    # Tiles of 128 px / the map's side, but the grid at most ~770 px wide: b5's 512 maps of 2x2 at 64 px made a square
    # of 1,520 px, shown at a screen and a half or shrunk until its caption could not be read (a multiple of the side)
    tile = max(16, min(128 // h, (768 // columns - 2) // h * h))
    grid, _ = feature_grid(acts, None, tile=tile, columns=columns, lang=lang)
    return grid, f"{stage} · {c} × {h} × {w}: all {c} channels, strongest first"


def gradcams(s: Snapshot, lang: str = "en") -> list[tuple[np.ndarray, str]]:
    """The Grad-CAM overlay of every stage, captioned with the class it explains (its name in ``lang``)."""
    target = tr(s.target_name, lang)
    return [(gradcam_overlay(s.image, cam), f"{name} · “{target}”") for name, cam in s.cams.items()]


def feature_montages(s: Snapshot, lang: str = "en") -> tuple[np.ndarray, np.ndarray]:
    """The five stages' feature grids and their five Grad-CAMs, each as one captioned picture (H, W, 3).

    One picture per row of five, not a gallery of five: a feature view is three files for a browser to fetch, not
    eleven (benchmarks/load.py: serving the pictures was the largest cost of a class drawing at once).
    """
    grids = [(img, tr(c, lang)) for img, c in feature_maps(s, lang=lang)]
    cams = [(enlarge(img, 2), tr(c, lang)) for img, c in gradcams(s, lang)]
    return (
        montage(grids, lang=lang, title=tr("Stage outputs", lang)),
        montage(cams, lang=lang, title=tr("Grad-CAM per stage", lang)),
    )


# -- whole views, each a job for the painter: a tuple of pictures ---------------------------------------------------
def feature_view(s: Snapshot, stage: str, lang: str = "en") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The feature tab: the stages' grids, their Grad-CAMs and every channel of ``stage`` (each with its caption)."""
    grids, cams = feature_montages(s, lang)
    grid, caption = stage_channels(s, stage, lang)
    # The caption drawn in, as the montages' (a gr.update of the label cost Gradio a rebuild of the component and its
    # schema at every view, 13% of the interpreter's time at 30 students, and a language switch relabelled it).
    return grids, cams, montage([(grid, tr(caption, lang))], lang=lang)


@dataclass(frozen=True)
class ChartSpec:
    """What a model's block statistics chart shows for every input: per block, its name, its shortcut kind and
    the sample-set means."""

    names: tuple[str, ...]
    projects: tuple[bool, ...]
    mean_ratio: tuple[float, ...]
    mean_cosine: tuple[float, ...]


@functools.lru_cache(maxsize=32)  # a figure and its drawn background each, about 1 MB (a model, language, width)
def block_chart(spec: ChartSpec, lang: str, narrow: bool) -> BlockChart:
    """The residual view's block statistics chart for ``spec`` in ``lang`` (for a phone's column where ``narrow``),
    drawn once and kept. (Every argument is given, by position: the cache keys ``f(a, b)``, ``f(a, b, False)`` apart.)
    """
    return BlockChart(spec.names, spec.projects, spec.mean_ratio, spec.mean_cosine, lang, narrow)


def residual_view(
    s: Snapshot, spec: ChartSpec, lang: str = "en", narrow: bool = False, projector: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The residual tab: the block panel and the block statistics chart of this input (both for a phone's column
    where ``narrow``; the panel a stage a row in the ``projector`` view, ``stage_panel``, unless ``narrow``)."""
    chart = block_chart(spec, lang, narrow).draw([b.ratio for b in s.blocks], [b.cosine for b in s.blocks])
    if projector and not narrow:
        return stage_panel(s.blocks, lang), chart
    return block_panel(s.blocks, lang=lang, narrow=narrow), chart


def explanation(s: Snapshot) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """/explain's pictures: the stages' grids, their Grad-CAMs and the block panel (in English)."""
    return (*feature_montages(s), block_panel(s.blocks))


# zlib's fastest level: a feature view's three pictures ~10 ms less than level 6, ~15% larger (this machine). ISA-L's
# level 1 (resnet/png.py); its level 0 is 8% faster with 17% larger files (36 view pictures, 2026-12-07).
PNG_LEVEL = 1


HASH_PIECE = 2047  # hashlib hashes a piece under 2,048 bytes without giving the GIL up (CPython's threshold)
WRITTEN_KEPT = 4096  # pictures this process wrote, remembered so that a new one is written without a failed look


def digest(data: np.ndarray | bytes) -> str:
    """A 32-hex-digit digest of an array's bytes (with its shape) or of bytes, hashed in pieces that keep the GIL.

    A label's two previews and the canvas's fingerprint are hashed on the label's thread while, under a class,
    other threads wait for the interpreter: hashed whole, each hash gave the GIL up and waited to win it back
    (the canvas's fingerprint 0.4 ms alone, 5.6 ms beside a thread running Python; in pieces 0.4 and 0.5 ms).

    SHA-1, not a security boundary here (the names of the app's own pictures, the keys of its own caches): this
    machine's CPU hashes it in hardware, an explanation's three pictures in pieces 2.05 ms against BLAKE2b's 3.40 ms,
    and without that OpenSSL's SHA-1 is still about as fast as BLAKE2b."""
    h = hashlib.sha1(usedforsecurity=False)
    if isinstance(data, np.ndarray):
        h.update(str(data.shape).encode())
        data = np.ascontiguousarray(data)
    view = memoryview(data).cast("B")
    for i in range(0, len(view), HASH_PIECE):
        h.update(view[i : i + HASH_PIECE])
    return h.hexdigest()[:32]


def _write_all(fd: int, data: memoryview) -> None:
    """All of ``data`` into the file ``fd``, then close it."""
    try:
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _create(path: str, folder: str | Path) -> int:
    """A new file at ``path`` opened for writing (``FileExistsError`` if there is one), ``folder`` made first where
    it does not exist yet (Gradio's cache folder is made with its first file)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        return os.open(path, flags, 0o644)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        return os.open(path, flags, 0o644)


_written: dict[str, None] = {}  # paths of pictures this process wrote, oldest first (at most WRITTEN_KEPT)
_written_lock = threading.Lock()


def png_file(picture: np.ndarray, folder: str | Path, name: str = "image") -> str:
    """(H, W[, 3]) uint8 -> the path of a PNG of it at ``PNG_LEVEL``, ``folder``/<digest of the pixels>-``name``.png,
    where Gradio keeps the files it serves. Gradio serves a file it finds in its cache as it is (and its cache
    cleaner removes it in time) instead of encoding the array again at zlib's default level 6.

    A picture this process already wrote is not written again; its times are set to now instead, since Gradio's
    cleaner removes the files older than ``RESNET_CACHE_S`` by their ctime: a picture first written an hour ago was
    removed while still being answered with, and its next fetch failed (403: one of 1,763 pictures in a 60-student
    run). A picture not written by this process (a new drawing's, or one an earlier server wrote) is written at
    once, without first looking for it, in three system calls (each gives the GIL up and, under a class, waits
    to win it back): a label's two previews beside a thread running Python p50 70 -> 32 ms (one thread, this machine,
    ``benchmarks/label_gil.py``; before, each file also had a directory of its own, which Gradio's cleaner left
    behind empty, a failed look, a hash and a row copy that gave the GIL up).

    Measured on the view pictures, one thread: stage grids 7.7 -> 4.6 ms (32 -> 38 KB), Grad-CAMs 5.4 -> 2.1 ms,
    the block panel 11.6 -> 8.7 ms (60 -> 63 KB) with Pillow at level 1; unfiltered rows (``png.encode``) then
    take 1.9, 1.1 and 2.4 ms (46, 37, 61 KB).
    """
    stem = f"{digest(picture)}-{name}"
    path = os.path.join(folder, stem + ".png")
    if path in _written:
        try:
            os.utime(path)  # in use again: young for the cleaner
            return path
        except FileNotFoundError:  # the cleaner removed it: written again below
            pass
    encoded = memoryview(png.encode(picture, PNG_LEVEL))
    try:  # three system calls where no one else is writing it (O_EXCL) ...
        fd = _create(path, folder)
    except FileExistsError:  # ... else whole or not at all, since others may be serving it
        part = os.path.join(folder, f".{stem}.{os.getpid()}.{threading.get_ident()}.part")
        _write_all(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), encoded)
        os.replace(part, path)
    else:
        _write_all(fd, encoded)
    with _written_lock:
        _written[path] = None
        while len(_written) > WRITTEN_KEPT:
            del _written[next(iter(_written))]
    return path
