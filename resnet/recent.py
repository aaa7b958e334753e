"""A dict that forgets what it was given long ago: for the canvas's blobs, which Gradio otherwise keeps for ever.

Gradio's canvas (``ImageEditor``) sends its background, layer and composite to the server after every stroke
(``accept_blobs``) and keeps them in a dict until an event names them; the page reads that name first for one of its
status updates, never for an event, so nothing removes them: ~9 KB a stroke (measured on six strokes in Chromium), at
30 students ~0.5 GB an hour. ``app.py`` gives the canvas this dict instead (and the app's page answers those posts
itself: the bound is for any other client of the canvas).

    >>> blobs = Recent(max_age_s=300, most=4096)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class Recent(dict):
    """Entries that live at most ``max_age_s`` seconds after they were last set, at most ``most`` of them (the
    oldest go first): checked each time one is set. Reading, ``in`` and ``pop`` are a dict's."""

    def __init__(self, max_age_s: float, most: int, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.max_age_s, self.most, self.clock = max_age_s, most, clock
        self._set_at: dict[Any, float] = {}  # in the order they were last set: the oldest first

    def __setitem__(self, key: Any, value: Any) -> None:
        now = self.clock()
        self._set_at.pop(key, None)
        self._set_at[key] = now
        super().__setitem__(key, value)
        while self._set_at:
            oldest = next(iter(self._set_at))
            if len(self._set_at) <= self.most and now - self._set_at[oldest] <= self.max_age_s:
                break
            del self._set_at[oldest]
            super().pop(oldest, None)

    def __delitem__(self, key: Any) -> None:
        self._set_at.pop(key, None)
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._set_at.pop(key, None)
        return super().pop(key, *default)
