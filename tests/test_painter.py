"""The painter processes (resnet/painter.py) against the same pictures drawn in the server's own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from resnet import pictures, viz
from resnet.painter import Painter
from resnet.samples import load_samples

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def snapshot(shipped_ctx):
    return shipped_ctx.analyser.analyse(load_samples("digits").images[3], "digits", ("b3.0",)).snapshot


@pytest.fixture
def painter():
    painter = Painter(processes=1, timeout_s=20)
    yield painter
    painter.close()


def jobs(shipped_ctx, snapshot) -> list[tuple]:
    """Every job the app gives a painter: (job, arguments, names)."""
    spec = viz.chart_spec(viz.block_rows(snapshot, shipped_ctx.registry.sample_stats("digits")))
    return [
        (pictures.feature_view, (snapshot, "b3", "en"), ("stage_grids", "cams", "all_channels")),
        (pictures.feature_view, (snapshot, "b5", "zh"), ("stage_grids", "cams", "all_channels")),
        (pictures.residual_view, (snapshot, spec, "en"), ("block_panel", "block_chart")),
        (pictures.residual_view, (snapshot, spec, "zh"), ("block_panel", "block_chart")),
        (pictures.residual_view, (snapshot, spec, "zh", True), ("block_panel", "block_chart")),  # a phone's
        (pictures.explanation, (snapshot,), ("stage_grids", "cams", "block_panel")),
    ]


def test_a_painters_pictures_are_the_pictures_drawn_here(shipped_ctx, snapshot, painter, tmp_path):
    """Pixel for pixel, and so the same files (a picture's file is named by its pixels)."""
    for job, args, names in jobs(shipped_ctx, snapshot):
        here = job(*args)
        painted = painter.paint(job, args, names, tmp_path)
        assert len(painted) == len(here) == len(names)
        for path, picture, name in zip(painted, here, names, strict=True):
            assert Path(path).parent == tmp_path and Path(path).name == f"{pictures.digest(picture)}-{name}.png"
            assert np.array_equal(np.asarray(Image.open(path)), picture)
        assert painter.paint(job, args, names, tmp_path) == painted  # again: the same files
    assert painter.replaced == 0 and len(painter._all) == 1 and painter._all[0].process.poll() is None


@pytest.mark.parametrize("nice", [None, 0])
def test_painters_run_below_the_server(snapshot, tmp_path, nice):
    """By default ten steps of nice below the server ($RESNET_PAINTER_NICE): the server's interpreter goes first."""
    painter = Painter(processes=1, timeout_s=20, nice=nice)
    try:
        painter.paint(pictures.explanation, (snapshot,), ("stage_grids", "cams", "block_panel"), tmp_path)
        (process,) = painter._all
        below = os.getpriority(os.PRIO_PROCESS, process.process.pid) - os.getpriority(os.PRIO_PROCESS, 0)
        assert below == min(10 if nice is None else nice, 19 - os.getpriority(os.PRIO_PROCESS, 0))
    finally:
        painter.close()


def test_a_painter_never_imports_pytorch():
    """Its whole point: a process of ~70 MB, not PyTorch's ~500 (``resource.getrusage`` after ``import torch``)."""
    code = "import sys, resnet.painter; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_a_job_that_fails_in_the_painter_fails_where_it_was_asked(snapshot, painter, tmp_path):
    with pytest.raises(KeyError, match="b9"):
        painter.paint(pictures.feature_view, (snapshot, "b9", "en"), ("a", "b", "c"), tmp_path)
    assert painter.replaced == 0  # the painter itself is fine and serves the next job
    assert len(painter.paint(pictures.explanation, (snapshot,), ("a", "b", "c"), tmp_path)) == 3


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_a_painter_that_dies_or_hangs_is_replaced_and_no_view_is_lost(snapshot, tmp_path, how):
    """The call that found it dead (or waited ``timeout_s`` on it) is drawn in the server; the next goes to a new
    one."""
    painter = Painter(processes=1, timeout_s=2)
    try:
        job, args, names = pictures.explanation, (snapshot,), ("stage_grids", "cams", "block_panel")
        first = painter.paint(job, args, names, tmp_path)
        (old,) = painter._all
        os.kill(old.process.pid, signal.SIGKILL if how == "killed" else signal.SIGSTOP)
        if how == "killed":
            old.process.wait()
        assert painter.paint(job, args, names, tmp_path) == first  # drawn here, the same pictures
        (new,) = painter._all
        assert painter.replaced == 1 and new is not old and old.process.poll() is not None
        assert painter.paint(job, args, names, tmp_path) == first and new.process.poll() is None
    finally:
        painter.close()


def test_with_no_painters_the_pictures_are_drawn_here(snapshot, tmp_path):
    painter = Painter(processes=0)
    paths = painter.paint(pictures.explanation, (snapshot,), ("stage_grids", "cams", "block_panel"), tmp_path)
    assert [Path(p).name.split("-", 1)[1] for p in paths] == ["stage_grids.png", "cams.png", "block_panel.png"]
    assert not painter._all
