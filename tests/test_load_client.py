"""benchmarks/load.py's simulated browser speaks Gradio's queue protocol as the page's JS client does."""

from __future__ import annotations

import asyncio
import itertools
import sys
from types import SimpleNamespace
from typing import ClassVar

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import load


class JoinAnswersLate:
    """An HTTP client whose queue join answers after the event's end has already come on the session's stream."""

    def __init__(self, session: load.Session):
        self.session = session

    async def post(self, url: str, json: dict) -> SimpleNamespace:
        self.session.dispatch({"msg": "process_completed", "event_id": "e1", "success": True, "output": {}})
        return SimpleNamespace(status_code=200, json=lambda: {"event_id": "e1"})


def test_an_event_that_ends_before_its_join_is_answered_is_not_lost():
    """A fast event (a label) can end on a stream the session already has open before the client has read its
    join's answer; the page's client keeps such messages (``pending_stream_messages``), and so does the benchmark:
    before, it waited 60 s and counted "no answer" (one stroke in a few thousand)."""

    async def call() -> dict:
        session = load.Session(None, "http://127.0.0.1:1")
        session.http = JoinAnswersLate(session)
        return await session.call(0, [], within=2)

    assert asyncio.run(call())["success"] is True


class SlowViews:
    """A session whose labels answer at once and whose views take 0.3 s; it counts views in flight."""

    slow = 1  # the fn index that takes 0.3 s: the view's
    in_flight = most = 0
    viewed: ClassVar[list[str]] = []

    def __init__(self, http, url: str):
        pass

    async def upload(self, png: bytes) -> dict:
        return {"path": png.decode()}

    async def call(self, fn_index: int, data: list) -> dict:
        if fn_index != self.slow:
            return {"success": True, "output": {}}
        cls = SlowViews
        cls.in_flight += 1
        cls.most = max(cls.most, cls.in_flight)
        await asyncio.sleep(0.3)
        cls.in_flight -= 1
        cls.viewed.append(data[0]["path"])
        return {"success": True, "output": {}}

    async def fetch(self, output: dict) -> None:
        pass


class SlowLabels(SlowViews):
    """A session whose labels take 0.3 s and whose views answer at once; it counts labels in flight."""

    slow = 0


def views_of_one_student(
    monkeypatch, every_stroke: bool, session: type = SlowViews
) -> tuple[int, list[str], load.Tally]:
    monkeypatch.setattr(load, "Session", session)
    SlowViews.in_flight = SlowViews.most = 0
    SlowViews.viewed = []
    route = load.Route(0, 1, api=True, every_stroke=every_stroke)
    tally = load.Tally()
    rng = SimpleNamespace(uniform=lambda a, b: 0.05)  # a stroke every 0.05 s
    strokes = (str(n).encode() for n in itertools.count(1))  # drawings named by their order

    async def run() -> None:
        await load.student("http://127.0.0.1:1", route, strokes, asyncio.get_running_loop().time() + 0.5, tally, rng)

    asyncio.run(run())
    return SlowViews.most, SlowViews.viewed, tally


def test_a_student_keeps_one_view_in_flight_then_asks_for_the_latest(monkeypatch):
    """As the browser runs the page's "always_last" view events: a view in flight holds the next; when it ends, only
    the latest stroke's view is asked for (and counted, as the latest). With ``every_stroke`` (the ``api-every``
    target) every stroke still the latest at its label asks at once."""
    most, viewed, tally = views_of_one_student(monkeypatch, every_stroke=False)
    strokes = tally.strokes
    assert most == 1 and strokes >= 8 and len(tally.labels) == strokes
    assert viewed[0] == "1" and viewed[-1] == str(strokes) and len(viewed) <= 4  # 0.55 s of strokes, 0.3 s a view
    assert [int(v) for v in viewed] == sorted(int(v) for v in viewed) and tally.views  # the last one counts
    most, viewed, tally = views_of_one_student(monkeypatch, every_stroke=True)
    assert most > 3 and len(viewed) == tally.strokes


def test_a_student_keeps_one_label_in_flight_then_asks_for_the_latest(monkeypatch):
    """The page's label events are "always_last" too: a label in flight holds the next stroke's; when it ends, only
    the latest stroke's label is asked for, and the strokes replaced meanwhile are counted as such, not as errors (at
    60 students the benchmark had sent every stroke's label, ~10 queued a student, where a browser sends one). With
    ``every_stroke`` (``api-every``: a script that labels every drawing) every stroke's label is asked for at once."""
    most, labelled, tally = views_of_one_student(monkeypatch, every_stroke=False, session=SlowLabels)
    strokes = tally.strokes
    assert most == 1 and strokes >= 8 and tally.errors == 0
    assert labelled[0] == "1" and labelled[-1] == str(strokes) and len(labelled) <= 4  # 0.55 s of strokes
    assert [int(v) for v in labelled] == sorted(int(v) for v in labelled)
    assert len(tally.labels) == len(labelled) and tally.replaced == strokes - len(labelled)
    most, labelled, tally = views_of_one_student(monkeypatch, every_stroke=True, session=SlowLabels)
    assert most > 3 and len(labelled) == tally.strokes and tally.replaced == 0


def test_a_picture_whose_kept_alive_connection_was_reset_is_fetched_again_once():
    """A browser sends a GET again, once, on a new connection when a kept-alive one fails on it (the server closed
    it meanwhile); the benchmark does the same, and counts an error only when that second try fails too."""
    import httpx
    import pytest

    def run(failures: int) -> int:
        calls = []

        def answer(request: httpx.Request) -> httpx.Response:
            calls.append(request.url.path)
            if len(calls) <= failures:
                raise httpx.ReadError("", request=request)
            return httpx.Response(200, content=b"png")

        async def fetch() -> None:
            async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
                session = load.Session(http, "http://127.0.0.1:1")
                picture = {
                    "path": "/tmp/a.png",
                    "url": "/gradio_api/file=/tmp/a.png",
                    "meta": {"_type": "gradio.FileData"},
                }
                await session.fetch({"data": [picture]})

        asyncio.run(fetch())
        return len(calls)

    assert run(failures=1) == 2
    with pytest.raises(httpx.ReadError):
        run(failures=2)


def test_repeated_runs_are_summed_up_against_the_floor_of_their_own_repeat():
    """``--repeat``'s medians: each run's label p95 is set against the floor of its own repeat (not a pooled floor),
    and a goal counts as met in a repeat only where that repeat's numbers meet it."""

    def tally(label_s: float, view_s: float, errors: int = 0) -> load.Tally:
        return load.Tally(labels=[label_s] * 20, views=[view_s] * 20, errors=errors)

    repeats = [
        {"floor": tally(0.200, 0.3), "app": tally(0.250, 2.5)},  # 1.25×, view 2.5 s: both met
        {"floor": tally(0.100, 0.3), "app": tally(0.200, 3.5, errors=2)},  # 2.00×, view 3.5 s: neither
        {"floor": tally(0.400, 0.3), "app": tally(0.560, 2.9)},  # 1.40×, view 2.9 s: both
    ]
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
        for line in load.medians(repeats).splitlines()[2:]
    }
    assert rows["app"] == ["3", "2", "250 (200–560)", "1.40× (1.25×–2.00×)", "2,900 (2,500–3,500)", "2/3", "2/3"]
    assert rows["floor"][:3] == ["3", "0", "200 (100–400)"]
    # a pooled floor (median 200 ms against the app's 250 ms) would say 1.25×: each repeat is its own measurement


def test_an_ab_comparison_repeated_takes_turns_and_prints_each_repeats_ratio_and_their_median(monkeypatch, capsys):
    """``--repeat`` with two setups: the second setup goes first in every other repeat (neither always runs on a
    machine that has just warmed up, or just worn down), and each repeat's ratio is printed, then their median."""
    started: list[str] = []
    labels = {("A", 0): 0.100, ("B", 0): 0.150, ("A", 1): 0.200, ("B", 1): 0.100, ("A", 2): 0.100, ("B", 2): 0.120}

    def start(name: str, tmp: str) -> SimpleNamespace:
        started.append(name)
        return SimpleNamespace(url=name, stop=lambda: None)

    def run_load(server, route, students, seconds, drawings):
        repeat = len(started[:-1]) // 2  # the setups started before this one, two a repeat
        p95 = labels[(server.url, repeat)]
        return load.Tally(labels=[p95] * 20, views=[2 * p95] * 20), {"cpu": 0, "students_cpu": 0, "rss": 0}

    monkeypatch.setattr(load, "run_load", run_load)
    monkeypatch.setattr(load, "routes", lambda url: {"api": None})
    monkeypatch.setattr(load, "Drawings", lambda: None)
    monkeypatch.setattr(load.time, "sleep", lambda s: None)
    setups = [("A", lambda tmp: start("A", tmp)), ("B", lambda tmp: start("B", tmp))]
    load.compare(setups, 30, 1, ["api"], "B against A", repeat=3)
    assert started == ["A", "B", "B", "A", "A", "B"]
    out = capsys.readouterr().out
    assert "label p95 1.50×, view p95 1.50×, labels 20 against 20; label p95 0.50×" in out
    assert "api: median over 3 repeats: label p95 1.20×, view p95 1.20×" in out


def test_a_tree_comparison_starts_each_checkouts_own_app_and_refuses_a_folder_without_one(monkeypatch, tmp_path):
    """``--tree DIR``: this checkout's app and DIR's, each started from its own folder; a folder that holds no app is
    refused with a message before any server starts."""
    with pytest.raises(SystemExit, match=r"no app\.py there"):
        load.compare_trees({}, tmp_path, 30, 1, 7999, ["floor"])
    (tmp_path / "app.py").write_text("")
    roots: list[tuple[str, object]] = []

    def compare(setups, students, seconds, targets, what, repeat=1):
        for name, start in setups:
            start(str(tmp_path / "scratch"))
            roots.append((name, started[-1]))

    started: list[object] = []
    monkeypatch.setattr(load, "compare", compare)
    monkeypatch.setattr(load.Server, "start", lambda port, env, root: started.append(root))
    load.compare_trees({}, tmp_path, 30, 1, 7999, ["floor"])
    assert roots == [("this checkout", load.ROOT), (str(tmp_path.resolve()), tmp_path.resolve())]
