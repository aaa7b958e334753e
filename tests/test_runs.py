"""The runs folder stays bounded: the oldest runs go first, never one that is kept (training, or of an open tab)."""

from __future__ import annotations

import os
from pathlib import Path

from resnet.runs import prune, runs_in


def make_run(folder: Path, stem: str, mtime: float, size: int = 1000) -> None:
    for suffix in (".safetensors", ".state.safetensors", ".metrics.jsonl"):
        path = folder / f"{stem}{suffix}"
        path.write_bytes(b"x" * size)
        os.utime(path, (mtime, mtime))


def test_a_run_is_its_three_files(tmp_path):
    make_run(tmp_path, "digits-a", 100)
    (tmp_path / "notes.txt").write_text("not a run")
    (run,) = runs_in(tmp_path)
    assert run.stem == "digits-a" and len(run.files) == 3 and run.size == 3000


def test_the_oldest_runs_go_first_but_never_a_kept_one(tmp_path):
    for i, stem in enumerate(["r0", "r1", "r2", "r3", "r4"]):
        make_run(tmp_path, stem, 100 + i)
    removed = prune(tmp_path, keep_runs=2, keep_bytes=10**9, kept={"r0"})
    assert removed == ["r1", "r2", "r3"]  # r0 is the oldest but its tab is open
    assert [r.stem for r in runs_in(tmp_path)] == ["r0", "r4"]
    assert prune(tmp_path, keep_runs=2, keep_bytes=10**9) == []  # within bounds: nothing to do


def test_the_bytes_bound(tmp_path):
    for i in range(4):
        make_run(tmp_path, f"r{i}", 100 + i, size=1000)  # 3,000 bytes a run
    assert prune(tmp_path, keep_runs=100, keep_bytes=7000) == ["r0", "r1"]
    assert sum(r.size for r in runs_in(tmp_path)) <= 7000


def test_an_empty_or_missing_folder(tmp_path):
    assert prune(tmp_path / "none", 1, 1) == [] and runs_in(tmp_path) == []
