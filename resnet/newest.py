"""The newest answer wins: one browser session's labels, computed side by side, may finish out of order.

A session's label events (a stroke, a lesion ticked, a model or language switched, a scene) share the label workers
(``app.LABEL``: four) and start in the order they came, each with the controls as they were when it was triggered.
Two of one session can overlap (a lesion ticked while a stroke's label is still out; the label after a language
switch and the one after a model switch, ~30 ms apart), and under a class's load one of them can wait for a core
longer than the other: the one that started first can end last and put an older input's label, status and previews
back on screen. ``Tickets`` numbers each session's labels as they start; an answer is shown only where no later one of
its session has been shown already (the others are skipped, which leaves the screen as it is).

What only some of the events write follows the order of those events alone, in a ``Tickets`` of its own
(``app.newest_only``: the input's source, which only a new input writes).

    >>> order = Tickets()
    >>> first, second = order.take("tab"), order.take("tab")
    >>> order.deliver("tab", second), order.deliver("tab", first)
    (True, False)
"""

from __future__ import annotations

import threading

from resnet.recent import Recent


class Tickets:
    """Each session's labels numbered as they start (``take``); ``deliver`` says whether an answer is still the
    newest shown. Sessions idle for ``max_age_s`` are forgotten (API clients never close a tab), at most ``most``
    kept; a forgotten session starts again from 1, which can hide nothing (nothing of it was shown since)."""

    def __init__(self, max_age_s: float = 3600.0, most: int = 10_000):
        self._lock = threading.Lock()  # the label workers are threads
        self._sessions: Recent = Recent(max_age_s, most)  # session -> (last ticket taken, newest ticket shown)

    def take(self, session: str) -> int:
        """A new answer of ``session`` starts: its ticket, larger than every earlier one of that session."""
        with self._lock:
            taken, shown = self._sessions.get(session, (0, 0))
            self._sessions[session] = (taken + 1, shown)
            return taken + 1

    def deliver(self, session: str, ticket: int) -> bool:
        """The answer of ``ticket`` is ready: True (and it counts as shown) unless a later ticket's was shown."""
        with self._lock:
            taken, shown = self._sessions.get(session, (ticket, 0))
            if ticket < shown:
                return False
            self._sessions[session] = (max(taken, ticket), ticket)
            return True

    def forget(self, session: str) -> None:
        """The session's tab closed."""
        with self._lock:
            self._sessions.pop(session, None)
