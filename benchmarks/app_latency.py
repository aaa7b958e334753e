"""Round-trip latency of the app's endpoints through gradio_client, against the framework's floor.

    python benchmarks/app_latency.py [--repeats 30]

Launches the app in this process, then times, interleaved, the median round trip of
  /floor    same inputs and output component as /classify, returns a fixed answer (Gradio's own cost),
  /classify a drawn digit -> top-3 label,
  /explain  the full explanation (label, 5 feature grids, 5 Grad-CAMs, block panel, statistics chart),
and prints each median with its ratio to the floor. Goals: classify <= 1.5x, explanation <= 4x the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import app
from resnet.samples import load_samples


def drawn_digit(path: Path, k: int) -> None:
    """The k-th test-set 3 as a person would draw it: black strokes on a 280x280 white canvas.

    Every call gets a different drawing, so no endpoint is timed on a cached result.
    """
    s = load_samples("digits")
    threes = np.flatnonzero(s.labels == 3)
    digit = np.asarray(Image.fromarray(s.images[threes[k % len(threes)]]).resize((200, 200)))
    canvas = np.full((280, 280), 255, np.uint8)
    top, left = 30 + k % 20, 30 + (k // 20) % 20
    canvas[top : top + 200, left : left + 200] = 255 - (digit > 100) * 255
    Image.fromarray(canvas).save(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args()
    from gradio_client import Client, handle_file

    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    client = Client(url, verbose=False)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"three{k}.png" for k in range(args.repeats + 3)]
        for k, path in enumerate(paths):
            drawn_digit(path, k)
        calls = {
            "floor": lambda f: client.predict(image=handle_file(f), dataset="digits", api_name="/floor"),
            "classify": lambda f: client.predict(image=handle_file(f), dataset="digits", api_name="/classify"),
            "explain": lambda f: client.predict(
                image=handle_file(f), dataset="digits", lesions=[], api_name="/explain"
            ),
        }
        assert calls["classify"](str(paths[0]))["label"] == "3"
        times: dict[str, list[float]] = {k: [] for k in calls}
        for k, path in enumerate(paths):
            for name, call in calls.items():
                t0 = time.perf_counter()
                call(str(path))
                if k >= 3:  # the first rounds warm up
                    times[name].append(time.perf_counter() - t0)
    floor = statistics.median(times["floor"])
    print(f"median round trip over {args.repeats} interleaved calls (gradio_client, localhost)")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  /{name:<9} {1000 * med:7.1f} ms   {med / floor:5.2f}x floor")
    app.gr.close_all()


if __name__ == "__main__":
    main()
