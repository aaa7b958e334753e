"""A view's pictures as Gradio encodes them against PNG files written at zlib level 1 (``app.as_files``).

    python benchmarks/view_pictures.py [--drawings 40]

For the same new drawings (each a stroke of its own, as in benchmarks/load.py), in one process with one torch
thread, as the server runs, it times side by side, interleaved, what the server does after a view's function has
computed its pictures until Gradio has the files to serve:
  arrays  each picture handed to ``gr.Image(format="png").postprocess`` (Gradio encodes it at zlib level 6),
  pillow  ``app.as_files`` with Pillow encoding each file at level 1 (rows filtered as Pillow chooses), then the same
          ``postprocess``: the app until 2026-11-30,
  zlib    ``app.as_files`` with ``png.encode``'s rows unfiltered, deflated by zlib at level 1 ($RESNET_DEFLATE=zlib),
          then the same ``postprocess``: the app until 2026-12-07,
  files   ``app.as_files`` (``pictures.png_file``: ``png.encode``, rows unfiltered, deflated by ISA-L at level 1 where
          installed, into Gradio's cache) and then the same ``postprocess``,
for the feature view (stage grids, Grad-CAMs, all channels of a stage), the residual view (block panel, chart) and
/explain (grids, Grad-CAMs, block panel); medians and p95 in ms, the ratios of the medians, and the files' sizes.
Before that, the time to draw each answer's pictures (``resnet.pictures``, what the painter does before it encodes).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import gradio as gr
import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Drawings  # noqa: E402

import app  # noqa: E402
from resnet import png  # noqa: E402

WAYS = ("arrays", "pillow", "zlib", "files")


def pictures(answer) -> list:
    """The pictures of an answer (arrays or PNG files)."""
    return [v for v in answer if isinstance(v, np.ndarray) or (isinstance(v, str) and v.endswith(".png"))]


def pillow_encode(picture: np.ndarray, level: int = 1) -> bytes:
    """What ``png.encode`` replaced: Pillow's PNG at ``level``, each row's filter chosen by Pillow."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "png", compress_level=level)
    return buffer.getvalue()


@contextlib.contextmanager
def encoder(way: str):
    """``png.encode`` as it is ("files"), with zlib's deflate ("zlib") or Pillow's ("pillow") while the block runs."""
    own = png.encode
    png.encode = pillow_encode if way == "pillow" else own
    try:
        with mock.patch.dict(os.environ, RESNET_DEFLATE="zlib" if way == "zlib" else "isal"):
            yield
    finally:
        png.encode = own


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
        drawn: dict[str, list[float]] = {}
        times: dict[tuple[str, str], list[float]] = {}
        sizes: dict[tuple[str, str], list[float]] = {}  # KB of each file written
        for drawing in drawings:
            s = app.analyse(ctx, drawing, "digits", []).snapshot
            spec = app.viz.chart_spec(app.viz.block_rows(s, ctx.registry.sample_stats("digits")))
            answers = {}
            for name, draw, inputs, answer in [
                ("feature view", app.pictures.feature_view, (s, "b3"), app.FeatureViews),
                ("residual view", app.pictures.residual_view, (s, spec), app.ResidualViews),
                ("/explain", app.pictures.explanation, (s,), lambda *p: app.Explanation({}, *p, [])),
            ]:
                t0 = time.perf_counter()
                answers[name] = answer(*draw(*inputs))
                drawn.setdefault(name, []).append(1000 * (time.perf_counter() - t0))
            for name, answer in answers.items():
                for way in WAYS:  # interleaved: every way sees the same state of the machine
                    with encoder(way):
                        t0 = time.perf_counter()
                        sent = pictures(answer if way == "arrays" else app.as_files(answer))
                        for picture in sent:
                            image.postprocess(picture)
                        times.setdefault((name, way), []).append(1000 * (time.perf_counter() - t0))
                    for path in sent if way != "arrays" else ():  # a new drawing's pictures are not on disk yet:
                        sizes.setdefault((name, way), []).append(Path(path).stat().st_size / 1024)
                        Path(path).unlink()  # /explain's grids and Grad-CAMs are the feature view's
    print(f"{args.drawings} new drawings, digits model, 1 torch thread, this machine")
    print("\n| answer | pictures drawn: p50 / p95 (ms) |\n| --- | ---: |")
    for name, ms in drawn.items():
        print(f"| {name} | {statistics.median(ms):.1f} / {np.percentile(ms, 95):.1f} |")
    print()
    print(
        "| answer | Gradio encodes the arrays: p50 / p95 (ms) | Pillow's files at level 1: p50 / p95 (ms), KB | "
        "unfiltered, zlib level 1: p50 / p95 (ms), KB | unfiltered, as served: p50 / p95 (ms), KB | "
        "as served, p50 ratio to arrays, Pillow's, zlib's |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in ("feature view", "residual view", "/explain"):
        a, p, z, f = (times[(name, way)] for way in WAYS)
        kb = {way: sum(sizes[(name, way)]) / args.drawings for way in WAYS[1:]}
        ratios = ", ".join(f"{statistics.median(other) / statistics.median(f):.2f}×" for other in (a, p, z))
        print(
            f"| {name} | {statistics.median(a):.1f} / {np.percentile(a, 95):.1f} | "
            f"{statistics.median(p):.1f} / {np.percentile(p, 95):.1f}, {kb['pillow']:.0f} | "
            f"{statistics.median(z):.1f} / {np.percentile(z, 95):.1f}, {kb['zlib']:.0f} | "
            f"{statistics.median(f):.1f} / {np.percentile(f, 95):.1f}, {kb['files']:.0f} | {ratios} |"
        )


if __name__ == "__main__":
    main()
