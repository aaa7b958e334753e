"""ResNet-18, seen from inside: draw or upload a digit or a piece of clothing and watch the lecture's network work.

python app.py        # host and port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as on Hugging Face Spaces
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from resnet.checkpoint import CheckpointError
from resnet.data import find_data_dir
from resnet.explainer import Analysis, Explainer
from resnet.lecture import LANGUAGES, text
from resnet.live import LiveRun
from resnet.model import BLOCK_NAMES, STAGES
from resnet.preprocess import EmptyDrawingError, InvalidImageError
from resnet.viz import enlarge, montage, training_figure

DATASET_CHOICES = [("Digits (MNIST)", "digits"), ("Clothing (Fashion-MNIST)", "clothing")]
GALLERY_PER_CLASS = 2
MAX_FILE_SIZE = "20mb"
VIEWS = ("features", "residual", "architecture")
BLOCK_STATS_HEADERS = ("block", "shortcut", "lesioned", "‖F(x)‖/‖x‖", "cos(F(x), x)", "mean ‖F‖/‖x‖", "mean cos")

EMPTY_PROMPT = {
    "digits": "✏️ The canvas is empty: draw a digit, upload an image, or click a sample.",
    "clothing": "👕 The canvas is empty: draw a piece of clothing, upload a photo, or click a sample.",
}
NOTE_KEYS = ("intro", "features", "residual", "lesions", "formulas", "architecture", "training")
REDRAW_EVERY_S = 3.0  # how often the training curves are redrawn between epochs
RUNS_DIR = Path(os.environ.get("RESNET_RUNS_DIR", "runs/app"))  # models trained in the app, one file per run

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

explainer = Explainer()
AVAILABLE = [(name, key) for name, key in DATASET_CHOICES if key in explainer.models]
DEFAULT = AVAILABLE[0][1]
LIVE: dict[str, LiveRun] = {}  # the training run of each browser session, by session hash


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


# -- input helpers --------------------------------------------------------------------------------------------
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


def gallery_items(dataset: str) -> list[tuple[np.ndarray, str]]:
    s = explainer.samples(dataset)
    classes = explainer.classes(dataset)
    return [(s.images[i], classes[s.labels[i]]) for i in gallery_indices(dataset)]


def gallery_indices(dataset: str) -> list[int]:
    labels = explainer.samples(dataset).labels
    return [int(i) for c in range(10) for i in np.flatnonzero(labels == c)[:GALLERY_PER_CLASS]]


# -- callbacks (plain functions, testable without a browser) -------------------------------------------------
def classify(image, dataset: str, lesions: list[str] | None, source: str = "upload"):
    """Label, status line, what the model sees, the model's input.

    Nothing to classify gives a prompt, never a guess: for an empty canvas a friendly one, for an upload the reason.
    """
    try:
        c = explainer.classify(image, dataset, lesions or ())
    except EmptyDrawingError as exc:
        message = EMPTY_PROMPT[explainer.dataset_of(dataset)] if source == "sketch" or image is None else sentence(exc)
        return None, message, None, None
    except InvalidImageError as exc:
        return None, sentence(exc), None, None
    lesion_note = f" — with {len(lesions)} block(s) lesioned" if lesions else ""
    status = f"Prediction from the {explainer.label(dataset)} model{lesion_note}."
    if c.prepared.inverted:
        status += " (Dark-on-light input: inverted to light-on-dark, as in the training set.)"
    return c.top, status, enlarge(c.seen, 6), enlarge(c.model_input, 3)


def analyse(image, dataset: str, lesions: list[str] | None, target: str = "predicted") -> Analysis | None:
    classes = explainer.classes(dataset)
    cls = classes.index(target) if target in classes else None
    try:
        return explainer.analyse(image, dataset, lesions or (), cls)
    except (EmptyDrawingError, InvalidImageError):
        return None


def feature_views(image, dataset: str, lesions: list[str] | None, target: str, stage: str):
    a = analyse(image, dataset, lesions, target)
    if a is None:
        return None, None, None
    grid, caption = explainer.stage_channels(a, stage)
    return explainer.feature_maps(a), explainer.gradcams(a, dataset), gr.Image(value=grid, label=caption)


def residual_views(image, dataset: str, lesions: list[str] | None):
    a = analyse(image, dataset, lesions)
    if a is None:
        return None, None
    return explainer.residual_views(a, dataset)


def lesion_view(dataset: str):
    return explainer.lesion_figure(dataset)


def architecture_view(dataset: str) -> list[list]:
    return [
        ["    " * r.depth + r.name, r.kind, " × ".join(map(str, r.shape)), f"{r.params:,}"]
        for r in explainer.architecture(dataset)
    ]


def views(image, dataset: str, lesions: list[str] | None, target: str, stage: str, view: str):
    """Compute only the view that is on screen; the others are left as they are (gr.skip)."""
    skip = gr.skip()
    features = (skip, skip, skip)
    residual = (skip, skip)
    arch = skip
    if view == "features":
        features = feature_views(image, dataset, lesions, target, stage)
    elif view == "residual":
        residual = residual_views(image, dataset, lesions)
    elif view == "architecture":
        arch = architecture_view(dataset)
    return (*features, *residual, arch)


def predict_current(source: str, sketch, upload, dataset: str, lesions):
    """The light path: the current input's label, status and previews (nothing else waits on it)."""
    return classify(current_input(source, sketch, upload), dataset, lesions, source)


def views_current(source: str, sketch, upload, dataset: str, lesions, target: str, stage: str, view: str):
    """The heavy path, run after the label: only the view on screen."""
    return views(current_input(source, sketch, upload), dataset, lesions, target, stage, view)


def on_new_input(source: str):
    """The callback for a new drawing or upload: that input becomes the current one and is classified."""

    def callback(sketch, upload, dataset: str, lesions):
        return (source, *predict_current(source, sketch, upload, dataset, lesions))

    return callback


def switch_dataset(dataset: str, lang: str = "en"):
    """New gallery, hint, Grad-CAM class list and lesion chart; the current input is then re-read by refresh."""
    classes = ["predicted", *explainer.classes(dataset)]
    dropdown = gr.Dropdown(choices=classes, value="predicted")
    hint = text(lang, f"hint_{explainer.dataset_of(dataset)}")
    return gallery_items(dataset), hint, dropdown, lesion_view(dataset)


def switch_language(lang: str, dataset: str) -> list[str]:
    """Every explanation in the chosen language, in the order of NOTE_KEYS, then the drawing hint."""
    return [text(lang, key) for key in NOTE_KEYS] + [text(lang, f"hint_{explainer.dataset_of(dataset)}")]


def pick_sample(dataset: str, evt: gr.SelectData):
    """Clicking a gallery sample loads it as the input."""
    i = gallery_indices(dataset)[evt.index]
    return enlarge(explainer.samples(dataset).images[i], 8), "upload", gr.Tabs(selected="upload")


# -- training in the browser ----------------------------------------------------------------------------------
def model_choices(trained: list[str]) -> list[tuple[str, str]]:
    """The model switch: the shipped models, then this session's trained ones that are still loaded."""
    return AVAILABLE + [(f"Yours: {explainer.label(k)}", k) for k in trained if explainer.knows(k)]


def curves_view(run: LiveRun):
    """The run's live curves as one figure (loss; train and test accuracy), x running to the whole run."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    for p in run.curves:
        xs, ys = series.setdefault(p.series, ([], []))
        xs.append(p.images)
        ys.append(p.value)
    return training_figure(series, run.total_images)


def train_live(dataset: str, images: float, epochs: float, lr: float, trained: list[str], request: gr.Request):
    """Train a model from scratch, streaming its curves; at the end it joins the model switch (this session only).

    Yields (status, curves, download button, explore button, model switch, trained keys).
    """
    session = getattr(request, "session_hash", None) or "local"
    skip = gr.skip()
    unchanged = (skip,) * 4  # download, explore, model switch, trained keys: they change only at the end
    if session in LIVE:
        yield "⚠️ A run is already training in this tab: stop it first.", skip, *unchanged
        return
    if lr is None:
        yield "⚠️ Enter a learning rate (the lecture's is 0.05).", skip, *unchanged
        return
    try:
        run = LiveRun.start(dataset, int(images), int(epochs), float(lr), RUNS_DIR, find_data_dir(dataset))
    except ValueError as exc:
        yield sentence(exc), skip, *unchanged
        return
    LIVE[session] = run
    shown = 0.0
    try:
        for r in run:
            # A figure costs about a quarter of a second on 2 cores: redraw every few seconds, and at every epoch.
            if r.event == "step" and time.monotonic() - shown < REDRAW_EVERY_S:
                continue
            shown = time.monotonic()
            yield f"⏳ {r.status}", curves_view(r), *unchanged
    finally:
        LIVE.pop(session, None)
    status = ("⚠️ " if run.error else "✅ ") + run.status
    if not run.epochs_done:
        yield status, curves_view(run), *unchanged
        return
    try:
        key = explainer.add_trained(run.out)
    except CheckpointError as exc:
        yield f"{status} ⚠️ It could not be loaded for the views: {exc}", curves_view(run), *unchanged
        return
    yield f"{status} ⏳ Measuring each block's lesion on the 1,000 samples…", curves_view(run), *unchanged
    explainer.sample_stats(key)  # the lesion chart and the block means, so that switching to it is instant
    trained = [k for k in trained if k != key] + [key]
    yield (
        f"{status} Saved as `{run.out}`. Pick “Yours” in the model switch (or press the button) to see it in every "
        "view.",
        curves_view(run),
        gr.DownloadButton(value=str(run.out), visible=True),
        gr.Button(visible=True),
        gr.Radio(choices=model_choices(trained)),
        trained,
    )


def stop_training(request: gr.Request) -> str:
    run = LIVE.get(getattr(request, "session_hash", None) or "local")
    if run is None:
        return "Nothing is training in this tab."
    run.stop.set()
    return "⏹️ Stopping after the current batch; finished epochs stay saved."


def explore_trained(trained: list[str]):
    """Switch every view to the model trained last in this session."""
    live = [k for k in trained if explainer.knows(k)]
    return gr.Radio(choices=model_choices(trained), value=live[-1]) if live else gr.skip()


# -- API endpoints ---------------------------------------------------------------------------------------------
def api_classify(image: str | None, dataset: str) -> dict[str, float]:
    """Classify an image file (any size or mode, dark-on-light or light-on-dark) with the digits or clothing model."""
    if not explainer.knows(dataset):
        why = explainer.errors.get(dataset, "")
        raise gr.Error(
            f"the {dataset!r} model is not available{': ' + why if why else ''}; use one of {sorted(explainer.models)}"
        )
    try:
        return explainer.classify(image, dataset).top
    except (EmptyDrawingError, InvalidImageError) as exc:
        raise gr.Error(str(exc)) from None


def api_explain(image: str | None, dataset: str, lesions: list[str] | None = None):
    """Everything at once: label, feature maps, Grad-CAM, the residual-vs-identity panel and the block statistics."""
    unknown = sorted(set(lesions or ()) - set(BLOCK_NAMES))
    if unknown:
        raise gr.Error(f"unknown blocks {unknown}; lesions take names from {list(BLOCK_NAMES)}")
    top = api_classify(image, dataset)
    a = analyse(image, dataset, lesions)
    rows = [
        [
            r.block,
            r.shortcut,
            r.lesioned,
            round(r.ratio, 4),
            round(r.cosine, 4),
            round(r.mean_ratio, 4),
            round(r.mean_cosine, 4),
        ]
        for r in explainer.block_rows(a, dataset)
    ]
    # One picture per view (not a gallery of ten): fewer files for a client to fetch.
    grids = montage(explainer.feature_maps(a))
    cams = montage([(enlarge(img, 2), caption) for img, caption in explainer.gradcams(a, dataset)])
    return top, grids, cams, explainer.block_panel(a), rows


def api_floor(image: str | None, dataset: str) -> dict[str, float]:
    """The framework's floor for benchmarks: same inputs and output as /classify, a fixed answer."""
    return {"0": 1.0}


# -- layout ------------------------------------------------------------------------------------------------------
def build_demo() -> gr.Blocks:
    size = explainer.card(DEFAULT).image_size
    with gr.Blocks(title="ResNet-18, seen from inside") as demo:
        source = gr.State("sketch")
        view = gr.State("features")
        with gr.Row():
            intro = gr.Markdown(text("en", "intro"))
            language = gr.Radio(list(LANGUAGES.items()), value="en", label="Language / 语言", scale=0, min_width=160)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                dataset = gr.Radio(AVAILABLE, value=DEFAULT, label="Model", elem_id="dataset")
                for name, why in explainer.errors.items():
                    gr.Markdown(f"⚠️ The {name} model could not be loaded, so it is left out: {why}")
                hint = gr.Markdown(text("en", f"hint_{DEFAULT}"), elem_classes="note")
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
                    gallery_items(DEFAULT),
                    label="Test-set samples (click one to load it)",
                    columns=5,
                    height=300,
                    allow_preview=False,
                    elem_id="gallery",
                )
            with gr.Column(scale=4):
                label = gr.Label(num_top_classes=3, label="Prediction (top 3)", elem_id="label")
                status = gr.Markdown(EMPTY_PROMPT[DEFAULT], elem_id="status")
                with gr.Row():
                    seen = gr.Image(label="What the model sees (28×28)", height=200, interactive=False, format="png")
                    model_input = gr.Image(
                        label=f"Model input ({size}×{size})", height=200, interactive=False, format="png"
                    )
                lesions = gr.CheckboxGroup(
                    list(BLOCK_NAMES),
                    label="Lesions: remove the residual branch F(x) of these blocks",
                    info="b3.0, b4.0 and b5.0 downsample (1×1 projection shortcut).",
                    elem_id="lesions",
                )
                with gr.Accordion("What each single lesion costs on the 1,000 samples", open=True):
                    lesion_note = gr.Markdown(text("en", "lesions"), elem_classes="note")
                    lesion_chart = gr.Plot(lesion_view(DEFAULT), show_label=False)
        with gr.Tabs(selected="features"):
            with gr.Tab("Feature maps", id="features") as features_tab:
                features_note = gr.Markdown(text("en", "features"), elem_classes="note")
                stage_grids = gr.Gallery(
                    label="Stage outputs",
                    columns=5,
                    height=300,
                    object_fit="contain",
                    format="png",
                    elem_id="stage-grids",
                )
                with gr.Row():
                    target = gr.Dropdown(
                        ["predicted", *explainer.classes(DEFAULT)], value="predicted", label="Grad-CAM class"
                    )
                    stage = gr.Dropdown(list(STAGES), value="b3", label="Show all channels of stage")
                cams = gr.Gallery(label="Grad-CAM per stage", columns=5, height=200, object_fit="contain", format="png")
                all_channels = gr.Image(label="All channels", interactive=False, format="png")
            with gr.Tab("Residual vs identity", id="residual") as residual_tab:
                residual_note = gr.Markdown(text("en", "residual"), elem_classes="note")
                with gr.Row(equal_height=False):
                    block_panel = gr.Image(
                        label="Blocks b2.0 … b5.1",
                        interactive=False,
                        height=820,
                        scale=2,
                        elem_id="block-panel",
                        format="png",
                    )
                    block_chart = gr.Plot(label="Block statistics", scale=3)
            with gr.Tab("Architecture & formulas", id="architecture") as arch_tab, gr.Row():
                with gr.Column():
                    formulas = gr.Markdown(text("en", "formulas"))
                with gr.Column():
                    arch_note = gr.Markdown(text("en", "architecture"), elem_classes="note")
                    arch_table = gr.Dataframe(
                        headers=["layer", "what", "output shape", "parameters"], interactive=False, max_height=520
                    )
            with gr.Tab("Train it yourself", id="train"):
                train_note = gr.Markdown(text("en", "training"), elem_classes="note")
                with gr.Row():
                    train_dataset = gr.Radio(AVAILABLE, value=DEFAULT, label="Dataset", elem_id="train-dataset")
                    train_images = gr.Slider(
                        1000, 60000, value=6000, step=1000, label="Training images", elem_id="train-images"
                    )
                    train_epochs = gr.Slider(1, 20, value=2, step=1, label="Epochs", elem_id="train-epochs")
                    train_lr = gr.Number(
                        0.05, label="Learning rate (peak; the lecture's 0.05)", minimum=0.001, maximum=1.0, step=0.01
                    )
                with gr.Row():
                    train_button = gr.Button("Train", variant="primary", elem_id="train-button")
                    stop_button = gr.Button("Stop", variant="stop", elem_id="stop-button")
                    download = gr.DownloadButton(
                        "Download your model (.safetensors)", visible=False, elem_id="download-model"
                    )
                    explore = gr.Button("See your model in every view", visible=False, elem_id="explore-model")
                train_status = gr.Markdown("Press **Train** to start.", elem_id="train-status")
                curves = gr.Plot(label="Training curves", elem_id="train-curves")
                trained = gr.State([])
        # API-only components: an image file in, the label out.
        with gr.Row(visible=False):
            api_image = image_input(label="image")
            api_label = gr.Label(label="label")
            api_button = gr.Button("classify")
            api_explain_button = gr.Button("explain")
            api_floor_button = gr.Button("floor")
            api_grids, api_cams = gr.Image(format="png"), gr.Image(format="png")
            api_panel = gr.Image(format="png")
            api_stats = gr.Dataframe(headers=list(BLOCK_STATS_HEADERS))

        # -- wiring ------------------------------------------------------------------------------------------------
        view_outputs = [stage_grids, cams, all_channels, block_panel, block_chart, arch_table]
        inputs = [source, sketch, upload]

        predicted = [label, status, seen, model_input]
        predict_inputs = [*inputs, dataset, lesions]
        view_inputs = [*inputs, dataset, lesions, target, stage, view]
        quiet = {"show_progress": "hidden", "api_visibility": "private"}

        def then_views(event) -> None:
            """After the label is out, the view on screen (the stroke-to-label path never waits for it)."""
            event.then(views_current, view_inputs, view_outputs, **quiet)

        for component, name in ((sketch, "sketch"), (upload, "upload")):
            then_views(
                component.change(
                    on_new_input(name),
                    [sketch, upload, dataset, lesions],
                    [source, *predicted],
                    trigger_mode="always_last",
                    **quiet,
                )
            )
        for tab, name in ((sketch_tab, "sketch"), (upload_tab, "upload")):
            then_views(
                tab.select(lambda n=name: n, None, source, **quiet).then(
                    predict_current, predict_inputs, predicted, **quiet
                )
            )
        gallery.select(pick_sample, [dataset], [upload, source, input_tabs], **quiet)
        notes = [intro, features_note, residual_note, lesion_note, formulas, arch_note, train_note, hint]
        language.change(switch_language, [language, dataset], notes, **quiet)
        then_views(
            dataset.change(switch_dataset, [dataset, language], [gallery, hint, target, lesion_chart], **quiet).then(
                predict_current, predict_inputs, predicted, **quiet
            )
        )
        then_views(lesions.change(predict_current, predict_inputs, predicted, trigger_mode="always_last", **quiet))
        for control in (target, stage):
            control.change(
                lambda src, sk, up, ds, les, tgt, stg: feature_views(current_input(src, sk, up), ds, les, tgt, stg),
                [*inputs, dataset, lesions, target, stage],
                [stage_grids, cams, all_channels],
                **quiet,
            )
        for tab, name in ((features_tab, "features"), (residual_tab, "residual"), (arch_tab, "architecture")):
            then_views(tab.select(lambda n=name: n, None, view, **quiet))

        # Start with the brush in hand, so a first stroke draws (the editor otherwise waits for a tool choice).
        demo.load(None, js=SELECT_BRUSH_JS)

        api_button.click(api_classify, [api_image, dataset], api_label, api_name="classify")
        api_explain_button.click(
            api_explain,
            [api_image, dataset, lesions],
            [api_label, api_grids, api_cams, api_panel, api_stats],
            api_name="explain",
        )
        api_floor_button.click(api_floor, [api_image, dataset], api_label, api_name="floor")

        train_button.click(
            train_live,
            [train_dataset, train_images, train_epochs, train_lr, trained],
            [train_status, curves, download, explore, dataset, trained],
            concurrency_limit=1,  # one training at a time: it takes every core
            concurrency_id="train",
            show_progress="hidden",
            api_visibility="private",
        )
        stop_button.click(stop_training, None, train_status, concurrency_limit=None, **quiet)
        explore.click(explore_trained, trained, dataset, **quiet)
    return demo


def launch(**kwargs: Any) -> tuple[Any, str, str]:
    """Launch with the app's safety settings (file size limit, no extra served paths)."""
    demo = build_demo()
    return demo.launch(
        max_file_size=MAX_FILE_SIZE,
        theme=gr.themes.Soft(),
        css=CSS,
        **kwargs,
    )


if __name__ == "__main__":
    launch()
