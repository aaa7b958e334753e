"""ResNet-18, seen from inside: draw or upload a digit or a piece of clothing and watch the lecture's network work.

python app.py        # host and port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as on Hugging Face Spaces

Importing this module loads nothing: ``launch()`` (``python app.py``) loads the models into a ``Context`` and builds
the page with ``build_demo(ctx)``. The callbacks are plain functions of the context and the inputs, each returning a
named tuple whose fields name its output components (``Annotated[type, component class]``); the layout builds its
output lists from the same named tuples, so outputs never match by position alone (``tests/test_wiring.py``).
"""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import gradio as gr
import numpy as np
from matplotlib.figure import Figure

from resnet import analysis, depth, plain_vs_residual, viz, why
from resnet.analysis import Analyser, Analysis
from resnet.architecture import layer_table
from resnet.checkpoint import CheckpointError
from resnet.data import DATASETS, find_data_dir
from resnet.lecture import LANGUAGES, text
from resnet.live import LiveRun
from resnet.model import BLOCK_NAMES, STAGES
from resnet.preprocess import EmptyDrawingError, InvalidImageError
from resnet.registry import ModelRegistry

MODEL_NAMES = {
    "digits": "Digits (MNIST)",
    "digits-plain": "Digits, plain twin (no shortcuts)",
    "clothing": "Clothing (Fashion-MNIST)",
    "clothing-plain": "Clothing, plain twin (no shortcuts)",
}
GALLERY_PER_CLASS = 2
MAX_FILE_SIZE = "20mb"
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
.note { font-size: 0.92rem; }
"""

QUIET: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private"}
NETWORKS = [
    ("ResNet-18, the lecture's (64 px)", "resnet18"),
    ("ResNet-20, He et al.'s CIFAR family (28 px)", "resnet20"),
    ("ResNet-32 (28 px)", "resnet32"),
    ("ResNet-56 (28 px)", "resnet56"),
    ("ResNet-110 (28 px)", "resnet110"),
]


@dataclass
class Context:
    """What the callbacks read: the models, the shared analysis cache, where runs go, the live runs by session."""

    registry: ModelRegistry
    analyser: Analyser
    runs_dir: Path  # models trained in the app, one file per run
    redraw_every_s: float = 3.0  # how often the training curves are redrawn between epochs
    live: dict[str, LiveRun] = field(default_factory=dict)  # the training run of each browser session

    @classmethod
    def create(cls, registry: ModelRegistry | None = None, runs_dir: Path | None = None) -> Context:
        """Load the shipped models (unless given); runs go to ``runs_dir``, else $RESNET_RUNS_DIR or runs/app."""
        registry = registry or ModelRegistry()
        runs_dir = runs_dir or Path(os.environ.get("RESNET_RUNS_DIR", "runs/app"))
        return cls(registry, Analyser(registry), Path(runs_dir))

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


class PickedSample(NamedTuple):
    upload: Annotated[np.ndarray, gr.Image]
    source: Annotated[str, gr.State]
    input_tabs: Annotated[Any, gr.Tabs]


class ModelSwitch(NamedTuple):
    gallery: Annotated[list[tuple[np.ndarray, str]], gr.Gallery]
    hint: Annotated[str, gr.Markdown]
    lesion_chart: Annotated[Figure, gr.Plot]


class FeatureViews(NamedTuple):
    stage_grids: Annotated[list[tuple[np.ndarray, str]] | Skip | None, gr.Gallery]
    cams: Annotated[list[tuple[np.ndarray, str]] | Skip | None, gr.Gallery]
    all_channels: Annotated[Any, gr.Image]


class ResidualViews(NamedTuple):
    block_panel: Annotated[np.ndarray | Skip | None, gr.Image]
    block_chart: Annotated[Figure | Skip | None, gr.Plot]


class Views(NamedTuple):
    """Every view below the input; only the one on screen is computed, the others are ``gr.skip()``."""

    stage_grids: Annotated[list[tuple[np.ndarray, str]] | Skip | None, gr.Gallery]
    cams: Annotated[list[tuple[np.ndarray, str]] | Skip | None, gr.Gallery]
    all_channels: Annotated[Any, gr.Image]
    block_panel: Annotated[np.ndarray | Skip | None, gr.Image]
    block_chart: Annotated[Figure | Skip | None, gr.Plot]
    path_chart: Annotated[Figure | Skip | None, gr.Plot]
    arch_table: Annotated[list[list[str]] | Skip, gr.Dataframe]


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


class TrainingUpdate(NamedTuple):
    status: Annotated[str, gr.Markdown]
    curves: Annotated[Figure | Skip, gr.Plot]
    comparison: Annotated[Figure | Skip, gr.Plot]
    download: Annotated[Any, gr.DownloadButton]
    explore: Annotated[Any, gr.Button]
    model: Annotated[Any, gr.Radio]
    trained: Annotated[list[str] | Skip, gr.State]

    @classmethod
    def progress(cls, status: str, curves: Any = None, comparison: Any = None) -> TrainingUpdate:
        """A status (and curves): download, explore, the model switch and the trained keys change only at the end."""
        skip = gr.skip()
        return cls(status, skip if curves is None else curves, skip if comparison is None else comparison, *[skip] * 4)


class NetworkDefaults(NamedTuple):
    lr: Annotated[float, gr.Number]
    images: Annotated[int, gr.Slider]


class Explanation(NamedTuple):
    label: Annotated[dict[str, float], gr.Label]
    stage_grids: Annotated[np.ndarray, gr.Image]
    cams: Annotated[np.ndarray, gr.Image]
    block_panel: Annotated[np.ndarray, gr.Image]
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


def current_input(source: str, sketch: dict | None, upload: str | None):
    """The image that the views follow: the canvas, or the uploaded / sample image."""
    return sketch_image(sketch) if source == "sketch" else upload


def gallery_indices(ctx: Context, model_key: str) -> list[int]:
    """The samples the gallery shows: the first ``GALLERY_PER_CLASS`` of each class."""
    labels = ctx.registry.samples(model_key).labels
    return [int(i) for c in range(10) for i in np.flatnonzero(labels == c)[:GALLERY_PER_CLASS]]


def gallery_items(ctx: Context, model_key: str) -> list[tuple[np.ndarray, str]]:
    s = ctx.registry.samples(model_key)
    classes = ctx.registry.card(model_key).classes
    return [(s.images[i], classes[s.labels[i]]) for i in gallery_indices(ctx, model_key)]


def hint(ctx: Context, lang: str, model_key: str) -> str:
    return text(lang, f"hint_{ctx.registry.card(model_key).dataset}")


# -- the light path: stroke to label -----------------------------------------------------------------------------
def classify(ctx: Context, image, model_key: str, lesions: list[str] | None, source: str = "upload") -> Prediction:
    """Label, status line, what the model sees, the model's input.

    Nothing to classify gives a prompt, never a guess: for an empty canvas a friendly one, for an upload the reason.
    """
    try:
        c = analysis.classify(ctx.registry, image, model_key, lesions or ())
    except EmptyDrawingError as exc:
        empty = source == "sketch" or image is None
        message = EMPTY_PROMPT[ctx.registry.card(model_key).dataset] if empty else sentence(exc)
        return Prediction(None, message, None, None)
    except InvalidImageError as exc:
        return Prediction(None, sentence(exc), None, None)
    lesion_note = f" — with {len(lesions)} block(s) lesioned" if lesions else ""
    status = f"Prediction from the {ctx.registry.label(model_key)} model{lesion_note}."
    if c.prepared.inverted:
        status += " (Dark-on-light input: inverted to light-on-dark, as in the training set.)"
    return Prediction(c.top, status, viz.enlarge(c.seen, 6), viz.enlarge(c.model_input, 3))


def predict_current(ctx: Context, source: str, sketch, upload, model_key: str, lesions) -> Prediction:
    """The current input's label, status and previews (nothing else waits on it)."""
    return classify(ctx, current_input(source, sketch, upload), model_key, lesions, source)


def new_input(ctx: Context, source: str, sketch, upload, model_key: str, lesions) -> NewInput:
    """A new drawing or upload (or its tab chosen): that input becomes the current one and is classified."""
    return NewInput(source, *predict_current(ctx, source, sketch, upload, model_key, lesions))


def pick_sample(ctx: Context, model_key: str, evt: gr.SelectData) -> PickedSample:
    """Clicking a gallery sample loads it as the input."""
    i = gallery_indices(ctx, model_key)[evt.index]
    return PickedSample(viz.enlarge(ctx.registry.samples(model_key).images[i], 8), "upload", gr.Tabs(selected="upload"))


def switch_model(ctx: Context, model_key: str, lang: str = "en") -> ModelSwitch:
    """New gallery, hint and lesion chart; the current input is then re-read by the prediction."""
    return ModelSwitch(gallery_items(ctx, model_key), hint(ctx, lang, model_key), lesion_view(ctx, model_key))


def switch_language(ctx: Context, lang: str, model_key: str) -> Notes:
    """Every explanation in the chosen language, and the drawing hint of the current model."""
    return Notes(*(text(lang, key) for key in Notes._fields[:-1]), hint(ctx, lang, model_key))


# -- the heavy views, sharing one analysis ----------------------------------------------------------------------
def analyse(ctx: Context, image, model_key: str, lesions, target: str = "predicted") -> Analysis | None:
    classes = ctx.registry.card(model_key).classes
    cls = classes.index(target) if target in classes else None
    try:
        return ctx.analyser.analyse(image, model_key, lesions or (), cls)
    except (EmptyDrawingError, InvalidImageError):
        return None


def feature_views(ctx: Context, image, model_key: str, lesions, target: str, stage: str) -> FeatureViews:
    a = analyse(ctx, image, model_key, lesions, target)
    if a is None:
        return FeatureViews(None, None, None)
    grid, caption = viz.stage_channels(a, stage)
    return FeatureViews(viz.feature_maps(a), viz.gradcams(a), gr.Image(value=grid, label=caption))


def residual_views(ctx: Context, image, model_key: str, lesions) -> ResidualViews:
    a = analyse(ctx, image, model_key, lesions)
    if a is None:
        return ResidualViews(None, None)
    return ResidualViews(*viz.residual_views(a, ctx.registry.sample_stats(model_key)))


def lesion_view(ctx: Context, model_key: str) -> Figure:
    """What each single lesion costs on the samples, beside the same for the model's twin (residual or plain)."""
    model, _ = ctx.registry.get(model_key)
    keys = [k for k in (model_key, ctx.registry.twin(model_key)) if k is not None]
    shown = [(ctx.registry.label(k), ctx.registry.card(k).plain, ctx.registry.sample_stats(k)) for k in keys]
    return viz.lesion_chart(model, shown, ctx.registry.label(model_key))


def path_view(ctx: Context, model_key: str, lesions) -> Figure | None:
    """The path ensemble of the model and its twin, with the ticked lesion set as a point (None: not measured)."""
    keys = [k for k in (model_key, ctx.registry.twin(model_key)) if k is not None and ctx.registry.path_stats(k)]
    if not keys:
        return None
    series = [(ctx.registry.label(k), ctx.registry.card(k).plain, ctx.registry.path_stats(k)) for k in keys]
    current = None
    if model_key in keys:
        chosen = frozenset(lesions or ())
        current = (len(chosen), ctx.registry.path_stats(model_key).of(chosen))
    return viz.path_figure(sorted(series, key=lambda s: s[1]), current, ctx.registry.card(model_key).dataset)


def architecture_view(ctx: Context, model_key: str) -> list[list[str]]:
    model, card = ctx.registry.get(model_key)
    return [
        ["    " * r.depth + r.name, r.kind, " × ".join(map(str, r.shape)), f"{r.params:,}"]
        for r in layer_table(model, card.image_size)
    ]


def views(ctx: Context, image, model_key: str, lesions, target: str, stage: str, view: str) -> Views:
    """Compute only the view that is on screen; the others are left as they are (gr.skip)."""
    skip = gr.skip()
    features = FeatureViews(skip, skip, skip)
    residual = ResidualViews(skip, skip)
    paths = arch = skip
    if view == "features":
        features = feature_views(ctx, image, model_key, lesions, target, stage)
    elif view == "residual":
        residual = residual_views(ctx, image, model_key, lesions)
    elif view == "plain":
        paths = path_view(ctx, model_key, lesions)
    elif view == "architecture":
        arch = architecture_view(ctx, model_key)
    return Views(*features, *residual, paths, arch)


def current_views(ctx: Context, source: str, sketch, upload, model_key: str, lesions, target, stage, view) -> Views:
    """The heavy path, run after the label: only the view on screen."""
    return views(ctx, current_input(source, sketch, upload), model_key, lesions, target, stage, view)


def current_feature_views(
    ctx: Context, source: str, sketch, upload, model_key: str, lesions, target: str, stage: str
) -> FeatureViews:
    return feature_views(ctx, current_input(source, sketch, upload), model_key, lesions, target, stage)


def choose(value: str) -> Annotated[str, gr.State]:
    """A fixed value for a state (which view tab is on screen), bound to each tab's select event."""
    return value


def class_choices(ctx: Context, model_key: str) -> Annotated[Any, gr.Dropdown]:
    """The Grad-CAM class list of a model: "predicted", then its classes."""
    return gr.Dropdown(choices=["predicted", *ctx.registry.card(model_key).classes], value="predicted")


# -- training in the browser -------------------------------------------------------------------------------------
def model_choices(ctx: Context, trained: list[str]) -> list[tuple[str, str]]:
    """The model switch: the shipped models, then this session's trained ones that are still known."""
    yours = [(f"Yours: {ctx.registry.label(k)}", k) for k in trained if ctx.registry.knows(k)]
    return ctx.shipped + yours


def curves_view(run: LiveRun) -> Figure:
    """The run's live curves as one figure (loss; train and test accuracy), x running to the whole run."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for p in run.curves:
        xs, ys = series.setdefault(p.series, ([], []))
        xs.append(p.images)
        ys.append(p.value)
    return viz.training_figure(series, run.total_images)


def comparison_view(run: LiveRun) -> Figure:
    """The run's training error per epoch drawn over the shipped curves of the same experiment."""
    cfg = run.cfg
    label = f"yours: {'plain' if cfg.plain else 'residual'}-{cfg.arch.removeprefix('resnet')} ({cfg.limit:,} images)"
    epochs = list(range(1, len(run.epochs) + 1))
    mine = (label, epochs, [1 - e.train_accuracy for e in run.epochs])
    return plain_vs_residual.depth_figure(depth.reference_runs(cfg.arch, cfg.dataset), [mine])


def train_live(
    ctx: Context,
    dataset: str,
    network: str,
    shortcuts: str,
    images: float,
    epochs: float,
    lr: float | None,
    trained: list[str],
    request: gr.Request,
) -> Iterator[TrainingUpdate]:
    """Train a network from scratch, streaming its curves and, per epoch, its training error over the shipped curves.

    ``network`` is "resnet18" (the lecture's) or one of He et al.'s CIFAR family ("resnet20", "resnet56", ...);
    ``shortcuts`` "residual" or "plain". A ResNet-18 joins the model switch at the end (this session only).
    """
    session = getattr(request, "session_hash", None) or "local"
    update = TrainingUpdate.progress
    if session in ctx.live:
        yield update("⚠️ A run is already training in this tab: stop it first.")
        return
    if lr is None:
        yield update("⚠️ Enter a learning rate (the lecture's is 0.05).")
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
        )
    except ValueError as exc:
        yield update(sentence(exc))
        return
    ctx.live[session] = run
    shown = 0.0
    try:
        for r in run:
            # A figure costs about a quarter of a second on 2 cores: redraw every few seconds, and at every epoch.
            if r.event == "step" and time.monotonic() - shown < ctx.redraw_every_s:
                continue
            shown = time.monotonic()
            yield update(f"⏳ {r.status}", curves_view(r), comparison_view(r) if r.event == "epoch" else gr.skip())
    finally:
        ctx.live.pop(session, None)
    yield from run_ended(ctx, run, trained)


def run_ended(ctx: Context, run: LiveRun, trained: list[str]) -> Iterator[TrainingUpdate]:
    """What a finished run leaves: its file to download; a ResNet-18 joins the model switch, lesions measured."""
    skip = gr.skip()
    status = ("⚠️ " if run.error else "✅ ") + run.status
    if not run.epochs_done:
        yield TrainingUpdate.progress(status, curves_view(run))
        return
    download = gr.DownloadButton(value=str(run.out), visible=True)
    if run.cfg.arch != "resnet18":  # the views are the lecture's network's: a CIFAR-family run is compared and kept
        saved = f"{status} Saved as `{run.out}`: your curve is drawn over the shipped depth experiment below."
        yield TrainingUpdate(saved, curves_view(run), comparison_view(run), download, skip, skip, skip)
        return
    try:
        key = ctx.registry.add_trained(run.out)
    except CheckpointError as exc:
        failed = f"{status} ⚠️ It could not be loaded for the views: {exc}"
        yield TrainingUpdate(failed, curves_view(run), skip, download, skip, skip, skip)
        return
    yield TrainingUpdate.progress(f"{status} ⏳ Measuring each block's lesion on the 1,000 samples…", curves_view(run))
    ctx.registry.sample_stats(key)  # the lesion chart and the block means, so that switching to it is instant
    trained = [k for k in trained if k != key] + [key]
    yield TrainingUpdate(
        f"{status} Saved as `{run.out}`. Pick “Yours” in the model switch (or press the button) to see it in every "
        "view.",
        curves_view(run),
        comparison_view(run),
        download,
        gr.Button(visible=True),
        gr.Radio(choices=model_choices(ctx, trained)),
        trained,
    )


def network_defaults(network: str) -> NetworkDefaults:
    """A network's learning rate and training images as in its shipped reference runs."""
    if network == "resnet18":
        return NetworkDefaults(0.05, 6000)
    return NetworkDefaults(0.1, 24000)  # scripts/depth_study.sh


def stop_training(ctx: Context, request: gr.Request) -> Annotated[str, gr.Markdown]:
    run = ctx.live.get(getattr(request, "session_hash", None) or "local")
    if run is None:
        return "Nothing is training in this tab."
    run.stop.set()
    return "⏹️ Stopping after the current batch; finished epochs stay saved."


def explore_trained(ctx: Context, trained: list[str]) -> Annotated[Any, gr.Radio]:
    """Switch every view to the model trained last in this session."""
    live = [k for k in trained if ctx.registry.knows(k)]
    return gr.Radio(choices=model_choices(ctx, trained), value=live[-1]) if live else gr.skip()


# -- API endpoints (the public parameter is still called "dataset": it takes a model key) ----------------------
def api_classify(ctx: Context, image: str | None, dataset: str) -> Annotated[dict[str, float], gr.Label]:
    """Classify an image file (any size or mode, dark-on-light or light-on-dark) with the digits or clothing model."""
    return _api_classification(ctx, image, dataset, ()).top


def _api_classification(ctx: Context, image: str | None, model_key: str, lesions):
    if not ctx.registry.knows(model_key):
        why = ctx.registry.errors.get(model_key, "")
        raise gr.Error(
            f"the {model_key!r} model is not available{': ' + why if why else ''}; "
            f"use one of {sorted(ctx.registry.models)}"
        )
    try:
        return analysis.classify(ctx.registry, image, model_key, lesions)
    except (EmptyDrawingError, InvalidImageError, ValueError) as exc:
        raise gr.Error(str(exc)) from None


def api_explain(ctx: Context, image: str | None, dataset: str, lesions: list[str] | None = None) -> Explanation:
    """Everything at once: label, feature maps, Grad-CAM, the residual-vs-identity panel and the block statistics."""
    top = _api_classification(ctx, image, dataset, lesions or ()).top
    a = ctx.analyser.analyse(image, dataset, lesions or ())
    rows = [
        [r.block, r.shortcut, r.lesioned, *(round(v, 4) for v in (r.ratio, r.cosine, r.mean_ratio, r.mean_cosine))]
        for r in viz.block_rows(a, ctx.registry.sample_stats(dataset))
    ]
    # One picture per view (not a gallery of ten): fewer files for a client to fetch.
    grids = viz.montage(viz.feature_maps(a))
    cams = viz.montage([(viz.enlarge(img, 2), caption) for img, caption in viz.gradcams(a)])
    return Explanation(top, grids, cams, viz.block_panel(a.trace.blocks, a.stats), rows)


def api_floor(image: str | None, dataset: str) -> Annotated[dict[str, float], gr.Label]:
    """The framework's floor for benchmarks: same inputs and output as /classify, a fixed answer."""
    return {"0": 1.0}


# -- layout: one function a section, each wiring its own events ----------------------------------------------------
class InputColumn(NamedTuple):
    source: gr.State  # "sketch" or "upload": which input the views follow
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
    features_note: gr.Markdown
    residual_note: gr.Markdown
    plain_note: gr.Markdown
    formulas: gr.Markdown
    arch_note: gr.Markdown


def input_column(ctx: Context, default: str) -> InputColumn:
    """The model switch, the canvas and upload tabs, and the test-set samples (a click loads one)."""
    source = gr.State("sketch")
    model = gr.Radio(ctx.shipped, value=default, label="Model", elem_id="dataset")
    for name, reason in ctx.registry.errors.items():
        gr.Markdown(f"⚠️ The {name} model could not be loaded, so it is left out: {reason}")
    hint_note = gr.Markdown(hint(ctx, "en", default), elem_classes="note")
    with gr.Tabs(selected="sketch") as input_tabs:
        with gr.Tab("Draw", id="sketch") as sketch_tab:
            sketch = gr.Sketchpad(
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
        elem_id="gallery",
    )
    ui = InputColumn(source, model, hint_note, input_tabs, sketch_tab, upload_tab, sketch, upload, gallery)
    gallery.select(bind(pick_sample, ctx), [model], list(PickedSample(upload, source, input_tabs)), **QUIET)
    return ui


def prediction_column(ctx: Context, inp: InputColumn, language: gr.Radio, default: str) -> PredictionColumn:
    """The label and what the model sees; the lesion switches and what each lesion costs on the samples."""
    size = ctx.registry.card(default).image_size
    label = gr.Label(num_top_classes=3, label="Prediction (top 3)", elem_id="label")
    status = gr.Markdown(EMPTY_PROMPT[ctx.registry.card(default).dataset], elem_id="status")
    with gr.Row():
        seen = gr.Image(label="What the model sees (28×28)", height=200, interactive=False, format="png")
        model_input = gr.Image(label=f"Model input ({size}×{size})", height=200, interactive=False, format="png")
    lesions = gr.CheckboxGroup(
        list(BLOCK_NAMES),
        label="Lesions: remove the residual branch F(x) of these blocks",
        info="b3.0, b4.0 and b5.0 downsample (1×1 projection shortcut).",
        elem_id="lesions",
    )
    with gr.Accordion("What each single lesion costs on the 1,000 samples", open=True):
        lesion_note = gr.Markdown(text("en", "lesions"), elem_classes="note")
        lesion_chart = gr.Plot(lesion_view(ctx, default), show_label=False)

    prediction = Prediction(label, status, seen, model_input)
    current = [inp.source, inp.sketch, inp.upload, inp.model, lesions]
    changed = []
    for name, component, tab in (("sketch", inp.sketch, inp.sketch_tab), ("upload", inp.upload, inp.upload_tab)):
        changed.append(
            gr.on(
                [component.change, tab.select],
                bind(new_input, ctx, name),
                [inp.sketch, inp.upload, inp.model, lesions],
                list(NewInput(inp.source, *prediction)),
                trigger_mode="always_last",
                **QUIET,
            )
        )
    switched = inp.model.change(
        bind(switch_model, ctx),
        [inp.model, language],
        list(ModelSwitch(inp.gallery, inp.hint, lesion_chart)),
        **QUIET,
    )
    changed.append(switched.then(bind(predict_current, ctx), current, list(prediction), **QUIET))
    changed.append(
        lesions.change(bind(predict_current, ctx), current, list(prediction), trigger_mode="always_last", **QUIET)
    )
    return PredictionColumn(prediction, lesions, lesion_note, lesion_chart, changed)


def view_tabs(ctx: Context, inp: InputColumn, pred: PredictionColumn, default: str) -> ViewTabs:
    """Feature maps with Grad-CAM, the residual branch against the shortcut, the architecture and formulas.

    Only the tab on screen is computed, after the label of every new input, lesion set or model.
    """
    with gr.Tab("Feature maps", id="features") as features_tab:
        # Which tab is on screen. Inside a tab: a State among the tabs themselves shifts the tab labels in the browser.
        view = gr.State("features")
        features_note = gr.Markdown(text("en", "features"), elem_classes="note")
        stage_grids = gr.Gallery(
            label="Stage outputs", columns=5, height=300, object_fit="contain", format="png", elem_id="stage-grids"
        )
        with gr.Row():
            target = gr.Dropdown(
                ["predicted", *ctx.registry.card(default).classes], value="predicted", label="Grad-CAM class"
            )
            stage = gr.Dropdown(list(STAGES), value="b3", label="Show all channels of stage")
        cams = gr.Gallery(label="Grad-CAM per stage", columns=5, height=200, object_fit="contain", format="png")
        all_channels = gr.Image(label="All channels", interactive=False, format="png")
    with gr.Tab("Residual vs identity", id="residual") as residual_tab:
        residual_note = gr.Markdown(text("en", "residual"), elem_classes="note")
        with gr.Row(equal_height=False):
            block_panel = gr.Image(
                label="Blocks b2.0 … b5.1", interactive=False, height=820, scale=2, elem_id="block-panel", format="png"
            )
            block_chart = gr.Plot(label="Block statistics", scale=3)
    with gr.Tab("Plain vs residual", id="plain", elem_id="plain-tab") as plain_tab:
        plain_note = gr.Markdown(text("en", "plain"), elem_classes="note")
        runs = depth.load_runs()
        gr.Plot(plain_vs_residual.depth_figure(runs), show_label=False, elem_id="depth-chart")
        gr.Markdown(depth.sentence(runs), elem_id="depth-verdict")
        path_chart = gr.Plot(show_label=False, elem_id="path-chart")
        with gr.Row():
            gr.Plot(plain_vs_residual.responses_figure(why.load("responses")), show_label=False, scale=2)
            gr.Plot(plain_vs_residual.gradients_figure(why.load("gradients")), show_label=False, scale=3)
    with gr.Tab("Architecture & formulas", id="architecture") as arch_tab, gr.Row():
        with gr.Column():
            formulas = gr.Markdown(text("en", "formulas"))
        with gr.Column():
            arch_note = gr.Markdown(text("en", "architecture"), elem_classes="note")
            arch_table = gr.Dataframe(
                headers=["layer", "what", "output shape", "parameters"], interactive=False, max_height=520
            )

    current = [inp.source, inp.sketch, inp.upload, inp.model, pred.lesions]
    outputs = list(Views(stage_grids, cams, all_channels, block_panel, block_chart, path_chart, arch_table))
    follow = bind(current_views, ctx)
    for event in pred.changed:
        event.then(follow, [*current, target, stage, view], outputs, **QUIET)
    inp.model.change(bind(class_choices, ctx), [inp.model], target, **QUIET)
    gr.on(
        [target.change, stage.change],
        bind(current_feature_views, ctx),
        [*current, target, stage],
        list(FeatureViews(stage_grids, cams, all_channels)),
        **QUIET,
    )
    tabs = ((features_tab, "features"), (residual_tab, "residual"), (plain_tab, "plain"), (arch_tab, "architecture"))
    for tab, name in tabs:
        chosen = tab.select(bind(choose, name), None, view, **QUIET)
        chosen.then(follow, [*current, target, stage, view], outputs, **QUIET)
    return ViewTabs(features_note, residual_note, plain_note, formulas, arch_note)


def training_tab(ctx: Context, inp: InputColumn, default: str) -> gr.Markdown:
    """Train the network from scratch with live curves; the model joins the switch when it is done."""
    with gr.Tab("Train it yourself", id="train"):
        note = gr.Markdown(text("en", "training"), elem_classes="note")
        with gr.Row():
            network = gr.Dropdown(NETWORKS, value="resnet18", label="Network", elem_id="train-network")
            shortcuts = gr.Radio(
                [("residual (with shortcuts)", "residual"), ("plain twin (no shortcuts)", "plain")],
                value="residual",
                label="Shortcuts",
                elem_id="train-shortcuts",
            )
        with gr.Row():
            dataset = gr.Radio(
                [(MODEL_NAMES[d], d) for d in DATASETS], value="digits", label="Dataset", elem_id="train-dataset"
            )
            images = gr.Slider(1000, 60000, value=6000, step=1000, label="Training images", elem_id="train-images")
            epochs = gr.Slider(1, 20, value=2, step=1, label="Epochs", elem_id="train-epochs")
            lr = gr.Number(
                0.05, label="Learning rate (peak; the lecture's 0.05)", minimum=0.001, maximum=1.0, step=0.01
            )
        with gr.Row():
            train_button = gr.Button("Train", variant="primary", elem_id="train-button")
            stop_button = gr.Button("Stop", variant="stop", elem_id="stop-button")
            download = gr.DownloadButton("Download your model (.safetensors)", visible=False, elem_id="download-model")
            explore = gr.Button("See your model in every view", visible=False, elem_id="explore-model")
        status = gr.Markdown("Press **Train** to start.", elem_id="train-status")
        curves = gr.Plot(label="Training curves", elem_id="train-curves")
        comparison = gr.Plot(label="Your run over the shipped curves (training error per epoch)", elem_id="train-vs")
        trained = gr.State([])
    network.change(network_defaults, network, list(NetworkDefaults(lr, images)), **QUIET)
    train_button.click(
        bind(train_live, ctx),
        [dataset, network, shortcuts, images, epochs, lr, trained],
        list(TrainingUpdate(status, curves, comparison, download, explore, inp.model, trained)),
        concurrency_limit=1,  # one training at a time: it takes every core
        concurrency_id="train",
        **QUIET,
    )
    stop_button.click(bind(stop_training, ctx), None, status, concurrency_limit=None, **QUIET)
    explore.click(bind(explore_trained, ctx), trained, inp.model, **QUIET)
    return note


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
    classify_button.click(bind(api_classify, ctx), [image, inp.model], label, api_name="classify")
    explain_button.click(
        bind(api_explain, ctx),
        [image, inp.model, pred.lesions],
        list(Explanation(label, grids, cams, panel, stats)),
        api_name="explain",
    )
    floor_button.click(api_floor, [image, inp.model], label, api_name="floor")


def build_demo(ctx: Context) -> gr.Blocks:
    """The page: header, input and prediction columns, the view tabs (and training), the API endpoints."""
    default = ctx.shipped[0][1]
    with gr.Blocks(title="ResNet-18, seen from inside") as demo:
        with gr.Row():
            intro = gr.Markdown(text("en", "intro"))
            language = gr.Radio(list(LANGUAGES.items()), value="en", label="Language / 语言", scale=0, min_width=160)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                inp = input_column(ctx, default)
            with gr.Column(scale=4):
                pred = prediction_column(ctx, inp, language, default)
        with gr.Tabs(selected="features"):
            tabs = view_tabs(ctx, inp, pred, default)
            training_note = training_tab(ctx, inp, default)
        api_endpoints(ctx, inp, pred)

        notes = Notes(
            intro,
            tabs.features_note,
            tabs.residual_note,
            tabs.plain_note,
            pred.lesion_note,
            tabs.formulas,
            tabs.arch_note,
            training_note,
            inp.hint,
        )
        language.change(bind(switch_language, ctx), [language, inp.model], list(notes), **QUIET)
        # Start with the brush in hand, so a first stroke draws (the editor otherwise waits for a tool choice).
        demo.load(None, js=SELECT_BRUSH_JS)
    return demo


def launch(ctx: Context | None = None, **kwargs: Any) -> tuple[Any, str, str]:
    """Build the page on ``ctx`` (the shipped models when None) and launch it with the app's safety settings."""
    demo = build_demo(ctx or Context.create())
    return demo.launch(max_file_size=MAX_FILE_SIZE, theme=gr.themes.Soft(), css=CSS, **kwargs)


if __name__ == "__main__":
    launch()
