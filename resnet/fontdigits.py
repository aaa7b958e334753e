"""Digits set in the machine's fonts, printed and handwritten: the allographs MNIST's writers rarely used.

MNIST's digits were written by American Census Bureau staff and students. Writers elsewhere (our
``digits-writers`` set, UCI optdigits) draw a 1 with a long flag and often a base, a 4 with a closed top, a 9 with a
straight tail: the shipped model read those 1s as 7 (1s: 89%). Fonts carry those shapes: a type designer's 1 has a
flag and a base, most 4s are closed, and the handwriting fonts in Debian were drawn from the hands of people in
several countries. Each digit of each font is rendered large, slanted and weighted at random, and normalised as
the app normalises an upload (``resnet.preprocess.normalise_digit``); training mixes them in as a share of extra
digits (``TrainConfig.fonts``), where the usual augmentation (turns, scale, shift, coarse twins) varies them further.

Never made from either external set. The fonts are Debian packages (``FONT_PACKAGES``, installed by
``scripts/setup.sh --dev``); a font that lacks real digit glyphs (a symbol font, or ten identical boxes) is left out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from resnet.preprocess import EmptyDrawingError, normalise_digit

FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
# Debian's packages of Latin text and handwriting fonts (scripts/setup.sh --dev installs the same list: tested).
FONT_PACKAGES = (
    *("fonts-dejavu-core", "fonts-dejavu-extra", "fonts-liberation", "fonts-freefont-ttf", "fonts-urw-base35"),
    *("fonts-cantarell", "fonts-lato", "fonts-comic-neue", "fonts-humor-sans", "fonts-dkg-handwriting", "fonts-breip"),
    *("fonts-bwht", "fonts-femkeklaver", "fonts-dancingscript", "fonts-kaushanscript", "fonts-klee", "fonts-kristi"),
)
SKIP = ("cjk", "emoji", "symbol", "d050000l", "math")  # no digits of their own, or digits as in the others
CANVAS = 192  # px: a glyph is rendered 96-128 px high, thick strokes and slant still inside
SLANT = 0.35  # shear, both ways: upright print to a writer's slope


def font_files(dirs: tuple[Path, ...] = FONT_DIRS) -> list[Path]:
    """The usable fonts, sorted by path: TrueType and OpenType files whose ten digits are ten distinct glyphs."""
    paths = sorted(p for d in dirs if d.is_dir() for p in d.rglob("*") if p.suffix.lower() in (".ttf", ".otf"))
    return [p for p in paths if not any(s in p.name.lower() for s in SKIP) and _has_digits(p)]


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _has_digits(path: Path) -> bool:
    try:
        glyphs = [_glyph(path, str(d), 64, 0) for d in range(10)]
    except OSError:
        return False
    return all(g.any() for g in glyphs) and len({g.tobytes() for g in glyphs}) == 10


def _glyph(path: Path, text: str, size: int, stroke: int) -> np.ndarray:
    """One character, white on black, (CANVAS, CANVAS) uint8."""
    img = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(img).text(
        (CANVAS // 2, CANVAS // 2),
        text,
        fill=255,
        font=_font(path, size),
        anchor="mm",
        stroke_width=stroke,
        stroke_fill=255,
    )
    return np.asarray(img)


def printed_digit(path: Path, digit: int, rng: np.random.Generator) -> np.ndarray:
    """One digit as printed: (CANVAS, CANVAS) uint8 white on black, 96-128 px high, weight +0-4 px, slant +-0.35."""
    glyph = _glyph(path, str(digit), int(rng.integers(96, 129)), int(rng.integers(0, 5)))
    shear = float(rng.uniform(-SLANT, SLANT))
    # Shear about the centre: x' = x + shear * (y - c), so the top leans right for a positive shear.
    slanted = Image.fromarray(glyph).transform(
        (CANVAS, CANVAS), Image.Transform.AFFINE, (1, shear, -shear * CANVAS / 2, 0, 1, 0), Image.Resampling.BILINEAR
    )
    return np.asarray(slanted)


def render_digit(path: Path, digit: int, rng: np.random.Generator) -> np.ndarray:
    """One printed digit (``printed_digit``) normalised as MNIST: (28, 28) uint8 light on dark."""
    try:
        out = normalise_digit(printed_digit(path, digit, rng).astype(np.float32) / 255)
    except (EmptyDrawingError, IndexError):
        return np.zeros((28, 28), np.uint8)
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def font_digits(n: int, seed: int = 0, paths: list[Path] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` font digits: images (n, 28, 28) uint8 and labels (n,) int64, every font and digit in turn.

    About 2 ms a digit on one core. Raises ``FileNotFoundError`` when no usable font is installed.
    """
    paths = font_files() if paths is None else paths
    if not paths:
        raise FileNotFoundError(f"no font with digits under {FONT_DIRS[0].parent}: install {' '.join(FONT_PACKAGES)}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    fonts = (np.arange(n) // 10) % len(paths)
    images = np.zeros((n, 28, 28), np.uint8)
    for i, (f, d) in enumerate(zip(fonts, labels, strict=True)):
        images[i] = render_digit(paths[f], int(d), rng)
    return images, labels.astype(np.int64)
