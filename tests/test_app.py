"""The app's callbacks as plain functions of a context, and round trips through gradio_client against the app."""

from __future__ import annotations

import asyncio
import copy
import datetime
import io
import json
import os
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from drawing import draw_like_a_person, pixels
from PIL import Image

import app
from resnet import analysis, plain_vs_residual
from resnet.live import CurvePoint
from resnet.model import BLOCK_NAMES
from resnet.samples import load_samples
from resnet.train import TrainConfig


@pytest.fixture(scope="module")
def seven() -> np.ndarray:
    s = load_samples("digits")
    digit = s.images[np.flatnonzero(s.labels == 7)[0]]
    return draw_like_a_person(digit, 180, 1, (10, -20))


def sketch_value(drawing: np.ndarray) -> dict:
    """A Sketchpad value as Gradio hands it over: RGBA composite, dark strokes on opaque white."""
    rgba = np.dstack([drawing] * 3 + [np.full_like(drawing, 255)])
    return {"background": None, "layers": [rgba], "composite": rgba}


def test_classify_a_drawing(shipped_ctx, seven):
    image = app.sketch_image(sketch_value(seven))
    top, status, seen, model_input = app.classify(shipped_ctx, image, "digits", [])
    assert next(iter(top)) == "7" and len(top) == 3 and top["7"] > 0.9
    assert seen.shape == (28 * 6, 28 * 6) and model_input.shape == (64 * 3, 64 * 3)  # enlarged to show pixels
    assert "inverted" in status


@pytest.mark.parametrize(
    "value",
    [None, {"background": None, "layers": [], "composite": None}, sketch_value(np.full((280, 280), 255, np.uint8))],
    ids=["none", "cleared", "blank"],
)
def test_empty_canvas_prompts_never_predicts(shipped_ctx, value):
    top, status, seen, _model_input = app.classify(shipped_ctx, app.sketch_image(value), "digits", [], source="sketch")
    assert top is None and seen is None and "canvas is empty" in status


def test_the_canvas_hands_over_gradio_s_composite_and_decodes_nothing_else(seven, tmp_path, monkeypatch):
    import gradio as gr
    from gradio.components.image_editor import AcceptBlobs, EditorData
    from gradio.data_classes import FileData

    background = Image.new("RGBA", (280, 280), "white")
    layer = np.zeros((280, 280, 4), np.uint8)
    layer[..., 3] = 255 - seven  # black ink where the drawing is dark, transparent elsewhere
    files = {"background": background, "layer": Image.fromarray(layer)}
    files["composite"] = Image.alpha_composite(background, files["layer"])
    for name, picture in files.items():
        picture.save(tmp_path / f"{name}.png")
    path = {name: FileData(path=str(tmp_path / f"{name}.png")) for name in files}
    payload = EditorData(background=path["background"], layers=[path["layer"]], composite=path["composite"])
    reference = gr.Sketchpad(canvas_size=(280, 280), fixed_canvas=True, layers=False).preprocess(payload)
    canvas = app.composite_canvas(canvas_size=(280, 280), fixed_canvas=True, layers=False)
    opened = []
    decode = canvas.convert_and_format_image
    monkeypatch.setattr(canvas, "convert_and_format_image", lambda f, *a, **k: opened.append(f) or decode(f, *a, **k))
    value = canvas.preprocess(payload)
    assert np.array_equal(value["composite"], reference["composite"]) and value["composite"].shape == (280, 280, 4)
    assert opened == [path["composite"]] and value["background"] is None and value["layers"] == []
    assert np.array_equal(app.sketch_image(value), app.sketch_image(reference))  # what the events read
    assert canvas.preprocess(None) is None
    # blobs the page sent beforehand: the composite, once, as Gradio's
    for kind, picture in files.items():
        buffer = io.BytesIO()
        picture.save(buffer, "PNG")
        data = {"type": kind, "index": 0 if kind == "layer" else None, "id": "stroke", "file": b""}
        canvas.accept_blobs(AcceptBlobs(data=data, files=[(kind, buffer.getvalue())]))
    value = canvas.preprocess(EditorData(id="stroke"))
    assert np.array_equal(value["composite"], reference["composite"]) and "stroke" not in canvas.blob_storage
    assert app.sketch_image(canvas.preprocess(EditorData(id="gone"))) is None  # forgotten: an empty canvas
    copied = copy.deepcopy(canvas)  # as Gradio keeps a session's own copy of a component it updated
    copied.blob_storage["copied"] = canvas.blob_storage["other"] = SimpleNamespace(composite=path["composite"])
    assert np.array_equal(copied.preprocess(EditorData(id="copied"))["composite"], reference["composite"])
    assert "copied" not in copied.blob_storage and "other" in canvas.blob_storage  # each reads its own blobs
    assert not Path(app.__file__).with_suffix(".pyi").exists()  # no component subclass: no stub Gradio writes


def test_lesions_change_the_prediction_path(shipped_ctx, seven):
    plain, *_ = app.classify(shipped_ctx, seven, "digits", [])
    all_off, status, *_ = app.classify(shipped_ctx, seven, "digits", list(BLOCK_NAMES))
    assert plain != all_off and "without F(x) in b2.0, b2.1, b3.0, b3.1, b4.0, b4.1, b5.0, b5.1." in status
    _, status, *_ = app.classify(shipped_ctx, seven, "digits", ["b4.1", "b3.1"], lang="zh")
    assert "b3.1, b4.1 的 F(x) 已去掉" in status  # the lecture's order, whatever order they were ticked in


@pytest.mark.parametrize(
    ("view", "narrow", "projector"),
    [("features", False, False), ("residual", False, False), ("residual", True, False), ("residual", False, True)],
)
def test_a_strokes_views_are_png_files_of_the_same_pictures(shipped_ctx, seven, view, narrow, projector):
    """The stroke's view sends its pictures as PNG files already in Gradio's cache (Gradio serves them as they are):
    the reference is the views drawn as arrays here, pixel for pixel (on a phone's page, ``narrow``, the block panel
    drawn for its column; in the projector view a stage a row)."""
    a = shipped_ctx.analyser.analyse(seven, "digits")
    spec = app.viz.chart_spec(app.viz.block_rows(a.snapshot, shipped_ctx.registry.sample_stats("digits")))
    drawn_here = (
        [*app.pictures.feature_view(a.snapshot, "b3"), None, None]
        if view == "features"
        else [None, None, None, *app.pictures.residual_view(a.snapshot, spec, "en", narrow, projector)]
    )
    value = sketch_value(seven)
    args = ("sketch", value, None, "digits", [], "en", "predicted", "b3", view, narrow, projector)
    sent = app.current_views(shipped_ctx, *args)
    pairs = zip(drawn_here, sent, strict=True)
    pictures = [(r, s) for r, s in pairs if isinstance(r, np.ndarray)]
    assert len(pictures) == (3 if view == "features" else 2)
    for r, s in pictures:
        assert isinstance(s, str) and s.startswith(app.gr.utils.get_upload_folder()) and s.endswith(".png")
        assert np.array_equal(np.asarray(Image.open(s)), r)
    if view == "residual":
        assert np.asarray(Image.open(sent.block_panel)).shape[1] == (316 if narrow else 1108 if projector else 542)
    again = app.current_views(shipped_ctx, *args)
    assert again == sent  # the same pictures, the same files


def test_a_strokes_previews_are_png_files_of_the_same_pictures(shipped_ctx, seven):
    """The label's two previews (what the model sees, at 28 px and at its input size) go out as PNG files too."""
    reference = app.classify(shipped_ctx, seven, "digits", [], source="sketch")
    sent = app.new_input(shipped_ctx, "sketch", sketch_value(seven), None, "digits", [])
    assert sent.label == reference.label and sent.status == reference.status
    for r, s in ((reference.seen, sent.seen), (reference.model_input, sent.model_input)):
        assert isinstance(s, str) and s.endswith(".png") and np.array_equal(np.asarray(Image.open(s)), r)


def test_a_stroke_hashes_its_canvas_once(shipped_ctx, seven, monkeypatch):
    """The session's latest input and the kept preprocessing share one digest of the canvas (~0.26 ms each)."""
    names = []
    identity = analysis.identity

    def counted(image):
        names.append(identity(image))
        return names[-1]

    monkeypatch.setattr(analysis, "identity", counted)
    shipped_ctx.analyser.prepared._kept.clear()
    sent = app.new_input(
        shipped_ctx, "sketch", sketch_value(seven), None, "digits", [], request=SimpleNamespace(session_hash="once")
    )
    assert sent.label is not None and len(names) == 1 and names[0][0] == "data"
    assert shipped_ctx.latest["once"] == names[0]
    assert any(key[2:] == names[0] for key in shipped_ctx.analyser.prepared._kept)  # kept under that digest


def ends_last(monkeypatch, older, newer) -> tuple:
    """Two label events of one tab, side by side: ``older()`` starts first but its label waits for a core until
    ``newer()`` has been answered. Both answers."""
    started, release, answers = threading.Event(), threading.Event(), {}
    classify = app.classify

    def first_waits(*args, **kwargs):
        if not started.is_set():
            started.set()
            release.wait(10)
        return classify(*args, **kwargs)

    monkeypatch.setattr(app, "classify", first_waits)
    thread = threading.Thread(target=lambda: answers.update(older=older()))
    thread.start()
    assert started.wait(10)
    answers["newer"] = newer()
    release.set()
    thread.join(10)
    return answers["older"], answers["newer"]


def test_a_tab_s_older_label_that_ends_last_leaves_the_screen_as_the_newer_one_set_it(shipped_ctx, seven, monkeypatch):
    """One tab's labels run side by side on the label workers: a lesion's label that started before a stroke's but
    ends after it is skipped (``newest_only``), so the screen keeps the stroke's label, status and previews."""
    request, canvas = SimpleNamespace(session_hash="two-labels"), sketch_value(seven)
    lesion, stroke = ends_last(
        monkeypatch,
        lambda: app.predict_current(shipped_ctx, "sketch", canvas, None, "digits", ["b3.0"], "en", request),
        lambda: app.new_input(shipped_ctx, "sketch", canvas, None, "digits", [], request=request),
    )
    assert next(iter(stroke.label)) == "7" and "without F(x)" not in stroke.status  # the newer label: shown
    assert isinstance(lesion, app.Prediction) and all(value == app.gr.skip() for value in lesion)  # nothing changes
    # ended in order, both are shown; a call without a session (a test, a script) is never skipped
    assert app.predict_current(shipped_ctx, "sketch", canvas, None, "digits", ["b3.0"], request=request).label
    assert app.predict_current(shipped_ctx, "sketch", canvas, None, "digits", [], request=request).label
    assert "without F(x)" in app.predict_current(shipped_ctx, "sketch", canvas, None, "digits", ["b3.0"]).status
    app.tab_closed(shipped_ctx, request)  # the tab's numbering goes with it


def test_a_first_stroke_ending_last_still_makes_the_canvas_the_input(shipped_ctx, seven, tmp_path, monkeypatch):
    """The first stroke after an upload, ending after a lesion's label that read the source before the stroke set it:
    the lesion's label stays, but the canvas becomes the input (the source), as only new inputs write it; a later
    new input (the upload tab chosen) replaces the stroke's source too."""
    upload = tmp_path / "upload.png"
    Image.fromarray(255 - load_samples("digits").images[0]).save(upload)
    request, canvas = SimpleNamespace(session_hash="first-stroke"), sketch_value(seven)
    stroke, lesion = ends_last(
        monkeypatch,
        lambda: app.new_input(shipped_ctx, "sketch", canvas, str(upload), "digits", [], request=request),
        lambda: app.predict_current(shipped_ctx, "upload", canvas, str(upload), "digits", ["b3.0"], "en", request),
    )
    assert lesion.label and "without F(x)" in lesion.status
    assert stroke.source == "sketch" and stroke.domain == "digits"  # kept
    assert all(value == app.gr.skip() for value in stroke[1:5])  # label, status, previews: the lesion's stay
    stroke, chosen = ends_last(
        monkeypatch,
        lambda: app.new_input(shipped_ctx, "sketch", canvas, str(upload), "digits", [], request=request),
        lambda: app.new_input(shipped_ctx, "upload", canvas, str(upload), "digits", [], request=request),
    )
    assert chosen.source == "upload" and all(value == app.gr.skip() for value in stroke)
    app.tab_closed(shipped_ctx, request)


@pytest.mark.parametrize(("fn", "first", "inputs"), [(app.predict_current, (), 6), (app.new_input, ("sketch",), 5)])
def test_gradio_hands_every_label_event_its_tab(shipped_ctx, fn, first, inputs):
    """The order of a tab's labels needs its session: Gradio fills ``request`` in by its annotation."""
    from gradio import helpers

    tab = SimpleNamespace(session_hash="tab")
    args, *_ = helpers.special_args(app.bind(fn, shipped_ctx, *first), [None] * inputs, request=tab)
    assert len(args) == inputs + 1 and args[-1] is tab


@pytest.mark.parametrize("view", ["features", "residual", "plain", "architecture"])
def test_the_view_on_screen_comes_from_the_input_or_the_model(shipped_ctx, seven, view):
    """A stroke's event sends the view on screen if it depends on the input (``current_views``: the same pictures as
    ``views``), nothing on the other tabs; ``model_views`` sends the paths chart or the architecture table."""
    reference = app.views(shipped_ctx, seven, "digits", [], "predicted", "b3", view)
    args = (shipped_ctx, "sketch", sketch_value(seven), None, "digits", [], "en", "predicted", "b3", view)
    sent, free = app.current_views(*args), app.model_views(shipped_ctx, "digits", [], "en", view)
    assert sent._fields + free._fields == app.Views._fields
    skip = app.gr.skip()
    if view in ("features", "residual"):
        assert tuple(sent) == tuple(reference[:5])
        assert any(isinstance(v, str) for v in sent) and free == (skip, skip)
    else:
        assert all(v == skip for v in sent)
        if view == "plain":
            assert (
                free.arch_table == skip
                and free.path_chart.axes[0].get_title() == reference.path_chart.axes[0].get_title()
            )
        else:
            assert free == (skip, reference.arch_table)


def test_views_compute_only_what_is_shown(shipped_ctx, seven):
    out = app.views(shipped_ctx, seven, "digits", [], "predicted", "b3", "residual")
    assert pixels(out.block_panel).ndim == 3 and pixels(out.block_panel).shape[2] == 3
    assert pixels(out.block_chart).shape == (272, 640, 3)  # the block statistics chart, drawn as a picture
    skipped = (out.stage_grids, out.cams, out.all_channels, out.arch_table)
    assert all(v == app.gr.skip() for v in skipped)  # left as they are on the page


def five_in_a_row(picture: np.ndarray | str) -> bool:
    """A montage of the five stages: one RGB picture (or a PNG file of it), over three times as wide as high."""
    picture = pixels(picture)
    return picture.ndim == 3 and picture.shape[2] == 3 and picture.shape[1] > 3 * picture.shape[0]


def test_feature_views(shipped_ctx, seven, drawn):
    """The stages' grids and Grad-CAMs come as one captioned picture each (three files per view, not eleven)."""
    grids, cams, channels = app.feature_views(shipped_ctx, seven, "digits", [], "predicted", "b5")
    assert five_in_a_row(grids) and five_in_a_row(cams)
    captions = [t for t, _ in drawn if " · " in t]
    assert [c.split(" · ")[0] for c in captions] == ["b1", "b2", "b3", "b4", "b5"] * 2 + ["b5"]
    assert captions[2].startswith("b3 · 128 × 8 × 8") and all("“7”" in c for c in captions[5:10])
    assert captions[10] == "b5 · 512 × 2 × 2: all 512 channels, strongest first"  # drawn above all the channels
    assert pixels(channels).ndim == 3 and pixels(channels).shape[2] == 3
    # /explain sends the same two pictures: the same files.
    explained = app.api_explain(shipped_ctx, seven, "digits")
    assert (explained.stage_grids, explained.cams) == (grids, cams)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_phones_lesion_chart_lays_the_same_bars_down_inside_its_column(shipped_ctx, registry, lang):
    """For a phone's column (its box ~302 px) the lesions' costs are 297 px wide, each block a row (b2.0 at the top),
    the bars lying down: the same accuracies as the desk's chart, bar for bar, the downsampling blocks hatched in both,
    and every text (the title, both axes' ticks and labels, the legend) inside the picture."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for key in ("digits", "clothing-plain"):
        desk, phone = (app.lesion_view(shipped_ctx, key, lang, narrow) for narrow in (False, True))
        upright, lying = desk.axes[0].patches, phone.axes[0].patches
        assert [b.get_width() for b in lying] == pytest.approx([b.get_height() for b in upright])
        assert [b.get_hatch() for b in lying] == [b.get_hatch() for b in upright]
        assert sum(b.get_hatch() == "//" for b in lying) == 3 * 2  # b3.0, b4.0, b5.0 of the model and its twin
        ticks = [t.get_text() for t in phone.axes[0].get_yticklabels()]
        assert ticks[0] == "b2.0" and ticks == [t.get_text() for t in desk.axes[0].get_xticklabels()]
        assert phone.axes[0].yaxis_inverted()  # b2.0 at the top, as the block panel reads
        canvas = FigureCanvasAgg(phone)
        canvas.draw()
        renderer = canvas.get_renderer()
        width, height = phone.bbox.width, phone.bbox.height
        assert (width, round(height)) == (297, 486)
        drawn = [phone.axes[0].get_tightbbox(renderer), *(t.get_window_extent(renderer) for t in phone.texts)]
        drawn += [legend.get_window_extent(renderer) for legend in phone.legends]
        for box in drawn:
            assert box.x0 >= -1 and box.x1 <= width + 1 and box.y0 >= -1 and box.y1 <= height + 1, (key, box)
        assert phone.texts and phone.texts[0].get_text().startswith(desk.axes[0].get_title().split(":")[0] + ":")


def test_lesion_and_architecture_views(shipped_ctx, registry):
    chart = app.lesion_view(shipped_ctx, "clothing")
    keys = [k for k in ("clothing", registry.twin("clothing")) if k]  # the model's bars, then its plain twin's
    heights = [bar.get_height() for bar in chart.axes[0].patches]
    assert heights == pytest.approx(
        [100 * registry.sample_stats(k).lesion_accuracy[n] for k in keys for n in BLOCK_NAMES]
    )
    assert chart.axes[0].get_title().startswith("clothing:")
    table = app.architecture_view(shipped_ctx, "digits")
    rows = table["data"]
    assert table["headers"] == ["layer", "what", "output shape", "parameters"]
    assert app.architecture_view(shipped_ctx, "digits", "zh")["headers"] == ["层", "类型", "输出形状", "参数量"]
    assert rows[0][0].strip() == "b1" and any("1×1" in r[1] for r in rows)
    assert rows[-1][1].startswith("fully connected 512 → 10")


def test_switching_model_changes_gallery_hint_chart_and_classes(shipped_ctx):
    switch = app.switch_model(shipped_ctx, "clothing", "en")
    gallery, hint, lesion_chart = switch.gallery, switch.hint, switch.lesion_chart
    assert lesion_chart.axes[0].get_title().startswith("clothing:")
    assert len(gallery) == 10 * app.GALLERY_PER_CLASS and gallery[0][1] == "T-shirt/top"
    assert "clothing" in hint.lower() and app.switch_model(shipped_ctx, "clothing", "zh").hint != hint
    choices = [c[0] if isinstance(c, tuple) else c for c in app.class_choices(shipped_ctx, "clothing")["choices"]]
    assert choices == ["predicted", *shipped_ctx.registry.card("clothing").classes]


# -- robustness through the plain callbacks -------------------------------------------------------------------
def _file(tmp_path, name: str, data: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


BAD_UPLOADS = [
    ("notes.txt", lambda: b"hello, not an image", "not an image"),
    ("broken.png", lambda: _png(Image.new("L", (50, 50)))[:60], "not an image"),
    ("dot.png", lambda: _png(Image.new("L", (1, 1))), "1x1"),
    ("white.png", lambda: _png(Image.new("RGB", (300, 300), "white")), "blank"),
    ("black.png", lambda: _png(Image.new("L", (300, 300), 0)), "blank"),
    ("clear.png", lambda: _png(Image.new("RGBA", (300, 300), (0, 0, 0, 0))), "transparent"),
]


@pytest.mark.parametrize(("name", "make", "expect"), BAD_UPLOADS)
def test_bad_uploads_get_a_clear_message(shipped_ctx, tmp_path, name, make, expect):
    top, status, seen, _ = app.classify(shipped_ctx, _file(tmp_path, name, make()), "digits", [])
    assert top is None and seen is None
    assert status.startswith("⚠️") and expect in status.lower()


def test_explain_gives_the_label_classify_gives_and_the_same_clear_errors(shipped_ctx, tmp_path):
    """/explain reads its label off its own traced pass: the reference is /classify's forward, input by input."""
    import gradio as gr

    s = load_samples("digits")
    for i in range(0, 1000, 100):
        path = tmp_path / f"{i}.png"
        Image.fromarray(255 - s.images[i]).resize((140, 140)).save(path)
        for lesions in ([], ["b3.1", "b5.0"]):
            shipped_ctx.analyser._cache.clear()  # a fresh pass, not one a view already made
            explained = app.api_explain(shipped_ctx, str(path), "digits", lesions)
            top = analysis.classify(shipped_ctx.registry, str(path), "digits", lesions).top
            assert list(explained.label) == list(top)  # the same three classes in the same order
            assert list(explained.label.values()) == pytest.approx(list(top.values()), abs=1e-5)
            if not lesions:
                assert app.api_classify(shipped_ctx, str(path), "digits") == top
    for name, make, expect in BAD_UPLOADS:
        with pytest.raises(gr.Error, match=f"(?i){expect}"):
            app.api_explain(shipped_ctx, _file(tmp_path, name, make()), "digits", [])
    with pytest.raises(gr.Error, match="not available"):
        app.api_explain(shipped_ctx, str(tmp_path / "0.png"), "letters", [])


def test_classify_then_explain_of_one_upload_preprocess_it_once(shipped_ctx, tmp_path):
    path = tmp_path / "seven.png"
    Image.fromarray(255 - load_samples("digits").images[0]).resize((200, 200)).save(path)
    prepared = shipped_ctx.analyser.prepared
    hits, misses = prepared.hits, prepared.misses
    top = app.api_classify(shipped_ctx, str(path), "digits")
    assert app.api_explain(shipped_ctx, str(path), "digits").label == top
    assert (prepared.hits - hits, prepared.misses - misses) == (1, 1)


def test_a_views_analysis_runs_on_the_view_thread(shipped_ctx, monkeypatch):
    """The page's view workers (``$RESNET_VIEW_WORKERS``) take turns at the analysis, on the one thread of
    ``Context.viewer`` (whose priority ``$RESNET_VIEW_NICE`` lowers)."""
    import threading

    ran_on, priorities = [], set()
    analyse = shipped_ctx.analyser.analyse

    def checked(*args, **kwargs):
        ran_on.append(threading.current_thread().name)
        priorities.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return analyse(*args, **kwargs)

    monkeypatch.setattr(shipped_ctx.analyser, "analyse", checked)
    seven = load_samples("digits").images[0]
    assert app.feature_views(shipped_ctx, seven, "digits", [], "predicted", "b3").stage_grids is not None
    assert app.residual_views(shipped_ctx, seven, "digits", []).block_panel is not None
    assert len(ran_on) == 2 and ran_on[0] == ran_on[1] and ran_on[0].startswith("view-analysis")
    below = int(os.environ.get("RESNET_VIEW_NICE", 10))  # below the labels' priority, here the test's own thread
    assert priorities == {min(19, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + below)}  # 19: lowest
    assert app.feature_views(shipped_ctx, None, "digits", [], "predicted", "b3").stage_grids is None  # no drawing


def test_explain_workers_analyse_one_at_a_time_and_draw_while_the_next_one_analyses(shipped_ctx, tmp_path, monkeypatch):
    """/explain has workers of its own; they take turns at the analysis, and one's pictures are drawn while the next
    one analyses (the painter, held up here, is a process of its own)."""
    import threading

    demo = app.build_demo(shipped_ctx)
    (explain,) = [fn for fn in demo.fns.values() if fn.api_name == "explain"]
    assert explain.concurrency_id == "explain" and explain.concurrency_limit == app.EXPLAIN["concurrency_limit"] >= 2
    spans: dict[str, list[tuple[float, float]]] = {"analyse": [], "paint": []}
    inside, most, lock, threads = 0, 0, threading.Lock(), set()
    analyse, paint = shipped_ctx.analyser.analyse, shipped_ctx.paint

    def timed(kind, fn, hold_s):
        def run(*args, **kwargs):
            nonlocal inside, most
            t0 = time.monotonic()
            with lock:
                inside += kind == "analyse"
                most = max(most, inside)
                threads.add((kind, threading.current_thread().name.split("_")[0]))
            time.sleep(hold_s)
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    inside -= kind == "analyse"
                    spans[kind].append((t0, time.monotonic()))

        return run

    monkeypatch.setattr(shipped_ctx.analyser, "analyse", timed("analyse", analyse, 0.1))
    monkeypatch.setattr(shipped_ctx, "paint", timed("paint", paint, 0.4))
    images = load_samples("digits").images
    paths = [str(tmp_path / f"{i}.png") for i in (1, 2)]
    for i, path in zip((1, 2), paths, strict=True):
        Image.fromarray(255 - images[i]).resize((140, 140)).save(path)
    answers: list = []
    callers = [
        threading.Thread(target=lambda p=p: answers.append(app.api_explain(shipped_ctx, p, "digits"))) for p in paths
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(30)
    assert len(answers) == 2 and most == 1  # both explained, never two analyses at once
    assert {name for kind, name in threads if kind == "analyse"} == {"explain-analysis"}  # on Context.explainer
    (_, first_end), (second_start, _) = sorted(spans["analyse"])
    first_paint = min(spans["paint"])
    assert first_end <= second_start < first_paint[1]  # the second analysis ran while the first explanation was drawn


def test_huge_upload_is_classified(shipped_ctx, tmp_path):
    img = Image.new("L", (8000, 8000), 255)
    img.paste(0, (3500, 1500, 4300, 6500))  # a "1"
    top, *_ = app.classify(shipped_ctx, _file(tmp_path, "huge.png", _png(img)), "digits", [])
    assert next(iter(top)) == "1"


# -- the launched app through gradio_client ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(shipped_ctx):
    from gradio_client import Client

    _, url, _ = app.launch(shipped_ctx, prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    c = Client(url, verbose=False)
    yield c
    c.close() if hasattr(c, "close") else None
    app.gr.close_all()


@pytest.mark.slow
def test_client_round_trip(client, seven, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "seven.png"
    Image.fromarray(seven).save(path)
    result = client.predict(image=handle_file(str(path)), dataset="digits", api_name="/classify")
    assert result["label"] == "7" and result["confidences"][0]["confidence"] > 0.9
    # light-on-dark, RGB, small: the clothing model reads a Fashion-MNIST trouser
    s = load_samples("clothing")
    trouser = s.images[np.flatnonzero(s.labels == 1)[0]]
    Image.fromarray(trouser).convert("RGB").resize((56, 56)).save(path)
    result = client.predict(image=handle_file(str(path)), dataset="clothing", api_name="/classify")
    assert result["label"] == "Trouser"

    explained = client.predict(image=handle_file(str(path)), dataset="clothing", lesions=[], api_name="/explain")
    label, grids, cams, panel, stats = explained
    assert label["label"] == "Trouser"
    grids, cams, panel = (Image.open(p) for p in (grids, cams, panel))  # three PNG files
    assert five_in_a_row(np.asarray(grids)) and five_in_a_row(np.asarray(cams))  # five stages side by side
    assert panel.height > 8 * 84 and panel.mode == "RGB"  # a row of 84-pixel tiles per block
    assert [row[0] for row in stats["data"]] == list(BLOCK_NAMES) and stats["data"][2][1] == "1×1 projection"
    with pytest.raises(Exception, match=r"b9\.9.*not in the list of choices"):  # the lesion checkboxes refuse it
        client.predict(image=handle_file(str(path)), dataset="clothing", lesions=["b9.9"], api_name="/explain")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "make", "expect"), BAD_UPLOADS)
def test_client_bad_uploads_get_a_clear_error_and_the_server_keeps_serving(client, seven, tmp_path, name, make, expect):
    from gradio_client import handle_file

    bad = _file(tmp_path, name, make())
    with pytest.raises(Exception, match=expect):
        client.predict(image=handle_file(bad), dataset="digits", api_name="/classify")
    good = tmp_path / "seven.png"
    Image.fromarray(seven).save(good)
    assert client.predict(image=handle_file(str(good)), dataset="digits", api_name="/classify")["label"] == "7"


@pytest.mark.slow
def test_client_huge_upload(client, tmp_path):
    from gradio_client import handle_file

    img = Image.new("L", (8000, 8000), 255)
    img.paste(0, (3500, 1500, 4300, 6500))  # a "1"
    result = client.predict(
        image=handle_file(_file(tmp_path, "huge.png", _png(img))), dataset="digits", api_name="/classify"
    )
    assert result["label"] == "1"


def test_every_explanation_exists_in_english_and_chinese(shipped_ctx):
    en = app.switch_language(shipped_ctx, "en", "digits")
    zh = app.switch_language(shipped_ctx, "zh", "clothing")
    assert len(en) == len(zh) == len(app.Notes._fields)
    assert all(e and z and e != z for e, z in zip(en, zh, strict=True))
    assert "残差" in zh[0] and "f(x) = F(x) + x" in zh[0]


def test_training_in_the_app_streams_curves_then_every_view_shows_the_new_model(
    tiny_data, fresh_ctx, tmp_path, monkeypatch, seven
):
    monkeypatch.setenv("RESNET_DATA_DIR", str(tiny_data))
    ctx = fresh_ctx
    ctx.redraw_every_s = 0.0  # every step
    outs = list(app.train_live(ctx, "digits", "resnet18", "residual", 1000, 1, 0.05, [], "en", False, None))
    streamed = [o for o in outs if o.status.startswith("⏳")]
    assert streamed[0].loss == app.gr.skip()  # random weights: no curve before the first batch
    points = [len(o.loss["value"]) for o in streamed[1:]]
    assert len(streamed) >= 6 and points == sorted(points) and points[-1] > points[0]  # the loss curve grows
    status, loss, accuracy, comparison, download, explore, switch, trained = outs[-1]
    assert explore["visible"]
    assert status.startswith("✅ Finished after 1 epoch"), status
    assert loss["x_lim"] == accuracy["x_lim"] == [0, 512] and accuracy["y_lim"] == [0, 100]  # the whole run's frame
    series = accuracy["value"].groupby("series")["images"].apply(list).to_dict()
    assert len(loss["value"]) == len(series["train"]) == 4  # 512 images / 128
    assert series["test"] == [0, 512]  # random weights, then after the epoch
    assert series["chance"] == [0, 512] and accuracy["value"]["value"].between(0, 100).all()  # in %
    yours = comparison.axes[0].lines[-1]  # drawn over the shipped ResNet-18 curves
    assert yours.get_label().startswith("yours: residual-18") and list(yours.get_xdata()) == [1]
    assert {line.get_label() for line in comparison.axes[0].lines[:-1]} >= {"residual-18"}
    (key,) = trained
    saved = next(tmp_path.glob("digits-*.safetensors"))
    assert key == f"digits:{saved.stem}" and download["visible"] and Path(download["value"]).name == saved.name
    assert switch["choices"][-1] == (f"Yours: {ctx.registry.label(key)}", key)
    assert app.explore_trained(ctx, trained)["value"] == key

    # Every view takes the trained model's key: the label, the views, the lesion chart.
    drawing = app.sketch_image(sketch_value(seven))
    top, line, *_ = app.classify(ctx, drawing, key, [], "sketch")
    assert len(top) == 3 and "trained here, 1 epoch" in line
    feature_grids, cams, _ = app.feature_views(ctx, drawing, key, ["b3.1"], "predicted", "b2")
    assert five_in_a_row(feature_grids) and five_in_a_row(cams)
    panel, chart = app.residual_views(ctx, drawing, key, [])
    assert pixels(panel).ndim == 3 and pixels(chart).shape == (272, 640, 3)
    assert "trained here" in app.lesion_view(ctx, key).axes[0].get_title()
    assert (tmp_path / "cache").is_dir()  # its lesion statistics are cached beside it, not among the assets
    gallery, hint = app.switch_model(ctx, key)[:2]
    assert len(gallery) == 20 and "digit" in hint


def test_training_refuses_bad_settings_and_a_second_run(fresh_ctx):
    (status, *_rest) = next(
        app.train_live(fresh_ctx, "digits", "resnet18", "residual", 1000, 1, 7.0, [], "en", False, None)
    )
    assert status.startswith("⚠️") and "learning rate" in status
    (status, *_rest) = next(
        app.train_live(fresh_ctx, "digits", "resnet18", "residual", 1000, 1, None, [], "en", False, None)
    )  # an emptied number box
    assert "Enter a learning rate" in status
    fresh_ctx.live["local"] = object()
    (status, *_rest) = next(
        app.train_live(fresh_ctx, "digits", "resnet18", "residual", 1000, 1, 0.05, [], "en", False, None)
    )
    assert "already training" in status


def test_stop_button_ends_the_run_and_says_what_is_kept(tiny_data, fresh_ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_DATA_DIR", str(tiny_data))
    assert "Nothing is training" in app.stop_training(fresh_ctx, "en", None)
    run = app.train_live(fresh_ctx, "digits", "resnet18", "residual", 1000, 3, 0.05, [], "en", False, None)
    next(run)  # random weights evaluated: the run is live
    assert "Stopping" in app.stop_training(fresh_ctx, "en", None)
    outs = list(run)
    assert "before the first epoch ended: nothing to keep" in outs[-1].status
    assert "local" not in fresh_ctx.live and not list(tmp_path.glob("*.safetensors"))


def test_a_plain_cifar_network_trains_and_is_drawn_over_the_depth_experiment(tiny_data, fresh_ctx, monkeypatch):
    monkeypatch.setenv("RESNET_DATA_DIR", str(tiny_data))
    assert app.network_defaults("resnet56") == (0.1, 24000) and app.network_defaults("resnet18") == (0.05, 6000)
    outs = list(app.train_live(fresh_ctx, "clothing", "resnet20", "plain", 1000, 2, 0.1, [], "en", True, None))
    status, _loss, _accuracy, comparison, download, explore, switch, trained = outs[-1]
    desk = plain_vs_residual.depth_figure([], projector=False)
    assert comparison.get_dpi() == 1.5 * desk.get_dpi() and comparison.bbox.width == desk.bbox.width  # the projector's
    assert status.startswith("✅ Finished after 2 epochs") and "depth experiment" in status
    assert download["visible"] and "clothing-resnet20-plain-" in Path(download["value"]).name
    assert explore == switch == trained == app.gr.skip()  # the views are the lecture's network's: not switched to
    yours = comparison.axes[0].lines[-1]
    assert yours.get_label() == "yours: plain-20 (1,000 images)" and list(yours.get_xdata()) == [1, 2]
    from resnet.depth import load_runs

    assert len(comparison.axes[0].lines) == len(load_runs()) + 1  # the shipped depth curves, then yours
    assert comparison.get_suptitle().startswith("The depth experiment (He et al. 2016, Fig. 6) on Fashion-MNIST")
    per_epoch = [o.comparison for o in outs if isinstance(o.comparison, app.Figure)]
    assert len(per_epoch) == 3  # after each epoch and at the end


def test_a_run_follows_the_language_and_projector_toggles_live_and_after_it_ended(tiny_data, fresh_ctx, monkeypatch):
    """A lecturer starts a run, then turns the page Chinese and the projector view on: what the tab shows now, the
    run's next updates and what it leaves at the end follow; once it ended, a toggle back draws it all again."""
    monkeypatch.setenv("RESNET_DATA_DIR", str(tiny_data))
    ctx, request = fresh_ctx, SimpleNamespace(session_hash="tab-1")
    ctx.redraw_every_s = 0.0  # every step
    desk_dpi = plain_vs_residual.depth_figure([], projector=False).get_dpi()
    assert app.training_look(ctx, "zh", False, app.TRAIN_PROMPT, request).status == "按 **训练** 开始。"
    run = app.train_live(ctx, "digits", "resnet18", "residual", 1000, 2, 0.05, [], "en", False, request)
    first = next(u for u in run if "done" in u.status)  # the first epoch ended, in English
    assert first.status.startswith("⏳ epoch 1/2 done") and first.comparison.get_dpi() == desk_dpi
    # drawn over the shipped ResNet-18's curves on the run's dataset, and titled so (it read "... on Fashion-MNIST")
    assert (
        first.comparison.get_suptitle()
        == "The shipped ResNet-18 and its plain twin on MNIST: plain dashed, residual solid"
    )
    now = app.training_look(ctx, "zh", True, first.status, request)  # both toggles, mid-run
    assert now.status.startswith("⏳ ") and "完成：测试准确率" in now.status, now.status
    assert now.loss["x_title"] == now.accuracy["x_title"] == "已训练图像数"
    assert now.comparison.get_dpi() == 1.5 * desk_dpi and cjk(now.comparison)
    following = [next(run) for _ in range(2)]  # the run's own next updates
    assert all(cjk_text(u.status) and u.loss["x_title"] == "已训练图像数" for u in following)
    assert following[0].comparison.get_dpi() == 1.5 * desk_dpi  # the chart once in the new look (the run's own)
    assert following[1].comparison == app.gr.skip()  # then only at the next epoch
    *_, last = list(run)
    status, _loss, _accuracy, comparison, _download, _explore, switch, (_key,) = last
    assert status.startswith("✅ 完成，共 2") and status.endswith("`。" + app.tr(app.PICK_YOURS, "zh"))
    assert "%。 已保存为 `" in status  # Chinese full stops
    assert comparison.get_dpi() == 1.5 * desk_dpi and switch["choices"][-1][0].startswith("你的：")
    back = app.training_look(ctx, "en", False, status, request)  # after the run: every text and chart again
    assert back.status.startswith("✅ Finished after 2 epochs") and back.status.endswith(app.PICK_YOURS)
    assert back.loss["x_title"] == "training images seen" and back.comparison.get_dpi() == desk_dpi
    assert not cjk(back.comparison)
    app.tab_closed(ctx, request)
    assert "tab-1" not in ctx.looks and "tab-1" not in ctx.training_shown


def test_a_refusal_follows_the_language_toggle(fresh_ctx):
    request = SimpleNamespace(session_hash="tab-2")
    fresh_ctx.budgets = app.Budgets(image_epochs=10_000)
    (status, *_rest) = next(
        app.train_live(fresh_ctx, "digits", "resnet18", "residual", 6000, 2, 0.05, [], "en", False, request)
    )
    assert "at most 10,000" in status
    assert "最多 10,000" in app.training_look(fresh_ctx, "zh", False, status, request).status


def cjk_text(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def cjk(figure) -> bool:
    """Whether any text of a matplotlib figure is Chinese."""
    from matplotlib.text import Text

    return any(cjk_text(t.get_text()) for t in figure.findobj(Text))


def test_every_view_works_for_the_plain_twin(shipped_ctx, seven):
    if "digits-plain" not in shipped_ctx.registry.shipped:
        pytest.skip("the digits plain twin is not shipped")
    assert ("Digits, plain twin (no shortcuts)", "digits-plain") in shipped_ctx.shipped  # in the model switch
    top, status, *_ = app.classify(shipped_ctx, seven, "digits-plain", [])
    assert next(iter(top)) == "7" and "digits, plain twin" in status
    grids, cams, channels = app.feature_views(shipped_ctx, seven, "digits-plain", [], "predicted", "b4")
    assert pixels(channels).shape[0] > 16 * 16  # all 256 channels of b4, 16 a row
    assert five_in_a_row(grids) and five_in_a_row(cams)
    panel, chart = app.residual_views(shipped_ctx, seven, "digits-plain", [])
    assert pixels(panel).ndim == 3 and pixels(chart).shape == (272, 640, 3)
    lesions = app.lesion_view(shipped_ctx, "digits-plain")
    assert len(lesions.axes[0].patches) == 16  # each block's bar beside its residual twin's
    paths = app.path_view(shipped_ctx, "digits-plain", ["b2.1"])
    labels = [line.get_label() for line in paths.axes[0].lines]
    assert "digits, plain twin: mean over all subsets" in labels and "digits: mean over all subsets" in labels
    assert any(label.startswith("your lesions") for label in labels)


def test_a_plain_twin_trained_here_joins_the_switch_and_its_blocks_show_f_alone(
    tiny_data, fresh_ctx, monkeypatch, seven
):
    monkeypatch.setenv("RESNET_DATA_DIR", str(tiny_data))
    *_, trained = list(app.train_live(fresh_ctx, "digits", "resnet18", "plain", 512, 1, 0.05, [], "en", False, None))[
        -1
    ]
    (key,) = trained
    assert fresh_ctx.registry.card(key).plain and "plain twin (trained here, 1 epoch)" in fresh_ctx.registry.label(key)
    a = fresh_ctx.analyser.analyse(seven, key)
    assert all(b.plain and b.shortcut is None for b in a.trace.blocks)
    assert pixels(app.residual_views(fresh_ctx, seven, key, []).block_panel).ndim == 3


def test_the_plain_twin_with_a_downsampling_block_lesioned_still_shows_every_view(shipped_ctx, seven):
    """Nothing passes a lesioned downsampling plain block: the logits no longer depend on the earlier stages."""
    if "digits-plain" not in shipped_ctx.registry.shipped:
        pytest.skip("the digits plain twin is not shipped")
    grids, cams, _ = app.feature_views(shipped_ctx, seven, "digits-plain", ["b4.0"], "predicted", "b2")
    assert five_in_a_row(grids) and five_in_a_row(cams)
    a = shipped_ctx.analyser.analyse(seven, "digits-plain", ["b4.0"])
    assert all(not a.cams[s].any() for s in ("b1", "b2", "b3", "b4", "b5"))  # the class depends on none of them
    panel, _chart = app.residual_views(shipped_ctx, seven, "digits-plain", ["b4.0"])
    assert pixels(panel).ndim == 3


# -- hosting a class: budgets, the runs folder, closed tabs, a full queue -------------------------------------------
def test_budgets_come_from_the_environment(monkeypatch):
    assert app.Budgets.from_env() == app.Budgets()
    monkeypatch.setenv("RESNET_MAX_IMAGE_EPOCHS", "5000")
    monkeypatch.setenv("RESNET_KEEP_GB", "0.5")
    monkeypatch.setenv("RESNET_TRAIN_NICE", "5")
    monkeypatch.setenv("RESNET_TRAIN_IDLE", "0")
    b = app.Budgets.from_env()
    assert b.image_epochs == 5000 and b.keep_bytes == 2**29 and b.runs == 1 and b.nice == 5 and not b.idle


def test_a_run_over_the_budget_is_refused_with_a_message(fresh_ctx):
    fresh_ctx.budgets = app.Budgets(image_epochs=10_000)
    (status, *_rest) = next(
        app.train_live(fresh_ctx, "digits", "resnet18", "residual", 6000, 2, 0.05, [], "en", False, None)
    )
    assert "at most 10,000 images × epochs" in status and "12,000" in status and not fresh_ctx.live
    (status, *_rest) = next(
        app.train_live(fresh_ctx, "digits", "resnet18", "residual", 6000, 2, 0.05, [], "zh", False, None)
    )
    assert "最多 10,000" in status


def test_closing_a_tab_stops_its_run_keeps_its_epochs_then_frees_its_files(tiny_data, fresh_ctx, monkeypatch):
    """Gradio closes the event's generator when the tab goes; the finished epoch stays, and only once the tab is
    gone may the runs folder's bound remove the run."""
    monkeypatch.setenv("RESNET_DATA_DIR", str(tiny_data))
    fresh_ctx.redraw_every_s = 1e9  # an update per epoch only
    request = SimpleNamespace(session_hash="tab-1")
    run = app.train_live(fresh_ctx, "digits", "resnet18", "residual", 1000, 3, 0.05, [], "en", False, request)
    next(run)  # random weights
    while "done" not in next(run).status:  # the first epoch ends
        pass
    assert "tab-1" in fresh_ctx.live
    run.close()  # the tab closed: Gradio closes the generator
    assert "tab-1" not in fresh_ctx.live
    (model,) = fresh_ctx.runs_dir.glob("*img-3ep.safetensors")
    assert len(fresh_ctx.runs_dir.glob("*.metrics.jsonl").__next__().read_text().splitlines()) == 1  # one epoch kept
    fresh_ctx.budgets = app.Budgets(keep_runs=0)
    assert fresh_ctx.prune_runs() == [] and model.exists()  # the tab may still be open: kept
    app.tab_closed(fresh_ctx, request)
    assert not model.exists() and not list(fresh_ctx.runs_dir.iterdir())


def explain_at_once(url: str, n: int) -> list:
    """``n`` sessions (``s0``, ``s1``, ...) each ask /explain of the shipped 7 at the same moment, as a crowd of
    clients: the queue's answers to their joins (httpx responses; the events run on without anyone reading them)."""
    config = httpx.get(url + "/config").json()
    explain = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "explain")
    seven = io.BytesIO()
    Image.fromarray(load_samples("digits").images[0]).save(seven, format="PNG")
    path = httpx.post(url + "/gradio_api/upload", files={"files": ("7.png", seven.getvalue(), "image/png")}).json()
    image = {"path": path[0], "meta": {"_type": "gradio.FileData"}}

    async def join(http: httpx.AsyncClient, k: int) -> httpx.Response:
        body = {"data": [image, "digits", []], "fn_index": explain, "session_hash": f"s{k}", "event_data": None}
        return await http.post(url + "/gradio_api/queue/join", json=body)

    async def crowd() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as http:
            return await asyncio.gather(*(join(http, k) for k in range(n)))

    return asyncio.run(crowd())


def test_a_full_queue_says_busy(shipped_ctx, monkeypatch):
    """Past $RESNET_QUEUE_MAX waiting events, a new one is refused at once with the busy message, never left hanging."""
    monkeypatch.setenv("RESNET_QUEUE_MAX", "1")
    _, url, _ = app.launch(shipped_ctx, prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        answers = explain_at_once(url.rstrip("/"), 12)
        refused = [r for r in answers if r.status_code == 503]
        assert refused and all("Busy" in r.json()["detail"] for r in refused)
        assert any(r.status_code == 200 for r in answers)
    finally:
        app.gr.close_all()


@pytest.mark.parametrize("every_s, told", [("auto", "each start"), ("60", "once")])
def test_waiting_events_are_told_their_place_on_a_timer_not_at_every_start(shipped_ctx, monkeypatch, every_s, told):
    """Gradio's "auto" tells every waiting event its place each time a job starts: (waiting) × (started) messages
    through the server's one interpreter under a class. On a timer ($RESNET_QUEUE_STATUS_S) a waiting event hears
    it when it joins and then once per period, however many jobs start meanwhile."""
    monkeypatch.setenv("RESNET_QUEUE_STATUS_S", every_s)
    server, url, _ = app.launch(shipped_ctx, prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        queue = server.get_blocks()._queue
        n = 6  # one view worker: the others wait; nobody reads the streams
        assert all(r.status_code == 200 for r in explain_at_once(url.rstrip("/"), n))
        deadline = time.monotonic() + 60
        while (len(queue) or any(queue.active_jobs)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not len(queue) and not any(queue.active_jobs)
        heard = {k: [m.msg for m in queue.pending_messages_per_session[f"s{k}"]._queue] for k in range(n)}
        assert all("process_completed" in msgs for msgs in heard.values())
        most = max(msgs.count("estimation") for msgs in heard.values())  # the one that waited longest
        assert most == 1 if told == "once" else most >= n - 2, heard
    finally:
        app.gr.close_all()


def test_old_files_leave_the_cache(shipped_ctx, monkeypatch):
    """Gradio keeps every upload, picture and download copy in its cache; $RESNET_CACHE_S bounds their age (a page
    that still names a cleared upload gets a clear message: tests/test_preprocess.py)."""
    monkeypatch.setenv("RESNET_CACHE_S", "1")
    server, url, _ = app.launch(shipped_ctx, prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        assert server.get_blocks().delete_cache == (1, 1)
        assert app.gr.utils.is_in_or_equal is app.realpaths.is_in_or_equal  # resnet/realpaths.py checks the files
        assert app.gr.processing_utils.is_in_or_equal is app.realpaths.is_in_or_equal
        seven = io.BytesIO()
        Image.fromarray(load_samples("digits").images[0]).save(seven, format="PNG")
        path = Path(httpx.post(url + "gradio_api/upload", files={"files": ("7.png", seven.getvalue())}).json()[0])
        assert path.exists()
        deadline = time.monotonic() + 15
        while path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not path.exists()
    finally:
        app.gr.close_all()


def test_the_training_curves_go_out_as_points_with_every_series_from_the_first():
    """The browser draws them (LinePlot), and draws only the series it got first: so nothing is sent before the first
    batch, every update holds every series under fixed keys, and the language is in the titles and the caption."""
    run = app.LiveRun(TrainConfig(dataset="digits", epochs=2, limit=256, batch_size=128), Path("x.safetensors"))
    run.curves = [CurvePoint(0, "test accuracy", 0.1)]
    assert app.curves_view(run, "zh") == (app.gr.skip(), app.gr.skip())  # random weights only: no loss yet
    run.curves += [CurvePoint(128, "train loss", 2.5), CurvePoint(128, "train accuracy", 0.25)]
    loss, accuracy = app.curves_view(run, "zh")
    assert loss["value"].values.tolist() == [[128, 2.5, "train"]] and loss["x_lim"] == [0, 512]
    assert accuracy["value"].values.tolist() == [
        [0, 10.0, "chance"],
        [0, 10.0, "test"],
        [128, 25.0, "train"],
        [512, 10.0, "chance"],
    ]
    assert set(accuracy["color_map"]) == set(accuracy["value"]["series"]) == set(app.curves_view(run)[1]["color_map"])
    assert (
        accuracy["title"] == "准确率（%）" and loss["x_title"] == "已训练图像数" and "随机猜测" in accuracy["caption"]
    )
    assert str(loss["value"].dtypes["value"]) == "float64"  # a number axis


def test_the_block_chart_is_drawn_once_per_model_and_language_then_only_its_bars(fresh_ctx, seven):
    """The residual view's chart keeps a background per model and language; its bars are this input's own."""
    app.pictures.block_chart.cache_clear()
    three = load_samples("digits").images[6]
    chart_seven = app.residual_views(fresh_ctx, seven, "digits", []).block_chart
    chart_three = app.residual_views(fresh_ctx, three, "digits", []).block_chart
    assert app.pictures.block_chart.cache_info().currsize == 1 and chart_seven != chart_three
    assert app.residual_views(fresh_ctx, seven, "digits", []).block_chart == chart_seven
    app.residual_views(fresh_ctx, seven, "digits", [], "zh")
    app.residual_views(fresh_ctx, seven, "clothing", [])
    assert app.pictures.block_chart.cache_info().currsize == 3
    rows = app.viz.block_rows(
        app.analyse(fresh_ctx, seven, "digits", []).snapshot, fresh_ctx.registry.sample_stats("digits")
    )
    chart = app.pictures.block_chart(app.viz.chart_spec(rows), "zh", False)
    assert app.pictures.block_chart.cache_info().currsize == 3  # the one drawn for the view above
    heights = [round(bar.get_height(), 6) for bar in chart.bars[0]]
    assert heights == [round(r.ratio, 6) if r.ratio == r.ratio else 0.0 for r in rows]  # this input's, per block


def test_outputs_left_as_they_are_go_out_as_gradios_own(shipped_ctx, seven):
    """``skip_at_once`` sends the outputs an answer skips without Gradio's per-output rebuild and has Gradio
    postprocess the others: the same payload as Gradio's own postprocessing of the whole answer, for an answer that
    skips everything, one that skips two of five (a feature view) and one that skips four."""
    from gradio.state_holder import SessionState

    demo = app.build_demo(shipped_ctx)
    (view,) = [fn for fn in demo.fns.values() if fn.api_name == "view"]
    shown = app.views(shipped_ctx, seven, "digits", [], "predicted", "b3", "features")
    skipped = app.InputViews(*[app.gr.skip()] * len(app.InputViews._fields))
    answers = [skipped, app.InputViews(*shown[:5]), skipped._replace(cams=shown.cams)]

    def sent(answer: tuple) -> list:
        return asyncio.run(demo.postprocess_data(view, list(answer), SessionState(demo)))

    gradios = [sent(answer) for answer in answers]
    app.skip_at_once(demo)
    ours = [sent(answer) for answer in answers]
    assert ours == gradios
    assert all(p["path"].endswith(".png") for p in ours[1][:3]) and ours[1][3:] == [app.SKIP] * 2


def test_a_lean_session_answers_as_gradios_own_and_keeps_no_config_copies(shipped_ctx, seven, monkeypatch):
    """``lean_sessions``: a session made afterwards sends the same view payload as Gradio's own session and keeps its
    ``gr.State`` values, but holds no copy of the page's component configs (Gradio's own: one for every component,
    with every value sent since); a page with a ``gr.DeepLinkButton``, which reads those copies, is refused."""
    from gradio.state_holder import SessionState

    # Gradio's own (a server launched before made it lean), and lean again after the test
    monkeypatch.setattr(SessionState, "__init__", app.gradios_own(SessionState.__init__))
    demo = app.build_demo(shipped_ctx)
    (view,) = [fn for fn in demo.fns.values() if fn.api_name == "view"]
    (source, *_) = [b for b in demo.blocks.values() if isinstance(b, app.gr.State)]
    shown = list(app.views(shipped_ctx, seven, "digits", [], "predicted", "b3", "features"))[: len(view.outputs)]

    def session() -> tuple[SessionState, list]:
        state = SessionState(demo)
        state[source._id] = "upload"
        return state, asyncio.run(demo.postprocess_data(view, shown, state))

    gradios, gradio_sent = session()
    app.lean_sessions(demo)
    app.lean_sessions(demo)  # once is enough: not wrapped twice
    lean, lean_sent = session()
    assert lean_sent == gradio_sent and lean[source._id] == gradios[source._id] == "upload"
    assert len(list(gradios.components)) >= len(demo.blocks) - 5 and not list(lean.components)
    assert any(c.get("props", {}).get("value") for c in gradios.components)  # Gradio's copy holds the values sent
    with app.gr.Blocks() as linked:
        app.gr.DeepLinkButton()
    with pytest.raises(ValueError, match="DeepLinkButton"):
        app.lean_sessions(linked)


def test_a_session_is_dropped_once_unused_for_long_if_its_tab_closed_or_it_is_a_scripts(shipped_ctx, monkeypatch):
    """``forget_idle_sessions``: Gradio's sweep of expired state drops a session unused for longer than asked whose
    tab closed or that holds no ``gr.State`` value and no component of its own (a script's); a closed one used since,
    and an open tab's unused as long (with states, or with only a component its page set), stay."""
    from gradio.state_holder import StateHolder

    monkeypatch.setattr(StateHolder, "delete_all_expired_state", app.gradios_own(StateHolder.delete_all_expired_state))
    demo = app.build_demo(shipped_ctx)
    (source, *_) = [b for b in demo.blocks.values() if isinstance(b, app.gr.State)]
    holder = StateHolder()
    holder.set_blocks(demo)
    (radio, *_) = [b for b in demo.blocks.values() if isinstance(b, app.gr.Radio)]
    tabs = ("closed-long-ago", "closed-just-now", "open-long-idle")
    for session in (*tabs, "relabelled-long-idle", "script-long-ago", "script-just-now"):
        holder[session]
    for session in tabs:
        holder[session][source._id] = "upload"  # the page's events read and set the session's gr.State values
    holder["relabelled-long-idle"][radio._id] = app.gr.Radio(render=False)  # a tab whose page set only a component
    holder["closed-long-ago"].is_closed = holder["closed-just-now"].is_closed = True
    long_ago = datetime.datetime.now() - datetime.timedelta(seconds=700)
    for session in ("closed-long-ago", "open-long-idle", "relabelled-long-idle", "script-long-ago"):
        holder.time_last_used[session] = long_ago
    app.forget_idle_sessions(600)
    app.forget_idle_sessions(600)  # once is enough: not wrapped twice
    holder.delete_all_expired_state()
    kept = {"closed-just-now", "open-long-idle", "relabelled-long-idle", "script-just-now"}
    assert set(holder.session_data) == set(holder.time_last_used) == kept


def test_a_closed_tabs_session_and_a_scripts_leave_the_server_and_an_open_tabs_stays(shipped_ctx, monkeypatch):
    """End to end, with $RESNET_IDLE_SESSION_S=1: a tab's session (its heartbeat open, a page event read its
    ``gr.State``) stays however long unused, and is gone once its heartbeat closed; a script's session (a REST call)
    is gone once unused. Gradio's ``/gradio_api/deep_link`` answers "" for a session it does not hold."""
    monkeypatch.setenv("RESNET_IDLE_SESSION_S", "1")
    _, url, _ = app.launch(shipped_ctx, prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)

    def call(api: str, data: list, session: str) -> str:
        event = httpx.post(url + f"gradio_api/call/{api}", json={"data": data, "session_hash": session})
        return httpx.get(url + f"gradio_api/call/{api}/{event.json()['event_id']}").text

    def held(session: str) -> bool:
        return httpx.get(url + "gradio_api/deep_link", params={"session_hash": session}).json() != ""

    def gone(session: str) -> bool:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(2.5)  # a look uses the session (Gradio's deep link reads it): look less often than it may stay
            if not held(session):
                return True
        return False

    try:
        # the tab's heartbeat on a socket of its own, closed as a closing tab closes it (httpx keeps it open)
        with socket.create_connection(("127.0.0.1", int(url.rstrip("/").rsplit(":", 1)[1]))) as beat:
            beat.sendall(b"GET /gradio_api/heartbeat/tab HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            beat.settimeout(30)
            answer = b""
            while b"data: ALIVE" not in answer:  # the headers, then the first beat
                answer += beat.recv(4096)
            states = [None, None, None, "digits", [], "en", "predicted", "b3", None, False, False]  # its states
            call("view", states, "tab")
            assert "event: complete" in call("floor", [None, "digits"], "script")
            assert held("tab") and gone("script")
            time.sleep(1.5)  # the tab unused longer than asked, but open
            assert held("tab")
        assert gone("tab")
    finally:
        app.gr.close_all()


def test_every_label_and_view_follows_the_latest_trigger(shipped_ctx):
    """Every event that computes a label or a view runs "always_last" in the browser: a trigger that comes while the
    same event is pending runs after it. Gradio's default for a click or a ``.then`` ("once") drops it, so a stroke
    drawn while the previous stroke's view was pending left that older drawing's view on the page."""
    demo = app.build_demo(shipped_ctx)
    fns = [fn for fn in demo.fns.values() if fn.concurrency_id in ("label", "view")]
    (stroke,) = [fn for fn in fns if fn.api_name == "stroke"]
    (view,) = [fn for fn in fns if fn.api_name == "view"]
    assert len(fns) > 20 and {fn.trigger_mode for fn in fns} == {"always_last"}
    assert view.trigger_after == stroke._id  # the stroke's view is a ``.then`` of its label


def test_model_and_language_switches_write_the_model_views_in_the_order_they_came(shipped_ctx):
    """Every event that writes the gallery (and with it the drawing hint and the lesion chart) runs in one queue, one
    at a time (Gradio serves a concurrency group's queue first come, first served): a language switch's answer
    computed for the model before can no longer land after a later model switch's."""
    demo = app.build_demo(shipped_ctx)
    (gallery,) = [c for c in demo.blocks.values() if getattr(c, "elem_id", None) == "gallery"]
    (hint,) = [c for c in demo.blocks.values() if getattr(c, "elem_id", None) == "hint"]
    writers = {fn.name: fn for fn in demo.fns.values() if {o._id for o in fn.outputs} & {gallery._id, hint._id}}
    del writers["relabel"], writers["first_labels"]  # these two set every component's label, in the page's language
    assert set(writers) == {"switch_model", "language_views", "switch_language"}
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in writers.values()} == {("switch", 1)}


def test_a_click_while_the_previous_one_is_pending_is_not_lost(shipped_ctx):
    """Under a class an event can stay pending for a second. Gradio's page drops a click on the same control while it
    is ("once", its default): a second gallery sample clicked then was shown chosen while the first stayed loaded, and
    a second "Next" of the tour did nothing. Its page replays a deferred ("always_last") event with the first one's
    data, which for the gallery would load the first sample again: the gallery runs every click ("multiple"), the
    tour's buttons move again from the step reached ("always_last": the step is read when the replay runs)."""
    demo = app.build_demo(shipped_ctx)
    modes = {fn.name: fn.trigger_mode for fn in demo.fns.values()}
    assert modes["pick_sample"] == "multiple"
    tour = [fn for fn in demo.fns.values() if fn.name == "tour_go"]
    assert len(tour) == 2 and {fn.trigger_mode for fn in tour} == {"always_last"}


@pytest.mark.parametrize(("cache_s", "keep_ms"), [(3600, 600_000), (120, 30_000), (0, 600_000)])
def test_the_page_keeps_an_upload_well_inside_the_file_cache(cache_s, keep_ms):
    """The page answers a repeated upload with the server's path for a quarter of the cache's lifetime at most (ten
    minutes at most): never with a path the cache cleaner may already have removed."""
    script = app.kept_uploads_js(cache_s)
    assert f"keepMs = {keep_ms}," in script and script.startswith("<script>")


def test_every_note_is_sent_as_a_key_of_its_own(shipped_ctx):
    """The page's texts the server sends reach the browser as I18n keys of their own (``hold_across_locales``), so
    that a change of the page's locale leaves them, unless a "}" would end the key early; the page's first texts in
    its config stay the keys ``first_paint`` made."""
    demo = app.build_demo(shipped_ctx)
    notes = [b for b in demo.blocks.values() if isinstance(b, app.gr.Markdown)]
    (hint,) = [b for b in notes if b.elem_id == "hint"]
    sent = hint.postprocess('👕 **Draw** a "coat"\n\non it')
    assert (
        sent.startswith("__i18n__")
        and json.loads(sent.removeprefix("__i18n__"))["key"] == '👕 **Draw** a "coat"\n\non it'
    )
    assert {b.postprocess("f(x) = {F(x)}") for b in notes} == {"f(x) = {F(x)}"}  # every note; a "}" as it is
    assert hint.postprocess(None) is None and hint.postprocess("") == ""
    config = {c["props"].get("elem_id"): c["props"] for c in demo.get_config_file()["components"]}
    assert json.loads(config["hint"]["value"].removeprefix("__i18n__"))["key"].startswith("t")  # first_paint's key
