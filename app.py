"""ResNet-18, seen from inside: draw or upload a digit or a piece of clothing and watch the lecture's network work.

python app.py        # host and port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as on Hugging Face Spaces

Importing this module loads nothing: ``launch()`` (``python app.py``) loads the models into a ``Context`` and builds
the page with ``build_demo(ctx)``. The callbacks are plain functions of the context and the inputs, each returning a
named tuple whose fields name its output components (``Annotated[type, component class]``); the layout builds its
output lists from the same named tuples, so outputs never match by position alone (``tests/test_wiring.py``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import inspect
import json
import os
import threading
import time
import types
import typing
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import gradio as gr
import numpy as np
import pandas as pd
import torch
from gradio.components.image_editor import EditorData
from gradio.i18n import I18nData
from matplotlib.figure import Figure

from resnet import analysis, depth, pictures, plain_vs_residual, realpaths, viz, why
from resnet.analysis import Analyser, Analysis
from resnet.architecture import layer_table
from resnet.checkpoint import CheckpointError
from resnet.cpu import LowPriorityThread, bound_heaps, freeze_startup_heap, trim_every
from resnet.data import DATASETS, find_data_dir
from resnet.lecture import LANGUAGES, TEXTS, text
from resnet.live import NICE, LiveRun
from resnet.model import BLOCK_NAMES, STAGES
from resnet.newest import Tickets
from resnet.painter import Painter
from resnet.preprocess import EmptyDrawingError, InvalidImageError
from resnet.recent import Recent
from resnet.registry import ModelRegistry
from resnet.runs import prune
from resnet.samples import load_samples
from resnet.scenes import LANGUAGE_CODES, OFF, Problem, Scene, browser_language, language_code, quoted
from resnet.seen import from_link, to_link, to_upload
from resnet.strings import tr, tr_format, translate_figure
from resnet.tour import TOUR, caption

MODEL_NAMES = {
    "digits": "Digits (MNIST)",
    "digits-plain": "Digits, plain twin (no shortcuts)",
    "clothing": "Clothing (Fashion-MNIST)",
    "clothing-plain": "Clothing, plain twin (no shortcuts)",
}
GALLERY_PER_CLASS = 2
T = typing.TypeVar("T", bound=tuple)  # an event's answer: a named tuple, one value per output
MAX_FILE_SIZE = "20mb"
ARCH_HEADERS = ("layer", "what", "output shape", "parameters")  # the layer table's columns
BLOCK_STATS_HEADERS = ("block", "shortcut", "lesioned", "‖F(x)‖/‖x‖", "cos(F(x), x)", "mean ‖F‖/‖x‖", "mean cos")
EMPTY_PROMPT = {
    "digits": "✏️ The canvas is empty: draw a digit, upload an image, or click a sample.",
    "clothing": "👕 The canvas is empty: draw a piece of clothing, upload a photo, or click a sample.",
}

SELECT_BRUSH_JS = """() => {
  const pick = () => {
    const brush = document.querySelector('#sketch button[aria-label="Brush"]');
    if (brush) brush.click(); else setTimeout(pick, 200);
  };
  pick();
}"""

CSS = """
#label .output-class { font-size: 1.6rem; }
/* The top-3 class names in the page's type, as the winning class above them (Gradio sets them in its monospace) */
#label dt { font-family: var(--font); }
.note { font-size: 0.92rem; }
/* The projector view: type readable from the back of a room at 1280×720, and only what the lecture needs.
   (Gradio also writes each rule under its container's classes, which outrank these: hence the !important.) */
body.projector {
  --text-xs: 14px; --text-sm: 17px; --text-md: 20px; --text-lg: 23px; --text-xl: 28px; --text-xxl: 34px;
  --block-label-text-size: 18px; --block-info-text-size: 16px; --block-title-text-size: 20px;
  --section-header-text-size: 20px; --checkbox-label-text-size: 18px; --button-small-text-size: 17px;
  --input-text-size: 18px;
}
body.projector .prose, body.projector .note { font-size: 20px !important; line-height: 1.45; }
body.projector #label h2.output-class { font-size: 3.2rem !important; }
/* The label's box as tall from the start as with its three classes (measured: 207 px; 243 px in the projector view):
   the first label grew it from 108 px and pushed everything below ~100 px down, seconds after the page was drawn
   under a class's load (and after a tour link had scrolled to its scene). */
#label { min-height: var(--label-height, 207px) !important; }
body.projector { --label-height: 243px; }  /* (a variable: Gradio's scoped copy of the rule above outranks a rule) */
body.projector #controls, body.projector #controls .form { flex-direction: row !important; flex-wrap: wrap; }
body.projector #controls { min-width: 640px !important; align-items: center; }
body.projector #language .wrap { flex-wrap: nowrap !important; }
body.projector #intro p, body.projector #link-row, body.projector #hint, body.projector #gallery,
body.projector #model-input, body.projector #lesion-costs, body.projector .view-note { display: none !important; }
/* The lesions right under the label and its line, what the model sees after them: the tour's lesion scene ("the 7 is
   still a 7 ... now tick b4.0") shows the label and the first row of lesions under the open tour at 1280x720, where
   the preview between them pushed the lesions off the screen. */
body.projector #previews { order: 1; }
/* The charts and pictures carry their text in the picture (7–12 px as drawn): on a projector each chart, the stage
   outputs and Grad-CAM are shown as wide as the screen (their text ~1.2–2.1× larger) and within one screen's
   height, one above the other; the block panel, drawn a stage a row (``pictures.stage_panel``, 1,108 px wide) and
   shown as wide as the screen (its text ~12.5 px at 1280×720, ~20 px at 1920×1080), whole under the open tour, above
   the block statistics, as on a desk (left of them) and a phone. (Until the twenty-eighth session the panel was one
   block a row, shown 1.4× its size: ~17 px text, ~1.5 screens high; until the twenty-sixth the statistics came
   first: a link opened under load had the chart come seconds later and push the rows ~300 px down.) */
body.projector :is(#residual-row, #why-row, #arch-row) { flex-direction: column !important; }
body.projector :is(#block-chart, #block-panel, #stage-grids, #cams) .image-frame { width: 100% !important; }
/* The open tour at the top of the screen, each move scrolling the scene's view in under it (``TOUR_VIEW_JS``), as on
   a phone: at 1280×720 the view started ~700 px below the tour, so a scene's text and what it speaks of were never
   on the screen together. */
body.projector #tour:has(> .label-wrap.open) {
  position: sticky !important; top: 0; z-index: 100; max-height: 40vh; overflow-y: auto !important;
  box-shadow: 0 6px 16px rgba(0, 0, 0, 0.18);
}
body.projector :has(> #tour > .label-wrap.open) > #view-tabs { min-height: 100vh; }
body.projector :is(#block-chart, #block-panel, #stage-grids, #cams, #depth-chart, #path-chart, #why-row, #train-vs)
img {
  width: 100% !important; max-width: 100% !important; height: auto !important; max-height: calc(100vh - 48px);
  object-fit: contain;
}
/* the block panel whole under the open tour (a scene's text up to ~250 px at 1280x720, the panel's label 42 px) */
body.projector #block-panel img { max-height: calc(100vh - 300px); }
/* The language switch shows the page's language from its first paint: Gradio draws it at its first value, English,
   beside a page drawn in Chinese (``first_paint``), until the scene's answer sets it ~2 s later (set from the page
   at once, its change raced the scene's: ``PAGE_LOCALE_JS``). Until then, or a click on it (``SWITCH_CLICKED_HEAD``),
   the page (``body.page-zh``, set by ``PAGE_LOCALE_JS``) draws it as if 中文 were chosen. */
body.chart-en #lesion-chart img { visibility: hidden; }  /* CHART_IN_ENGLISH_JS */
body.page-zh #language label.selected:has(input[value="en"]) {
  background: var(--checkbox-label-background-fill); color: var(--checkbox-label-text-color);
  border-color: var(--checkbox-label-border-color);
}
body.page-zh #language label.selected input[value="en"] {
  border-color: var(--checkbox-border-color); background-image: none;
  background-color: var(--checkbox-background-color);
}
body.page-zh #language .wrap:has(label.selected input[value="en"]) label:has(input[value="zh"]) {
  background: var(--checkbox-label-background-fill-selected); color: var(--checkbox-label-text-color-selected);
  border-color: var(--checkbox-label-border-color-selected);
}
body.page-zh #language .wrap:has(label.selected input[value="en"]) input[value="zh"] {
  border-color: var(--checkbox-border-color-selected); background-image: var(--radio-circle);
  background-color: var(--checkbox-background-color-selected);
}
/* The view pictures carry their titles along their top edge: their buttons (full screen, download, share) sit in a
   band above them, not over a title (in a column as narrow as the picture, on a phone say, they covered
   'b2 · 64 × 16 × 16 (top 16)' and 'all 128 channels, strongest first'). */
.swiped .image-container { padding-top: 34px; }
/* The samples' columns fit their box: Gradio's are at least 100 px, so a column narrower than ~530 px (a phone, a
   tablet, a 1024 px laptop) showed three or four at a time and swiped sideways, the rows reading 0 0 1 / 2 3 3 /
   5 5 6 with the 4s out of sight. */
#gallery .grid-container { grid-template-columns: repeat(5, minmax(0, 1fr)) !important; }
/* Gradio's container clips its overflow rather than hiding it: the same on screen, but a hidden overflow holds a
   sticky element still (the tour on a phone, below). Outside the media rule: Gradio writes the rules inside one
   under its container's classes only, which the container itself does not match. */
.gradio-container { overflow: clip !important; }
/* The block panel at its own size where it fits (~540 px wide), in a box of its height (it sat in an 820 px box,
   and at 768 px shrank to a third of the width, ~270 px): at 768 px it wraps above the chart. A phone's is drawn for
   its column (316 px, the texts above the tiles: ``NARROW_JS``), not swiped: shown at 542 px, its texts beside the
   tiles left room for 1.7 of the four, the sum and the ReLU out of sight. (The projector view shows its panel as wide
   as the screen, above.) */
#block-panel .image-container, #block-panel .image-frame { height: auto !important; }
body:not(.projector) #block-panel img { width: auto !important; height: auto !important; max-width: 100% !important; }
@media (max-width: 700px) { #block-panel .image-frame { max-width: 100% !important; } }
/* Every channel of a stage (b5: 512 tiles, ~770 px square) stays within one screen on a wider one, a projector's
   720 px included (its full-screen button shows it whole). */
@media (min-width: 701px) {
  #all-channels img { max-height: 80vh; width: auto; max-width: 100%; object-fit: contain; }
}
/* A phone: the columns stack, and the label comes straight after the canvas, the samples after the prediction
   (the two columns' children become one column, in which the gallery moves to the end). */
@media (max-width: 700px) {
  #main-row { flex-direction: column !important; flex-wrap: nowrap !important; }
  #input-col, #prediction-col { display: contents !important; }
  /* The lesions right under the label and its line, then what the model sees, the lesions' costs and the samples (as
     in the projector view): a box ticked and the label it changes on one screen. The lesions' tour scene ("the 7 is
     still a 7 ... now tick b4.0") had its lesions a scroll below its label, under the previews. */
  #previews { order: 1; }
  #lesion-costs { order: 2; }
  #gallery { order: 3; }
  /* (the winning class's padding above it keeps it clear of the label's title, which floats over the box) */
  #label h2.output-class { padding-bottom: 6px !important; }
  #label { --label-height: 189px; }  /* as tall as with its three classes (``#label`` above) */
  /* What the model sees and its input side by side, as on a desk (one above the other they were 420 px of the same
     digit twice, and the lesions' tour scene had its lesions a scroll below its label) */
  #previews { flex-direction: row !important; flex-wrap: nowrap !important; }
  #previews > * { min-width: 0 !important; flex: 1 1 0 !important; }
  #previews > .block { height: auto !important; }
  #previews [data-testid="block-label"] { font-size: 12px; }  /* on one line, not two over the digit's top */
  #previews [data-testid="block-label"] > span, #previews .icon-button-wrapper { display: none; }
  #gallery .grid-container { grid-template-columns: repeat(4, minmax(0, 1fr)) !important; }  /* two classes a row */
  /* The training tab's controls one a row (two or four a row, each ~163 px: the network's name cut to
     "ResNet-18, the l", each radio's choices wrapped over three lines) */
  .train-controls { flex-direction: column !important; }
  /* The wide pictures at a readable size, swiped sideways, not shrunk to the column: the two five-stage pictures
     (about 150 px a stage, not ~65 px) */
  .swiped .image-container { overflow-x: auto; }
  .swiped .image-container > button, .swiped .image-frame { width: max-content; max-width: none; }
  .swiped img { max-width: none !important; height: auto !important; }
  #stage-grids img { width: 760px !important; }
  #cams img { width: 620px !important; }
  /* The block statistics drawn for the phone's column too (320 px, its two charts one above the other: NARROW_JS) */
  #block-chart .image-container { overflow-x: visible; }
  #block-chart .image-frame { width: auto; max-width: 100%; }
  #block-chart img { max-width: 100% !important; }
  /* The charts (the lesions' costs, the depth experiment, paths, responses, gradients, the training comparison:
     576–900 px as drawn) at their drawn size, swiped sideways: shrunk to the column (~326 px) their text was 3–5 px
     (the lesions' costs until the twenty-seventh session) */
  :is(#lesion-chart, #depth-chart, #path-chart, #why-row, #train-vs) .matplotlib {
    overflow-x: auto; justify-content: flex-start !important; align-items: flex-start !important;
  }
  :is(#lesion-chart, #depth-chart, #path-chart, #why-row, #train-vs) .matplotlib img {
    width: auto !important; max-width: none !important; height: auto !important;
  }
  /* The tour, while open, stays at the top of the screen (at most 40% of it, its text scrolled inside), and each
     move scrolls to the scene's view below it (``TOUR_VIEW_JS``): the views start ~3,400 px down a phone's page, so
     a scene's text and what it speaks of were never in sight together (``.gradio-container`` above). Above the
     labels Gradio lays over its blocks (the lesions' label was drawn over the tour's text). */
  #tour:has(> .label-wrap.open) {
    position: sticky !important; top: 0; z-index: 100; max-height: 40vh; overflow-y: auto !important;
    box-shadow: 0 6px 16px rgba(0, 0, 0, 0.18);
  }
  :has(> #tour > .label-wrap.open) > #view-tabs { min-height: 100vh; }  /* room to scroll to, before a view loads */
}
"""

QUIET: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private"}
# Labels and views queue apart, so that a label never waits behind a view: labels (a forward pass, ~10 ms) on four
# workers, the views (an analysis and three pictures, ~35 ms plus Gradio's encoding) on one, training on its own
# (see training_tab). With 30 simulated students (benchmarks/load.py, 30 s runs) label p95 went from 2.7 s (every
# event on its own default single worker, torch on 2 threads) to 0.29 s with these workers and one torch thread per
# call; the full benchmark (60 s, benchmarks/serving-log.md) gives 0.45 s, 1.27× the framework's floor.
# Every label and view event is "always_last" in the browser: a trigger that comes while the same event is still
# pending runs once that one ends. Gradio's default for a click or a ``.then`` is "once", which drops it: the view
# of a stroke drawn while the previous stroke's view was pending was never asked for (benchmarks/serving-log.md,
# "The GIL convoy").
AGAIN: dict[str, Any] = {"trigger_mode": "always_last"}  # a click while pending runs again after, on the state then
LABEL: dict[str, Any] = {
    "concurrency_id": "label",
    "concurrency_limit": int(os.environ.get("RESNET_LABEL_WORKERS", 4)),
    **AGAIN,
}
# The page's views on ``$RESNET_VIEW_WORKERS`` workers (default 1), one analysis at a time (``Context.viewer``), as
# /explain's. Two workers (benchmarks/load.py --students 30 --targets floor,app --against RESNET_VIEW_WORKERS=2
# --repeat 2, 2026-12-07): views p95 0.59x, 0.80x (every stroke's view seen), but labels p95 1.55x, 1.69x; again with
# the analyses below the labels (``_analysis_thread``, same day): views 0.36x, 0.66x, labels 1.27x, 1.34x. One stays.
VIEW: dict[str, Any] = {
    "concurrency_id": "view",
    "concurrency_limit": int(os.environ.get("RESNET_VIEW_WORKERS", 1)),
    **AGAIN,
}
# The events that write the model's gallery, drawing hint and lesion chart (a model switch, a language switch) in one
# queue, one at a time, in the order they came: each runs with the controls as they were when it was triggered, and
# on separate workers a language switch's answer for the model before (the first load in Chinese, then a click on
# clothing) could come last and put the digits back beside the clothing model (seen in a screenshot). ~25-30 ms each.
SWITCH: dict[str, Any] = {"concurrency_id": "switch", "concurrency_limit": 1}
# /explain on two workers of its own, one analysis at a time (``Context.explainer``): while the painter draws one
# explanation's pictures, the next one's analysis runs (on the view worker the painter's ~46 ms a call were the
# worker's idle time under 30 API clients). Three A/B runs at 30 API students (benchmarks/load.py --students 30
# --targets floor,api, 2 against 1 worker, either order): /explain p95 3.08 vs 4.48 s, 4.08 vs 5.66 s, 2.84 vs
# 4.25 s (0.67-0.72x); /classify p95 0.47-0.81x its floor's (0.43-1.10x with one). Three workers: no faster.
EXPLAIN: dict[str, Any] = {
    "concurrency_id": "explain",
    "concurrency_limit": int(os.environ.get("RESNET_EXPLAIN_WORKERS", 2)),
    **AGAIN,
}


def load_api(name: str) -> dict[str, Any]:
    """A stroke's events (and the floor's twins of them): callable by a client, as benchmarks/load.py simulates a
    class through them, but not listed on the API page."""
    return {"show_progress": "hidden", "api_visibility": "undocumented", "api_name": name}


NETWORKS = [
    ("ResNet-18, the lecture's (64 px)", "resnet18"),
    ("ResNet-20, He et al.'s CIFAR family (28 px)", "resnet20"),
    ("ResNet-32 (28 px)", "resnet32"),
    ("ResNet-56 (28 px)", "resnet56"),
    ("ResNet-110 (28 px)", "resnet110"),
]


@dataclass(frozen=True)
class Budgets:
    """Limits for public hosting, from the environment (defaults in brackets)."""

    image_epochs: int = 240_000  # $RESNET_MAX_IMAGE_EPOCHS: training images × epochs in one run [240,000]
    runs: int = 1  # $RESNET_MAX_RUNS: runs training at once; the others wait, seeing their place in the queue [1]
    keep_runs: int = 20  # $RESNET_KEEP_RUNS: runs kept in the runs folder [20]
    keep_bytes: int = 2 * 2**30  # $RESNET_KEEP_GB: and bytes [2 GB]; the oldest go first, never an open tab's
    nice: int = NICE  # $RESNET_TRAIN_NICE: how much lower a run's CPU priority is than the server's [10]
    idle: bool = True  # $RESNET_TRAIN_IDLE: 1 runs it under SCHED_IDLE, on CPU time the server leaves idle [1]

    @classmethod
    def from_env(cls) -> Budgets:
        env = os.environ.get
        return cls(
            int(env("RESNET_MAX_IMAGE_EPOCHS", cls.image_epochs)),
            int(env("RESNET_MAX_RUNS", cls.runs)),
            int(env("RESNET_KEEP_RUNS", cls.keep_runs)),
            int(float(env("RESNET_KEEP_GB", cls.keep_bytes / 2**30)) * 2**30),
            int(env("RESNET_TRAIN_NICE", cls.nice)),
            env("RESNET_TRAIN_IDLE", "1") != "0",
        )


def _analysis_thread(name: str) -> LowPriorityThread:
    """A thread for one kind of view's analyses, ``$RESNET_VIEW_NICE`` levels below the labels [10].

    Where both cores are busy the kernel runs the labels' forward passes before an analysis, mid-convolution too.
    ``benchmarks/load.py --students 30 --targets floor,app,api --against RESNET_VIEW_NICE=10 --repeat 2``, twice
    (2026-12-07; 0 is the code before, one analysis at a time under a lock on the calling thread), p95 nice 10
    against 0: the page's views 0.82, 0.93, 0.99, 0.88×; its labels 0.98, 0.93, 1.01, 0.91× (the floor's own 1.03,
    0.93, 0.97, 0.89×); ``/classify`` 0.87, 0.87×; ``/explain`` 1.01, 0.90×. At 60 students, where the cores are
    full (``--students 60 ... --against RESNET_VIEW_NICE=0 --repeat 2``): the page's labels 0.72, 0.96×, ``/classify``
    0.75, 0.82×, views and ``/explain`` 0.93-1.06×. Nothing worse, the views a little faster, labels at 60 faster.
    """
    return LowPriorityThread(int(os.environ.get("RESNET_VIEW_NICE", 10)), name)


@dataclass
class Context:
    """What the callbacks read: the models, the shared analysis cache, where runs go, the live runs by session."""

    registry: ModelRegistry
    analyser: Analyser
    runs_dir: Path  # models trained in the app, one file per run
    redraw_every_s: float = 3.0  # how often the training curves are sent between epochs
    live: dict[str, LiveRun] = field(default_factory=dict)  # the training run of each browser session
    latest: dict[str, tuple | None] = field(default_factory=dict)  # each session's latest input (analysis.identity)
    labelling: int = 0  # labels being computed now (views give way to them); changed under ``_lock``
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    budgets: Budgets = field(default_factory=Budgets.from_env)
    owned: dict[str, set[str]] = field(default_factory=dict)  # the runs (file stems) of each open browser tab
    looks: dict[str, Look] = field(default_factory=dict)  # each tab's language and view, as its toggles last set them
    training_shown: dict[str, Drawn] = field(default_factory=dict)  # what each tab's training tab shows, in any look
    painter: Painter = field(default_factory=Painter)  # draws the views' pictures in a process of its own
    answers: Tickets = field(default_factory=Tickets)  # each session's labels in order: the newest one stays shown
    new_inputs: Tickets = field(default_factory=Tickets)  # its new inputs, for what only they write (newest_only)
    # The page's views' analyses and /explain's, each one at a time on a thread of its own below the labels'
    # priority (``_analysis_thread``); two threads, so that the page's views and /explain never wait on each other.
    viewer: LowPriorityThread = field(default_factory=lambda: _analysis_thread("view-analysis"), repr=False)
    explainer: LowPriorityThread = field(default_factory=lambda: _analysis_thread("explain-analysis"), repr=False)

    def prune_runs(self) -> list[str]:
        """Bound the runs folder (``Budgets``): the oldest runs go, never one training now or of an open tab."""
        kept = {stem for stems in self.owned.values() for stem in stems}
        kept |= {run.out.name.removesuffix(".safetensors") for run in self.live.values()}
        return prune(self.runs_dir, self.budgets.keep_runs, self.budgets.keep_bytes, kept)

    @classmethod
    def create(cls, registry: ModelRegistry | None = None, runs_dir: Path | None = None) -> Context:
        """Load the shipped models (unless given); runs go to ``runs_dir``, else $RESNET_RUNS_DIR or runs/app."""
        registry = registry or ModelRegistry()
        runs_dir = runs_dir or Path(os.environ.get("RESNET_RUNS_DIR", "runs/app"))
        return cls(registry, Analyser(registry), Path(runs_dir))

    @contextlib.contextmanager
    def label_work(self) -> Iterator[None]:
        """Mark a label in progress: views wait for it (``give_way``), so that under load labels come first."""
        with self._lock:  # the label workers are threads: an unguarded += can lose a count
            self.labelling += 1
        try:
            yield
        finally:
            with self._lock:
                self.labelling -= 1

    def paint(self, job: Callable, args: tuple, names: Sequence[str]) -> tuple[str, ...]:
        """The pictures of ``job(*args)`` (a whole view of ``resnet.pictures``) as PNG files in Gradio's cache,
        drawn by a painter process (``resnet.painter``), not by the server's interpreter."""
        return self.painter.paint(job, args, names, gr.utils.get_upload_folder())

    def give_way(self, most_s: float = 0.5) -> None:
        """Wait (at most ``most_s``) while labels are being computed: one core is shared by everything.

        A view calls it before it starts and between its steps (analysis, pictures): 30 students' label p95 166 ms
        with the first call only, 137 and 150 ms with the steps too (one run, two runs; benchmarks/load.py)."""
        deadline = time.monotonic() + most_s
        while self.labelling > 0 and time.monotonic() < deadline:
            time.sleep(0.005)

    @property
    def shipped(self) -> list[tuple[str, str]]:
        """(name, model key) of the shipped models that loaded: the first choices of the model switch."""
        return [(MODEL_NAMES.get(key, key), key) for key in self.registry.shipped]


def bind(fn: Callable, *first: Any) -> Callable:
    """``fn`` with its first parameters (the context, ...) filled in.

    Unlike ``functools.partial`` the result is a plain function (a generator function for a generator) whose
    signature and type hints Gradio can read: it passes ``gr.Request`` and ``gr.SelectData`` by their annotations.
    """
    if inspect.isgeneratorfunction(fn):

        def bound(*args: Any, **kwargs: Any) -> Any:
            yield from fn(*first, *args, **kwargs)
    else:

        def bound(*args: Any, **kwargs: Any) -> Any:
            return fn(*first, *args, **kwargs)

    functools.update_wrapper(bound, fn)
    signature = inspect.signature(fn)
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[len(first) :])
    return bound


def image_input(**kwargs: Any) -> gr.Image:
    """A ``gr.Image`` that hands our code the uploaded file itself, so that we, not the framework, judge it.

    ``gr.Image`` opens uploads with PIL before a callback runs, so a corrupted or non-image file fails with a
    generic error. Here the file's path goes to ``resnet.preprocess``, which says what is wrong. (An instance
    override rather than a subclass: Gradio writes a .pyi stub next to any module that subclasses a component.)
    """
    component = gr.Image(type="filepath", image_mode=None, **kwargs)
    framework_preprocess = component.preprocess

    def preprocess(payload: Any) -> str | None:
        if payload is not None and getattr(payload, "path", None) and not str(payload.url or "").startswith("data:"):
            return str(payload.path)
        return framework_preprocess(payload)

    component.preprocess = preprocess
    return component


def sentence(exc: Exception) -> str:
    """An error as a warning line for the status: "⚠️ The image is blank ..."."""
    message = str(exc)
    return f"⚠️ {message[:1].upper()}{message[1:]}."


# -- the outputs of each callback, field by field (Annotated with the component each field fills) ---------------
Skip = dict  # gr.skip() and gr.update(...) are dicts: "leave this component as it is" / "change these props"


class Prediction(NamedTuple):
    label: Annotated[dict[str, float] | None, gr.Label]
    status: Annotated[str, gr.Markdown]
    seen: Annotated[np.ndarray | None, gr.Image]
    model_input: Annotated[np.ndarray | None, gr.Image]


class NewInput(NamedTuple):
    source: Annotated[str, gr.State]
    label: Annotated[dict[str, float] | None, gr.Label]
    status: Annotated[str, gr.Markdown]
    seen: Annotated[np.ndarray | None, gr.Image]
    model_input: Annotated[np.ndarray | None, gr.Image]
    domain: Annotated[str, gr.State]  # the dataset the current input belongs to ("" for none)


class PickedSample(NamedTuple):
    upload: Annotated[np.ndarray | str | Skip, gr.Image]  # a sample's pixels, or a link's marked file
    source: Annotated[str | Skip, gr.State]
    input_tabs: Annotated[Any, gr.Tabs]
    sample: Annotated[str | Skip, gr.State]
    domain: Annotated[str | Skip, gr.State]

    @classmethod
    def of(cls, dataset: str, index: int) -> PickedSample:
        """Shipped sample ``index`` of ``dataset`` as the input, in the upload tab."""
        image = pictures.enlarge(load_samples(dataset).images[index], 8)
        return cls(image, "upload", gr.update(selected="upload"), f"{dataset}:{index}", dataset)

    @classmethod
    def seen(cls, view: str, dataset: str) -> PickedSample:
        """A link's input as the model saw it (``resnet.seen``: valid, ``Scene.parse`` checked it), in the upload
        box, marked so that it is read as it is; no sample."""
        path = to_upload(from_link(view), dataset, Path(gr.utils.get_upload_folder()))
        return cls(str(path), "upload", gr.update(selected="upload"), "", dataset)

    @classmethod
    def unchanged(cls) -> PickedSample:
        return cls(*[gr.skip()] * 5)


class ModelSwitch(NamedTuple):
    gallery: Annotated[list[tuple[np.ndarray, str]], gr.Gallery]
    hint: Annotated[str, gr.Markdown]
    lesion_chart: Annotated[Figure, gr.Plot]
    # A sample of the new domain when the input was of the other one (PickedSample's fields; else left as they are).
    upload: Annotated[np.ndarray | Skip, gr.Image]
    source: Annotated[str | Skip, gr.State]
    input_tabs: Annotated[Any, gr.Tabs]
    sample: Annotated[str | Skip, gr.State]
    domain: Annotated[str | Skip, gr.State]


class FeatureViews(NamedTuple):
    """The feature tab's pictures, each a PNG file in Gradio's cache (drawn by the painter)."""

    stage_grids: Annotated[str | Skip | None, gr.Image]
    cams: Annotated[str | Skip | None, gr.Image]
    all_channels: Annotated[str | Skip | None, gr.Image]


class ResidualViews(NamedTuple):
    """The residual tab's pictures, each a PNG file in Gradio's cache (drawn by the painter)."""

    block_panel: Annotated[str | Skip | None, gr.Image]
    block_chart: Annotated[str | Skip | None, gr.Image]


class ModelViews(NamedTuple):
    """The views that do not depend on the input: the model, its lesions, the language."""

    path_chart: Annotated[Figure | Skip | None, gr.Plot]
    arch_table: Annotated[dict[str, list] | Skip, gr.Dataframe]


def joined(name: str, doc: str, *parts: type) -> Any:
    """A named tuple of the ``parts``' fields in order, each with its annotation (its component)."""
    fields = [field for part in parts for field in typing.get_type_hints(part, include_extras=True).items()]
    together = NamedTuple(name, fields)
    together.__doc__ = doc
    return together


InputViews = joined(
    "InputViews",
    "The views that depend on the input: a new drawing or upload changes only these.",
    FeatureViews,
    ResidualViews,
)
Views = joined(
    "Views",
    "Every view below the input; only the one on screen is computed, the others are ``gr.skip()``.",
    InputViews,
    ModelViews,
)


def input_part(views: Any) -> Any:
    """The ``InputViews`` of ``Views`` (values or components): the views that depend on the input."""
    return InputViews(*views[: len(InputViews._fields)])


class Notes(NamedTuple):
    """Every explanation on the page, in one language."""

    intro: Annotated[str, gr.Markdown]
    features: Annotated[str, gr.Markdown]
    residual: Annotated[str, gr.Markdown]
    plain: Annotated[str, gr.Markdown]
    lesions: Annotated[str, gr.Markdown]
    formulas: Annotated[str, gr.Markdown]
    architecture: Annotated[str, gr.Markdown]
    training: Annotated[str, gr.Markdown]
    hint: Annotated[str, gr.Markdown]


class Curves(NamedTuple):
    """A run's live curves, drawn by the browser: only their points are sent (see ``curves_view``)."""

    loss: Annotated[Any, gr.LinePlot]
    accuracy: Annotated[Any, gr.LinePlot]


class TrainingUpdate(NamedTuple):
    status: Annotated[str, gr.Markdown]
    loss: Annotated[Any, gr.LinePlot]
    accuracy: Annotated[Any, gr.LinePlot]
    comparison: Annotated[Figure | Skip, gr.Plot]
    download: Annotated[Any, gr.DownloadButton]
    explore: Annotated[Any, gr.Button]
    model: Annotated[Any, gr.Radio]
    trained: Annotated[list[str] | Skip, gr.State]


class Look(NamedTuple):
    """How a browser tab shows the page: its language and whether the projector view is on."""

    lang: str
    projector: bool


class TrainingLook(NamedTuple):
    """What the training tab shows in a page's language and view: drawn again when either toggle changes."""

    status: Annotated[str, gr.Markdown]
    loss: Annotated[Any, gr.LinePlot]
    accuracy: Annotated[Any, gr.LinePlot]
    comparison: Annotated[Figure | Skip, gr.Plot]


# How to draw what a training tab shows in any look; ``chart`` False leaves the comparison chart as it is (a
# matplotlib figure, ~150 ms of the server's one interpreter: drawn at each epoch and toggle, not every few seconds).
Drawn = Callable[[Look, bool], TrainingLook]


class NetworkDefaults(NamedTuple):
    lr: Annotated[float, gr.Number]
    images: Annotated[int, gr.Slider]


class Explanation(NamedTuple):
    label: Annotated[dict[str, float], gr.Label]
    stage_grids: Annotated[str, gr.Image]  # PNG files in Gradio's cache, drawn by the painter
    cams: Annotated[str, gr.Image]
    block_panel: Annotated[str, gr.Image]
    block_stats: Annotated[list[list], gr.Dataframe]


# -- input helpers ----------------------------------------------------------------------------------------------
def sketch_image(value: dict | np.ndarray | None) -> np.ndarray | None:
    """The composite of a Sketchpad value; None for an empty or cleared canvas."""
    if value is None:
        return None
    if isinstance(value, dict):
        composite = value.get("composite")
        if composite is None:
            layers = [layer for layer in value.get("layers") or [] if layer is not None]
            composite = layers[-1] if layers else None
        return composite
    return value


def composite_only(canvas: gr.Sketchpad, payload: EditorData | None) -> dict | None:
    """The canvas's value for an event: its composite only (background and layers: None, []).

    Every stroke runs two events on the canvas (its label, then its view), and Gradio's Sketchpad decodes its
    background, layer and composite for each (three 280 × 280 PNGs); the app reads only the composite: 3.1 -> 1.05
    ms of the one interpreter an event (p50, this machine, ``benchmarks/canvas_decode.py``). Installed as the
    canvas's ``preprocess`` (``composite_canvas``): a subclass of a Gradio component would make Gradio write a
    type-stub file beside this module at every import.
    """
    if payload is None:
        return None
    if payload.id is None:
        composite = payload.composite
    else:  # blobs sent beforehand (accept_blobs; the app's page never does): used once, as Gradio does
        blobs = canvas.blob_storage.pop(payload.id, None)
        composite = blobs.composite if blobs is not None else None
    composite = canvas.convert_and_format_image(composite, flatten_on_white=True)
    return {"background": None, "layers": [], "composite": composite}


def composite_canvas(**kwargs: Any) -> gr.Sketchpad:
    """Gradio's Sketchpad (the page draws Gradio's own canvas), handed to events as its composite only, keeping the
    blobs it is sent five minutes, 4,096 strokes (~40 MB) at most: Gradio keeps them until an event names them, and
    none does (``resnet/recent.py``)."""
    canvas = gr.Sketchpad(**kwargs)
    canvas.preprocess = types.MethodType(composite_only, canvas)  # a copy of the canvas binds its own
    canvas.blob_storage = Recent(max_age_s=300, most=4096)
    return canvas


def current_input(source: str, sketch: dict | None, upload: str | None):
    """The image that the views follow: the canvas, or the uploaded / sample image."""
    return sketch_image(sketch) if source == "sketch" else upload


def gallery_indices(ctx: Context, model_key: str) -> list[int]:
    """The samples the gallery shows: the first ``GALLERY_PER_CLASS`` of each class."""
    labels = ctx.registry.samples(model_key).labels
    return [int(i) for c in range(10) for i in np.flatnonzero(labels == c)[:GALLERY_PER_CLASS]]


def gallery_items(ctx: Context, model_key: str, lang: str = "en") -> list[tuple[np.ndarray, str]]:
    s = ctx.registry.samples(model_key)
    classes = ctx.registry.card(model_key).classes
    return [(s.images[i], tr(classes[s.labels[i]], lang)) for i in gallery_indices(ctx, model_key)]


def hint(ctx: Context, lang: str, model_key: str) -> str:
    return text(lang, f"hint_{ctx.registry.card(model_key).dataset}")


# -- the light path: stroke to label -----------------------------------------------------------------------------
def classify(
    ctx: Context,
    image,
    model_key: str,
    lesions: list[str] | None,
    source: str = "upload",
    lang: str = "en",
    name: tuple | None = None,
) -> Prediction:
    """Label, status line, what the model sees, the model's input; labels and status in ``lang`` (``name``: the
    input's ``analysis.identity``, where the caller has it).

    Nothing to classify gives a prompt, never a guess: for an empty canvas a friendly one, for an upload the reason.
    """
    try:
        with ctx.label_work():
            c = analysis.classify(ctx.registry, image, model_key, lesions or (), ctx.analyser.prepared, name)
    except EmptyDrawingError as exc:
        empty = source == "sketch" or image is None
        message = EMPTY_PROMPT[ctx.registry.card(model_key).dataset] if empty else sentence(exc)
        return Prediction(None, tr(message, lang), None, None)
    except InvalidImageError as exc:
        return Prediction(None, sentence(exc), None, None)
    model = tr(ctx.registry.label(model_key), lang)
    if lesions:
        blocks = ", ".join(name for name in BLOCK_NAMES if name in lesions)  # the lecture's order
        status = tr_format("Prediction from the {model} model without F(x) in {blocks}.", lang, model, blocks)
    else:
        status = tr_format("Prediction from the {model} model.", lang, model)
    if c.prepared.inverted:
        status += " " + tr("(Dark-on-light input: inverted to light-on-dark, as in the training set.)", lang)
    top = {tr(name, lang): p for name, p in c.top.items()}
    return Prediction(top, status, pictures.enlarge(c.seen, 6), pictures.enlarge(c.model_input, 3))


def newest_only(ctx: Context, request: gr.Request | None, label: Callable[[], T], writes: Sequence[str] = ()) -> T:
    """``label()`` (a label event's answer), or, where a later label of the same browser session has been shown
    while it was computed, nothing changed on screen (``resnet.newest``: labels of one session can end out of order).

    ``writes``: the answer's fields that only some label events write (a new input's ``source`` and ``domain``), which
    follow the order of those events alone: a lesion's label that started later may have read the source before
    this answer wrote it (a lesion ticked during a first stroke's label), and does not replace it."""
    session = getattr(request, "session_hash", None)
    if not session:
        return label()
    ticket, own = ctx.answers.take(session), ctx.new_inputs.take(session) if writes else 0
    answer = label()
    shown = ctx.answers.deliver(session, ticket)
    kept = bool(writes) and ctx.new_inputs.deliver(session, own)
    if shown:
        return answer
    return type(answer)(*[v if kept and f in writes else gr.skip() for f, v in answer._asdict().items()])


def predict_current(
    ctx: Context, source: str, sketch, upload, model_key: str, lesions, lang: str = "en", request: gr.Request = None
) -> Prediction:
    """The current input's label, status and previews (nothing else waits on it; the previews as PNG files)."""
    image = current_input(source, sketch, upload)
    return newest_only(ctx, request, lambda: as_files(classify(ctx, image, model_key, lesions, source, lang)))


def new_input(
    ctx: Context, source: str, sketch, upload, model_key: str, lesions, lang: str = "en", request: gr.Request = None
) -> NewInput:
    """A new drawing or upload (or its tab chosen): that input becomes the current one and is classified.

    It belongs to the current model's domain. (Which shipped sample the upload box shows, if any, is kept apart:
    a picked sample or a scene sets it, a file of the student's own clears it with ``forget_sample``.)
    """
    image = current_input(source, sketch, upload)
    name = analysis.identity(image)  # hashed once: the session's latest input and the kept preprocessing's key
    if request is not None and getattr(request, "session_hash", None):
        ctx.latest[request.session_hash] = name
    domain = ctx.registry.card(model_key).dataset if image is not None else ""

    def label() -> NewInput:  # the two previews as PNG files, as a view's pictures
        return as_files(NewInput(source, *classify(ctx, image, model_key, lesions, source, lang, name), domain))

    return newest_only(ctx, request, label, writes=("source", "domain"))


def forget_sample() -> Annotated[str, gr.State]:
    """A file of the student's own replaced the sample in the upload box."""
    return ""


def pick_sample(ctx: Context, model_key: str, evt: gr.SelectData) -> PickedSample:
    """Clicking a gallery sample loads it as the input."""
    return PickedSample.of(ctx.registry.card(model_key).dataset, gallery_indices(ctx, model_key)[evt.index])


def switch_model(ctx: Context, model_key: str, lang: str = "en", domain: str = "", narrow: bool = False) -> ModelSwitch:
    """New gallery, hint and lesion chart (for a phone's column where ``narrow``); the current input is then re-read
    by the prediction.

    An input of the other domain (a trouser for the digits model) is replaced by the new domain's first sample:
    a model asked about what it never saw would still answer with confidence.
    """
    dataset = ctx.registry.card(model_key).dataset
    picked = PickedSample.of(dataset, 0) if domain and domain != dataset else PickedSample.unchanged()
    return ModelSwitch(
        gallery_items(ctx, model_key, lang),
        hint(ctx, lang, model_key),
        lesion_view(ctx, model_key, lang, narrow),
        *picked,
    )


def switch_language(ctx: Context, lang: str, model_key: str) -> Notes:
    """Every explanation in the chosen language, and the drawing hint of the current model."""
    return Notes(*(text(lang, key) for key in Notes._fields[:-1]), hint(ctx, lang, model_key))


# -- scenes: links, the tour, the projector view -----------------------------------------------------------------
class SceneUpdate(NamedTuple):
    """The page set to a scene: from a link when the page opens, or a step of the tour."""

    model: Annotated[Any, gr.Radio]
    upload: Annotated[np.ndarray | Skip, gr.Image]
    source: Annotated[str | Skip, gr.State]
    input_tabs: Annotated[Any, gr.Tabs]
    sample: Annotated[str | Skip, gr.State]
    domain: Annotated[str | Skip, gr.State]
    lesions: Annotated[list[str], gr.CheckboxGroup]
    view_tabs: Annotated[Any, gr.Tabs]
    view: Annotated[str, gr.State]
    target: Annotated[Any, gr.Dropdown]
    stage: Annotated[str, gr.Dropdown]
    language: Annotated[str, gr.Radio]
    projector: Annotated[bool, gr.Checkbox]
    tour_step: Annotated[int | Skip, gr.State]
    tour_text: Annotated[str | Skip, gr.Markdown]
    tour: Annotated[Any, gr.Accordion]
    link_note: Annotated[str, gr.Markdown]


class Link(NamedTuple):
    query: Annotated[str, gr.Textbox]  # the hidden box the link's query goes to (the browser adds the address)
    link: Annotated[Any, gr.Textbox]  # the link on screen (shown once made)
    note: Annotated[str, gr.Markdown]


LINK_JS = """(query) => {
  const url = new URL(window.location.href);
  url.search = query;
  const link = url.toString();
  if (navigator.clipboard) navigator.clipboard.writeText(link).catch(() => {});
  return link;
}"""
# Gradio's own texts (the upload box's "Drop Image Here", the footer, the canvas's tools) follow the browser's
# language, not the page's switch: a link with language=zh on an English browser left them in English. Its Settings
# panel changes them with ``changeLocale``, exported by its core module; the page calls it too. Where a Gradio version
# has no such module or export, nothing happens (its texts then follow the browser, as before); the browser test
# checks the footer's language after a switch. The page's <html lang> follows too (Gradio sets it only from the
# browser's language): screen readers read the page in it.
GRADIO_LOCALE_JS = """(lang) => {
  const locale = lang === "zh" ? "zh-CN" : "en";
  document.documentElement.lang = locale;
  document.documentElement.dataset.pageLocale = locale;  // GRADIO_WORDS_JS keeps Gradio's own words in it
  const core = performance.getEntriesByType("resource").map((e) => e.name)
    .find((name) => /\\/assets\\/core-[\\w-]+\\.js$/.test(name));
  if (core) import(core).then((m) => m.changeLocale && m.changeLocale(locale)).catch(() => {});
}"""
# The page's own texts (``first_paint``) and Gradio's are drawn in the browser's language where Gradio has it
# ("zh-CN", "zh-TW"; English for a "zh" alone). This sets them at once to the page's language as the server decides
# it (``page_language``: the link's language=, else the first of English and Chinese the browser lists), before the
# first load's answers: a Chinese link in an English browser, "fr,zh" or "zh". The language switch itself follows with
# the scene's answer (``restore_scene``): set here, its change raced the scene's (a stale Grad-CAM class list for the
# digits model answered after the link's clothing model, its class blank), and cost the first label 0.2-0.3 s.
# The single-lesion chart is a picture in the page's config, drawn in English for every page (the config is built
# once; a picture cannot be an ``I18n`` key): on a Chinese page it is hidden until the server's Chinese one replaces
# it (0.6-0.9 s after the page is drawn, idle; longer under load), 15 s at most. Told by the config's own picture
# (Gradio's ``window.gradio_config``), which the page may draw after the first answer has come (a phone: below).
CHART_IN_ENGLISH_JS = """() => {
  const box = document.getElementById("lesion-chart");
  const config = window.gradio_config?.components?.find((c) => c.props?.elem_id === "lesion-chart");
  const english = config?.props?.value?.plot;
  if (!box || !english) return;
  const done = () => { document.body.classList.remove("chart-en"); watch.disconnect(); };
  const look = () => {  // hidden while it is the config's; shown for good once another came
    const src = box.querySelector("img")?.src;
    if (src && src !== english) done(); else document.body.classList.toggle("chart-en", src === english);
  };
  const watch = new MutationObserver(look);
  watch.observe(box, { subtree: true, childList: true, attributes: true, attributeFilter: ["src"] });
  look();
  setTimeout(done, 15000);
}"""
PAGE_LOCALE_JS = (
    "() => { const code = (tag) => (tag || '').trim().toLowerCase().replace('_', '-').split('-')[0];"  # language_code
    f" const ours = {json.dumps(LANGUAGE_CODES)};"
    " const named = code(new URLSearchParams(window.location.search).get('language'));"
    " const listed = (navigator.languages || [navigator.language]).map(code);"
    " const lang = ours.includes(named) ? named : listed.find((c) => ours.includes(c)) || 'en';"
    " document.body.classList.toggle('page-zh', lang === 'zh'); (" + GRADIO_LOCALE_JS + ")(lang);"
    " if (lang === 'zh') (" + CHART_IN_ENGLISH_JS + ")(); }"
)
# A click on the language switch ends the page's drawing of it (``body.page-zh`` in ``CSS``) at once, in the click.
SWITCH_CLICKED_HEAD = """<script>
document.addEventListener("change", (e) => {
  if (e.target instanceof Element && e.target.closest("#language")) document.body.classList.remove("page-zh");
}, true);
</script>"""
PHONE_MEDIA = "(max-width: 700px)"  # a phone's page: the layout's breakpoint (``CSS``'s media rules), for the page's JS
# On a phone (``PHONE_MEDIA``) and in the projector view a tour move, and a tour link as it opens,
# scroll the page to what the scene's text speaks of (``Step.anchor``: the view tabs, the block panel, the label),
# just below the open tour that stays at the top of the screen (``CSS``); other screens keep their place. The step is
# read from the tour's text, which the page writes a moment after the move's answer, and the pictures of the scene
# come later still and can move what lies below them: the label's first answer grew its box by ~100 px (now as tall
# from the start, ``CSS``) and the status line by a line, >2 s after a tour link's answer under load (the browser's
# own scroll anchoring does not hold the view: a column's change of height suspends it). So the page follows the
# anchor until 1.5 s after the scene's label has come and the anchor last moved (10 s at most), unless the person
# scrolls, taps or presses a key meanwhile.
TOUR_VIEW_JS = (
    "() => {"
    f" const anchors = {json.dumps([step.anchor for step in TOUR])}, phone = {json.dumps(PHONE_MEDIA)};"
    r"""
  const wanted = () => window.matchMedia(phone).matches || document.body.classList.contains("projector");
  const tour = document.getElementById("tour"), start = performance.now();
  const text = (selector) => document.querySelector(selector)?.innerText || "";
  const label = () => text("#label .container") + text("#status .prose");  // not Gradio's timers beside them
  const before = label();
  let left = false, came = false, placed = null, still = start;
  const leave = () => { left = true; };
  for (const kind of ["wheel", "touchstart", "keydown", "mousedown"])
    window.addEventListener(kind, leave, { once: true, passive: true, capture: true });
  const follow = () => {
    const now = performance.now();
    if (!came && label() !== before) [came, still] = [true, now];
    if (left || (came && now - still > 1500) || now - start > 10000) return;
    const step = /(\d+)\/\d+/.exec(document.getElementById("tour-text")?.innerText || "");
    const anchor = document.getElementById((step && anchors[Number(step[1]) - 1]) || "view-tabs");
    if (tour && anchor && wanted()) {
      const top = Math.round(anchor.getBoundingClientRect().top + window.scrollY - tour.offsetHeight - 8);
      if (top !== placed) { placed = top; still = now; window.scrollTo({ top }); }
    }
    requestAnimationFrame(follow);
  };
  requestAnimationFrame(follow);
}"""
)
# A tour link (``?tour=N``) as it opens: the same, once its scene is set.
TOUR_LINK_JS = "() => { if (new URLSearchParams(window.location.search).has('tour')) (" + TOUR_VIEW_JS + ")(); }"
# A presenter's clicker sends Page Down / Page Up (some send the arrow keys): while the tour is open they press its
# Next and Back, unless a control that reads keys has the focus (a text box, a slider, a radio, the canvas, a tab).
TOUR_KEYS_HEAD = """<script>
document.addEventListener("keydown", (e) => {
  const button = {PageDown: "tour-next", ArrowRight: "tour-next", PageUp: "tour-back", ArrowLeft: "tour-back"}[e.key];
  if (!button || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
  if (!document.querySelector("#tour > .label-wrap.open")) return;
  const t = e.target, reads = "input, textarea, select, canvas, [role=tab], #sketch";
  if (t instanceof Element && (t.isContentEditable || t.closest(reads))) return;
  const target = document.getElementById(button);
  if (target) { e.preventDefault(); target.click(); }
});
</script>"""
# What Gradio draws in words of its own, kept in the page's language (as ``GRADIO_LOCALE_JS`` sets it, on ``<html>``;
# before it is set, Gradio's drawing stands), each rewritten as it appears, before it is painted (an observer's
# callback runs before the next frame); Gradio writes such a text again only when its value changes.
# - Its progress timers ("processing | 0.4s", "queue: 2/5 |"), English in every locale (gradio 6's status tracker
#   writes them as they are; its zh-CN strings have none for them): on a Chinese page in Chinese.
# - The tabs' names: Gradio draws them in the browser's language and keeps them, all but the chosen one, when the
#   page's locale changes, until the server's answers relabel them (a Chinese link in an English browser showed
#   "Residual vs identity" beside 特征图; its hidden copies, which it measures and a screen reader reads, too). Each is
#   put in the page's language when that is set, and when Gradio draws the tabs again: every view tab in Chinese
#   2.18 s after the navigation's start against 3.40 s, the page drawn at 1.67 / 1.64 s (benchmarks/first_paint.py).
GRADIO_WORDS_JS = """
(() => {
  const timers = [[/^processing \\|/, "处理中 |"], [/^queue: /, "排队："]];
  const tabs = { zh: TAB_NAMES, en: {} };
  for (const [english, chinese] of Object.entries(tabs.zh)) tabs.en[chinese] = english;
  const TABS = "[role=tab], .tab-container button";  // the tabs, and the hidden copies Gradio measures them by
  const WORDS = TABS + ", .progress-text";
  const mend = (text, zh) => {
    const parent = text.parentElement;
    if (!parent || !text.nodeValue) return;
    if (parent.closest(TABS)) {
      const name = tabs[zh ? "zh" : "en"][text.nodeValue.trim()];
      if (name) text.nodeValue = name;
    } else if (zh && parent.closest(".progress-text")) {
      for (const [english, chinese] of timers) {
        if (english.test(text.nodeValue)) text.nodeValue = text.nodeValue.replace(english, chinese);
      }
    }
  };
  const mendWithin = (root, zh) => {  // the few elements that hold such words, found by the browser, not walked
    const found = root.matches && root.matches(WORDS) ? [root] : [];
    for (const e of [...found, ...root.querySelectorAll(WORDS)]) {
      const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) mend(walk.currentNode, zh);
    }
  };
  new MutationObserver((changes) => {
    const locale = document.documentElement.dataset.pageLocale;
    if (!locale) return;  // the page's language not set yet: Gradio's drawing stands (and costs nothing here)
    const zh = locale.startsWith("zh");
    for (const c of changes) {
      if (c.type === "attributes") mendWithin(document, zh);
      else if (c.type === "characterData") mend(c.target, zh);
      else {
        for (const node of c.addedNodes) {
          if (node.nodeType === Node.TEXT_NODE) mend(node, zh);
          else if (node.nodeType === Node.ELEMENT_NODE) mendWithin(node, zh);
        }
      }
    }
  }).observe(document.documentElement, {
    childList: true, characterData: true, subtree: true, attributes: true, attributeFilter: ["data-page-locale"],
  });
})();
"""


def gradio_words_head(tab_names: dict[str, str]) -> str:
    """``GRADIO_WORDS_JS`` as the page's head script, with the tabs' names (English -> Chinese)."""
    return "<script>" + GRADIO_WORDS_JS.replace("TAB_NAMES", json.dumps(tab_names, ensure_ascii=False)) + "</script>"


# A phone's page (``PHONE_MEDIA``) has its residual view and its lesions' costs drawn for its ~326 px column:
# the block panel's texts above each block's tiles, the two statistics charts one above the other
# (``pictures.residual_view``), the lesions' bars lying down (``viz.lesion_figure``). Set as the page opens; the
# views that follow the scene's answer read it (``phone_lesion_view``). A phone turned (or a window narrowed past the
# breakpoint) ticks the hidden box as a hand would: its ``input`` event draws the view on screen and the lesions'
# costs again for the new width (they kept the layout they were drawn for until the next view).
NARROW_JS = f"""() => {{
  const media = window.matchMedia({json.dumps(PHONE_MEDIA)});
  if (!window.narrowWatched) {{
    window.narrowWatched = true;
    media.addEventListener("change", (e) => {{
      const box = document.querySelector("#narrow input");
      if (box && box.checked !== e.matches) box.click();
    }});
  }}
  return media.matches;
}}"""
PROJECTOR_JS = "(on) => { document.body.classList.toggle('projector', Boolean(on)); }"
# A link's projector view (``projector=1``, read as ``Scene.parse`` reads it) drawn as the page opens: the toggle's own
# change comes with the scene's answer, ~2 s later (measured 3.9 s after the page's start, a tour link's scroll at
# 1.7 s), and the page was drawn for a desk meanwhile.
LINK_PROJECTOR_JS = (
    "() => { const on = new URLSearchParams(window.location.search).get('projector');"
    f" if (on !== null && !{json.dumps(OFF)}.includes(on.toLowerCase())) document.body.classList.add('projector'); }}"
)
# Gradio's page reads every input of an event again at each status message of any event (queued, started, its place
# in the queue, done: ``update_state`` in its core), and the canvas answers every read by uploading its background,
# its layer and its composite anew: one stroke sent ~100 uploads (a browser counted them), each ~2.5 ms of the
# server's one interpreter, where the stroke's own label costs ~10 ms. The page keeps each upload's answer and
# answers a byte-identical upload of the same name itself, for a while well inside the server's file cache
# ($RESNET_CACHE_S): a new stroke uploads its layer and composite once. It also answers the canvas's three blob
# posts a stroke, which no event reads (benchmarks/canvas_uploads.py: a browser's server CPU a stroke 494 -> 262 ms).
KEPT_UPLOADS_JS = """<script>
(() => {
  const keepMs = %d, most = 32, kept = new Map();
  // uploads sent by file name, answered here; the canvas's blob posts answered here
  const counts = (window.keptUploads = {sent: {}, answered: 0, blobs: 0});
  const realFetch = window.fetch.bind(window);
  const fnv = (bytes) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    return h >>> 0;
  };
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  async function uploadOnce(input, init, file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const key = `${file.name}|${bytes.length}|${fnv(bytes)}`;
    const hit = kept.get(key);
    if (hit && Date.now() - hit.at < keepMs && same(hit.bytes, bytes)) {
      const paths = await hit.paths;  // reads at the same moment share the one upload in flight
      if (paths) {
        counts.answered += 1;
        return new Response(JSON.stringify(paths), {status: 200, headers: {"Content-Type": "application/json"}});
      }
    }
    counts.sent[file.name] = (counts.sent[file.name] || 0) + 1;
    const response = realFetch(input, init);
    const paths = response.then((r) => (r.ok ? r.clone().json() : null)).catch(() => null);
    kept.delete(key);
    kept.set(key, {bytes, at: Date.now(), paths});
    if (kept.size > most) kept.delete(kept.keys().next().value);
    paths.then((p) => { if (!p && kept.get(key)?.paths === paths) kept.delete(key); });
    return response;
  }
  window.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : "";
    const body = init && init.body;
    const path = url.split("?")[0].replace(/[/]$/, "");
    if (init && init.method === "POST" && body instanceof FormData) {
      if (path.endsWith("/gradio_api/upload")) {
        const files = body.getAll("files");
        if (files.length === 1 && files[0] instanceof Blob) return uploadOnce(input, init, files[0]);
      }
      // After every stroke the canvas posts its background, layer and composite under a name of their own
      // (accept_blobs); no event sends that name (each reads the canvas and uploads it), so the server would keep
      // three files it never uses: answered here, as the server answers (null).
      if (path.endsWith("/gradio_api/component_server") && body.get("fn_name") === "accept_blobs") {
        counts.blobs += 1;
        return Promise.resolve(new Response("null", {status: 200, headers: {"Content-Type": "application/json"}}));
      }
    }
    return realFetch(input, init);
  };
})();
</script>"""


def kept_uploads_js(cache_s: int) -> str:
    """The page's script that answers a repeated upload itself, for a quarter of the file cache's lifetime, at most
    ten minutes (the server clears files older than ``cache_s`` seconds; 0: never)."""
    keep_s = min(600, cache_s // 4) if cache_s else 600
    return KEPT_UPLOADS_JS % (keep_s * 1000)


def set_scene(
    ctx: Context, scene: Scene, step: int | None = None, problems: list[Problem] | None = None
) -> SceneUpdate:
    """Every control of ``scene``; a tour step's text when ``step`` is given (0-based). No sample: input kept."""
    problems = list(problems or [])
    model_key = scene.model
    if not ctx.registry.knows(model_key):
        problems.append(Problem("model", model_key, "not available here"))
        model_key = ctx.shipped[0][1]
    card = ctx.registry.card(model_key)
    classes, dataset = card.classes, card.dataset
    if scene.target not in ("predicted", *classes):
        problems.append(Problem("target", scene.target, "not a class of the {model} model", (model_key,)))
    if scene.sample and scene.sample[0] != dataset:  # never a model reading the other domain (as ``switch_model``)
        why = "not a {dataset} sample; the first {dataset} sample is shown"
        problems.append(Problem("sample", "{}:{}".format(*scene.sample), why, (dataset, dataset)))
        picked = PickedSample.of(dataset, 0)
    elif scene.sample:
        picked = PickedSample.of(*scene.sample)
    elif scene.seen:
        picked = PickedSample.seen(scene.seen, dataset)
    else:
        picked = PickedSample.unchanged()
    lang = scene.language
    colon, semicolon = ("：", "；") if lang == "zh" else (": ", "; ")
    said = semicolon.join(f"{p.name}={quoted(p.value)}{colon}{tr_format(p.why, lang, *p.words)}" for p in problems)
    note = f"⚠️ {tr('Not used from the link', lang)}{colon}{said}" if problems else ""
    skip = gr.skip()
    return SceneUpdate(
        gr.update(value=model_key),
        *picked,
        list(scene.lesions),
        gr.update(selected=scene.tab),
        scene.tab,
        gr.update(
            choices=class_list(ctx, model_key, lang), value=scene.target if scene.target in classes else "predicted"
        ),
        scene.stage,
        lang,
        scene.projector,
        skip if step is None else step,
        skip if step is None else caption(step, lang),
        gr.update(open=True) if step is not None else skip,
        note,
    )


def page_language(request: gr.Request | None) -> str:
    """The language a page opens in: its link's ``language=``, else the browser's ``Accept-Language``."""
    params = dict(request.query_params) if request is not None else {}
    headers = getattr(request, "headers", None) or {}
    named = language_code(params.get("language") or "")
    return named if named in LANGUAGE_CODES else browser_language(headers.get("accept-language"))


def first_labels(labelled: list[tuple[Any, dict[str, Any]]], request: gr.Request) -> Annotated[list[Any], EACH]:
    """The labels in the page's language at once, beside ``restore_scene`` rather than after it (a Chinese link
    showed English labels for 2-3 s while the language change made its way through the queue)."""
    lang = page_language(request)
    return relabel(labelled, lang) if lang == "zh" else [gr.skip()] * len(labelled)


def restore_scene(ctx: Context, request: gr.Request) -> SceneUpdate:
    """The scene in the page's link (``?model=…&sample=…`` or ``?tour=N``); the browser's language unless named."""
    params = dict(request.query_params) if request is not None else {}
    language = page_language(request)
    parsed = Scene.parse(params, models=list(ctx.registry.cards), datasets=DATASETS)
    if "tour" in params:  # the step's scene, in the link's projector view and language
        step = int(params["tour"]) - 1 if params["tour"].isdigit() else 0
        step = min(max(step, 0), len(TOUR) - 1)
        language = language if language in ("en", "zh") else "en"
        return set_scene(ctx, replace(TOUR[step].scene, projector=parsed.scene.projector, language=language), step)
    scene = parsed.scene if "language" in params else replace(parsed.scene, language=language)
    return set_scene(ctx, scene, problems=parsed.problems)


def tour_go(ctx: Context, move: int, step: int, lang: str, projector: bool) -> SceneUpdate:
    """The tour's next (``move`` = 1) or previous (-1) scene, in the language and projector view chosen."""
    step = min(max(int(step or 0) + move, 0), len(TOUR) - 1)
    return set_scene(ctx, replace(TOUR[step].scene, language=lang, projector=bool(projector)), step)


def scene_link(
    ctx: Context,
    model_key: str,
    sample: str,
    source: str,
    sketch,
    upload,
    lesions,
    view: str,
    target: str,
    stage: str,
    lang: str,
    projector: bool,
) -> Link:
    """The query string of the page's scene; one's own drawing or photo travels in it as the model saw it
    (``resnet.seen``), with a note that says so (or that it could not be read)."""
    dataset, _, index = (sample or "").partition(":")
    shown = (dataset, int(index)) if source == "upload" and index.isdigit() else None
    image = current_input(source, sketch, upload) if shown is None else None
    own, note = None, ""
    if image is not None and (source == "upload" or has_drawing(sketch)):
        try:
            own = to_link(ctx.analyser.prepared(image, model_key).view)
            note = tr(SEEN_NOTE, lang)
        except ValueError:  # EmptyDrawingError, InvalidImageError: the label says why
            note = tr(UNREAD_NOTE, lang)
    scene = Scene(
        model=model_key,
        sample=shown,
        lesions=tuple(b for b in BLOCK_NAMES if b in (lesions or ())),
        tab=view,
        target=target,
        stage=stage,
        language=lang,
        projector=bool(projector),
        seen=own,
    )
    return Link("?" + scene.query(), gr.update(visible=True), note)


SEEN_NOTE = (
    "ℹ️ This link holds your input as the model sees it (28×28, in the link itself, for slides too): opened, it gives "
    "the same reading. Your drawing or photo itself stays here."
)
UNREAD_NOTE = "ℹ️ This link holds the model, lesions and view, but not your input: it could not be read."


TOUR_START = {
    "en": "Seven scenes in the lecture's order, each with its own link for slides (`?tour=1` … `?tour=7`). "
    "Press **Next ▶** to start; a presenter's clicker (Page Down / Page Up) or the arrow keys step through them too.",
    "zh": "按讲义顺序的七个场景，每个都有自己的链接，可放进幻灯片（`?tour=1` … `?tour=7`）。按 **下一步 ▶** 开始；"
    "也可以用演示翻页器，或键盘的翻页键和方向键前后切换。",
}


def tour_caption(step: int, lang: str) -> Annotated[str, gr.Markdown]:
    """The tour's text in ``lang``: the current step's, or how to start."""
    return TOUR_START[lang] if step is None or step < 0 else caption(step, lang)


# -- every label, button and choice in the chosen language -----------------------------------------------------------
CHOICES_BY_CALLBACK = ("dataset", "target")  # elem_ids whose choices a callback sets (model_labels, class_choices)
EACH = "one output per component given"  # the return annotation of relabel: it fills every component it is wired to


def shown(block: Any) -> bool:
    """Not inside a hidden row (the API's components); a hidden component itself may be shown later."""
    parent = getattr(block, "parent", None)
    while parent is not None:
        if getattr(parent, "visible", True) is False:
            return False
        parent = getattr(parent, "parent", None)
    return True


def translatable(blocks: gr.Blocks) -> list[tuple[Any, dict[str, Any]]]:
    """Every visible component with its English texts: label, info, a button's text, choices shown as words."""
    found = []
    for block in blocks.blocks.values():
        if not shown(block):
            continue
        props: dict[str, Any] = {}
        for prop in ("label", "info"):
            if isinstance(getattr(block, prop, None), str) and getattr(block, prop):
                props[prop] = getattr(block, prop)
        if isinstance(block, gr.Button | gr.DownloadButton) and isinstance(block.value, str):
            props["value"] = block.value
        choices = getattr(block, "choices", None)
        if choices and block.elem_id not in CHOICES_BY_CALLBACK and any(str(c[0]) != str(c[1]) for c in choices):
            props["choices"] = [tuple(c) for c in choices]
        if isinstance(block, gr.Dataframe) and block.headers:
            props["headers"] = list(block.headers)
        if props:
            found.append((block, props))
    return found


def relabel(labelled: list[tuple[Any, dict[str, Any]]], lang: str) -> Annotated[list[dict], EACH]:
    """An update per component of ``translatable``: its texts in ``lang``."""

    def say(value: Any) -> Any:
        if isinstance(value, str):
            return tr(value, lang)
        if isinstance(value, tuple):
            return (tr(str(value[0]), lang), value[1])
        return [say(v) for v in value]

    return [gr.update(**{prop: say(value) for prop, value in props.items()}) for _, props in labelled]


def first_paint(demo: gr.Blocks, notes: dict[str, str]) -> gr.I18n:
    """The page drawn in the browser's language from the start: in the page's config (not in the components, which
    keep their English for the server), each visible label, info, button text, choice and note that has a Chinese
    version (``notes``: English note -> Chinese) becomes a key of Gradio's ``I18n``, which the browser fills in as it
    draws the page (in Chinese for a Chinese browser, or a link's ``language=`` through ``PAGE_LOCALE_JS``).

    Before, a Chinese page was drawn in English and turned Chinese with the first load's answers: its tabs over a
    second, its notes and model names ~3 s after the page was drawn (``benchmarks/first_paint.py``). The server's
    language switch (``relabel``, ``switch_language``) sends plain texts, as before. A table's headers are left to it.
    """
    en: dict[str, str] = {}
    zh: dict[str, str] = {}

    def say(english: Any, chinese: Callable[[str], str | None] = lambda text: tr(text, "zh")) -> Any:
        if not isinstance(english, str) or (said := chinese(english)) is None or said == english:
            return english
        # a plain key from the text, the same at every build of the config (the page takes a key to end at its first
        # "}", which a formula holds)
        name = f"t{zlib.crc32(english.encode()):08x}"
        en[name], zh[name] = english, said
        return str(I18nData(name))

    visible = {block._id for block in demo.blocks.values() if shown(block)}
    config_file = demo.get_config_file

    def get_config_file() -> dict[str, Any]:
        config = config_file()
        for component in config["components"]:
            kind, props = component.get("type"), component.get("props") or {}
            if component.get("id") not in visible:
                continue
            for prop in ("label", "info") + (("value",) if kind in ("button", "downloadbutton") else ()):
                if prop in props:
                    props[prop] = say(props[prop])
            if kind == "markdown" and "value" in props:
                props["value"] = say(props["value"], notes.get)
            if kind in ("radio", "checkboxgroup", "dropdown") and props.get("choices"):
                props["choices"] = [[say(str(shown_as)), value] for shown_as, value in props["choices"]]
        return config

    demo.get_config_file = get_config_file
    for block in demo.blocks.values():
        if isinstance(block, gr.Markdown):
            hold_across_locales(block)
    return gr.I18n(en=en, zh=zh)


def hold_across_locales(markdown: gr.Markdown) -> None:
    """The values the server sends ``markdown`` stay when the page's locale changes.

    Gradio's browser (6.31) keeps each prop it first drew from an ``I18n`` key (``first_paint``'s) and draws that key
    again at every change of locale (``changeLocale``, which the language switch calls), over anything the server sent
    since: after a switch the hint went back to the digits hint under the clothing model, a finished run's line to
    "Press Train to start.". A value sent as a key of its own (one no dictionary holds, so the browser shows the key)
    takes the first key's place. A text with a "}" is sent as it is: the browser ends a key at its first "}".
    """
    plain = markdown.postprocess

    def postprocess(value: Any) -> Any:
        value = plain(value)
        if isinstance(value, str) and value and "}" not in value and "__i18n__" not in value:
            return str(I18nData(value))
        return value

    markdown.postprocess = postprocess


def note_translations() -> dict[str, str]:
    """Every note the page opens with, English -> Chinese: the lecture's texts (the drawing hints among them), the
    tour's start, the prompts to draw and to train."""
    both = [(text("en", k), text("zh", k)) for k in TEXTS["en"]]
    both += [(TOUR_START["en"], TOUR_START["zh"])]
    both += [(prompt, tr(prompt, "zh")) for prompt in (TRAIN_PROMPT, *EMPTY_PROMPT.values())]
    return {inspect.cleandoc(en): inspect.cleandoc(zh) for en, zh in both}  # as gr.Markdown keeps its value


class LanguageViews(NamedTuple):
    """What the model switch draws, redrawn in a new language."""

    gallery: Annotated[list[tuple[np.ndarray, str]], gr.Gallery]
    lesion_chart: Annotated[Figure, gr.Plot]


def language_views(ctx: Context, lang: str, model_key: str, narrow: bool = False) -> LanguageViews:
    """The sample captions and the lesion chart of the current model in ``lang`` (for a phone's column where
    ``narrow``)."""
    return LanguageViews(gallery_items(ctx, model_key, lang), lesion_view(ctx, model_key, lang, narrow))


def model_labels(ctx: Context, lang: str, trained: list[str]) -> Annotated[Any, gr.Radio]:
    """The model switch's names in ``lang`` (this session's trained models kept)."""
    return gr.update(choices=model_choices(ctx, trained, lang))


def has_drawing(sketch) -> bool:
    """Whether the canvas holds any stroke."""
    image = sketch_image(sketch)
    if image is None:
        return False
    image = np.asarray(image)
    return bool(image[..., 3].any()) if image.ndim == 3 and image.shape[2] == 4 else bool((image < 250).any())


# -- the heavy views, sharing one analysis ----------------------------------------------------------------------
def analyse(ctx: Context, image, model_key: str, lesions, target: str = "predicted") -> Analysis | None:
    classes = ctx.registry.card(model_key).classes
    cls = classes.index(target) if target in classes else None
    try:
        return ctx.viewer.run(ctx.analyser.analyse, image, model_key, lesions or (), cls)
    except (EmptyDrawingError, InvalidImageError):
        return None


def feature_views(
    ctx: Context, image, model_key: str, lesions, target: str, stage: str, lang: str = "en"
) -> FeatureViews:
    a = analyse(ctx, image, model_key, lesions, target)
    if a is None:
        return FeatureViews(None, None, None)
    ctx.give_way()
    return FeatureViews(*ctx.paint(pictures.feature_view, (a.snapshot, stage, lang), FeatureViews._fields))


def residual_views(
    ctx: Context, image, model_key: str, lesions, lang: str = "en", narrow: bool = False, projector: bool = False
) -> ResidualViews:
    """The block panel (for a phone's column where ``narrow``: ``pictures.block_panel``; a stage a row in the
    ``projector`` view: ``pictures.stage_panel``) and the block statistics."""
    a = analyse(ctx, image, model_key, lesions)
    if a is None:
        return ResidualViews(None, None)
    ctx.give_way()
    spec = viz.chart_spec(viz.block_rows(a.snapshot, ctx.registry.sample_stats(model_key)))
    job = (a.snapshot, spec, lang, bool(narrow), bool(projector))
    return ResidualViews(*ctx.paint(pictures.residual_view, job, ResidualViews._fields))


def lesion_view(ctx: Context, model_key: str, lang: str = "en", narrow: bool = False) -> Annotated[Figure, gr.Plot]:
    """What each single lesion costs on the samples, beside the same for the model's twin (residual or plain); for a
    phone's column where ``narrow`` (``viz.lesion_figure``)."""
    model, _ = ctx.registry.get(model_key)
    keys = [k for k in (model_key, ctx.registry.twin(model_key)) if k is not None]
    shown = [(ctx.registry.label(k), ctx.registry.card(k).plain, ctx.registry.sample_stats(k)) for k in keys]
    return translate_figure(viz.lesion_chart(model, shown, ctx.registry.label(model_key), narrow), lang)


def phone_lesion_view(ctx: Context, model_key: str, lang: str, narrow: bool) -> Annotated[Figure, gr.Plot]:
    """After a page's scene: the lesions' costs drawn for a phone's column (``NARROW_JS``); a desk's page keeps the
    chart of its config (skipped). After the scene, not when the page ticks the box as it opens: the page's language
    is set by the scene (a Chinese phone was shown the narrow chart in English first)."""
    return lesion_view(ctx, model_key, lang, True) if narrow else gr.skip()


def path_view(ctx: Context, model_key: str, lesions, lang: str = "en") -> Figure | None:
    """The path ensemble of the model and its twin, with the ticked lesion set as a point (None: not measured)."""
    keys = [k for k in (model_key, ctx.registry.twin(model_key)) if k is not None and ctx.registry.path_stats(k)]
    if not keys:
        return None
    series = [(ctx.registry.label(k), ctx.registry.card(k).plain, ctx.registry.path_stats(k)) for k in keys]
    current = None
    if model_key in keys:
        chosen = frozenset(lesions or ())
        current = (len(chosen), ctx.registry.path_stats(model_key).of(chosen))
    figure = viz.path_figure(sorted(series, key=lambda s: s[1]), current, ctx.registry.card(model_key).dataset)
    return translate_figure(figure, lang)


class StaticCharts(NamedTuple):
    """The measured charts of the Plain vs residual tab, which change only with the language."""

    depth: Annotated[Figure, gr.Plot]
    verdict: Annotated[str, gr.Markdown]
    responses: Annotated[Figure, gr.Plot]
    gradients: Annotated[Figure, gr.Plot]


def static_charts(runs: list[depth.DepthRun], lang: str, projector: bool = False) -> StaticCharts:
    """The depth experiment and its sentence, the block responses and the gradients per block, in ``lang``; in the
    projector view the two wide charts (depth, gradients) with larger text (``viz.wide_figure``)."""
    return StaticCharts(
        translate_figure(plain_vs_residual.depth_figure(runs, projector=projector), lang),
        tr(depth.sentence(runs), lang),
        translate_figure(plain_vs_residual.responses_figure(why.load("responses")), lang),
        translate_figure(plain_vs_residual.gradients_figure(why.load("gradients"), projector), lang),
    )


def architecture_view(ctx: Context, model_key: str, lang: str = "en") -> dict[str, list]:
    """The layer table in ``lang``: its headers, and its rows (module path indented by depth, what it is, output
    shape, parameters). The headers go with the rows: rows alone would bring the component's English ones back."""
    model, card = ctx.registry.get(model_key)
    rows = [
        ["    " * r.depth + r.name, tr(r.kind, lang), " × ".join(map(str, r.shape)), f"{r.params:,}"]
        for r in layer_table(model, card.image_size)
    ]
    return {"headers": [tr(header, lang) for header in ARCH_HEADERS], "data": rows}


def views(
    ctx: Context,
    image,
    model_key: str,
    lesions,
    target: str,
    stage: str,
    view: str,
    lang: str = "en",
    narrow: bool = False,
    projector: bool = False,
) -> Views:
    """Compute only the view that is on screen; the others are left as they are (gr.skip). ``narrow``: the page is
    a phone's (``NARROW_JS``); ``projector``: the projector view is on."""
    skip = gr.skip()
    features = FeatureViews(skip, skip, skip)
    residual = ResidualViews(skip, skip)
    paths = arch = skip
    if view == "features":
        features = feature_views(ctx, image, model_key, lesions, target, stage, lang)
    elif view == "residual":
        residual = residual_views(ctx, image, model_key, lesions, lang, narrow, projector)
    elif view == "plain":
        paths = path_view(ctx, model_key, lesions, lang)
    elif view == "architecture":
        arch = architecture_view(ctx, model_key, lang)
    return Views(*features, *residual, paths, arch)


def current_views(
    ctx: Context,
    source: str,
    sketch,
    upload,
    model_key: str,
    lesions,
    lang: str,
    target,
    stage,
    view,
    narrow: bool = False,
    projector: bool = False,
    request: gr.Request = None,
) -> InputViews:
    """The heavy path, run after the label: the view on screen if it depends on the input (features, residual),
    and nothing for a stroke a newer one replaced.

    Under load the views queue up behind each other; a view whose session has since drawn again is skipped at once
    (its newer stroke brings its own view), so a class drawing fast costs one view per student, not one per stroke.
    The event names only the five views that depend on the input (``model_views`` sends the other two): Gradio
    answers every output left as it is by building its component again (``skip_at_once``), and the two views of a
    stroke's other tabs, skipped in every view, cost 9% of the interpreter's time at 30 students (py-spy ``--gil``).
    """
    image = current_input(source, sketch, upload)
    session = getattr(request, "session_hash", None)
    replaced = session in ctx.latest and ctx.latest[session] != analysis.identity(image)
    if replaced or view not in ("features", "residual"):
        return InputViews(*[gr.skip()] * len(InputViews._fields))
    ctx.give_way()
    return as_files(input_part(views(ctx, image, model_key, lesions, target, stage, view, lang, narrow, projector)))


def model_views(ctx: Context, model_key: str, lesions, lang: str, view: str) -> ModelViews:
    """The views that do not depend on the input, if one is on screen: the paths chart or the architecture table."""
    skip = gr.skip()
    if view == "plain":
        return ModelViews(path_view(ctx, model_key, lesions, lang), skip)
    if view == "architecture":
        return ModelViews(skip, architecture_view(ctx, model_key, lang))
    return ModelViews(skip, skip)


def follow_views(ctx: Context, event: Any, current: list, tabs: ViewTabs, model_too: bool, **api: Any) -> None:
    """After ``event``, the view on screen: the views that depend on the input, and after an event that can change
    the model, the lesions, the language or the tab (``model_too``) also the two that do not."""
    shown = list(input_part(tabs.views))
    event.then(bind(current_views, ctx), [*current, *tabs.how], shown, **(api or QUIET), **VIEW)
    if model_too:
        model, lesions, language = current[3:6]
        free = [tabs.views.path_chart, tabs.views.arch_table]
        event.then(bind(model_views, ctx), [model, lesions, language, tabs.view], free, **QUIET, **VIEW)


def as_files(answer: Any) -> Any:
    """The same answer (a NamedTuple of outputs) with every picture (an array) as a PNG file in Gradio's cache.

    Gradio would encode each array at zlib level 6; ``pictures.png_file`` writes level 1 where Gradio serves it from.
    A feature view's three pictures: 21.0 -> 11.1 ms of the server's work (benchmarks/view_pictures.py).
    """
    folder = gr.utils.get_upload_folder()

    def as_file(name: str, value: Any) -> Any:
        return pictures.png_file(value, folder, name) if isinstance(value, np.ndarray) else value

    return type(answer)(*(as_file(f, v) for f, v in zip(answer._fields, answer, strict=True)))


def choose(value: str) -> Annotated[str, gr.State]:
    """A fixed value for a state (which view tab is on screen), bound to each tab's select event."""
    return value


def class_choices(
    ctx: Context, model_key: str, target: str = "predicted", lang: str = "en"
) -> Annotated[Any, gr.Dropdown]:
    """The Grad-CAM class list of a model: "predicted", then its classes (the chosen class kept if the model has it)."""
    choices = class_list(ctx, model_key, lang)
    # The value only when it must change: a scene may have set the class this (earlier-read) target predates.
    return (
        gr.update(choices=choices)
        if target in dict(choices).values()
        else gr.update(choices=choices, value="predicted")
    )


def class_list(ctx: Context, model_key: str, lang: str) -> list[tuple[str, str]]:
    """(shown, value) of the Grad-CAM choices: "predicted", then the model's classes, shown in ``lang``."""
    return [(tr(c, lang), c) for c in ("predicted", *ctx.registry.card(model_key).classes)]


# -- training in the browser -------------------------------------------------------------------------------------
def model_choices(ctx: Context, trained: list[str], lang: str = "en") -> list[tuple[str, str]]:
    """The model switch: the shipped models, then this session's trained ones that are still known."""
    yours = [(tr(f"Yours: {ctx.registry.label(k)}", lang), k) for k in trained if ctx.registry.knows(k)]
    return [(tr(name, lang), key) for name, key in ctx.shipped] + yours


# Each chart's series and colours. The browser's chart keeps the series it first drew and never draws another
# (Gradio 6.3's LinePlot; a renamed series stays blank): so the keys never change with the language, every update
# holds every series, and the caption, in the page's language, says which line is which.
CURVE_COLOURS = {
    "loss": {"train": "#3b6fb6"},
    "accuracy": {"train": "#3b6fb6", "test": "#d98c3a", "chance": "#aaaaaa"},
}
CURVE_CAPTIONS = {
    "loss": "after every batch, a running mean over the epoch",
    "accuracy": "🔵 training batches (running mean over the epoch) · 🟠 2,000 test images, after every epoch · "
    "⚪ chance: 10%",
}


def curves_view(run: LiveRun, lang: str = "en") -> Curves:
    """The run's live curves as two charts the browser draws (Gradio's LinePlot), x running to the whole run: the
    training loss (running mean over the epoch), and the accuracy in % (train per batch, test per epoch, chance).
    Nothing (``gr.skip()``) until the first batch is done: a chart's first points must hold all its series.

    Only the points are sent. The matplotlib figure this replaces cost the server's one interpreter ~150 ms at each
    redraw (every 3 s of a run), and other users' labels waited behind it (``python benchmarks/load.py --training``,
    README).
    """
    total = max(run.total_images, 1)
    points: dict[str, list[tuple[int, float, str]]] = {"loss": [], "accuracy": [(0, 10.0, "chance")]}
    for p in run.curves:
        if p.series == "train loss":
            points["loss"].append((p.images, p.value, "train"))
        else:
            points["accuracy"].append((p.images, 100 * p.value, p.series.removesuffix(" accuracy")))
    points["accuracy"].append((total, 10.0, "chance"))
    if not points["loss"]:
        return Curves(gr.skip(), gr.skip())

    def chart(name: str, title: str, y_title: str, y_lim: list[float | None]) -> dict[str, Any]:
        return gr.update(
            value=pd.DataFrame(points[name], columns=["images", "value", "series"]),
            title=tr(title, lang),
            caption=tr(CURVE_CAPTIONS[name], lang),
            x_title=tr("training images seen", lang),
            y_title=tr(y_title, lang),
            x_lim=[0, total],
            y_lim=y_lim,
            color_map=CURVE_COLOURS[name],
        )

    return Curves(
        chart("loss", "training loss", "loss", [0, None]), chart("accuracy", "accuracy (%)", "accuracy (%)", [0, 100])
    )


def comparison_view(run: LiveRun, lang: str = "en", projector: bool = False) -> Figure:
    """The run's training error per epoch drawn over the shipped curves of the same experiment (for the projector
    view where ``projector``, as ``static_charts``' depth experiment)."""
    cfg = run.cfg
    label = f"yours: {'plain' if cfg.plain else 'residual'}-{cfg.arch.removeprefix('resnet')} ({cfg.limit:,} images)"
    epochs = list(range(1, len(run.epochs) + 1))
    mine = (label, epochs, [1 - e.train_accuracy for e in run.epochs])
    reference = depth.reference_runs(cfg.arch, cfg.dataset)
    title = depth.reference_title(cfg.arch, DATASETS[cfg.dataset].title)
    return translate_figure(plain_vs_residual.depth_figure(reference, [mine], projector, title), lang)


def curve_chart(elem_id: str) -> gr.LinePlot:
    """An empty live-curve chart: ``curves_view`` sends its points, titles, caption and axes (the caption is its
    legend: the series keys stay in English, see ``CURVE_COLOURS``)."""
    return gr.LinePlot(
        x="images",
        y="value",
        color="series",
        colors_in_legend=[],
        tooltip=["images", "value"],
        show_label=False,
        elem_id=elem_id,
    )


def train_live(
    ctx: Context,
    dataset: str,
    network: str,
    shortcuts: str,
    images: float,
    epochs: float,
    lr: float | None,
    trained: list[str],
    lang: str,
    projector: bool,
    request: gr.Request,
) -> Iterator[TrainingUpdate]:
    """Train a network from scratch, streaming its curves and, per epoch, its training error over the shipped curves.

    ``network`` is "resnet18" (the lecture's) or one of He et al.'s CIFAR family ("resnet20", "resnet56", ...);
    ``shortcuts`` "residual" or "plain". A ResNet-18 joins the model switch at the end (this session only). The
    run's texts and charts follow the page's language and view (``projector``): those it was started in, then
    those the toggles set (``training_look``), from the next update on.
    """
    session = getattr(request, "session_hash", None) or "local"
    started = ctx.looks[session] = Look(lang, bool(projector))

    def look() -> Look:
        return ctx.looks.get(session, started)  # (gone once the tab closed)

    def show(draw: Drawn, chart: bool = True, *rest: Any) -> TrainingUpdate:
        """Keep how to draw the tab (for the toggles), and draw it in the tab's look now."""
        ctx.training_shown[session] = draw
        return TrainingUpdate(*draw(look(), chart), *(rest or [gr.skip()] * 4))

    if session in ctx.live:
        yield show(said("⚠️ A run is already training in this tab: stop it first."))
        return
    if lr is None:
        yield show(said("⚠️ Enter a learning rate (the lecture's is 0.05)."))
        return
    if int(images) * int(epochs) > ctx.budgets.image_epochs:
        asked = (f"{ctx.budgets.image_epochs:,}", f"{int(images):,}", int(epochs), f"{int(images) * int(epochs):,}")
        yield show(lambda look, _chart: message(tr_format(OVER_BUDGET, look.lang, *asked)))
        return
    try:
        run = LiveRun.start(
            dataset,
            int(images),
            int(epochs),
            float(lr),
            ctx.runs_dir,
            find_data_dir(dataset),
            arch=network,
            plain=shortcuts == "plain",
            nice=ctx.budgets.nice,
            idle=ctx.budgets.idle,
        )
    except ValueError as exc:
        yield show(said(sentence(exc)))
        return
    ctx.live[session] = run
    ctx.owned.setdefault(session, set()).add(run.out.name.removesuffix(".safetensors"))
    live = run_drawn(run, lambda code: tr(f"⏳ {run.status}", code))
    shown, charted = 0.0, None  # when the curves were last sent; the look the comparison chart was last drawn in
    try:
        for r in run:
            # The points of every step, sent every few seconds and at every epoch (each send is a server event).
            if r.event == "step" and time.monotonic() - shown < ctx.redraw_every_s:
                continue
            shown, now = time.monotonic(), look()
            chart = r.event == "epoch" or (bool(run.epochs) and now != charted)  # an epoch more, or a toggle
            charted = now if chart else charted
            yield show(live, chart)
    finally:
        ctx.live.pop(session, None)
        ctx.prune_runs()
    yield from run_ended(ctx, run, trained, show, look)


def said(text_en: str) -> Drawn:
    """The training tab showing a message alone (in each look's language)."""
    return lambda look, _chart: message(tr(text_en, look.lang))


def message(status: str) -> TrainingLook:
    """A status line; the curves and the chart stay as they are."""
    return TrainingLook(status, gr.skip(), gr.skip(), gr.skip())


def run_drawn(run: LiveRun, status: Callable[[str], str]) -> Drawn:
    """The training tab showing ``run``: ``status`` in the look's language, the curves, and (once an epoch is done,
    where ``chart``) the training error over the shipped curves."""

    def draw(look: Look, chart: bool = True) -> TrainingLook:
        compared = comparison_view(run, look.lang, look.projector) if chart and run.epochs else gr.skip()
        return TrainingLook(status(look.lang), *curves_view(run, look.lang), compared)

    return draw


OVER_BUDGET = (
    "⚠️ This server trains at most {most} images × epochs in one run; {images} images × {epochs} epochs is {asked}. "
    "Take fewer images or epochs."
)


def tab_closed(ctx: Context, request: gr.Request) -> None:
    """A browser tab closed (``demo.unload``): its runs may now be pruned, its view bookkeeping is dropped.

    (A run still training in it stops by itself: Gradio closes the event's generator, and its finished epochs
    stay saved.)"""
    session = getattr(request, "session_hash", None)
    ctx.owned.pop(session, None)
    ctx.latest.pop(session, None)
    ctx.looks.pop(session, None)
    ctx.training_shown.pop(session, None)
    ctx.answers.forget(session)
    ctx.new_inputs.forget(session)
    ctx.prune_runs()


TRAIN_PROMPT = "Press **Train** to start."
NOT_TRAINING = "Nothing is training in this tab."
DRAWN_OVER = ": your curve is drawn over the shipped depth experiment below."
NOT_LOADED = "It could not be loaded for the views"
MEASURING = "Measuring each block's lesion on the 1,000 samples…"
PICK_YOURS = "Pick “Yours” in the model switch (or press the button) to see it in every view."


def run_ended(
    ctx: Context, run: LiveRun, trained: list[str], show: Callable[..., TrainingUpdate], look: Callable[[], Look]
) -> Iterator[TrainingUpdate]:
    """What a finished run leaves: its file to download; a ResNet-18 joins the model switch, lesions measured.
    (``show`` draws a ``Drawn`` in the tab's look, ``look()``, with the other outputs given after ``chart``.)"""
    skip = gr.skip()

    def status(code: str) -> str:
        return tr(("⚠️ " if run.error else "✅ ") + run.status, code)

    if not run.epochs_done:
        yield show(run_drawn(run, status), False)
        return
    download = gr.update(value=str(run.out), visible=True)
    saved = f"`{run.out}`"
    if run.cfg.arch != "resnet18":  # the views are the lecture's network's: a CIFAR-family run is compared and kept
        drawn_over = run_drawn(run, lambda code: status(code) + tr(" Saved as ", code) + saved + tr(DRAWN_OVER, code))
        yield show(drawn_over, True, download, skip, skip, skip)
        return
    try:
        key = ctx.registry.add_trained(run.out)
    except CheckpointError as exc:
        problem = str(exc)  # (``exc`` itself is gone once the except clause ends)
        failed = run_drawn(run, lambda code: f"{status(code)} ⚠️ {tr(NOT_LOADED, code)}: {problem}")
        yield show(failed, False, download, skip, skip, skip)
        return
    yield show(run_drawn(run, lambda code: f"{status(code)} ⏳ {tr(MEASURING, code)}"), False)
    ctx.registry.sample_stats(key)  # the lesion chart and the block means, so that switching to it is instant
    trained = [k for k in trained if k != key] + [key]

    def picked(code: str) -> str:
        return status(code) + tr(" Saved as ", code) + saved + tr(". ", code) + tr(PICK_YOURS, code)

    pick = run_drawn(run, picked)
    choices = model_choices(ctx, trained, look().lang)
    yield show(pick, True, download, gr.update(visible=True), gr.update(choices=choices), trained)


def train_prompt(lang: str, status: str) -> Annotated[str, gr.Markdown]:
    """The training status in ``lang`` while it is the prompt to start (anything else is left as it is)."""
    if status in {tr(TRAIN_PROMPT, code) for code in LANGUAGES.values()}:
        return tr(TRAIN_PROMPT, lang)
    return gr.skip()


def training_look(ctx: Context, lang: str, projector: bool, status: str, request: gr.Request) -> TrainingLook:
    """The training tab drawn again in the language and view the toggles set: the prompt, a message, or a run, live
    or ended, with its curves and comparison chart (a live run's next updates follow the new look too)."""
    session = getattr(request, "session_hash", None) or "local"
    look = ctx.looks[session] = Look(lang, bool(projector))
    draw = ctx.training_shown.get(session)
    return draw(look, True) if draw else message(train_prompt(lang, status))


def network_defaults(network: str) -> NetworkDefaults:
    """A network's learning rate and training images as in its shipped reference runs."""
    if network == "resnet18":
        return NetworkDefaults(0.05, 6000)
    return NetworkDefaults(0.1, 24000)  # scripts/depth_study.sh


def stop_training(ctx: Context, lang: str, request: gr.Request) -> Annotated[str, gr.Markdown]:
    session = getattr(request, "session_hash", None) or "local"
    run = ctx.live.get(session)
    if run is None:
        ctx.training_shown.setdefault(session, said(NOT_TRAINING))  # (a toggle redraws a run's line, if one was shown)
        return tr(NOT_TRAINING, lang)
    run.stop.set()
    return tr("⏹️ Stopping after the current batch; finished epochs stay saved.", lang)


def explore_trained(ctx: Context, trained: list[str], lang: str = "en") -> Annotated[Any, gr.Radio]:
    """Switch every view to the model trained last in this session."""
    live = [k for k in trained if ctx.registry.knows(k)]
    return gr.update(choices=model_choices(ctx, trained, lang), value=live[-1]) if live else gr.skip()


# -- API endpoints (the public parameter is still called "dataset": it takes a model key) ----------------------
def api_classify(ctx: Context, image: str | None, dataset: str) -> Annotated[dict[str, float], gr.Label]:
    """Classify an image file (any size or mode, dark-on-light or light-on-dark) with the digits or clothing model."""
    _api_model(ctx, dataset)
    try:
        with ctx.label_work():
            return analysis.classify(ctx.registry, image, dataset, prepared=ctx.analyser.prepared).top
    except (EmptyDrawingError, InvalidImageError, ValueError) as exc:
        raise gr.Error(str(exc)) from None


def _api_model(ctx: Context, model_key: str) -> None:
    """A clear error for a model the server does not hold."""
    if not ctx.registry.knows(model_key):
        why = ctx.registry.errors.get(model_key, "")
        raise gr.Error(
            f"the {model_key!r} model is not available{': ' + why if why else ''}; "
            f"use one of {sorted(ctx.registry.cards)}"
        )


def _explain_analysis(ctx: Context, image, dataset: str, lesions: Sequence[str]) -> Analysis:
    """/explain's analysis, on ``Context.explainer``: the next one starts after labels in flight are done."""
    a = ctx.analyser.analyse(image, dataset, lesions)
    ctx.give_way()
    return a


def api_explain(ctx: Context, image: str | None, dataset: str, lesions: list[str] | None = None) -> Explanation:
    """Everything at once: label, feature maps, Grad-CAM, the residual-vs-identity panel and the block statistics.

    The label is read off the analysis's own traced pass (the same forward as ``/classify``'s): a second forward
    and preprocessing cost 12.5 of 69 ms a call (one thread, this machine), and /explain is what a class of API
    clients waits on. Its workers (``EXPLAIN``) analyse one at a time and draw while the next one analyses.
    """
    _api_model(ctx, dataset)
    try:
        a = ctx.explainer.run(_explain_analysis, ctx, image, dataset, lesions or ())
    except (EmptyDrawingError, InvalidImageError, ValueError) as exc:
        raise gr.Error(str(exc)) from None
    rows = [
        [r.name, r.shortcut, r.lesioned, *(round(v, 4) for v in (r.ratio, r.cosine, r.mean_ratio, r.mean_cosine))]
        for r in viz.block_rows(a.snapshot, ctx.registry.sample_stats(dataset))
    ]
    grids, cams, panel = ctx.paint(pictures.explanation, (a.snapshot,), ("stage_grids", "cams", "block_panel"))
    top = analysis.top_classes(a.trace.logits[0], a.classes)
    return Explanation(top, grids, cams, panel, rows)


def api_floor(image: str | None, dataset: str) -> Annotated[dict[str, float], gr.Label]:
    """The framework's floor for benchmarks: same inputs and output as /classify, a fixed answer."""
    return {"0": 1.0}


def stroke_floor(fixed: NewInput, sketch, upload, model_key: str, lesions, lang: str = "en") -> NewInput:
    """The framework's floor for a stroke's label (benchmarks/load.py): the same inputs and outputs, a fixed answer
    (its two previews as files in Gradio's cache, as the app's)."""
    return as_files(fixed)


def view_floor(
    fixed: InputViews, source, sketch, upload, model_key, lesions, lang, target, stage, view, narrow, projector
) -> InputViews:
    """The framework's floor for the view after a stroke: the same inputs and outputs, a fixed answer (its pictures
    as files in Gradio's cache, as the app's: found there, not encoded again)."""
    return as_files(fixed)


def floor_events(ctx: Context, inp: InputColumn, pred: PredictionColumn, language: gr.Radio, tabs: ViewTabs) -> None:
    """The floor's twins of a stroke's two events, answering with the label and feature view of a fixed sample."""
    seven = ctx.registry.samples("digits").images[0] if ctx.registry.knows("digits") else None
    key = ctx.shipped[0][1]
    fixed_label = NewInput("sketch", *classify(ctx, seven, key, []), "digits")
    fixed_views = input_part(views(ctx, seven, key, [], "predicted", "b3", "features"))
    with gr.Row(visible=False):
        stroke, view = gr.Button(), gr.Button()
    current = [inp.sketch, inp.upload, inp.model, pred.lesions, language]
    stroke.click(
        bind(stroke_floor, fixed_label),
        current,
        list(NewInput(inp.source, *pred.prediction, inp.domain)),
        **load_api("stroke_floor"),
    )
    view.click(
        bind(view_floor, fixed_views),
        [inp.source, *current[:4], language, *tabs.how],
        list(input_part(tabs.views)),
        **load_api("view_floor"),
    )


# -- layout: one function a section, each wiring its own events ----------------------------------------------------
class InputColumn(NamedTuple):
    source: gr.State  # "sketch" or "upload": which input the views follow
    sample: gr.State  # "dataset:index" when the input is a shipped sample, else ""
    domain: gr.State  # the dataset of the current input, "" for none
    model: gr.Radio
    hint: gr.Markdown
    input_tabs: gr.Tabs
    sketch_tab: gr.Tab
    upload_tab: gr.Tab
    sketch: gr.Sketchpad
    upload: gr.Image
    gallery: gr.Gallery


class PredictionColumn(NamedTuple):
    prediction: Prediction  # its components
    lesions: gr.CheckboxGroup
    lesion_note: gr.Markdown
    lesion_chart: gr.Plot
    changed: list  # the events after which the view on screen follows (the label first)


class ViewTabs(NamedTuple):
    views: Views  # the components of every view below the input
    view: gr.State  # which view tab is on screen
    target: gr.Dropdown
    stage: gr.Dropdown
    narrow: gr.Checkbox  # the page is a phone's (``NARROW_JS``): its residual view drawn for its column
    projector: gr.Checkbox  # the projector view: its block panel drawn a stage a row
    features_note: gr.Markdown
    residual_note: gr.Markdown
    plain_note: gr.Markdown
    formulas: gr.Markdown
    arch_note: gr.Markdown

    @property
    def how(self) -> list:
        """The inputs after the current input, model, lesions and language that say how its view is shown."""
        return [self.target, self.stage, self.view, self.narrow, self.projector]


def input_column(ctx: Context, default: str) -> InputColumn:
    """The model switch, the canvas and upload tabs, and the test-set samples (a click loads one)."""
    source, sample, domain = gr.State("sketch"), gr.State(""), gr.State("")
    model = gr.Radio(ctx.shipped, value=default, label="Model", elem_id="dataset")
    for name, reason in ctx.registry.errors.items():
        gr.Markdown(f"⚠️ The {name} model could not be loaded, so it is left out: {reason}")
    hint_note = gr.Markdown(hint(ctx, "en", default), elem_classes="note", elem_id="hint")
    with gr.Tabs(selected="sketch") as input_tabs:
        with gr.Tab("Draw", id="sketch") as sketch_tab:
            sketch = composite_canvas(
                label="Canvas",
                canvas_size=(280, 280),
                fixed_canvas=True,
                brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),
                eraser=gr.Eraser(default_size=16),
                layers=False,
                elem_id="sketch",
            )
        with gr.Tab("Upload", id="upload") as upload_tab:
            upload = image_input(
                label="Image (any size; dark-on-light or light-on-dark)",
                sources=["upload", "clipboard"],
                height=320,
                elem_id="upload",
            )
    gallery = gr.Gallery(
        gallery_items(ctx, default),
        label="Test-set samples (click one to load it)",
        columns=5,
        height=300,
        allow_preview=False,
        buttons=[],  # no "download all" over its label ("…click one to load it" on a phone)
        elem_id="gallery",
    )
    ui = InputColumn(
        source, sample, domain, model, hint_note, input_tabs, sketch_tab, upload_tab, sketch, upload, gallery
    )
    # "multiple": every click runs, in order, with its own sample. Gradio's default ("once") dropped a click that came
    # while the previous pick was pending (the gallery showed the second sample chosen, the first loaded), and
    # "always_last" would run the first click's event again (the browser replays the pending event's data).
    gallery.select(
        bind(pick_sample, ctx),
        [model],
        list(PickedSample(upload, source, input_tabs, sample, domain)),
        trigger_mode="multiple",
        **QUIET,
    )
    upload.upload(forget_sample, None, sample, **QUIET)
    return ui


def prediction_column(
    ctx: Context, inp: InputColumn, language: gr.Radio, narrow: gr.Checkbox, default: str
) -> PredictionColumn:
    """The label and what the model sees; the lesion switches and what each lesion costs on the samples (drawn for a
    phone's column where ``narrow``)."""
    size = ctx.registry.card(default).image_size
    label = gr.Label(num_top_classes=3, label="Prediction (top 3)", elem_id="label")
    status = gr.Markdown(EMPTY_PROMPT[ctx.registry.card(default).dataset], elem_id="status")
    # A short label and only the fullscreen button on the two previews: in a half-width column the download and share
    # buttons covered the end of the label "What the model sees (28×28)".
    small = {"height": 200, "interactive": False, "format": "png", "buttons": ["fullscreen"]}
    with gr.Row(elem_id="previews"):
        seen = gr.Image(label="What it sees (28×28)", **small)
        model_input = gr.Image(label=f"Model input ({size}×{size})", elem_id="model-input", **small)
    lesions = gr.CheckboxGroup(
        list(BLOCK_NAMES),
        label="Lesions: remove the residual branch F(x) of these blocks",
        info="b3.0, b4.0 and b5.0 downsample (1×1 projection shortcut).",
        elem_id="lesions",
    )
    with gr.Accordion("What each single lesion costs on the 1,000 samples", open=True, elem_id="lesion-costs"):
        lesion_note = gr.Markdown(text("en", "lesions"), elem_classes=["note", "view-note"])
        lesion_chart = gr.Plot(lesion_view(ctx, default), show_label=False, elem_id="lesion-chart")

    prediction = Prediction(label, status, seen, model_input)
    current = [inp.source, inp.sketch, inp.upload, inp.model, lesions, language]
    changed = []
    # The canvas by what the student does to it (``input``: it also "changes" as the page opens, which would
    # take over from a sample a link put in the upload box); the upload box by any change (a scene sets it).
    for name, trigger, tab in (
        ("sketch", inp.sketch.input, inp.sketch_tab),
        ("upload", inp.upload.change, inp.upload_tab),
    ):
        changed.append(
            gr.on(
                [trigger, tab.select],
                bind(new_input, ctx, name),
                [inp.sketch, inp.upload, inp.model, lesions, language],
                list(NewInput(inp.source, *prediction, inp.domain)),
                **(load_api("stroke") if name == "sketch" else QUIET),
                **LABEL,
            )
        )
    picked = PickedSample(inp.upload, inp.source, inp.input_tabs, inp.sample, inp.domain)
    switched = inp.model.change(
        bind(switch_model, ctx),
        [inp.model, language, inp.domain, narrow],
        list(ModelSwitch(inp.gallery, inp.hint, lesion_chart, *picked)),
        **QUIET,
        **SWITCH,
    )
    changed.append(switched.then(bind(predict_current, ctx), current, list(prediction), **QUIET, **LABEL))
    changed.append(lesions.change(bind(predict_current, ctx), current, list(prediction), **QUIET, **LABEL))
    # a phone turned (``NARROW_JS``): the lesions' costs drawn for its new width
    narrow.input(bind(lesion_view, ctx), [inp.model, language, narrow], lesion_chart, **QUIET)
    return PredictionColumn(prediction, lesions, lesion_note, lesion_chart, changed)


def wide_picture(label: str, elem_id: str, **kwargs: Any) -> gr.Image:
    """A wide picture that carries its own titles (the stage montages, the block chart): no label, which would cover
    the first title; on a phone kept at its width and swiped sideways (the ``.swiped`` rule in ``CSS``)."""
    return gr.Image(
        label=label,
        show_label=False,
        interactive=False,
        format="png",
        elem_id=elem_id,
        elem_classes=["swiped"],
        **kwargs,
    )


def view_tabs(
    ctx: Context,
    inp: InputColumn,
    pred: PredictionColumn,
    language: gr.Radio,
    projector: gr.Checkbox,
    narrow: gr.Checkbox,
    default: str,
) -> ViewTabs:
    """Feature maps with Grad-CAM, the residual branch against the shortcut, the architecture and formulas.

    Only the tab on screen is computed, after the label of every new input, lesion set or model.
    """
    with gr.Tab("Feature maps", id="features") as features_tab:
        # Which tab is on screen. Inside a tab: a State among the tabs themselves shifts the tab labels in the browser.
        view = gr.State("features")
        features_note = gr.Markdown(text("en", "features"), elem_classes=["note", "view-note"])
        stage_grids = wide_picture("Stage outputs", "stage-grids")
        with gr.Row():
            target = gr.Dropdown(
                ["predicted", *ctx.registry.card(default).classes],
                value="predicted",
                label="Grad-CAM class",
                elem_id="target",
            )
            stage = gr.Dropdown(list(STAGES), value="b3", label="Show all channels of stage", elem_id="stage")
        cams = wide_picture("Grad-CAM per stage", "cams")
        all_channels = wide_picture("All channels", "all-channels")
    with gr.Tab("Residual vs identity", id="residual") as residual_tab:
        residual_note = gr.Markdown(text("en", "residual"), elem_classes=["note", "view-note"])
        with gr.Row(equal_height=False, elem_id="residual-row"):
            block_panel = gr.Image(
                label="Blocks b2.0 … b5.1",
                interactive=False,
                scale=1,
                min_width=480,
                elem_id="block-panel",
                elem_classes=["swiped"],
                format="png",
            )
            block_chart = wide_picture("Block statistics", "block-chart", scale=1, min_width=400)
    with gr.Tab("Plain vs residual", id="plain", elem_id="plain-tab") as plain_tab:
        plain_note = gr.Markdown(text("en", "plain"), elem_classes=["note", "view-note"])
        runs = depth.load_runs()
        charts = static_charts(runs, "en")
        depth_chart = gr.Plot(charts.depth, show_label=False, elem_id="depth-chart")
        verdict = gr.Markdown(charts.verdict, elem_id="depth-verdict")
        path_chart = gr.Plot(show_label=False, elem_id="path-chart")
        with gr.Row(elem_id="why-row"):
            responses = gr.Plot(charts.responses, show_label=False, scale=2)
            gradients = gr.Plot(charts.gradients, show_label=False, scale=3)
    with gr.Tab("Architecture & formulas", id="architecture") as arch_tab, gr.Row(elem_id="arch-row"):
        with gr.Column():
            formulas = gr.Markdown(text("en", "formulas"))
        with gr.Column():
            arch_note = gr.Markdown(text("en", "architecture"), elem_classes=["note", "view-note"])
            arch_table = gr.Dataframe(
                headers=list(ARCH_HEADERS), interactive=False, max_height=520, elem_id="arch-table"
            )

    current = [inp.source, inp.sketch, inp.upload, inp.model, pred.lesions, language]
    views = Views(stage_grids, cams, all_channels, block_panel, block_chart, path_chart, arch_table)
    notes = (features_note, residual_note, plain_note, formulas, arch_note)
    tabs = ViewTabs(views, view, target, stage, narrow, projector, *notes)
    for i, event in enumerate(pred.changed):  # a stroke on the canvas, an upload (a new input), a model, lesions
        follow_views(ctx, event, current, tabs, i >= 2, **(load_api("view") if i == 0 else {}))
    gr.on([inp.model.change, language.change], bind(class_choices, ctx), [inp.model, target, language], target, **QUIET)
    gr.on(
        # the projector view toggled by hand redraws the block panel (a stage a row); a link's is drawn with its scene;
        # a phone turned (``NARROW_JS``) redraws the residual view for its new width
        [target.change, stage.change, projector.input, narrow.input],
        bind(current_views, ctx),
        [*current, *tabs.how],
        list(input_part(views)),
        **QUIET,
        **VIEW,
    )
    named = ((features_tab, "features"), (residual_tab, "residual"), (plain_tab, "plain"), (arch_tab, "architecture"))
    for tab, name in named:
        chosen = tab.select(bind(choose, name), None, view, **QUIET)
        follow_views(ctx, chosen, current, tabs, model_too=True)
    gr.on(
        [language.change, projector.change],
        bind(static_charts, runs),
        [language, projector],
        list(StaticCharts(depth_chart, verdict, responses, gradients)),
        **QUIET,
    )
    return tabs


class TrainingTab(NamedTuple):
    note: gr.Markdown
    status: gr.Markdown  # the prompt to start, then the run's progress
    trained: gr.State  # the model keys this session trained
    look: TrainingLook  # the components a run draws in the page's language and view


def training_tab(
    ctx: Context, inp: InputColumn, language: gr.Radio, projector: gr.Checkbox, default: str
) -> TrainingTab:
    """Train the network from scratch with live curves; the model joins the switch when it is done."""
    with gr.Tab("Train it yourself", id="train"):
        note = gr.Markdown(text("en", "training"), elem_classes="note")
        with gr.Row(elem_classes="train-controls"):
            network = gr.Dropdown(NETWORKS, value="resnet18", label="Network", elem_id="train-network")
            shortcuts = gr.Radio(
                [("residual (with shortcuts)", "residual"), ("plain twin (no shortcuts)", "plain")],
                value="residual",
                label="Shortcuts",
                elem_id="train-shortcuts",
            )
        with gr.Row(elem_classes="train-controls"):
            dataset = gr.Radio(
                [(MODEL_NAMES[d], d) for d in DATASETS], value="digits", label="Dataset", elem_id="train-dataset"
            )
            images = gr.Slider(1000, 60000, value=6000, step=1000, label="Training images", elem_id="train-images")
            epochs = gr.Slider(1, 20, value=2, step=1, label="Epochs", elem_id="train-epochs")
            lr = gr.Number(
                0.05, label="Learning rate (peak; the lecture's 0.05)", minimum=0.001, maximum=1.0, step=0.01
            )
        with gr.Row(elem_classes="train-controls"):
            train_button = gr.Button("Train", variant="primary", elem_id="train-button")
            stop_button = gr.Button("Stop", variant="stop", elem_id="stop-button")
            download = gr.DownloadButton("Download your model (.safetensors)", visible=False, elem_id="download-model")
            explore = gr.Button("See your model in every view", visible=False, elem_id="explore-model")
        status = gr.Markdown(TRAIN_PROMPT, elem_id="train-status")
        with gr.Row(elem_id="train-curves"):
            curves = Curves(*(curve_chart(elem_id) for elem_id in ("train-loss", "train-accuracy")))
        comparison = gr.Plot(
            label="Your run over the shipped curves (training error per epoch)", show_label=False, elem_id="train-vs"
        )
        trained = gr.State([])
    network.change(network_defaults, network, list(NetworkDefaults(lr, images)), **QUIET)
    train_button.click(
        bind(train_live, ctx),
        [dataset, network, shortcuts, images, epochs, lr, trained, language, projector],
        list(TrainingUpdate(status, *curves, comparison, download, explore, inp.model, trained)),
        concurrency_limit=ctx.budgets.runs,  # $RESNET_MAX_RUNS at once; whoever waits sees the queue position
        concurrency_id="train",
        show_progress="minimal",
        show_progress_on=[status],
        api_visibility="undocumented",  # benchmarks/load.py --training starts a run through it
        api_name="train",
    )
    stop_button.click(bind(stop_training, ctx), language, status, concurrency_limit=None, **QUIET)
    explore.click(bind(explore_trained, ctx), [trained, language], inp.model, **QUIET)
    return TrainingTab(note, status, trained, TrainingLook(status, *curves, comparison))


def api_endpoints(ctx: Context, inp: InputColumn, pred: PredictionColumn) -> None:
    """/classify, /explain and /floor for clients (see the README).

    Hidden components rather than ``gr.api``: ``gr.api`` calls its function without the components' pre- and
    postprocessing, so an uploaded file would arrive as a path the client names (not one Gradio received and
    checked, within ``max_file_size``), and the returned pictures would have to be written and served by hand.
    """
    with gr.Row(visible=False):
        image = image_input(label="image")
        label = gr.Label(label="label")
        classify_button, explain_button, floor_button = gr.Button(), gr.Button(), gr.Button()
        grids, cams, panel = gr.Image(format="png"), gr.Image(format="png"), gr.Image(format="png")
        stats = gr.Dataframe(headers=list(BLOCK_STATS_HEADERS))
    classify_button.click(bind(api_classify, ctx), [image, inp.model], label, api_name="classify", **LABEL)
    explain_button.click(
        bind(api_explain, ctx),
        [image, inp.model, pred.lesions],
        list(Explanation(label, grids, cams, panel, stats)),
        api_name="explain",
        **EXPLAIN,
    )
    floor_button.click(api_floor, [image, inp.model], label, api_name="floor")


def build_demo(ctx: Context) -> gr.Blocks:
    """The page: header (language, projector view, link), the tour, input and prediction columns, the view tabs
    (and training), the API endpoints. Opening it restores the scene in its link (``restore_scene``)."""
    default = ctx.shipped[0][1]
    with gr.Blocks(title="ResNet-18, seen from inside") as demo:
        with gr.Row():  # on a phone the two columns stack (a row wraps what does not fit the columns' min_width)
            with gr.Column(scale=4, min_width=320):
                intro = gr.Markdown(text("en", "intro"), elem_id="intro")
            with gr.Column(scale=0, min_width=230, elem_id="controls"):
                language = gr.Radio(list(LANGUAGES.items()), value="en", label="Language / 语言", elem_id="language")
                projector = gr.Checkbox(False, label="Projector view", elem_id="projector")
                copy_link = gr.Button("Copy link to this view", size="sm", elem_id="copy-link")
        with gr.Row(elem_id="link-row"):
            link_query = gr.Textbox(visible=False)
            link = gr.Textbox(label="Link to this view", interactive=False, visible=False, elem_id="link", scale=3)
            link_note = gr.Markdown(elem_id="link-note", elem_classes="note")
        narrow = gr.Checkbox(False, visible="hidden", container=False, elem_id="narrow")  # a phone's: NARROW_JS
        with gr.Accordion("Guided tour", open=False, elem_id="tour") as tour:
            tour_text = gr.Markdown(TOUR_START["en"], elem_id="tour-text")
            with gr.Row():
                back = gr.Button("◀ Back", size="sm", min_width=100, elem_id="tour-back")
                forward = gr.Button("Next ▶", size="sm", variant="primary", min_width=100, elem_id="tour-next")
            tour_step = gr.State(-1)
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=5, elem_id="input-col"):
                inp = input_column(ctx, default)
            with gr.Column(scale=4, elem_id="prediction-col"):
                pred = prediction_column(ctx, inp, language, narrow, default)
        # every view tab in sight, in its order: rows that wrap where the screen is narrow (Gradio's default "menu" kept
        # the first and the chosen tab in the row and hid the others behind "•••"; opened as a row by the page's CSS
        # until the twenty-fifth session, the chosen tab then moved to the first row on a phone)
        with gr.Tabs(selected="features", elem_id="view-tabs", overflow_behavior="wrap") as tabs_row:
            tabs = view_tabs(ctx, inp, pred, language, projector, narrow, default)
            training = training_tab(ctx, inp, language, projector, default)
        api_endpoints(ctx, inp, pred)
        floor_events(ctx, inp, pred, language, tabs)

        notes = Notes(
            intro,
            tabs.features_note,
            tabs.residual_note,
            tabs.plain_note,
            pred.lesion_note,
            tabs.formulas,
            tabs.arch_note,
            training.note,
            inp.hint,
        )
        language.change(bind(switch_language, ctx), [language, inp.model], list(notes), **QUIET, **SWITCH)
        language.change(bind(model_labels, ctx), [language, training.trained], inp.model, **QUIET)
        language.change(bind(tour_caption), [tour_step, language], tour_text, **QUIET)
        gr.on(
            [language.change, projector.change],
            bind(training_look, ctx),
            [language, projector, training.status],
            list(training.look),
            **QUIET,
        )
        language.change(None, language, None, js=GRADIO_LOCALE_JS)
        redrawn = language.change(
            bind(language_views, ctx),
            [language, inp.model, narrow],
            list(LanguageViews(inp.gallery, pred.lesion_chart)),
            **QUIET,
            **SWITCH,
        )
        labelled = translatable(demo)
        language.change(bind(relabel, labelled), language, [c for c, _ in labelled], **QUIET)
        demo.load(bind(first_labels, labelled), None, [c for c, _ in labelled], **QUIET)
        demo.first_paint = first_paint(demo, note_translations())
        demo.load(None, js=PAGE_LOCALE_JS)
        demo.load(None, js=LINK_PROJECTOR_JS)
        demo.load(None, None, narrow, js=NARROW_JS)
        projector.change(None, projector, None, js=PROJECTOR_JS)

        # A scene (a link, a tour step) sets the controls, then the label and the view on screen follow it.
        scene = SceneUpdate(
            inp.model,
            inp.upload,
            inp.source,
            inp.input_tabs,
            inp.sample,
            inp.domain,
            pred.lesions,
            tabs_row,
            tabs.view,
            tabs.target,
            tabs.stage,
            language,
            projector,
            tour_step,
            tour_text,
            tour,
            link_note,
        )
        current = [inp.source, inp.sketch, inp.upload, inp.model, pred.lesions, language]
        # "always_last": a click while the previous move is pending moves once more when it ends, from the step then
        # reached (the browser reads the state again); Gradio's default ("once") dropped it
        moves = [
            button.click(bind(tour_go, ctx, move), [tour_step, language, projector], list(scene), **QUIET, **AGAIN)
            for button, move in ((back, -1), (forward, 1))
        ]
        for move in moves:
            move.then(None, js=TOUR_VIEW_JS)
        opened = demo.load(bind(restore_scene, ctx), None, list(scene), **QUIET)
        opened.then(None, js=TOUR_LINK_JS)
        opened.then(bind(phone_lesion_view, ctx), [inp.model, language, narrow], pred.lesion_chart, **QUIET)
        for event in (redrawn, opened, *moves):
            labelled = event.then(bind(predict_current, ctx), current, list(pred.prediction), **QUIET, **LABEL)
            follow_views(ctx, labelled, current, tabs, model_too=True)
        copy_link.click(
            bind(scene_link, ctx),
            [
                inp.model,
                inp.sample,
                inp.source,
                inp.sketch,
                inp.upload,
                pred.lesions,
                tabs.view,
                tabs.target,
                tabs.stage,
                language,
                projector,
            ],
            list(Link(link_query, link, link_note)),
            **QUIET,
        ).then(None, link_query, link, js=LINK_JS)
        demo.unload(bind(tab_closed, ctx))
        # Start with the brush in hand, so a first stroke draws (the editor otherwise waits for a tool choice).
        demo.load(None, js=SELECT_BRUSH_JS)
    return demo


BUSY = "⏳ Busy: many people are using the app right now. Try again in a moment. / 使用的人太多，请稍后再试。"


def launch(ctx: Context | None = None, **kwargs: Any) -> tuple[Any, str, str]:
    """Build the page on ``ctx`` (the shipped models when None) and launch it with the app's serving settings.

    $RESNET_TORCH_THREADS (default 1): torch threads per call. Under load, calls run side by side on the cores;
    two threads each oversubscribe a 2-core machine (30 students: label p95 0.80 s with one thread, 1.84 s with two).
    $RESNET_QUEUE_MAX (default 256): events waiting at most; past it a new one is refused with ``BUSY``.
    $RESNET_REMEMBER_FOLDERS (default 1; 0: Gradio's own checks): where a file lies (static, allowed, in the cache)
    is checked with the folders' real paths remembered (``resnet/realpaths.py``).
    $RESNET_QUEUE_STATUS_S (default 1; "auto": Gradio's default): every waiting event is told its place in the queue
    this often. Gradio's "auto" tells every waiting event of a queue each time one of its jobs starts: under a class
    that is (waiting events) × (jobs started) messages through the one interpreter.
    $RESNET_MALLOC_HEAPS (default 2; 0 leaves glibc's default of 8 per core) and $RESNET_TRIM_S (default 10; 0: never):
    fewer heaps and freed pages handed back keep the server's memory from creeping up under a long class.
    $RESNET_LEAN_SESSIONS (default 1; 0: Gradio's own): sessions without Gradio's copy of every component's config,
    which only ``gr.DeepLinkButton`` reads (``lean_sessions``).
    $RESNET_IDLE_SESSION_S (default 3600, Gradio's own time to keep a closed tab's ``gr.State``; 0: never): a
    session whose tab closed, or a script's, is dropped whole once unused this long (``forget_idle_sessions``).
    $RESNET_GC_FREEZE (default 1; 0: off): the objects made at start-up are left out of Python's full garbage
    collections (``resnet.cpu.freeze_startup_heap``), which otherwise stop every thread for ~0.3 s under a class.
    $RESNET_CACHE_S (default 3600; 0: never): Gradio's file cache (every upload, every picture sent, a copy of every
    trained model offered for download) is cleared of files older than this, checked every ten minutes or sooner.
    $RESNET_KEEP_UPLOADS (default 1; 0: Gradio's own page): the page answers a byte-identical upload itself
    (``KEPT_UPLOADS_JS``), so that the canvas is uploaded once per stroke, not at every status message, and the
    canvas's blobs (three posts a stroke that no event reads) are never sent.
    """
    torch.set_num_threads(int(os.environ.get("RESNET_TORCH_THREADS", 1)))
    # Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for its monitoring page
    # (unused here): 8% of the interpreter's time under 30 students (py-spy --gil). Once every 1,000 events instead.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    if heaps := int(os.environ.get("RESNET_MALLOC_HEAPS", 2)):
        bound_heaps(heaps)
    if trim_s := float(os.environ.get("RESNET_TRIM_S", 10)):
        trim_every(trim_s)
    demo = build_demo(ctx or Context.create())
    cache_s = int(os.environ.get("RESNET_CACHE_S", 3600))
    if cache_s:
        demo.delete_cache = (min(cache_s, 600), cache_s)
    status_s = os.environ.get("RESNET_QUEUE_STATUS_S", "1")
    demo.queue(
        max_size=int(os.environ.get("RESNET_QUEUE_MAX", 256)),
        status_update_rate="auto" if status_s == "auto" else float(status_s),
    )
    say_busy(demo)
    skip_at_once(demo)
    if os.environ.get("RESNET_LEAN_SESSIONS", "1") != "0":
        lean_sessions(demo)
    if idle_s := float(os.environ.get("RESNET_IDLE_SESSION_S", 3600)):
        forget_idle_sessions(idle_s)
    if os.environ.get("RESNET_REMEMBER_FOLDERS", "1") != "0":
        remember_folders()
    keep = os.environ.get("RESNET_KEEP_UPLOADS", "1") != "0"
    head = (
        (kept_uploads_js(cache_s) if keep else "")
        + TOUR_KEYS_HEAD
        + SWITCH_CLICKED_HEAD
        + gradio_words_head({b.label: tr(b.label, "zh") for b in demo.blocks.values() if isinstance(b, gr.Tab)})
        + kwargs.pop("head", "")
    )
    if os.environ.get("RESNET_GC_FREEZE", "1") != "0":
        freeze_startup_heap()
    return demo.launch(
        max_file_size=MAX_FILE_SIZE, theme=gr.themes.Soft(), css=CSS, head=head, i18n=demo.first_paint, **kwargs
    )


def skip_at_once(demo: gr.Blocks) -> None:
    """Outputs an answer leaves as they are (``gr.skip()``: a view whose stroke a newer one replaced, a stroke on a
    tab that does not depend on the drawing, the residual view's two pictures beside the features') go out as they
    are; Gradio postprocesses the others.

    Gradio builds each skipped output's component again with its API schema (pydantic) before it sends the same
    "no change": ~0.6-1 ms of the one interpreter per output (Image, Plot, Dataframe; measured here), and under a
    class most views skip all five of their outputs or two.
    """
    postprocess = demo.postprocess_data

    async def postprocess_or_skip(block_fn: Any, predictions: Any, state: Any) -> list[Any]:
        if not isinstance(predictions, (list, tuple)) or block_fn.batch or len(predictions) != len(block_fn.outputs):
            return await postprocess(block_fn, predictions, state)
        kept = [i for i, p in enumerate(predictions) if not (isinstance(p, dict) and p == SKIP)]
        if len(kept) == len(predictions):
            return await postprocess(block_fn, predictions, state)
        answer = [dict(SKIP) for _ in predictions]
        if kept:
            part = copy.copy(block_fn)  # the same event with only the outputs that change
            part.outputs = [block_fn.outputs[i] for i in kept]
            values = [predictions[i] for i in kept]
            done = await postprocess(part, values if len(kept) > 1 else values[0], state)
            for i, value in zip(kept, done, strict=True):
                answer[i] = value
        return answer

    demo.postprocess_data = postprocess_or_skip


SKIP: dict[str, str] = gr.skip()  # {"__type__": "update"}: leave the output as it is


def remember_folders() -> None:
    """Gradio's checks of where a file lies (``is_in_or_equal``, ~85 a stroke) with the folders' real paths
    remembered: ``resnet/realpaths.py``, the same answers."""
    gr.utils.is_in_or_equal = realpaths.is_in_or_equal
    gr.processing_utils.is_in_or_equal = realpaths.is_in_or_equal


def gradios_own(function: Callable) -> Callable:
    """Gradio's own function behind one of the patches below (``.gradios``), or ``function`` itself where unpatched:
    a patch made again wraps Gradio's own, never a patch."""
    return getattr(function, "gradios", function)


class NoDeepLinkConfigs(dict):
    """Where Gradio's ``SessionState`` keeps its copy of every component's config for the session (``config_values``),
    with nothing kept: each key reads as present and empty, a write is dropped, and there is nothing to list.

    Gradio keeps that copy, and every value each event sends or receives in it, only for ``gr.DeepLinkButton`` (its
    ``/gradio_api/deep_link`` lists it); the app's links are its own (``resnet.scenes``) and the page has no such
    button. Built for this page it cost every new session 11 ms of the one interpreter and ~0.2 MB that stays while
    Gradio keeps the session: up to 10,000 sessions (``state_session_capacity``), none ever dropped for being
    closed, each walked by every full garbage collection (``benchmarks/sessions.py``)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: int) -> dict:
        return {}  # no "props": no value is stored

    def __setitem__(self, key: int, value: Any) -> None:
        pass


def lean_sessions(demo: gr.Blocks) -> None:
    """Gradio's sessions without their per-component config copies (``NoDeepLinkConfigs``) from now on.

    Refused (ValueError) for a page with a ``gr.DeepLinkButton``, which reads those copies."""
    from gradio.state_holder import SessionState

    if any(isinstance(block, gr.DeepLinkButton) for block in demo.blocks.values()):
        raise ValueError("a page with gr.DeepLinkButton needs Gradio's own session configs")
    init = gradios_own(SessionState.__init__)

    def init_lean(self: SessionState, blocks: gr.Blocks) -> None:
        # Gradio's own __init__ on a stand-in with no blocks to copy configs of; everything else as it sets it
        init(self, types.SimpleNamespace(default_config=blocks.default_config, blocks={}))
        self.config_values = NoDeepLinkConfigs()

    init_lean.gradios = init  # type: ignore[attr-defined]
    SessionState.__init__ = init_lean


def forget_idle_sessions(after_s: float) -> None:
    """Gradio's sessions unused for ``after_s`` seconds whose tab closed, or that hold no ``gr.State`` value and no
    component of their own (a script's calls: every REST call without a session makes one; the page's events set
    both), are dropped whole, at Gradio's own sweep of expired ``gr.State`` values (every second, on the server's
    event loop). A tab still open is never dropped.

    Gradio marks a session closed when its tab's heartbeat ends and deletes its ``gr.State`` values an hour later,
    but keeps the session itself (its per-session component copies: the model switch's choices, ...) until 10,000
    newer sessions push it out, and a script's session (no heartbeat) as long; each is walked by Gradio's sweep every
    second and by every full garbage collection. A session used again is kept: only its time unused counts."""
    from gradio.state_holder import StateHolder

    sweep = gradios_own(StateHolder.delete_all_expired_state)

    def sweep_and_forget(self: StateHolder) -> None:
        sweep(self)
        now, page = datetime.datetime.now(), self.blocks.default_config.blocks
        with self.lock:
            for session, state in list(self.session_data.items()):
                used = self.time_last_used.get(session)
                if used is None or (now - used).total_seconds() <= after_s:
                    continue
                scripts = not state.state_data and all(b is page.get(k) for k, b in state.blocks_config.blocks.items())
                if state.is_closed or scripts:
                    del self.session_data[session]
                    del self.time_last_used[session]

    sweep_and_forget.gradios = sweep  # type: ignore[attr-defined]
    StateHolder.delete_all_expired_state = sweep_and_forget


def say_busy(demo: gr.Blocks) -> None:
    """A full queue answers ``BUSY`` (the page shows it as an error toast) instead of Gradio's "Queue is full"."""
    push = demo._queue.push

    async def push_or_busy(*args: Any, **kwargs: Any) -> tuple[bool, Any, str]:
        ok, message, state = await push(*args, **kwargs)
        return (ok, BUSY, state) if state == "queue_full" else (ok, message, state)

    demo._queue.push = push_or_busy


if __name__ == "__main__":
    launch()
