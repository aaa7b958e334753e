"""The texts in a view's pictures: drawn from kept stamps (``pictures.draw_text``) against Pillow's ``ImageDraw.text``.

    python benchmarks/view_texts.py [--drawings 40]

For the same new drawings (each a stroke of its own, as in benchmarks/load.py), in one process with one torch
thread, as the server runs, it times side by side, interleaved, the drawing of a view's pictures from its analysis
(the analysis itself is done once, before): the feature view (the stages' grids and Grad-CAMs, all channels of b3),
the residual view's block panel, and /explain's pictures (the same grids and Grad-CAMs and the block panel), in
English and Chinese; medians and p95 in ms, and the ratio of the medians. The pictures are pixel-equal
(tests/test_viz.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Drawings  # noqa: E402

import app  # noqa: E402
from resnet import pictures  # noqa: E402


def pillow_text(img, xy, words, fill, font) -> None:
    """The reference: Pillow renders every text again."""
    ImageDraw.Draw(img).text(xy, words, fill=fill, font=font)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drawings", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ctx = app.Context.create()
    drawings = Drawings().arrays(args.drawings)
    analyses = [ctx.analyser.analyse(d, "digits").snapshot for d in drawings]
    views: dict[str, Callable] = {
        "feature view": lambda s, lang: (pictures.feature_montages(s, lang), pictures.stage_channels(s, "b3", lang)),
        "block panel": lambda s, lang: pictures.block_panel(s.blocks, lang=lang),
        "/explain": lambda s, lang: (pictures.feature_montages(s, lang), pictures.block_panel(s.blocks)),
    }
    stamped = pictures.draw_text
    print(f"{len(analyses)} new drawings, one torch thread; ms per view (the texts and everything else drawn)\n")
    print("| view | language | Pillow's text p50 / p95 | stamps p50 / p95 | ratio of medians |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, draw in views.items():
        for lang in ("en", "zh"):
            times: dict[str, list[float]] = {"pillow": [], "stamps": []}
            for a in analyses:
                for kind, text in (("pillow", pillow_text), ("stamps", stamped)):
                    pictures.draw_text = text
                    start = time.perf_counter()
                    draw(a, lang)
                    times[kind].append((time.perf_counter() - start) * 1000)
            pictures.draw_text = stamped
            p = {k: (statistics.median(v), float(np.percentile(v, 95))) for k, v in times.items()}
            print(
                f"| {name} | {lang} | {p['pillow'][0]:.1f} / {p['pillow'][1]:.1f} | {p['stamps'][0]:.1f} / "
                f"{p['stamps'][1]:.1f} | {p['pillow'][0] / p['stamps'][0]:.2f}× |"
            )


if __name__ == "__main__":
    main()
