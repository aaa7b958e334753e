"""The residual view's block statistics chart: a figure drawn whole for every input against the kept background.

    python benchmarks/residual_view.py [--drawings 40]

For the same new drawings (each one a stroke of its own, as in benchmarks/load.py), in one process with one torch
thread, as the server runs, it times side by side:
  whole    the chart's figure drawn whole and encoded by ``gr.Plot`` (what the view did before ``BlockChart``),
  blitted  ``BlockChart.draw`` (the kept background, this input's 16 bars drawn over it) encoded by ``gr.Image``,
and the whole residual view (analysis, block panel, chart, both pictures encoded) each way, medians and p95 in ms,
with the ratio. The analysis is computed once per drawing beforehand, so both ways chart the same numbers.
"""

from __future__ import annotations

import argparse
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
from resnet import pictures, viz  # noqa: E402
from resnet.blockchart import BlockChart  # noqa: E402


def whole(chart: BlockChart, ratio: list[float], cosine: list[float]) -> None:
    """The chart as a figure drawn whole, this input's bars with everything else, through gr.Plot."""
    gr.Plot().postprocess(chart.whole_figure(ratio, cosine))  # savefig to PNG, base64: as the page got it


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--drawings", type=int, default=40)
    args = p.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = app.Context.create(runs_dir=Path(tmp) / "runs")
        drawings = Drawings().arrays(args.drawings)
        stats = ctx.registry.sample_stats("digits")
        image = gr.Image(format="png")
        times: dict[str, list[float]] = {"whole": [], "blitted": [], "view, whole": [], "view, blitted": []}
        reference = None
        for drawing in drawings:
            rows = viz.block_rows(app.analyse(ctx, drawing, "digits", []).snapshot, stats)
            ratio, cosine = [r.ratio for r in rows], [r.cosine for r in rows]
            chart = pictures.block_chart(viz.chart_spec(rows), "en", False)
            means = ([r.name for r in rows], [r.projects for r in rows], [r.mean_ratio for r in rows])
            reference = reference or BlockChart(*means, [r.mean_cosine for r in rows])
            for way in ("whole", "blitted"):  # interleaved: both ways see the same state of the machine
                t0 = time.perf_counter()
                ctx.analyser._cache.clear()  # a view of a new drawing computes its analysis
                a = app.analyse(ctx, drawing, "digits", [])
                panel = pictures.block_panel(a.snapshot.blocks)
                image.postprocess(panel)
                t1 = time.perf_counter()
                if way == "whole":
                    whole(reference, ratio, cosine)
                else:
                    image.postprocess(chart.draw(ratio, cosine))
                t2 = time.perf_counter()
                times[way].append(1000 * (t2 - t1))
                times[f"view, {way}"].append(1000 * (t2 - t0))
    print(f"{args.drawings} new drawings, digits model, 1 torch thread, this machine")
    print("| what | p50 (ms) | p95 (ms) |")
    print("| --- | ---: | ---: |")
    for name, xs in times.items():
        print(f"| {name} | {statistics.median(xs):.1f} | {pct(xs, 95):.1f} |")
    print(
        f"\nchart: whole / blitted p50 {statistics.median(times['whole']) / statistics.median(times['blitted']):.1f}×"
    )
    view = statistics.median(times["view, whole"]) / statistics.median(times["view, blitted"])
    print(f"residual view: whole / blitted p50 {view:.1f}×")


if __name__ == "__main__":
    main()
