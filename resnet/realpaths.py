"""Whether one path lies in another, with the folders' real paths remembered.

Gradio asks ``is_in_or_equal(file, folder)`` of every file a view returns and every picture a browser fetches (is it
static, allowed, blocked, already in the cache?): ~85 times a stroke of a student, label and view, each resolving both
paths to their real paths (``os.path.realpath``: an ``lstat`` per component, in Python, on the server's one event
loop). Measured with one student on this machine: 10.8 ms of the event loop a stroke; under 30 students those checks
were ~20% of the event loop's thread (py-spy). Here a folder's real path is resolved once and remembered, and only
the last component of a path is looked at again (one ``lstat``: is it a link?).

The answer is the same as resolving both paths afresh (``tests/test_realpaths.py`` compares it with Gradio's own
function), provided that a folder already seen is not replaced by a link while the app runs: the folders asked about
are Gradio's cache and the app's allowed and blocked folders, which are not.
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

FOLDERS_KEPT = 4096  # Gradio's cache makes a folder per file: enough for the files a class asks about at once


@functools.lru_cache(maxsize=FOLDERS_KEPT)
def real_folder(folder: str) -> str:
    """``os.path.realpath`` of an absolute folder, remembered."""
    return os.path.realpath(folder)


def real_path(path: str | Path) -> str:
    """``os.path.realpath(os.path.abspath(path))``, from its folder's remembered real path and one ``lstat``."""
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    if not name:  # the root
        return path
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:  # missing or unreadable: kept as written, as realpath does
        is_link = False
    return os.path.realpath(path) if is_link else os.path.join(real_folder(folder), name)


def is_in_or_equal(path_1: str | Path, path_2: str | Path) -> bool:
    """True if ``path_1`` is ``path_2`` or lies within it, both resolved to their real paths (Gradio's contract)."""
    inner, outer = real_path(path_1), real_path(path_2)
    return inner == outer or inner.startswith(outer if outer.endswith(os.sep) else outer + os.sep)
