"""Make the external test sets under assets/external/ (see resnet/external.py and the README).

    pip download --no-deps scikit-learn==1.9.1 -d /tmp/ext          # the UCI optdigits test set is inside
    (cd /tmp/ext && npm pack emoji-datasource-google@16.0.0 emoji-datasource-twitter@16.0.0)
    (cd /tmp/ext && npm pack @lobehub/fluent-emoji-3d@1.1.0)                  # Microsoft's 3D-rendered Fluent Emoji
    python scripts/make_external.py --sources /tmp/ext

Nothing here comes from MNIST or Fashion-MNIST, and nothing made here is ever trained on. Every random choice is
seeded, so the same sources give the same files.
"""

from __future__ import annotations

import argparse
import gzip
import io
import math
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resnet.external import EXTERNAL_DIR

Stroke = list[tuple[float, float]]  # points in the unit box, x right, y down


# ---------------------------------------------------------------- digits-writers: UCI optdigits (real handwriting)


def optdigits(sources: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 test digits of UCI optdigits (13 writers) as (N, 32, 32) dark ink on white, and labels (N,).

    Each image is 8x8 counts (0-16) of ink pixels in 4x4 blocks of a 32x32 bitmap; a bicubic upscale to 32x32
    gives back a (soft) drawing at the bitmap's own size.
    """
    wheel = next(sources.glob("scikit_learn-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        raw = gzip.decompress(z.read("sklearn/datasets/data/digits.csv.gz"))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",")
    counts, labels = table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)
    images = [
        np.asarray(Image.fromarray((255 - c * 255 / 16).astype(np.uint8)).resize((32, 32), Image.Resampling.BICUBIC))
        for c in counts
    ]
    return np.stack(images), labels


# ---------------------------------------------------------------- digits-pens: strokes on the app's canvas


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 40) -> Stroke:
    """Points on an ellipse from angle a0 to a1 (degrees, clockwise on screen since y points down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(a0, a1, n)]


def eight() -> Stroke:
    return [(0.5 + 0.32 * math.sin(2 * t), 0.5 + 0.5 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 80)]


# Several allographs per digit (a 1 with and without a flag or base, an open and a closed 4, a 7 with a bar ...).
TEMPLATES: dict[int, list[list[Stroke]]] = {
    0: [[arc(0.5, 0.5, 0.38, 0.5, -90, 275)], [arc(0.5, 0.5, 0.3, 0.5, -100, 265)]],
    1: [
        [[(0.5, 0.0), (0.5, 1.0)]],
        [[(0.25, 0.22), (0.55, 0.0), (0.55, 1.0)]],
        [[(0.25, 0.22), (0.55, 0.0), (0.55, 1.0)], [(0.3, 1.0), (0.8, 1.0)]],
    ],
    2: [
        [[*arc(0.5, 0.28, 0.38, 0.28, 190, 380), (0.1, 1.0), (0.92, 1.0)]],
        [[*arc(0.5, 0.28, 0.38, 0.28, 190, 380), (0.12, 0.98), (0.5, 0.9), (0.92, 1.0)]],
    ],
    3: [
        [arc(0.5, 0.25, 0.35, 0.25, 200, 450) + arc(0.5, 0.75, 0.4, 0.25, -90, 160)],
        [[(0.15, 0.0), (0.8, 0.0), (0.45, 0.42), *arc(0.5, 0.72, 0.38, 0.28, -95, 160)]],
    ],
    4: [
        [[(0.6, 0.0), (0.08, 0.68), (0.92, 0.68)], [(0.68, 0.3), (0.68, 1.0)]],
        [[(0.62, 0.0), (0.08, 0.68), (0.92, 0.68)], [(0.62, 0.0), (0.62, 1.0)]],
        [[(0.2, 0.0), (0.12, 0.6), (0.9, 0.6)], [(0.72, 0.05), (0.72, 1.0)]],
    ],
    5: [
        [[(0.85, 0.0), (0.25, 0.0), (0.2, 0.45), *arc(0.5, 0.7, 0.38, 0.3, -145, 150)]],
        [[(0.22, 0.0), (0.2, 0.45), *arc(0.5, 0.7, 0.38, 0.3, -145, 150)], [(0.22, 0.0), (0.85, 0.0)]],
    ],
    6: [
        [[(0.78, 0.02), (0.5, 0.15), (0.28, 0.4), (0.15, 0.7), *arc(0.5, 0.72, 0.34, 0.28, 180, 540)]],
        [arc(0.9, 0.7, 0.75, 0.7, 235, 180, 20) + arc(0.45, 0.72, 0.3, 0.28, 180, 520)],
    ],
    7: [
        [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)]],
        [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)], [(0.35, 0.5), (0.85, 0.5)]],
        [[(0.1, 0.15), (0.15, 0.0), (0.9, 0.0), (0.55, 0.5), (0.45, 1.0)]],
    ],
    8: [[eight()], [arc(0.5, 0.25, 0.3, 0.25, 90, 450), arc(0.5, 0.73, 0.38, 0.27, -90, 270)]],
    9: [
        [[*arc(0.5, 0.28, 0.36, 0.28, 0, 360), (0.86, 0.28), (0.8, 1.0)]],
        [[*arc(0.5, 0.28, 0.36, 0.28, 0, 360), (0.86, 0.28), (0.82, 0.7), (0.55, 1.0), (0.25, 0.92)]],
    ],
}

CANVAS = 280  # the app's sketchpad works at this size


def pen_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One digit as a person might draw it on the canvas: (280, 280) uint8, dark ink on white.

    A random allograph, bent by a smooth random warp, slanted (shear), turned, squeezed, at a random size and
    place, drawn with a pen 2-34 px wide in black to mid-grey ink.
    """
    strokes = TEMPLATES[digit][rng.integers(len(TEMPLATES[digit]))]
    k1, k2 = rng.uniform(1, 3, 2)
    p1, p2 = rng.uniform(0, 2 * math.pi, 2)
    amp = rng.uniform(0, 0.05, 2)
    shear, turn = rng.uniform(-0.45, 0.3), math.radians(rng.uniform(-12, 12))
    width = rng.uniform(0.55, 1.15)
    height = rng.uniform(0.25, 0.9) * CANVAS
    pen = min(math.exp(rng.uniform(math.log(2), math.log(34))), height / 4)

    def place(x: float, y: float) -> tuple[float, float]:
        x, y = x + amp[0] * math.sin(k1 * y * math.pi + p1), y + amp[1] * math.sin(k2 * x * math.pi + p2)
        x, y = (x - 0.5) * width + shear * (0.5 - y), y - 0.5
        return x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn)

    shaped = [[place(x, y) for x, y in s] for s in strokes]
    xs, ys = [p[0] for s in shaped for p in s], [p[1] for s in shaped for p in s]
    span_x, span_y = (max(xs) - min(xs)) * height, (max(ys) - min(ys)) * height
    margin = pen / 2 + 2
    left = rng.uniform(margin, max(margin, CANVAS - margin - span_x)) - min(xs) * height
    top = rng.uniform(margin, max(margin, CANVAS - margin - span_y)) - min(ys) * height
    ink = int(rng.integers(0, 110))
    img = Image.new("L", (CANVAS, CANVAS), 255)
    draw = ImageDraw.Draw(img)
    for s in shaped:
        pts = [(left + x * height, top + y * height) for x, y in s]
        draw.line(pts, fill=ink, width=round(pen), joint="curve")
        for x, y in (pts[0], pts[-1]):  # round pen ends
            draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=ink)
    return np.asarray(img)


def pen_digits(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_class)
    return np.stack([pen_digit(int(d), rng) for d in labels]), labels


# ------------------------------------------- clothing-products, clothing-renders: open emoji artwork as products

# Fashion-MNIST's classes and the emoji that show them (none shows a pullover; a kimono, bikini, high heel and
# flat shoe are left out as no class fits them).
CLOTHING_EMOJI: dict[int, tuple[str, ...]] = {
    0: ("1f455", "1f45a"),  # T-shirt/top: t-shirt, woman's clothes
    1: ("1f456",),  # Trouser: jeans
    3: ("1f457",),  # Dress
    4: ("1f9e5", "1f97c"),  # Coat: coat, lab coat
    5: ("1f461", "1fa74"),  # Sandal: woman's sandal, thong sandal
    6: ("1f454",),  # Shirt: necktie (a shirt and tie)
    7: ("1f45f",),  # Sneaker: running shoe
    8: ("1f45c", "1f45b", "1f45d", "1f392"),  # Bag: handbag, purse, clutch bag, backpack
    9: ("1f462", "1f97e"),  # Ankle boot: woman's boot, hiking boot
}
EMOJI_PACKAGES = ("google", "twitter")


def tarball_art(tgz: Path, member: str) -> Iterator[tuple[int, Image.Image]]:
    """(label, RGBA artwork) for each emoji of ``CLOTHING_EMOJI``, read from an npm tarball where ``member`` (with
    ``{code}``) names each emoji's picture."""
    with tarfile.open(tgz) as t:
        for label, codes in CLOTHING_EMOJI.items():
            for code in codes:
                data = t.extractfile(member.format(code=code)).read()
                yield label, Image.open(io.BytesIO(data)).convert("RGBA")


def emoji_art(sources: Path) -> Iterator[tuple[int, Image.Image]]:
    """(label, RGBA 64x64 artwork) for each style and emoji, read from the npm tarballs in ``sources``."""
    for style in EMOJI_PACKAGES:
        tgz = next(sources.glob(f"emoji-datasource-{style}-*.tgz"))
        yield from tarball_art(tgz, f"package/img/{style}/64/{{code}}.png")


def rendered_art(sources: Path) -> Iterator[tuple[int, Image.Image]]:
    """(label, RGBA 256x256 render) of each emoji in Microsoft's Fluent Emoji 3D (MIT), from its npm tarball: shaded
    3D renders of the same items, the nearest to photographs of the artwork reachable here."""
    yield from tarball_art(next(sources.glob("lobehub-fluent-emoji-3d-*.tgz")), "package/assets/{code}.webp")


def product_shot(art: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """The artwork as a product photo: (160, 160, 3) uint8.

    On white or off-white with a soft gradient, at 30-95% of the frame, off-centre, maybe mirrored or turned a
    little, with a soft drop shadow, through JPEG at quality 50-95.
    """
    frame = 160
    side = round(frame * rng.uniform(0.3, 0.95))
    obj = art.resize((side, side), Image.Resampling.LANCZOS)
    if rng.random() < 0.5:
        obj = obj.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    obj = obj.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BICUBIC, expand=True)
    paper = rng.uniform(228, 255)
    ramp = np.linspace(0, rng.uniform(-12, 0), frame)[:, None, None]  # light from above
    bg = np.clip(paper + ramp + np.zeros((frame, frame, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(bg).convert("RGBA")
    x = int(rng.integers(0, max(1, frame - obj.width + 1)))
    y = int(rng.integers(0, max(1, frame - obj.height + 1)))
    alpha = obj.getchannel("A")
    opacity = rng.uniform(0.15, 0.45)
    shadow = Image.new("RGBA", obj.size, (0, 0, 0, 0))
    shadow.putalpha(alpha.point(lambda a: int(a * opacity)))
    shadow = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(2, 6)))
    dx, dy = rng.integers(2, 9, 2)
    img.alpha_composite(shadow, (min(frame - 1, x + int(dx)), min(frame - 1, y + int(dy))))
    img.alpha_composite(obj, (x, y))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=int(rng.integers(50, 96)))
    return np.asarray(Image.open(buf).convert("RGB"))


def products(
    sources: Path, per_art: int, seed: int, artwork: Callable[[Path], Iterator[tuple[int, Image.Image]]] = emoji_art
) -> tuple[np.ndarray, np.ndarray]:
    """``per_art`` product shots of each piece of ``artwork`` (``emoji_art``, ``rendered_art``), seeded."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, art in artwork(sources):
        for _ in range(per_art):
            images.append(product_shot(art, rng))
            labels.append(label)
    return np.stack(images), np.array(labels, dtype=np.int64)


def save(name: str, make: Callable[[], tuple[np.ndarray, np.ndarray]], out: Path) -> None:
    images, labels = make()
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{name}.npz", images=images, labels=labels)
    size = (out / f"{name}.npz").stat().st_size / 1e6
    print(f"{name}: {len(labels)} images {images.shape[1:]}, classes {np.bincount(labels).tolist()}, {size:.1f} MB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sources", type=Path, required=True, help="folder with the scikit-learn wheel and emoji tarballs")
    p.add_argument("--out", type=Path, default=EXTERNAL_DIR)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--only", nargs="*", help="make only these sets (default: all)")
    args = p.parse_args()
    makers = {
        "digits-writers": lambda: optdigits(args.sources),
        "digits-pens": lambda: pen_digits(100, args.seed),
        "clothing-products": lambda: products(args.sources, 15, args.seed),
        "clothing-renders": lambda: products(args.sources, 30, args.seed, rendered_art),
    }
    for name, make in makers.items():
        if not args.only or name in args.only:
            save(name, make, args.out)


if __name__ == "__main__":
    main()
