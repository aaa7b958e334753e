"""What a stroke's event spends decoding the canvas: Gradio's Sketchpad (background, layer and composite) against
the app's canvas (``app.composite_only``: the composite only), side by side on the same payloads.

    python benchmarks/canvas_decode.py        # ~10 s

Each payload is what the page sends for a stroke: a white 280 × 280 background, a transparent layer with a drawn
digit (``benchmarks/load.py``'s drawings), and their composite, as PNG files. Both are timed on one thread,
alternating, and their composites compared.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np
from gradio.components.image_editor import EditorData
from gradio.data_classes import FileData
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Drawings  # noqa: E402

import app  # noqa: E402

ROUNDS, PAYLOADS = 5, 24


def payloads(folder: Path) -> list[EditorData]:
    """A stroke's three PNGs for ``PAYLOADS`` new drawings of ``benchmarks/load.py``'s students (black ink on a
    transparent layer), each with a white background and their composite."""
    background = Image.new("RGBA", (280, 280), "white")
    background.save(folder / "background.png")
    rng, drawings = random.Random(0), Drawings()
    out = []
    for i in range(PAYLOADS):
        (folder / f"layer{i}.png").write_bytes(drawings.draw(rng))
        Image.alpha_composite(background, Image.open(folder / f"layer{i}.png")).save(folder / f"composite{i}.png")
        out.append(
            EditorData(
                background=FileData(path=str(folder / "background.png")),
                layers=[FileData(path=str(folder / f"layer{i}.png"))],
                composite=FileData(path=str(folder / f"composite{i}.png")),
            )
        )
    return out


def main() -> None:
    gradio_canvas = gr.Sketchpad(canvas_size=(280, 280), fixed_canvas=True, layers=False)
    canvas = app.composite_canvas(canvas_size=(280, 280), fixed_canvas=True, layers=False)
    with tempfile.TemporaryDirectory() as folder:
        strokes = payloads(Path(folder))
        for p in strokes:  # the same composite, pixel for pixel
            assert np.array_equal(gradio_canvas.preprocess(p)["composite"], canvas.preprocess(p)["composite"])
        times: dict[str, list[float]] = {"Gradio's Sketchpad": [], "the app's canvas (composite only)": []}
        for _ in range(ROUNDS):
            for name, c in zip(times, (gradio_canvas, canvas), strict=True):
                for p in strokes:
                    t = time.perf_counter()
                    c.preprocess(p)
                    times[name].append(time.perf_counter() - t)
    print(f"{ROUNDS * PAYLOADS} strokes each, one thread, alternating by round")
    print("| canvas | p50 (ms) | p95 (ms) |\n| --- | ---: | ---: |")
    for name, t in times.items():
        print(f"| {name} | {1e3 * np.percentile(t, 50):.2f} | {1e3 * np.percentile(t, 95):.2f} |")
    a, b = (np.percentile(t, 50) for t in times.values())
    print(f"ratio of medians (the app's / Gradio's): {b / a:.2f}×")


if __name__ == "__main__":
    main()
