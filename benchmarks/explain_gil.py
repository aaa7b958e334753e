"""/explain beside a thread running Python: its pictures drawn in the server against drawn by a painter process.

    python benchmarks/explain_gil.py        # ~1.5 min, one torch thread, as the server runs

Under a class the server's interpreter is always busy with something, and every NumPy, Pillow and PyTorch operation
of a picture gives the GIL up and waits to win it back (benchmarks/label_gil.py shows it for a label). Side by
side, interleaved, for the same new drawings (the digits model; each drawing's analysis cleared before, as a new
stroke's): ``app.api_explain`` (analysis, block statistics, the three pictures as PNG files) with its pictures drawn
in the server (``$RESNET_PAINTERS=0``) and by one painter process (``resnet.painter``, the default), alone and
beside one thread that runs Python without pause. Then the analysis alone (``Analyser.analyse`` of a new drawing):
its Grad-CAM, detach and block statistics as one TorchScript call each (the default) against the same operations
run eagerly (``Analyser(scripted=False)``: the way before 2026-12-01, with the checks added since).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from label_gil import PythonThread, p50_p95  # noqa: E402
from load import Drawings  # noqa: E402

import app  # noqa: E402
from resnet.analysis import Analyser  # noqa: E402
from resnet.painter import Painter  # noqa: E402

ROUNDS = 20


def main() -> None:
    torch.set_num_threads(1)
    ctx = app.Context.create(runs_dir=Path(tempfile.mkdtemp()))
    drawings = Drawings().arrays(ROUNDS)
    painters = {"in the server": Painter(processes=0), "by a painter": Painter(processes=1)}

    def explain(painter: Painter):
        def run(i: int) -> object:
            ctx.painter = painter
            ctx.analyser._cache.clear()  # a new stroke: its analysis is computed
            return app.api_explain(ctx, drawings[i % len(drawings)], "digits")

        return run

    for painter in painters.values():
        explain(painter)(0)  # the painter started, fonts and charts loaded
    print(f"/explain of {ROUNDS} new drawings, digits model, one torch thread, this machine\n")
    print("| pictures drawn | where | p50 (ms) | p95 (ms) |")
    print("| --- | --- | ---: | ---: |")
    results = {}
    for where in ("alone", "beside a Python thread"):
        for name, painter in painters.items():
            with PythonThread() if where != "alone" else contextlib.nullcontext():
                results[(name, where)] = p50_p95(explain(painter), ROUNDS)
            p50, p95 = results[(name, where)]
            print(f"| {name} | {where} | {p50:.1f} | {p95:.1f} |")
    for where in ("alone", "beside a Python thread"):
        ratio = results[("in the server", where)][1] / results[("by a painter", where)][1]
        print(f"\n{where}: p95 in the server / by a painter = {ratio:.2f}×", end="")
    print()
    painters["by a painter"].close()
    analyses(ctx, drawings)


def analyses(ctx: app.Context, drawings: list) -> None:
    """The analysis of new drawings, its steps eager against scripted, alone and beside a Python thread."""
    ways = {"eager": Analyser(ctx.registry, scripted=False), "scripted": Analyser(ctx.registry)}

    def analyse(analyser: Analyser):
        def run(i: int) -> object:
            analyser._cache.clear()  # a new stroke: its analysis is computed
            return analyser.analyse(drawings[i % len(drawings)], "digits")

        return run

    for analyser in ways.values():
        analyse(analyser)(0)  # the graphs traced and scripted
    print(f"\nThe analysis alone (Analyser.analyse) of {ROUNDS} new drawings, digits model, one torch thread\n")
    print("| where | eager p50 / p95 (ms) | scripted p50 / p95 (ms) | ratio of p50s |")
    print("| --- | ---: | ---: | ---: |")
    for where in ("alone", "beside a Python thread"):
        cells = []
        for analyser in ways.values():
            with PythonThread() if where != "alone" else contextlib.nullcontext():
                cells.append(p50_p95(analyse(analyser), ROUNDS))
        (e50, e95), (s50, s95) = cells
        print(f"| {where} | {e50:.1f} / {e95:.1f} | {s50:.1f} / {s95:.1f} | {e50 / s50:.2f}× |")


if __name__ == "__main__":
    main()
