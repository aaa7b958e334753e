"""Pictures of what happens inside the network, as uint8 RGB arrays (fast to build, send and test).

Feature grids are tiles on a white grid (``tile_grid``) coloured by a colormap lookup table; text is drawn with Pillow.
Charts are ``matplotlib.figure.Figure`` objects (no global pyplot state).
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
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.font_manager
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

from resnet import png
from resnet.model import STAGES, ResNet
from resnet.paths import PathStats
from resnet.probes import BlockStats, BlockTrace
from resnet.sampleset import SampleSetStats
from resnet.strings import tr

if TYPE_CHECKING:
    from resnet.analysis import Analysis

SEQUENTIAL = "viridis"  # activations after a ReLU: 0 .. max
DIVERGING = "RdBu_r"  # signed tensors (F(x), F(x) + x): blue < 0 < red, white at 0


@cache
def _lut(name: str) -> torch.Tensor:
    """(256, 3) uint8 colour table of a matplotlib colormap."""
    return torch.from_numpy((matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8))


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


@functools.lru_cache(maxsize=4096)  # ~2 KB a stamp
def _stamp(words: str, font: ImageFont.FreeTypeFont, dx: float, dy: float) -> Image.Image:
    """The coverage (mode "L") of ``words`` drawn at (STAMP_PAD + dx, STAMP_PAD + dy) with ``font``."""
    _, _, right, bottom = font.getbbox(words)
    stamp = Image.new("L", (int(right) + 2 * STAMP_PAD + 2, int(bottom) + 2 * STAMP_PAD + 2), 0)
    ImageDraw.Draw(stamp).text((STAMP_PAD + dx, STAMP_PAD + dy), words, fill=255, font=font)
    return stamp


def colorize(t: torch.Tensor, vmin: float, vmax: float, cmap: str = SEQUENTIAL) -> torch.Tensor:
    """(..., H, W) values -> (..., H, W, 3) uint8 through ``cmap`` with the scale [vmin, vmax]."""
    scaled = ((t.float() - vmin) / max(vmax - vmin, 1e-12)).clamp(0, 1)
    return _lut(cmap)[(scaled * 255).round().long()]


def colour_tiles(maps: torch.Tensor, size: int, vmin: float, vmax: float, cmap: str = SEQUENTIAL) -> torch.Tensor:
    """(N, h, w) maps -> (N, size, size, 3) uint8 with visible pixels (nearest neighbour), coloured before they are
    enlarged: the same pixels as the maps enlarged and then coloured (nearest neighbour picks a source pixel whatever
    its colour; a test holds them equal), with the colour table read h·w times a map instead of size² (a stage's 16
    tiles 0.56 -> 0.28 ms)."""
    rgb = colorize(maps, vmin, vmax, cmap).permute(0, 3, 1, 2)  # (N, 3, h, w)
    return F.interpolate(rgb, size=(size, size), mode="nearest").permute(0, 2, 3, 1)


def enlarge(image: np.ndarray, k: int) -> np.ndarray:
    """(H, W[, 3]) -> (kH, kW[, 3]) by repeating pixels, so a 28x28 preview shows its pixels, not a blur."""
    return image.repeat(k, axis=0).repeat(k, axis=1)


def order_channels(acts: torch.Tensor) -> torch.Tensor:
    """Channel indices of (C, H, W) sorted by mean activation, strongest first."""
    return acts.mean(dim=(1, 2)).argsort(descending=True)


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
    bar = colorize(torch.linspace(vmin, vmax, width)[None].expand(10, width), vmin, vmax, cmap).numpy()
    img = Image.new("RGB", (width, 28), "white")
    img.paste(Image.fromarray(bar), (0, 0))
    f = font(11, lang)
    left, right = (tr(e, lang) for e in ends) if ends else (f"{vmin:.2g}", f"{vmax:.2g}")
    draw_text(img, (1, 12), left, "black", f)
    draw_text(img, (width - f.getlength(right) - 1, 12), right, "black", f)
    if label:
        label = tr(label, lang)
        draw_text(img, ((width - f.getlength(label)) / 2, 12), label, "#444", f)
    return np.asarray(img)


def tile_grid(tiles: torch.Tensor, columns: int, padding: int = 2, pad_value: int = 255) -> torch.Tensor:
    """(N, C, h, w) tiles -> (C, H, W): rows of ``columns`` tiles, ``padding`` px of ``pad_value`` around each.

    What ``torchvision.utils.make_grid`` draws (a test holds them equal), without importing torchvision into the
    server: its import cost the app 160 MB of resident memory and 1.3 s of import time, for this one function.
    """
    n, c, h, w = tiles.shape
    if n == 1:
        return tiles[0]  # as make_grid: one tile, no border
    columns = min(columns, n)
    rows = -(-n // columns)
    grid = tiles.new_full((c, rows * (h + padding) + padding, columns * (w + padding) + padding), pad_value)
    for i, tile in enumerate(tiles):
        top, left = (i // columns) * (h + padding) + padding, (i % columns) * (w + padding) + padding
        grid[:, top : top + h, left : left + w] = tile
    return grid


def feature_grid(
    acts: torch.Tensor, max_channels: int | None = 16, tile: int = 48, columns: int | None = None, lang: str = "en"
) -> tuple[np.ndarray, list[int]]:
    """A stage's channel activations (C, H, W) as one picture with its colour scale.

    Channels are ordered by mean activation (strongest first) and share one scale from 0 to the largest value
    shown, so tiles are comparable. Returns the (H', W', 3) uint8 image and the channel indices shown.
    """
    order = order_channels(acts)
    if max_channels is not None:
        order = order[:max_channels]
    maps = acts[order]
    vmax = float(maps.max().clamp(min=1e-6))
    vmin = min(0.0, float(maps.min()))
    rgb = colour_tiles(maps, tile, vmin, vmax).permute(0, 3, 1, 2)  # (N, 3, tile, tile)
    ncol = columns or int(np.ceil(np.sqrt(len(order))))
    grid = tile_grid(rgb, ncol).permute(1, 2, 0).numpy()
    bar = colour_bar(grid.shape[1], vmin, vmax, SEQUENTIAL, "activation", lang=lang)
    margin = np.full((30, grid.shape[1], 3), 255, np.uint8)  # room for a gallery caption below the scale
    return np.concatenate([grid, bar, margin]), order.tolist()


def gradcam_overlay(image: torch.Tensor, cam: torch.Tensor, alpha: float = 0.5) -> np.ndarray:
    """The input (S, S) in [0, 1] in grey with a Grad-CAM map (S, S) in [0, 1] laid over it, (S, S, 3) uint8."""
    grey = (image.clamp(0, 1)[..., None] * 255).expand(*image.shape, 3)
    heat = colorize(cam, 0, 1, "jet").float()
    return ((1 - alpha) * grey + alpha * heat).round().byte().numpy()


def shortcut_kind(projects: bool, plain: bool = False) -> str:
    """The shortcut of a block in words: "identity", "1×1 projection" or "none (plain)"."""
    return "none (plain)" if plain else "1×1 projection" if projects else "identity"


BLOCK_COLUMNS = ("shortcut x", "residual F(x)", "F(x) + x", "ReLU output")


def block_panel(
    blocks: Sequence[BlockTrace], stats: Sequence[BlockStats], tile: int = 84, lang: str = "en"
) -> np.ndarray:
    """Every block of one image (index 0) side by side: x, F(x), F(x) + x and the output, channel-averaged.

    The four tiles of a block share one symmetric scale (blue < 0 < red), so the size of F(x) against x reads
    directly. One row per block, labelled with its name, its shortcut kind and ‖F(x)‖/‖x‖, cos(F(x), x); every
    text in ``lang``.
    """
    label_w, head_h, gap = 190, 22, 4
    width = label_w + len(BLOCK_COLUMNS) * (tile + gap)
    img = Image.new("RGB", (width, head_h + len(blocks) * (tile + gap) + 30), "white")
    d = ImageDraw.Draw(img)
    f11, f12 = font(11, lang), font(12, lang)
    for j, title in enumerate(BLOCK_COLUMNS):
        x0, title = label_w + j * (tile + gap), tr(title, lang)
        draw_text(img, (x0 + (tile - f12.getlength(title)) / 2, 4), title, "black", f12)
    for i, (b, s) in enumerate(zip(blocks, stats, strict=True)):
        # A plain block has no shortcut and adds nothing: its x and F(x) + x tiles stay empty, F(x) stands alone.
        shown = [b.shortcut, b.residual, b.preact, b.output] if not b.plain else [None, b.residual, None, b.output]
        maps = torch.stack([t[0].mean(0) for t in shown if t is not None])  # (k, h, w)
        vmax = float(maps.abs().max().clamp(min=1e-6))
        tiles = iter(colour_tiles(maps, tile, -vmax, vmax, DIVERGING).numpy())
        y0 = head_h + i * (tile + gap)
        for j, t in enumerate(shown):
            x0 = label_w + j * (tile + gap)
            if t is None:
                d.rectangle((x0, y0, x0 + tile - 1, y0 + tile - 1), outline="#bbb")
                words = tr("no shortcut" if j == 0 else "nothing added", lang)
                draw_text(img, (x0 + (tile - f11.getlength(words)) / 2, y0 + tile / 2 - 6), words, "#888", f11)
                continue
            img.paste(Image.fromarray(next(tiles)), (x0, y0))
        kind = shortcut_kind(b.projects, b.plain)
        h, w = b.output.shape[-2:]
        ratio, cosine = float(s.ratio[0]), float(s.cosine[0])
        lines = [
            f"{b.name}  ({b.output.shape[1]}×{h}×{w})",
            f"shortcut: {kind}",
            "LESIONED: F(x) removed" if b.lesioned else f"‖F(x)‖/‖x‖ = {ratio:.2f}" if ratio == ratio else "",
            "" if b.lesioned or cosine != cosine else f"cos(F(x), x) = {cosine:+.2f}",
            f"scale ±{vmax:.2g}",
        ]
        for k, line in enumerate(lines):
            colour = "#b00" if b.lesioned and k == 2 else "black"
            draw_text(img, (6, y0 + 4 + 15 * k), tr(line, lang), colour, f12)
    width = len(BLOCK_COLUMNS) * (tile + gap) - gap
    bar = colour_bar(width, -1, 1, DIVERGING, "channel mean; scale per block", ("−scale", "+scale"), lang)
    img.paste(Image.fromarray(bar), (label_w, img.height - 28))
    return np.asarray(img)


RESIDUAL_COLOUR, PLAIN_COLOUR = "#3b6fb6", "#c0392b"


@dataclass
class LesionSeries:
    """One model's bars in the lesion chart."""

    name: str
    accuracy: Sequence[float]  # per block, in [0, 1]
    baseline: float  # with no lesion
    plain: bool


def lesion_figure(
    names: Sequence[str], downsamples: Sequence[bool], series: Sequence[LesionSeries], title: str
) -> Figure:
    """Sample-set accuracy with each single block's residual branch removed; downsampling blocks hatched.

    Several series (a residual network and its plain twin, as in Veit et al. 2016, Fig. 3) stand side by side:
    residual bars blue, plain bars red, each with its no-lesion accuracy as a dashed line.
    """
    fig = Figure(figsize=(6.4, 3.6), dpi=90, layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(names))
    width = 0.8 / len(series)
    for k, s in enumerate(series):
        colour = PLAIN_COLOUR if s.plain else RESIDUAL_COLOUR
        x = pos - 0.4 + width * (k + 0.5)
        bars = ax.bar(x, [100 * a for a in s.accuracy], width, color=colour, label=s.name)
        for bar, down in zip(bars, downsamples, strict=True):
            if down:
                bar.set_hatch("//")
        ax.axhline(
            100 * s.baseline, color=colour, linestyle="--", linewidth=1, label=f"no lesion: {100 * s.baseline:.1f}%"
        )
    ax.axhline(10, color="#999", linestyle=":", linewidth=1, label="chance: 10%")
    ax.set_xticks(pos, [f"{n}\n(downsamples)" if p else n for n, p in zip(names, downsamples, strict=True)], fontsize=7)
    ax.set_ylabel("accuracy (%)", fontsize=8)
    ax.set_ylim(0, 105)
    ax.set_title(f"{title}: sample-set accuracy with one block's F(x) removed", fontsize=9)
    fig.legend(fontsize=6, loc="outside lower center", ncol=3 * len(series) - (len(series) - 1))
    return fig


def lesion_chart(model: ResNet, models: Sequence[tuple[str, bool, SampleSetStats]], title: str) -> Figure:
    """``lesion_figure`` from sample-set statistics: ``models`` = (name, plain, statistics), residual first."""
    names = [name for name, _ in model.blocks()]
    downsamples = [not block.keeps_shape for _, block in model.blocks()]
    series = [
        LesionSeries(name, [stats.lesion_accuracy[b] for b in names], stats.baseline, plain)
        for name, plain, stats in sorted(models, key=lambda m: m[1])
    ]
    return lesion_figure(names, downsamples, series, title)


def path_figure(series: Sequence[tuple[str, bool, PathStats]], current: tuple[int, float] | None, title: str) -> Figure:
    """Veit et al.'s path ensemble: accuracy against the number of blocks removed, over all lesion subsets.

    ``series`` = (name, plain, statistics): per model the mean over subsets (solid: any blocks; dotted: identity
    blocks only) with the range of all subsets shaded. ``current`` = (blocks removed, accuracy) of the lesion set
    ticked in the app, drawn as a point.
    """
    fig = Figure(figsize=(6.4, 3.4), dpi=90, layout="constrained")
    ax = fig.subplots()
    for name, plain, stats in series:
        colour = PLAIN_COLOUR if plain else RESIDUAL_COLOUR
        rows = stats.by_removed()
        k = np.arange(len(rows))
        mean, low, high = (np.array([r[i] for r in rows]) * 100 for i in range(3))
        ax.fill_between(k, low, high, color=colour, alpha=0.12, linewidth=0)
        ax.plot(k, mean, color=colour, marker="o", markersize=3, label=f"{name}: mean over all subsets")
        identity = stats.by_removed(stats.identity)
        ax.plot(
            range(len(identity)),
            [100 * r[0] for r in identity],
            color=colour,
            linestyle=":",
            marker=".",
            label=f"{name}: identity blocks only",
        )
    if current is not None:
        ax.plot(
            [current[0]],
            [100 * current[1]],
            marker="*",
            markersize=14,
            color="#f1c40f",
            markeredgecolor="black",
            linestyle="none",
            label=f"your lesions: {100 * current[1]:.1f}%",
            zorder=5,
        )
    ax.axhline(10, color="#999", linestyle=":", linewidth=1)
    ax.set_xlabel("blocks removed (of 8; shaded: range over all subsets)", fontsize=8)
    ax.set_ylabel("sample-set accuracy (%)", fontsize=8)
    ax.set_ylim(0, 105)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"{title}: the 256 paths of 8 blocks (Veit et al. 2016)", fontsize=9)
    ax.legend(fontsize=6, loc="upper right")
    return fig


def montage(
    items: Sequence[tuple[np.ndarray, str]], gap: int = 8, caption_h: int = 20, lang: str = "en", title: str = ""
) -> np.ndarray:
    """Pictures (H_i, W_i, 3) side by side on white with their captions above, and the ``title`` above all: one
    image (H, W, 3) instead of many."""
    title_h = 24 if title else 0
    height = max(img.shape[0] for img, _ in items) + caption_h + title_h
    width = sum(img.shape[1] for img, _ in items) + gap * (len(items) - 1)
    canvas = Image.new("RGB", (width, height), "white")
    if title:
        draw_text(canvas, (2, 2), title, "black", font(15, lang))
    x = 0
    for img, caption in items:
        canvas.paste(Image.fromarray(img), (x, caption_h + title_h))
        draw_text(canvas, (x + 2, title_h + 3), caption, "black", font(12, lang))
        x += img.shape[1] + gap
    return np.asarray(canvas)


# -- the views of one analysis (pure functions of an ``Analysis`` and, where named, the sample-set statistics) --
def feature_maps(a: Analysis, max_channels: int | None = 16, lang: str = "en") -> list[tuple[np.ndarray, str]]:
    """One grid per stage (b1..b5) with captions like "b3 · 128 × 8 × 8 (top 16)"."""
    out = []
    for name in STAGES:
        acts = a.trace.stages[name][0]
        grid, _ = feature_grid(acts, max_channels, tile=48 if max_channels else 24, lang=lang)
        c, h, w = acts.shape
        shown = f"top {min(max_channels, c)}" if max_channels else "all"
        out.append((grid, f"{name} · {c} × {h} × {w} ({shown})"))
    return out


def stage_channels(a: Analysis, stage: str, lang: str = "en") -> tuple[np.ndarray, str]:
    """Every channel of one stage, strongest first, and its caption."""
    acts = a.trace.stages[stage][0]
    c, h, w = acts.shape
    grid, _ = feature_grid(acts, None, tile=max(16, 128 // h), columns=int(np.ceil(np.sqrt(c))), lang=lang)
    return grid, f"{stage} · {c} × {h} × {w}: all {c} channels, strongest first"


def gradcams(a: Analysis) -> list[tuple[np.ndarray, str]]:
    """The Grad-CAM overlay of every stage, captioned with the class it explains."""
    image = a.prepared.tensor[0, 0]
    return [(gradcam_overlay(image, cam), f"{name} · “{a.target_name}”") for name, cam in a.cams.items()]


@dataclass
class BlockRow:
    """One block's statistics for one input, beside the sample-set means."""

    block: str
    projects: bool  # the shortcut is a 1×1 projection
    plain: bool  # no shortcut at all (the plain twin)
    lesioned: bool
    ratio: float  # ‖F(x)‖ / ‖x‖
    cosine: float  # cos(F(x), x)
    mean_ratio: float
    mean_cosine: float

    @property
    def shortcut(self) -> str:
        return shortcut_kind(self.projects, self.plain)


def block_rows(a: Analysis, sample_stats: SampleSetStats) -> list[BlockRow]:
    """Per block: ‖F(x)‖/‖x‖ and cos(F(x), x) for this input and averaged over the sample set."""
    return [
        BlockRow(
            b.name,
            b.projects,
            b.plain,
            b.lesioned,
            float(s.ratio[0]),
            float(s.cosine[0]),
            sample_stats.mean_ratio[b.name],
            sample_stats.mean_cosine[b.name],
        )
        for b, s in zip(a.trace.blocks, a.stats, strict=True)
    ]


PNG_LEVEL = 1  # zlib's fastest: a feature view's three pictures ~10 ms less than level 6, ~15% larger (this machine)


def png_file(picture: np.ndarray, folder: str | Path, name: str = "image") -> str:
    """(H, W[, 3]) uint8 -> the path of a PNG of it at ``PNG_LEVEL``, in ``folder``/<hash of the picture>/, where
    Gradio keeps the files it serves. Gradio serves a file it finds in its cache as it is (and its cache cleaner
    removes it in time) instead of encoding the array again at zlib's default level 6. A picture already written
    is not encoded again (the hash is of the pixels, ~1 ms for a 1 MB picture); its times are set to now instead,
    since Gradio's cleaner removes the files older than ``RESNET_CACHE_S`` by their ctime: a picture first written an
    hour ago, or by an earlier server (a shipped sample's view, the floor's fixed answer), was removed while still
    being answered with, and its next fetch failed (403: one of 1,763 pictures in a 60-student run).

    Measured on the view pictures, one thread: stage grids 7.7 -> 4.6 ms (32 -> 38 KB), Grad-CAMs 5.4 -> 2.1 ms,
    the block panel 11.6 -> 8.7 ms (60 -> 63 KB) with Pillow at level 1; unfiltered rows (``png.encode``) then
    take 1.9, 1.1 and 2.4 ms (46, 37, 61 KB).
    """
    picture = np.ascontiguousarray(picture)
    digest = hashlib.blake2b(str(picture.shape).encode(), digest_size=16)
    digest.update(picture.data)
    sub = Path(folder) / digest.hexdigest()
    path = sub / f"{name}.png"
    try:
        os.utime(path)  # in use again: young for the cleaner
    except FileNotFoundError:
        encoded = png.encode(picture, PNG_LEVEL)
        sub.mkdir(parents=True, exist_ok=True)
        part = sub / f".{name}.{threading.get_ident()}.part"  # whole or not at all: another thread may serve it
        part.write_bytes(encoded)
        os.replace(part, path)
    return str(path)
