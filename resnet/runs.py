"""The runs folder of the app (``runs/app/``) kept bounded: at most N runs and M bytes, oldest first, never a kept one.

A run is the files one training run wrote, sharing a stem: ``<stem>.safetensors`` (the model),
``<stem>.state.safetensors`` (resumable state) and ``<stem>.metrics.jsonl`` (one line per epoch).

    >>> prune(Path("runs/app"), keep_runs=20, keep_bytes=2 * 2**30, kept={"digits-20261129-101500-6000img-2ep"})
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".state.safetensors", ".metrics.jsonl", ".safetensors")


@dataclass(frozen=True)
class Run:
    stem: str
    files: tuple[Path, ...]
    mtime: float  # the newest of its files
    size: int  # bytes, all files

    @staticmethod
    def stem_of(path: Path) -> str | None:
        for suffix in SUFFIXES:  # the longest first: "x.state.safetensors" is run "x"
            if path.name.endswith(suffix):
                return path.name.removesuffix(suffix)
        return None


def runs_in(folder: Path) -> list[Run]:
    """The runs in ``folder``, oldest first."""
    groups: dict[str, list[Path]] = {}
    for path in Path(folder).glob("*") if Path(folder).is_dir() else ():
        stem = Run.stem_of(path)
        if stem is not None and path.is_file():
            groups.setdefault(stem, []).append(path)
    runs = []
    for stem, files in groups.items():
        stats = [f.stat() for f in files]
        runs.append(Run(stem, tuple(sorted(files)), max(s.st_mtime for s in stats), sum(s.st_size for s in stats)))
    return sorted(runs, key=lambda r: r.mtime)


def prune(folder: Path, keep_runs: int, keep_bytes: int, kept: Collection[str] = ()) -> list[str]:
    """Remove the oldest runs until at most ``keep_runs`` runs and ``keep_bytes`` bytes are left; never a run in
    ``kept`` (a run training now, or one whose browser tab is still open). Returns the stems removed."""
    runs = runs_in(folder)
    count, total = len(runs), sum(r.size for r in runs)
    removed = []
    for run in runs:
        if count <= keep_runs and total <= keep_bytes:
            break
        if run.stem in kept:
            continue
        for f in run.files:
            with contextlib.suppress(FileNotFoundError):  # gone already
                os.remove(f)
        count, total = count - 1, total - run.size
        removed.append(run.stem)
    return removed
