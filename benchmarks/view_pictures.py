"""A view's pictures as Gradio encodes them against PNG files written at zlib level 1 (``app.as_files``).

    python benchmarks/view_pictures.py [--drawings 40]

For the same new drawings (each a stroke of its own, as in benchmarks/load.py), in one process with one torch
thread, as the server runs, it times side by side, interleaved, what the server does after a view's function has
computed its pictures until Gradio has the files to serve:
  arrays  each picture handed to ``gr.Image(format="png").postprocess`` (Gradio encodes it at zlib level 6),
  files   ``app.as_files`` (``viz.png_file``: level 1, into Gradio's cache) and then the same ``postprocess``,
for the feature view (stage grids, Grad-CAMs, all channels of a stage), the residual view (block panel, chart) and
/explain (grids, Grad-CAMs, block panel); medians and p95 in ms, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Drawings  # noqa: E402

import app  # noqa: E402


def pictures(answer) -> list:
    """The pictures of an answer (arrays or PNG files)."""
    return [v for v in answer if isinstance(v, np.ndarray) or (isinstance(v, str) and v.endswith(".png"))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--drawings", type=int, default=40)
    args = p.parse_args()
    torch.set_num_threads(1)
    image = gr.Image(format="png")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GRADIO_TEMP_DIR"] = tmp  # Gradio's cache, empty: no file of an earlier run is found there
        ctx = app.Context.create(runs_dir=Path(tmp) / "runs")
        drawings = Drawings().arrays(args.drawings)
        times: dict[tuple[str, str], list[float]] = {}
        for drawing in drawings:
            answers = {
                "feature view": app.views(ctx, drawing, "digits", [], "predicted", "b3", "features"),
                "residual view": app.views(ctx, drawing, "digits", [], "predicted", "b3", "residual"),
            }
            a = app.analyse(ctx, drawing, "digits", [])
            grids, cams = app.feature_montages(a)
            panel = app.viz.block_panel(a.trace.blocks, a.stats)
            answers["/explain"] = app.Explanation({}, grids, cams, panel, [])
            for name, answer in answers.items():
                for way in ("arrays", "files"):  # interleaved: both ways see the same state of the machine
                    t0 = time.perf_counter()
                    sent = pictures(answer if way == "arrays" else app.as_files(answer))
                    for picture in sent:
                        image.postprocess(picture)
                    times.setdefault((name, way), []).append(1000 * (time.perf_counter() - t0))
                    for path in sent if way == "files" else ():  # a new drawing's pictures are not on disk yet:
                        Path(path).unlink()  # /explain's grids and Grad-CAMs are the feature view's
    print(f"{args.drawings} new drawings, digits model, 1 torch thread, this machine")
    print("| answer | Gradio encodes the arrays: p50 / p95 (ms) | PNG files at level 1: p50 / p95 (ms) | p50 ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name in ("feature view", "residual view", "/explain"):
        a, f = times[(name, "arrays")], times[(name, "files")]
        ratio = statistics.median(a) / statistics.median(f)
        print(
            f"| {name} | {statistics.median(a):.1f} / {np.percentile(a, 95):.1f} | "
            f"{statistics.median(f):.1f} / {np.percentile(f, 95):.1f} | {ratio:.2f}× |"
        )


if __name__ == "__main__":
    main()
