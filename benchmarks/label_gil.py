"""A label beside a thread running Python: eager against graphs (resnet/graphs.py, resnet/prepare_graph.py).

    python benchmarks/label_gil.py          # ~1 min, one torch thread, as the server runs

Under a class the server's interpreter is always busy with something (views drawing pictures, Gradio's event loop),
and every eager PyTorch operation of a label gives the GIL up and waits to win it back. Side by side, for the
digits model: the forward pass alone, the preprocessing alone and the whole label (``app.new_input``: preprocessing,
the forward pass, the two previews as files), each eager and as graphs (the forward pass traced, the preprocessing
scripted), alone and beside one thread that runs Python without pause. Then a label's two previews written as new
files (every stroke's are new), as ``pictures.png_file`` writes them and as it did before 2026-12-01 (``earlier_file``:
hashed whole, a failed look, a directory of its own, NumPy's row copy), and the canvas's fingerprint both ways.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import statistics
import struct
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import Drawings  # noqa: E402

import app  # noqa: E402
from resnet import graphs as graphs_module  # noqa: E402
from resnet import pictures, png  # noqa: E402
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


def earlier_encode(picture: np.ndarray) -> bytes:
    """``png.encode`` before 2026-12-01: the rows copied by NumPy (which gives the GIL up for a picture this size)."""
    h, w = picture.shape[:2]
    channels = 1 if picture.ndim == 2 else picture.shape[-1]
    rows = np.zeros((h, 1 + w * channels), np.uint8)
    rows[:, 1:] = picture.reshape(h, w * channels)
    header = struct.pack(">IIBBBBB", w, h, 8, png.COLOUR_TYPES[channels], 0, 0, 0)
    idat = zlib.compress(rows.data, pictures.PNG_LEVEL)
    return png.SIGNATURE + png.chunk(b"IHDR", header) + png.chunk(b"IDAT", idat) + png.chunk(b"IEND", b"")


def earlier_file(picture: np.ndarray, folder: str, name: str) -> str:
    """``pictures.png_file`` before 2026-12-01: hashed whole, looked for, written into a directory of its own."""
    picture = np.ascontiguousarray(picture)
    digest = hashlib.blake2b(str(picture.shape).encode(), digest_size=16)
    digest.update(picture.data)
    sub = Path(folder) / digest.hexdigest()
    path = sub / f"{name}.png"
    try:
        os.utime(path)
    except FileNotFoundError:
        encoded = earlier_encode(picture)
        sub.mkdir(parents=True, exist_ok=True)
        part = sub / f".{name}.{os.getpid()}.{threading.get_ident()}.part"
        part.write_bytes(encoded)
        os.replace(part, path)
    return str(path)


def previews(ctx: app.Context, canvases: list[dict]) -> list[tuple]:
    """Rows of (what, where, (earlier p50, p95), (now p50, p95)) for a label's previews and the canvas's fingerprint."""
    seen = [app.classify(ctx, c["composite"], "digits", [], "sketch") for c in canvases]
    folder = tempfile.mkdtemp()
    calls = iter(range(10**9))

    def files(write: Callable) -> Callable[[int], object]:
        def run(i: int) -> object:
            n = next(calls)  # every call new pixels: a new stroke's previews are new files
            out = []
            for name in ("seen", "model_input"):
                picture = getattr(seen[i % len(seen)], name).copy()
                picture.flat[:4] = np.frombuffer(n.to_bytes(4, "little"), np.uint8)
                out.append(write(picture, folder, name))
            return out

        return run

    def fingerprint(whole: bool) -> Callable[[int], object]:
        def run(i: int) -> object:
            image = canvases[i % len(canvases)]["composite"]
            if whole:
                return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=8).hexdigest()
            return pictures.digest(image)

        return run

    rows = []
    for what, earlier, now in (
        ("the two previews as new files", files(earlier_file), files(pictures.png_file)),
        ("the canvas's fingerprint", fingerprint(True), fingerprint(False)),
    ):
        for beside in (False, True):
            with PythonThread() if beside else contextlib.nullcontext():
                cells = [p50_p95(earlier), p50_p95(now)]
            rows.append((what, "beside a Python thread" if beside else "alone", *cells))
    return rows


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
    print()
    print("| what | where | before 2026-12-01 p50 / p95 (ms) | now p50 / p95 (ms) | ratio of p50s |")
    print("| --- | --- | ---: | ---: | ---: |")
    for what, where, (e50, e95), (t50, t95) in previews(ctx, canvases):
        print(f"| {what} | {where} | {e50:.1f} / {e95:.1f} | {t50:.1f} / {t95:.1f} | {e50 / max(t50, 1e-3):.2f}× |")


if __name__ == "__main__":
    main()
