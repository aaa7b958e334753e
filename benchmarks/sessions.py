"""What each browser session costs the server: Gradio's own sessions against lean ones (``app.lean_sessions``).

    python benchmarks/sessions.py                    # 1,000 sessions each way, side by side in one process (~3 min)
    python benchmarks/sessions.py --sessions 3000
    python benchmarks/sessions.py --class-rounds 4   # also: rounds of 30 new students drawing on the real page
    python benchmarks/sessions.py --sessions 300 --rest 100   # also: REST calls of /classify, one after another

Gradio keeps a session (``SessionState``) until 10,000 newer ones push it out (``state_session_capacity``); a closed
tab's ``gr.State`` values go after an hour, the rest of its session stays. For each way, the same number of sessions,
each one as a student's first stroke leaves it (a ``gr.State`` set, one feature view sent), and prints:
  new session   the interpreter's time to make one (Gradio makes it at the session's first event, holding the GIL);
  memory        what each session holds (tracemalloc);
  objects       the objects each adds for the garbage collector to walk;
  full collect  one full garbage collection with them all alive (the start-up heap frozen, as the app's server does):
                it stops every thread, so every label in flight waits that long;
and the ratios lean / Gradio's. ``--class-rounds R``: the app in this process (as ``python app.py`` serves it) under
``benchmarks/load.py``'s students, R rounds of 30 new students drawing for 15 s, the server's RSS and the collector's
objects after each round; ``--rest N``: N round trips of ``/classify`` through Gradio's REST API, one after another,
their median (Gradio makes a new session for each such call). Both twice each way (Gradio's, lean, lean, Gradio's),
each in a process of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from pathlib import Path

import httpx
from gradio.state_holder import SessionState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402

import app  # noqa: E402
from resnet.samples import load_samples  # noqa: E402


def sessions_side_by_side(count: int) -> None:
    """``count`` sessions made Gradio's way, then as many the lean way, in this process; one table."""
    ctx = app.Context.create()
    demo = app.build_demo(ctx)
    (view,) = [fn for fn in demo.fns.values() if fn.api_name == "view"]
    (source, *_) = [b for b in demo.blocks.values() if isinstance(b, app.gr.State)]
    seven = load_samples("digits").images[0]
    shown = list(app.views(ctx, seven, "digits", [], "predicted", "b3", "features"))[: len(view.outputs)]
    gc.collect()
    gc.freeze()  # the server freezes its start-up heap (resnet.cpu.freeze_startup_heap)
    rows = {}
    for way in ("Gradio's own", "lean"):
        if way == "lean":
            app.lean_sessions(demo)
        SessionState(demo)  # warm
        t0 = time.perf_counter()
        for _ in range(100):  # timed apart from tracemalloc, which slows every allocation
            SessionState(demo)
        made_ms = 1e3 * (time.perf_counter() - t0) / 100
        kept = []
        gc.collect()
        objects0 = len(gc.get_objects())
        tracemalloc.start()
        for _ in range(count):
            state = SessionState(demo)
            state[source._id] = "upload"
            asyncio.run(demo.postprocess_data(view, shown, state))
            kept.append(state)
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        objects = len(gc.get_objects()) - objects0
        collects = []
        for _ in range(3):
            t0 = time.perf_counter()
            gc.collect()
            collects.append(time.perf_counter() - t0)
        rows[way] = (made_ms, held / count / 1e3, objects / count, 1e3 * statistics.median(collects))
        del kept
        gc.collect()
    print(f"{count:,} sessions each way, each after one stroke's view (this process, shipped models)\n")
    print("| sessions | new session (ms) | memory per session (kB) | objects per session | full collect (ms) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for way, (ms, kb, objects, collect) in rows.items():
        print(f"| {way} | {ms:.2f} | {kb:.1f} | {objects:.0f} | {collect:.0f} |")
    own, lean = rows["Gradio's own"], rows["lean"]
    ratios = " | ".join(f"{a / b:.3f}" if b else "-" for a, b in zip(lean, own, strict=True))
    print(f"| lean / Gradio's | {ratios} |")


def rest_calls(url: str, drawings: list[bytes]) -> list[float]:
    """Seconds each round trip of ``/classify`` over Gradio's REST API takes, one a drawing, one after another:
    an upload, then ``POST /gradio_api/call/classify`` without a session (Gradio makes a session for every such call)
    and its answer's stream read to the end."""
    times = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for drawing in drawings:
            t0 = time.perf_counter()
            path = http.post("/gradio_api/upload", files={"files": ("drawing.png", drawing, "image/png")}).json()[0]
            image = {"path": path, "meta": {"_type": "gradio.FileData"}}
            event = http.post("/gradio_api/call/classify", json={"data": [image, "digits"]}).json()["event_id"]
            answer = http.get(f"/gradio_api/call/classify/{event}").text
            if "event: complete" not in answer:
                raise RuntimeError(f"/classify answered {answer[:200]!r}")
            times.append(time.perf_counter() - t0)
    return times


def serve(rounds: int, calls: int) -> None:
    """This process serves the app (the way set by $RESNET_LEAN_SESSIONS): ``calls`` REST round trips of ``/classify``,
    then ``rounds`` rounds of 30 new students."""
    served, url, _ = app.launch(server_name="127.0.0.1", server_port=7931, quiet=True, prevent_thread_lock=True)
    url = url.rstrip("/")
    way = "lean" if os.environ.get("RESNET_LEAN_SESSIONS", "1") != "0" else "Gradio's own"
    if calls:
        made = load.Drawings()
        rng = random.Random(0)
        times = rest_calls(url, [made.draw(rng) for _ in range(calls + 5)])[5:]  # the first five warm the server
        print(
            f"REST /classify, {way}: median {1e3 * statistics.median(times):.1f} ms over {len(times)} calls", flush=True
        )
    server = load.Server(process=types.SimpleNamespace(pid=os.getpid()), url=url)  # type: ignore[arg-type]
    server.pids = lambda: [os.getpid()]  # type: ignore[method-assign]
    route, drawings = load.routes(url)["app"], load.Drawings()
    trim = ctypes.CDLL("libc.so.6").malloc_trim
    if rounds:
        print("\n| sessions | round | sessions kept | labels | errors | server RSS (MB) | objects (collector) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in range(rounds):
        tally, _ = load.run_load(server, route, 30, 15, drawings)
        gc.collect()
        trim(0)
        sessions = len(served.state_holder.session_data)
        print(
            f"| {way} | {r + 1} | {sessions} | {len(tally.labels)} | {tally.errors} | {server.rss_mb():.0f} |"
            f" {len(gc.get_objects()):,} |",
            flush=True,
        )
    os._exit(0)  # the server's threads would keep the process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--class-rounds", type=int, default=0)
    parser.add_argument("--rest", type=int, default=0, help="also: this many REST calls of /classify, each way")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the child of --class-rounds, --rest
    args = parser.parse_args()
    if args.serve:
        serve(args.class_rounds, args.rest)
    sessions_side_by_side(args.sessions)
    if args.class_rounds or args.rest:
        print()
        for lean in ("0", "1", "1", "0"):  # each way twice, in turn: the machine's speed drifts from minute to minute
            subprocess.run(
                [sys.executable, __file__, "--serve", f"--class-rounds={args.class_rounds}", f"--rest={args.rest}"],
                env={**os.environ, "RESNET_LEAN_SESSIONS": lean},
                check=True,
            )


if __name__ == "__main__":
    main()
