"""benchmarks/load.py's simulated browser speaks Gradio's queue protocol as the page's JS client does."""

from __future__ import annotations

import asyncio
import sys
from types import SimpleNamespace

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
