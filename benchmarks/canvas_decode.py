"""What a stroke's event spends decoding the canvas: Gradio's Sketchpad (background, layer and composite) against
the app's canvas (``app.composite_only``: the composite only), side by side on the same payloads.

    python benchmarks/canvas_decode.py        # ~10 s

Each payload is what the page sends for a stroke: a white 280 × 280 background, a transparent layer with a drawn
digit, and their composite, as PNG files. Both are timed on one thread, alternating, and their composites compared.
"""

from __future__ import annotations

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

import app  # noqa: E402
from resnet.samples import load_samples  # noqa: E402

ROUNDS, PAYLOADS = 5, 24


def payloads(folder: Path) -> list[EditorData]:
    """A stroke's three PNGs for each of the first ``PAYLOADS`` digit samples, drawn 200 px high on the canvas."""
    s = load_samples("digits")
    background = Image.new("RGBA", (280, 280), "white")
    background.save(folder / "background.png")
    out = []
    for i in range(PAYLOADS):
        ink = np.asarray(Image.fromarray(s.images[i]).resize((200, 200), Image.BILINEAR))
        layer = np.zeros((280, 280, 4), np.uint8)
        layer[40:240, 40:240, 3] = ink  # black ink, as opaque as the sample is bright
        Image.fromarray(layer).save(folder / f"layer{i}.png")
        Image.alpha_composite(background, Image.fromarray(layer)).save(folder / f"composite{i}.png")
        files = {k: FileData(path=str(folder / f"{k}{i}.png")) for k in ("layer", "composite")}
        out.append(
            EditorData(
                background=FileData(path=str(folder / "background.png")),
                layers=[files["layer"]],
                composite=files["composite"],
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
