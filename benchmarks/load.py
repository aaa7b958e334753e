"""A class at once: simulated students drawing on the app through the same Gradio queue and events as a browser.

    python benchmarks/load.py                       # 1, 10, 30, 60 students, 60 s each, app and floor side by side
    python benchmarks/load.py --students 30 --seconds 30 --targets app,floor,api
    python benchmarks/load.py --students 30 --targets floor,app,api --repeat 5   # each target's medians of 5 runs
    python benchmarks/load.py --training            # also: 10 students while someone trains, against idle
    python benchmarks/load.py --soak 600 --churn 60  # RSS over 10 minutes, a new class of 30 every minute
    python benchmarks/load.py --students 30 --targets floor,app --hide uvloop,httptools   # with and without them
    python benchmarks/load.py --tab residual --targets app   # the students on the Residual vs identity tab
    python benchmarks/load.py --students 30 --targets floor,app,api --against RESNET_QUEUE_STATUS_S=auto   # A/B
    python benchmarks/load.py --students 30 --targets floor,api --against RESNET_EXPLAIN_WORKERS=1 --repeat 3
    git worktree add /tmp/before HEAD~1   # the code before a change without a switch, then the change against it:
    python benchmarks/load.py --students 30 --targets floor,app,api --tree /tmp/before --repeat 3

Each student sends a new drawing about every 2 s (jittered): as the page does after a stroke, the canvas is uploaded
(once: the app's page answers its repeated uploads itself, and the canvas's three blob posts to ``accept_blobs``,
which no event reads; ``--blobs``: students that post them too, as Gradio's own page does), and the stroke's event
runs (the label), then, as the page does with ``.then``, the view on screen (the feature maps) -- but only if no newer
stroke of that student has come meanwhile. Both events are "always_last" in the browser: neither is sent while the
student's previous one is still in flight, and when that one ends only the latest stroke's is asked for (a stroke
replaced meanwhile gets no label of its own: counted as "replaced", not as an error). Like a browser, a student
then fetches every picture the events name (six at a time); a view counts as seen once its pictures are loaded.
The server is the app in a separate process on 127.0.0.1; the load stops by itself after ``--seconds`` per run. Targets:
  app    the page's own events (``stroke``, ``view``: callable, not listed on the API page);
  floor  the same inputs and outputs with a fixed answer (``stroke_floor``, ``view_floor``): Gradio's own cost;
  app-label  the page's label with the floor's fixed view: what a label costs when views cost only Gradio's handling;
  api    the public ``/classify`` (label) and ``/explain`` (view), called as the page calls its events;
  api-every  the same, but each student asks ``/classify`` for every stroke and ``/explain`` for every stroke still
         the latest when its label comes, without waiting for the calls in flight (a script that classifies and
         explains every drawing).
For each load it prints drawings answered and errors, stroke → label and stroke → view (latest strokes) p50/p95,
the server's CPU (% of one core) and RSS, and the ratios to the floor at the same load. The students run in one
event loop (uvloop's where installed) in this process: they share the two cores with the server (their own CPU is
printed too), so absolute numbers understate a real deployment; the ratios are measured side by side. A single run
decides little (the floor's own p95 swings up to 2× between runs): ``--repeat`` prints medians. Before and after
the runs it prints how fast the machine is (a fixed Python loop, zlib on fixed bytes), to read sessions side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import io
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import numpy as np
from gradio_client.utils import is_file_obj_with_url, traverse
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from resnet.samples import load_samples  # noqa: E402

# httpcore asks for sniffio at every request, and sniffio is not installed here (anyio no longer needs it): each
# failed import searched the whole path again, 12.6% of the simulated class's own CPU (py-spy, 30 students). Marked
# missing once, the import fails at once, as it did.
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

DRAWINGS = 24
ANSWER_WITHIN_S = 60  # an event not answered by then counts as an error (a hang), not as a slow answer
TICK = os.sysconf("SC_CLK_TCK")
# One TLS context for every student's client: httpx makes one per client otherwise (loading the CA bundle), ~4% of
# the simulated class's own CPU (py-spy, 30 students), though every URL here is plain HTTP on loopback.
TLS = ssl.create_default_context()
# The students post the canvas's three blobs after every stroke, as Gradio's own page does (--blobs), or not, as the
# app's page does since it answers those posts itself (app.KEPT_UPLOADS_JS)
BLOBS = False


def _white_canvas() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (280, 280), "white").save(buffer, "PNG")
    return buffer.getvalue()


WHITE_CANVAS = _white_canvas()  # the canvas's background, as the page sends it


class Drawings:
    """Drawings as a person makes them: black strokes on a 280×280 white canvas, every stroke a drawing of its own.

    Each is one of the shipped digit samples at a random size (140–230 px), slant (±15°) and place, so that no two
    strokes preprocess to the same input: a class never sends the same drawing twice, and the app's analysis cache
    (keyed by the preprocessed input) must not answer a simulated student that a real one would not.
    """

    def __init__(self) -> None:
        self.digits = load_samples("digits").images[:DRAWINGS]

    def arrays(self, n: int, seed: int = 0) -> list[np.ndarray]:
        """``n`` new drawings as the server receives them (RGBA arrays), the same for the same seed."""
        rng = random.Random(seed)
        return [np.asarray(Image.open(io.BytesIO(self.draw(rng)))) for _ in range(n)]

    def for_student(self, rng: random.Random, seconds: float) -> list[bytes]:
        """Every drawing a student can send in ``seconds`` (one at most every 1.5 s), made before the clock starts:
        made on the way, they took 12% of the simulated class's own CPU (py-spy, 30 students)."""
        return [self.draw(rng) for _ in range(int(seconds / 1.5) + 2)]

    def draw(self, rng: random.Random) -> bytes:
        """A new drawing (PNG bytes, ~2 ms)."""
        size = rng.randint(140, 230)
        digit = Image.fromarray(self.digits[rng.randrange(len(self.digits))]).resize((size, size), Image.BILINEAR)
        ink = np.asarray(digit.rotate(rng.uniform(-15, 15), Image.BILINEAR)) > 100
        canvas = np.zeros((280, 280, 4), np.uint8)
        top, left = rng.randint(0, 280 - size), rng.randint(0, 280 - size)
        canvas[top : top + size, left : left + size][ink] = (0, 0, 0, 255)
        out = io.BytesIO()
        Image.fromarray(canvas, "RGBA").save(out, "PNG")
        return out.getvalue()


# -- the server ---------------------------------------------------------------------------------------------------
def fresh(tmp: str, name: str = "") -> dict[str, str]:
    """A server's folders in ``tmp``: its runs and Gradio's file cache, empty as on a new machine (the cache of
    earlier runs held ~190,000 pictures, ~0.8 GB, after a few sessions of benchmarks)."""
    return {"RESNET_RUNS_DIR": str(Path(tmp) / f"runs{name}"), "GRADIO_TEMP_DIR": str(Path(tmp) / f"gradio{name}")}


@dataclass
class Server:
    process: subprocess.Popen  # the app, or scripts/serve.sh (nginx and its workers)
    url: str
    served: bool = False

    @classmethod
    def start(cls, port: int, env: dict[str, str] | None = None, root: Path = ROOT) -> Server:
        """The app of the checkout at ``root`` (this one unless told), on ``port``."""
        code = f"import app; app.launch(server_name='127.0.0.1', server_port={port}, quiet=True)"
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return cls.wait(process, port)

    @classmethod
    def serve(cls, workers: int, port: int, env: dict[str, str] | None = None) -> Server:
        """``scripts/serve.sh --workers N``: nginx on ``port``, sticky per browser, in front of N app processes."""
        process = subprocess.Popen(
            ["bash", "scripts/serve.sh", "--workers", str(workers), "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "PYTHON": sys.executable, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        server = cls.wait(process, port)
        return cls(server.process, server.url, served=True)

    @classmethod
    def wait(cls, process: subprocess.Popen, port: int) -> Server:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/config", timeout=2).status_code == 200:
                    return cls(process, url)
            time.sleep(0.5)
        process.kill()
        raise RuntimeError("the app did not start within 120 s")

    def pids(self) -> list[int]:
        """The app's processes: the server (or serve.sh's workers) and every python process under it (a training
        run trains in a process of its own, and its memory and CPU are the app's)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                name, rest = stat.read_text().rsplit(")", 1)
                if "python" in name:
                    children.setdefault(int(rest.split()[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found if not self.served else found[1:]  # serve.sh itself is bash

    def cpu_s(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                # utime + stime, and the same of its ended children (a training process that has finished)
                total += sum(int(f) for f in fields[11:15]) / TICK
        return total

    def rss_mb(self, pids: list[int] | None = None) -> float:
        """Resident memory of the app's processes (or of ``pids``), in MB."""
        total = 0.0
        for pid in self.pids() if pids is None else pids:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        return total

    def stop(self) -> None:
        if self.served:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 15)
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        self.process.kill()


# -- Gradio's queue protocol, as the browser speaks it -------------------------------------------------------------
class Session:
    """One browser tab: a session hash, one event stream, any number of events in flight."""

    def __init__(self, http: httpx.AsyncClient, url: str):
        self.http, self.url, self.hash = http, url, uuid.uuid4().hex[:11]
        self.pending: dict[str, asyncio.Future] = {}
        # an event's end read before its join's answer came (Gradio's JS client keeps them too)
        self.early: dict[str, dict] = {}
        self.reader: asyncio.Task | None = None

    async def send_blobs(self, canvas: int, png: bytes) -> None:
        """What the page's canvas sends after every stroke: its background, layer and composite, each in a post of its
        own to the canvas's ``accept_blobs`` (Gradio keeps them for an event that names them)."""
        blob_id = uuid.uuid4().hex[:11]

        async def post(kind: str, name: str, data: bytes, index: str) -> None:
            fields = {"id": blob_id, "type": kind, "index": index, "component_id": str(canvas)}
            fields |= {"fn_name": "accept_blobs", "session_hash": self.hash}
            r = await self.http.post(
                self.url + "/gradio_api/component_server/", data=fields, files={"file": (name, data, "image/png")}
            )
            r.raise_for_status()

        await asyncio.gather(
            post("background", "background.png", WHITE_CANVAS, "null"),
            post("composite", "composite.png", png, "null"),
            post("layer", "layer_0.png", png, "0"),
        )

    async def upload(self, png: bytes) -> dict:
        r = await self.http.post(self.url + "/gradio_api/upload", files={"files": ("drawing.png", png, "image/png")})
        r.raise_for_status()
        return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}, "orig_name": "drawing.png"}

    async def call(self, fn_index: int, data: list, within: float = ANSWER_WITHIN_S) -> dict:
        """Join the queue and wait for the event's end: the server's last message (``success`` says how it went)."""
        r = await self.http.post(
            self.url + "/gradio_api/queue/join",
            json={"data": data, "fn_index": fn_index, "session_hash": self.hash, "event_data": None},
        )
        if r.status_code != 200:
            return {"success": False, "output": {"error": f"HTTP {r.status_code}: {r.text[:120]}"}}
        event_id = r.json()["event_id"]
        if (done := self.early.pop(event_id, None)) is not None:  # a fast event ended on the session's open stream
            return done
        future = asyncio.get_running_loop().create_future()
        self.pending[event_id] = future
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self.read())
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError:
            self.pending.pop(event_id, None)
            return {"success": False, "output": {"error": f"no answer within {within:.0f} s"}}

    async def fetch(self, output: dict) -> None:
        """GET every file an event's output names (the pictures of a view), as the browser does to show them."""
        limit = asyncio.Semaphore(6)  # a browser's connections per host

        async def get(url: str) -> None:
            async with limit:
                url = url if url.startswith("http") else self.url + url
                try:
                    r = await self.http.get(url)
                except (httpx.RemoteProtocolError, httpx.ReadError):  # a kept-alive connection the server had just
                    r = await self.http.get(url)  # closed (or reset): a browser retries such a GET once, so does this
                r.raise_for_status()

        await asyncio.gather(*(get(u) for u in file_urls(output.get("data"))))

    def dispatch(self, msg: dict) -> None:
        if msg.get("msg") == "process_completed":
            future = self.pending.pop(msg.get("event_id"), None)
            if future is not None:
                future.set_result(msg)
            elif len(self.early) < 64:  # its join's answer is still on its way (or its caller gave up)
                self.early[msg.get("event_id")] = msg
        elif msg.get("msg") == "unexpected_error":
            for f in self.pending.values():
                f.set_result({"success": False, "output": {"error": msg.get("message")}})
            self.pending.clear()

    async def read(self) -> None:
        """Read the session's stream while events are in flight (the server closes it when it has none left)."""
        try:
            while self.pending:
                async with self.http.stream(
                    "GET", self.url + "/gradio_api/queue/data", params={"session_hash": self.hash}
                ) as response:
                    buffer = ""
                    async for chunk in response.aiter_text():
                        buffer += chunk
                        while "\n\n" in buffer:
                            line, buffer = buffer.split("\n\n", 1)
                            if line.startswith("data:"):
                                with contextlib.suppress(json.JSONDecodeError):
                                    self.dispatch(json.loads(line[5:]))
        except httpx.HTTPError as exc:
            for f in self.pending.values():
                if not f.done():
                    f.set_result({"success": False, "output": {"error": repr(exc)}})
            self.pending.clear()


def file_urls(value: object) -> list[str]:
    """The URL of every file in an event's output data (FileData dicts, at any depth: galleries, images)."""
    urls: list[str] = []
    traverse(value, lambda f: urls.append(f["url"]), is_file_obj_with_url)
    return urls


@dataclass
class Tally:
    """What one run measured."""

    labels: list[float] = field(default_factory=list)  # stroke → label, s
    views: list[float] = field(default_factory=list)  # stroke → view, s, for strokes still the latest
    strokes: int = 0
    errors: int = 0
    busy: int = 0  # refused with the app's "busy" message (counted in errors too)
    replaced: int = 0  # strokes replaced by a newer one while the student's label before was in flight
    per_student: list[int] = field(default_factory=list)  # labels each student got: nobody may starve
    messages: set[str] = field(default_factory=set)


@dataclass
class Route:
    """The fn indices a stroke uses: the label event and the view event, and how each takes a drawing."""

    label: int
    view: int
    api: bool  # /classify and /explain (an image file) rather than the page's events (a canvas)
    canvas: int | None = None  # the page's canvas, to which a stroke's blobs go (None: no blobs sent)
    tab: int | None = None  # the select event of the view tab each student opens first (None: the first tab)
    # False: as the page's browser does ("always_last"), one label and one view in flight a student, then the latest
    # stroke's only. True: a label for every stroke and the view of every stroke still the latest when its label
    # comes, without waiting for the ones in flight.
    every_stroke: bool = False

    def label_data(self, image: dict) -> list:
        if self.api:
            return [image, "digits"]
        canvas = {"background": None, "layers": [], "composite": image, "id": None}
        return [canvas, None, "digits", [], "en"]  # sketch, upload, model, lesions, language

    def view_data(self, image: dict) -> list:
        if self.api:
            return [image, "digits", []]
        canvas = {"background": None, "layers": [], "composite": image, "id": None}
        # source, sketch, upload, model, lesions, language, Grad-CAM class, stage, view tab (states are sent as None),
        # a phone's page, the projector view
        return [None, canvas, None, "digits", [], "en", "predicted", "b3", None, False, False]


def routes(url: str, tab: str = "features") -> dict[str, Route]:
    """The events of each target; the page's students first open the view tab ``tab`` ("features", "residual")."""
    config = httpx.get(url + "/config", timeout=10).json()
    index = {d.get("api_name"): i for i, d in enumerate(config["dependencies"]) if d.get("api_name")}
    if "id" in config["dependencies"][0]:
        index = {d.get("api_name"): d["id"] for d in config["dependencies"] if d.get("api_name")}
    opened = tab_event(config, tab) if tab != "features" else None
    canvas = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "sketch")
    canvas = canvas if BLOBS else None
    return {
        "app": Route(index["stroke"], index["view"], api=False, canvas=canvas, tab=opened),
        # a fixed feature view either way
        "floor": Route(index["stroke_floor"], index["view_floor"], api=False, canvas=canvas),
        # the page's label with the floor's fixed view: what a label costs when the views cost only Gradio's handling
        "app-label": Route(index["stroke"], index["view_floor"], api=False, canvas=canvas),
        "api": Route(index["classify"], index["explain"], api=True),
        "api-every": Route(index["classify"], index["explain"], api=True, every_stroke=True),
    }


def tab_event(config: dict, tab: str) -> int:
    """The fn index of the event that selecting view tab ``tab`` runs (it sets the session's view on screen)."""
    ids = {c["id"] for c in config["components"] if c.get("type") == "tabitem" and c["props"].get("id") == tab}
    for i, d in enumerate(config["dependencies"]):
        if any(target[0] in ids and target[1] == "select" for target in d.get("targets", [])):
            return d.get("id", i)
    raise ValueError(f"no view tab {tab!r} in the page")


async def student(
    url: str, route: Route, drawings: Iterator[bytes], until: float, tally: Tally, rng: random.Random
) -> None:
    limits = httpx.Limits(max_connections=4)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits, verify=TLS) as http:
        session = Session(http, url)
        latest = answered = 0
        tasks = []
        labelling, viewing = asyncio.Lock(), asyncio.Lock()  # held by the label in flight, by the view in flight

        async def stroke(n: int, drawing: bytes) -> None:
            nonlocal latest, answered
            t0 = time.monotonic()
            # The page's "always_last": one label in flight, then the latest stroke's (api-every: no waiting).
            async with contextlib.nullcontext() if route.every_stroke else labelling:
                if n != latest:
                    tally.replaced += 1
                    return  # a newer stroke came while the label before was in flight: its label is asked for
                try:
                    if route.canvas is None:
                        image = await session.upload(drawing)
                    else:  # the canvas's blobs go out as the page reads (and uploads) the canvas for the event
                        blobs = session.send_blobs(route.canvas, drawing)
                        _, image = await asyncio.gather(blobs, session.upload(drawing))
                    done = await session.call(route.label, route.label_data(image))
                except httpx.HTTPError as exc:
                    tally.errors += 1
                    tally.messages.add(repr(exc)[:100])
                    return
            if not done.get("success"):
                tally.errors += 1
                error = str((done.get("output") or {}).get("error"))
                tally.busy += "busy" in error.lower()
                tally.messages.add(error[:100])
                return
            tally.labels.append(time.monotonic() - t0)
            answered += 1
            # The page shows the label at once and loads its pictures meanwhile (what the model sees).
            pictures = asyncio.create_task(session.fetch(done["output"]))
            # The page's "always_last": one view in flight, then the latest stroke's (api-every: no waiting).
            async with contextlib.nullcontext() if route.every_stroke else viewing:
                if n != latest:
                    await asyncio.gather(pictures, return_exceptions=True)
                    return  # a newer stroke came: its own label and view follow
                done = await session.call(route.view, route.view_data(image))
                try:
                    if done.get("success"):
                        await asyncio.gather(pictures, session.fetch(done["output"]))  # a view is seen once loaded
                except httpx.HTTPError as exc:
                    done = {"success": False, "output": {"error": f"fetching its pictures: {exc!r}"}}
            if done.get("success") and n == latest:
                tally.views.append(time.monotonic() - t0)
            elif not done.get("success"):
                tally.errors += 1
                tally.messages.add(str((done.get("output") or {}).get("error"))[:100])

        if route.tab is not None:  # open a view tab first, as a student told to by the lecturer
            await session.call(route.tab, [])
        await asyncio.sleep(rng.uniform(0, 2))
        while time.monotonic() < until:
            latest += 1
            tally.strokes += 1
            tasks.append(asyncio.create_task(stroke(latest, next(drawings))))
            await asyncio.sleep(rng.uniform(1.5, 2.5))
        await asyncio.gather(*tasks, return_exceptions=True)  # each call gives up after ANSWER_WITHIN_S
        tally.per_student.append(answered)


def run_load(server: Server, route: Route, students: int, seconds: float, drawings: Drawings) -> tuple[Tally, dict]:
    tally = Tally()
    rng = random.Random(students)
    rngs = [random.Random(rng.random()) for _ in range(students)]
    made = [iter(drawings.for_student(r, seconds)) for r in rngs]
    cpu0, own0, t0, rss = server.cpu_s(), time.process_time(), time.monotonic(), []

    async def main() -> None:
        until = time.monotonic() + seconds

        async def sample_rss() -> None:
            while time.monotonic() < until:
                rss.append((time.monotonic() - t0, server.rss_mb()))
                await asyncio.sleep(1)

        await asyncio.gather(
            sample_rss(),
            *(student(server.url, route, d, until, tally, r) for d, r in zip(made, rngs, strict=True)),
        )

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main())
    wall = time.monotonic() - t0
    usage = {
        "cpu": 100 * (server.cpu_s() - cpu0) / wall,
        "students_cpu": 100 * (time.process_time() - own0) / wall,  # this process: the simulated class itself
        "rss": max(m for _, m in rss) if rss else server.rss_mb(),
        "rss_samples": rss,  # (seconds since the start, MB) every second
    }
    return tally, usage


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The students' event loop: uvloop's where it is installed (as the server's, requirements.txt), else
    asyncio's own. The students share the two cores with the server: a leaner client leaves the server more of them,
    for the floor and the app alike ($RESNET_LOAD_LOOP=asyncio: asyncio's own loop)."""
    if os.environ.get("RESNET_LOAD_LOOP") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(values, q))


def row(name: str, students: int, t: Tally, usage: dict, floor: Tally | None) -> str:
    p50, p95 = pct(t.labels, 50), pct(t.labels, 95)
    v50, v95 = pct(t.views, 50), pct(t.views, 95)
    ratio = f"{p95 / pct(floor.labels, 95):.2f}×" if floor and floor.labels else "–"
    vratio = f"{v95 / pct(floor.views, 95):.2f}×" if floor and floor.views else "–"
    replaced = f"{t.replaced} replaced, " if t.replaced else ""
    return (
        f"| {students} | {name} | {len(t.labels)}/{t.strokes} ({replaced}each ≥ {min(t.per_student, default=0)}) | "
        f"{t.errors} | "
        f"{1000 * p50:,.0f} / {1000 * p95:,.0f} | "
        f"{ratio} | {1000 * v50:,.0f} / {1000 * v95:,.0f} ({len(t.views)}) | {vratio} | {usage['cpu']:.0f}% | "
        f"{usage['rss']:,.0f} MB | {usage['students_cpu']:.0f}% |"
    )


def report(name: str, students: int, t: Tally, usage: dict, floor: Tally | None) -> None:
    """Print a run's row and, if any, the messages of its errors."""
    print(row(name, students, t, usage, floor), flush=True)
    if t.messages:
        print(f"|   | errors: {'; '.join(sorted(t.messages))[:300]} |")


def medians(repeats: list[dict[str, Tally]]) -> str:
    """Each target over repeated runs (target -> its run's tally, each repeat): its errors, the median and range of
    its label p95, of that p95 against the same repeat's floor, and of its view p95 (latest strokes), and in how many
    repeats it met issue 8's goals at 30 students (label p95 ≤ 1.0 s and ≤ 1.5× the floor's; view p95 ≤ 3 s): one run
    decides little where the floor's own p95 swings 2× between runs."""

    def spread(values: list[float], fmt: Callable[[float], str]) -> str:
        if not values:
            return "–"
        return f"{fmt(float(np.median(values)))} ({fmt(min(values))}–{fmt(max(values))})"

    def ms(v: float) -> str:
        return f"{1000 * v:,.0f}"

    def times(v: float) -> str:
        return f"{v:.2f}×"

    lines = [
        "| target | repeats | errors | label p95, median (range) (ms) | label p95 / floor | "
        "view p95 (latest strokes), median (range) (ms) | label goals met | view goal met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in repeats[0]:
        tallies = [r[target] for r in repeats]
        labels = [pct(t.labels, 95) for t in tallies if t.labels]
        views = [pct(t.views, 95) for t in tallies if t.views]
        # (its label p95, the same repeat's floor's) where both answered
        paired = [
            (pct(r[target].labels, 95), pct(r["floor"].labels, 95))
            for r in repeats
            if "floor" in r and r["floor"].labels and r[target].labels
        ]
        ratio, label_met, view_met = "–", "–", "–"
        if target != "floor":
            ratio = spread([p95 / floor for p95, floor in paired], times)
            label_met = f"{sum(p95 <= 1.0 and p95 <= 1.5 * floor for p95, floor in paired)}/{len(paired)}"
            view_met = f"{sum(v <= 3.0 for v in views)}/{len(views)}"
        lines.append(
            f"| {target} | {len(tallies)} | {sum(t.errors for t in tallies)} | {spread(labels, ms)} | {ratio} | "
            f"{spread(views, ms)} | {label_met} | {view_met} |"
        )
    return "\n".join(lines)


HEADER = (
    "| students | target | labels/strokes (fewest a student got) | errors | stroke → label p50 / p95 (ms) | "
    "label p95 / floor | "
    "stroke → view p50 / p95 (ms) (latest strokes) | view p95 / floor | server CPU | server RSS | "
    "students' CPU |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", default="1,10,30,60")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--targets", default="floor,app,api,api-every")
    p.add_argument("--port", type=int, default=7871)
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="compare scripts/serve.sh with N workers against 1 instead, for --targets",
    )
    p.add_argument(
        "--hide",
        default="",
        help="compare the app as installed against the app without these modules (uvloop,httptools), for --targets",
    )
    p.add_argument(
        "--against",
        nargs="*",
        default=[],
        help="compare the server with --env against the server with these NAME=value too, for --targets",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="each load this many times on one server, the targets' order turned each time, then each target's medians;"
        " with --workers, --against or --hide: the two setups this many times, in turn, then the ratios' medians",
    )
    p.add_argument(
        "--tree",
        type=Path,
        help="compare this checkout's app against the app of another checkout (a git worktree), for --targets",
    )
    p.add_argument("--training", action="store_true", help="10 students while a run trains, against idle")
    p.add_argument("--soak", type=float, default=0, help="30 students for this many seconds: the server's RSS trend")
    p.add_argument("--churn", type=float, default=0, help="with --soak: a new class of 30 every this many seconds")
    p.add_argument("--env", nargs="*", default=[], help="NAME=value for the server, e.g. RESNET_LABEL_WORKERS=1")
    p.add_argument("--tab", default="features", help="the view tab the students open: features or residual")
    p.add_argument("--blobs", action="store_true", help="students that post the canvas's blobs (Gradio's page)")
    args = p.parse_args()
    print(f"this machine before the runs: {machine_speed()}\n")
    try:
        measure(args)
    finally:
        print(f"\nthis machine after the runs: {machine_speed()}")


def machine_speed() -> str:
    """How fast this machine is now, to read runs of different sessions side by side (the floor's own label p95 was
    123-206 ms in two sessions' repeats and 49-63 ms in the next session's): the best of five of a fixed pure-Python
    loop (what Gradio's handling of an event mostly is) and of zlib on fixed bytes (one core's speed in C)."""
    data = bytes(range(256)) * 16384  # 4 MB

    def compress() -> bytes:
        return zlib.compress(data, 6)

    def python_loop() -> int:
        total = 0
        for i in range(300_000):
            total += i * i % 7
        return total

    python_ms, zlib_ms = (1000 * min(timeit.repeat(fn, number=1, repeat=5)) for fn in (python_loop, compress))
    return f"a fixed Python loop {python_ms:.1f} ms, zlib level 6 of 4 MB {zlib_ms:.1f} ms (best of five)"


def measure(args: argparse.Namespace) -> None:
    """The runs ``args`` ask for (``main``'s options)."""
    global BLOBS
    BLOBS = args.blobs
    loads = [int(s) for s in args.students.split(",")]
    targets = args.targets.split(",")
    env = dict(kv.split("=", 1) for kv in args.env)
    if args.workers:
        return compare_workers(args.workers, loads[-1], args.seconds, args.port, targets, args.repeat)
    if args.against:
        against = dict(kv.split("=", 1) for kv in args.against)
        return compare_env(env, against, loads[-1], args.seconds, args.port, targets, args.repeat)
    if args.tree:
        return compare_trees(env, args.tree, loads[-1], args.seconds, args.port, targets, args.repeat)
    if args.hide:
        return compare_hidden(args.hide.split(","), loads[-1], args.seconds, args.port, targets, args.repeat)
    if args.training:
        return during_training(args.seconds, args.port, env)
    if args.soak:
        return soak(args.soak, args.port, env, args.churn)
    with tempfile.TemporaryDirectory() as tmp:
        drawings = Drawings()
        server = Server.start(args.port, {**fresh(tmp), **env})
        try:
            paths = routes(server.url, args.tab)
            print(f"server pid {server.process.pid}, RSS at start {server.rss_mb():,.0f} MB\n")
            print(HEADER)
            for students in loads:
                repeats: list[dict[str, Tally]] = []
                for r in range(args.repeat):
                    # the targets' order turned each repeat: none always runs first, or just after another
                    turn = r % len(targets)
                    measured = {}
                    for target in targets[turn:] + targets[:turn]:
                        measured[target] = run_load(server, paths[target], students, args.seconds, drawings)
                    floor = measured["floor"][0] if "floor" in measured else None
                    for target in targets:
                        tally, usage = measured[target]
                        report(target, students, tally, usage, floor if target != "floor" else None)
                    repeats.append({t: tally for t, (tally, _) in measured.items()})
                if args.repeat > 1:
                    print(f"\nat {students} students, over {args.repeat} repeats:\n\n" + medians(repeats) + "\n")
                    print(HEADER)
        finally:
            server.stop()


def compare_workers(
    workers: int, students: int, seconds: float, port: int, targets: list[str], repeat: int = 1
) -> None:
    """``targets`` through scripts/serve.sh (nginx, sticky) with 1 worker and with ``workers``, at the same load;
    with "floor" first among them, the others' ratios to the floor on as many workers."""

    def serve(n: int, tmp: str) -> Server:
        server = Server.serve(n, port, fresh(tmp, str(n)))
        time.sleep(2)
        return server

    setups = [(f"{n} worker{'s' * (n > 1)} (nginx)", partial(serve, n)) for n in (1, workers)]
    compare(setups, students, seconds, targets, f"{workers} workers against 1", repeat)


def compare_env(
    env: dict[str, str],
    against: dict[str, str],
    students: int,
    seconds: float,
    port: int,
    targets: list[str],
    repeat: int = 1,
) -> None:
    """``targets`` on the app with ``env`` and on the app with ``against`` added to it, side by side in one run."""

    def start(extra: dict[str, str], name: str, tmp: str) -> Server:
        return Server.start(port, {**fresh(tmp, name), **env, **extra})

    changed = ", ".join(f"{k}={v}" for k, v in against.items())
    setups = [("as set", partial(start, {}, "")), (changed, partial(start, against, "-against"))]
    compare(setups, students, seconds, targets, f"{changed} against as set", repeat)


def compare_trees(
    env: dict[str, str], tree: Path, students: int, seconds: float, port: int, targets: list[str], repeat: int = 1
) -> None:
    """``targets`` on this checkout's app and on the app of the checkout ``tree`` (the same Python and packages, its
    own code and assets), side by side in one run: a change that has no switch of its own against the code before."""
    tree = tree.resolve()
    if not (tree / "app.py").is_file():
        raise SystemExit(f"--tree {tree}: no app.py there (make one: git worktree add {tree} <commit>)")

    def start(root: Path, name: str, tmp: str) -> Server:
        return Server.start(port, {**fresh(tmp, name), **env}, root)

    setups = [("this checkout", partial(start, ROOT, "")), (str(tree), partial(start, tree, "-tree"))]
    compare(setups, students, seconds, targets, f"{tree} against this checkout", repeat)


def compare_hidden(
    modules: list[str], students: int, seconds: float, port: int, targets: list[str], repeat: int = 1
) -> None:
    """``targets`` on the app as installed and on the app with ``modules`` hidden from it (each a module that raises
    ``ImportError`` first on its ``PYTHONPATH``): an optional speed-up, uvicorn's ``uvloop`` and ``httptools``, side
    by side in one run."""

    def start(hidden: bool, tmp: str) -> Server:
        env = fresh(tmp, "-hidden" if hidden else "")
        if hidden:
            shims = Path(tmp) / "hidden"
            shims.mkdir(exist_ok=True)
            for name in modules:
                (shims / f"{name}.py").write_text(f'raise ImportError("{name} hidden by benchmarks/load.py --hide")\n')
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shims), os.environ.get("PYTHONPATH")]))
        return Server.start(port, env)

    without = f"without {', '.join(modules)}"
    setups = [("as installed", partial(start, False)), (without, partial(start, True))]
    compare(setups, students, seconds, targets, f"{without} against as installed", repeat)


def compare(
    setups: list[tuple[str, Callable[[str], Server]]],
    students: int,
    seconds: float,
    targets: list[str],
    what: str,
    repeat: int = 1,
) -> None:
    """``targets`` at the same load on two server setups (name, start(tmp) -> Server), one after the other, ``repeat``
    times (the second setup first in every other repeat); with "floor" first among the targets, the others' label
    ratios to the floor of the same setup and repeat; then each target's second setup against its first: each
    repeat's ratio, and their median where repeated."""
    print(HEADER)
    (first, _), (second, _) = setups
    ratios: dict[str, list[tuple[float, float, int, int]]] = {t: [] for t in targets}
    with tempfile.TemporaryDirectory() as tmp:
        drawings = Drawings()
        for r in range(repeat):
            measured: dict[tuple[str, str], Tally] = {}
            for setup, start in setups if r % 2 == 0 else setups[::-1]:
                server = start(tmp)
                try:
                    paths = routes(server.url)
                    for target in targets:
                        tally, usage = run_load(server, paths[target], students, seconds, drawings)
                        measured[(target, setup)] = tally
                        floor = measured.get(("floor", setup)) if target != "floor" else None
                        report(f"{target}, {setup}", students, tally, usage, floor)
                finally:
                    server.stop()
                    time.sleep(2)
            for target in targets:
                a, b = measured[(target, first)], measured[(target, second)]
                label, view = pct(b.labels, 95) / pct(a.labels, 95), pct(b.views, 95) / pct(a.views, 95)
                ratios[target].append((label, view, len(b.labels), len(a.labels)))
        print()
        for target, runs in ratios.items():
            each = "; ".join(
                f"label p95 {lb:.2f}×, view p95 {v:.2f}×, labels {nb} against {na}" for lb, v, nb, na in runs
            )
            print(f"{target}: {what} at {students} students: {each}")
            if len(runs) > 1:
                label, view = (float(np.median([run[i] for run in runs])) for i in (0, 1))
                print(f"{target}: median over {len(runs)} repeats: label p95 {label:.2f}×, view p95 {view:.2f}×")


def soak(seconds: float, port: int, env: dict[str, str] | None = None, churn: float = 0) -> None:
    """30 students for ``seconds``: the server's RSS, its maximum and its late slope.

    By default the same 30 students (30 browser tabs) all along, as a class keeps its sessions. ``churn``: a new class
    of 30 every ``churn`` seconds, each student a new session, as a public Space sees its visitors come and go (their
    tabs are never closed: the server keeps their sessions, as it would for tabs left open).
    """
    with tempfile.TemporaryDirectory() as tmp:
        drawings = Drawings()
        server = Server.start(port, {**fresh(tmp), **(env or {})})
        try:
            route, start, total = routes(server.url)["app"], time.monotonic(), Tally()
            samples: list[tuple[float, float]] = []
            chunks = [seconds] if not churn else [churn] * max(1, round(seconds / churn))
            for chunk in chunks:
                offset = time.monotonic() - start
                tally, usage = run_load(server, route, 30, chunk, drawings)
                samples += [(offset + t, m) for t, m in usage["rss_samples"]]
                total.labels += tally.labels
                total.errors += tally.errors
                total.messages |= tally.messages
            samples = samples[::10]  # every 10 s
            half = samples[len(samples) // 2 :]
            slope = float(np.polyfit([t for t, _ in half], [m for _, m in half], 1)[0]) * 60 if len(half) > 1 else 0
            who = "the same 30 students"
            if churn:
                who = f"30 students, new every {churn:.0f} s ({30 * len(chunks)} sessions)"
            print(f"soak: {who} for {seconds:.0f} s, {len(total.labels):,} labels, {total.errors} errors")
            if total.messages:
                print(f"errors: {'; '.join(sorted(total.messages))[:300]}")
            print("RSS (MB) every 10 s: " + ", ".join(f"{m:,.0f}" for _, m in samples))
            print(
                f"max {max(m for _, m in samples):,.0f} MB (goal: ≤ 1,200 MB); "
                f"slope over the second half {slope:+.1f} MB/min"
            )
        finally:
            server.stop()


def during_training(seconds: float, port: int, env: dict[str, str]) -> None:
    """10 students' labels while someone trains (60,000 digits, 1 epoch) against the same load idle.

    ``--env NAME=value`` sets the server's environment, as for the other loads."""
    import threading

    with tempfile.TemporaryDirectory() as tmp:
        drawings = Drawings()
        server = Server.start(port, {**fresh(tmp), **env})
        try:
            route = routes(server.url)["app"]
            config = httpx.get(server.url + "/config", timeout=10).json()
            train = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "train")
            print(HEADER)
            idle, usage = run_load(server, route, 10, seconds, drawings)
            print(row("app, idle", 10, idle, usage, None), flush=True)

            def trainer() -> None:  # a student pressing Train, and keeping the tab open
                async def go() -> None:
                    async with httpx.AsyncClient(timeout=None) as http:
                        data = ["digits", "resnet18", "residual", 60000, 1, 0.05, None, "en", False]
                        await Session(http, server.url).call(train, data, within=3600)  # trains to the end

                with contextlib.suppress(Exception):
                    asyncio.run(go())

            threading.Thread(target=trainer, daemon=True).start()
            time.sleep(15)  # the run loads its data and starts
            busy, usage = run_load(server, route, 10, seconds, drawings)
            print(row("app, someone training", 10, busy, usage, None), flush=True)
            alone = server.rss_mb([server.process.pid])
            print(f"\nRSS now: the server {alone:,.0f} MB, its training process {server.rss_mb() - alone:,.0f} MB")
            print(
                f"\nlabel p95 while training / idle: {pct(busy.labels, 95) / pct(idle.labels, 95):.2f}× (goal ≤ 1.5×)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
