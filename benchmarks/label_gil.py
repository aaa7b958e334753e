"""A label beside a thread running Python: eager against graphs (resnet/graphs.py, resnet/prepare_graph.py).

    python benchmarks/label_gil.py          # ~1 min, one torch thread, as the server runs

Under a class the server's interpreter is always busy with something (views drawing pictures, Gradio's event loop),
and every eager PyTorch operation of a label gives the GIL up and waits to win it back. Side by side, for the
digits model: the forward pass alone, the preprocessing alone and the whole label (``app.new_input``: preprocessing,
the forward pass, the two previews as files), each eager and as graphs (the forward pass traced, the preprocessing
scripted), alone and beside one thread that runs Python without pause.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Drawings  # noqa: E402

import app  # noqa: E402
from resnet import graphs as graphs_module  # noqa: E402
from resnet.graphs import LabelGraphs  # noqa: E402
from resnet.preprocess import preprocess  # noqa: E402

ROUNDS = 40


def p50_p95(f: Callable[[int], object], rounds: int = ROUNDS) -> tuple[float, float]:
    ms = []
    for i in range(rounds):
        t = time.perf_counter()
        f(i)
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    return statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]


class PythonThread:
    """A thread that runs Python without pause while in use (as a view drawing its pictures does)."""

    def __enter__(self) -> PythonThread:
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def run(self) -> None:
        while not self.stop:
            sum(i * i for i in range(1000))

    def __exit__(self, *exc: object) -> None:
        self.stop = True
        self.thread.join()


def main() -> None:
    torch.set_num_threads(1)
    ctx = app.Context.create(runs_dir=Path(tempfile.mkdtemp()))
    model, card = ctx.registry.get("digits")
    canvases = [{"background": None, "layers": [], "composite": a} for a in Drawings().arrays(ROUNDS)]
    x = torch.rand(1, 1, card.image_size, card.image_size)
    eager, traced = LabelGraphs(enabled=False), LabelGraphs(enabled=True)

    def forward(graphs: LabelGraphs) -> Callable[[int], object]:
        return lambda i: graphs.forward(model, x)

    def prepare(graphs: LabelGraphs) -> Callable[[int], object]:
        def run(i: int) -> object:
            graphs_module.ENABLED = graphs.enabled
            return preprocess(canvases[i % len(canvases)]["composite"], "digits", card.image_size)

        return run

    def label(graphs: LabelGraphs) -> Callable[[int], object]:
        def run(i: int) -> object:
            ctx.registry.graphs = graphs
            graphs_module.ENABLED = graphs.enabled
            return app.new_input(ctx, "sketch", canvases[i % len(canvases)], None, "digits", [], "en")

        return run

    rows = []
    with torch.no_grad():
        for what, make in (("forward pass", forward), ("preprocessing", prepare), ("whole label", label)):
            for graphs in (eager, traced):
                make(graphs)(0)  # warm: the graph is traced, the first files written
            for beside in (False, True):
                cells = []
                for graphs in (eager, traced):
                    with PythonThread() if beside else contextlib.nullcontext():
                        cells.append(p50_p95(make(graphs)))
                rows.append((what, "beside a Python thread" if beside else "alone", *cells))
    print("| what | where | eager p50 / p95 (ms) | graphs p50 / p95 (ms) | ratio of p50s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for what, where, (e50, e95), (t50, t95) in rows:
        print(f"| {what} | {where} | {e50:.1f} / {e95:.1f} | {t50:.1f} / {t95:.1f} | {e50 / t50:.2f}× |")


if __name__ == "__main__":
    main()
