"""Every visible string in Chinese: labels, buttons and choices on the page, status lines, captions, chart texts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from matplotlib.text import Text

import app
from resnet import depth, pictures, strings, viz
from resnet.data import DATASETS
from resnet.lecture import TEXTS
from resnet.live import CurvePoint
from resnet.samples import load_samples
from resnet.strings import english_left, tr, tr_format, translate_figure, untranslated
from resnet.tour import TOUR
from resnet.train import TrainConfig

BILINGUAL = {"Language / 语言", "English", "中文"}  # the language switch names each language in itself


def test_the_checker_finds_english_left_over():
    assert untranslated("accuracy of b3.1 on MNIST") == ["of", "on"]  # names (b3.1, MNIST) are not words to translate
    assert untranslated("准确率") == []


def test_every_label_button_and_choice_on_the_page(shipped_ctx):
    texts = []
    for _component, props in app.translatable(app.build_demo(shipped_ctx)):
        for value in props.values():
            for item in value if isinstance(value, list) else [value]:
                texts.append(str(item[0] if isinstance(item, tuple) else item))
    assert len(texts) > 50
    left = {t: untranslated(t) for t in texts if t not in BILINGUAL and (untranslated(t) or tr(t, "zh") == t)}
    assert left == {}


def test_relabel_updates_every_component_it_is_given(shipped_ctx):
    labelled = app.translatable(app.build_demo(shipped_ctx))
    updates = app.relabel(labelled, "zh")
    assert len(updates) == len(labelled)
    by_label = {props.get("label"): u for (_, props), u in zip(labelled, updates, strict=True)}
    assert by_label["Prediction (top 3)"]["label"] == "预测（前 3 名）"
    assert by_label["Feature maps"]["label"] == "特征图"  # a tab
    assert app.relabel(labelled, "en")[0] == {"__type__": "update", **labelled[0][1]}


def charts(ctx) -> dict:
    seven = load_samples("digits").images[0]
    found = {
        "lesions": app.lesion_view(ctx, "digits", "zh"),
        "lesions, clothing": app.lesion_view(ctx, "clothing", "zh"),
        "lesions, a phone's": app.lesion_view(ctx, "digits", "zh", True),
        "paths": app.path_view(ctx, "digits", ["b3.1"], "zh"),
    }
    rows = viz.block_rows(ctx.analyser.analyse(seven, "digits", ["b4.0"]).snapshot, ctx.registry.sample_stats("digits"))
    found["blocks"] = pictures.block_chart(viz.chart_spec(rows), "zh", False).figure
    found.update({k: v for k, v in app.static_charts(depth.load_runs(), "zh")._asdict().items() if k != "verdict"})
    projector = app.static_charts(depth.load_runs(), "zh", projector=True)
    found.update({"depth, projector": projector.depth, "gradients, projector": projector.gradients})
    for dataset in ("digits", "clothing"):  # a ResNet-18 run's curves drawn over the shipped weights' (training tab)
        runs, title = (
            depth.reference_runs("resnet18", dataset),
            depth.reference_title("resnet18", DATASETS[dataset].title),
        )
        found[f"comparison, {dataset}"] = translate_figure(
            app.plain_vs_residual.depth_figure(runs, [], False, title), "zh"
        )
    return found


def test_every_chart_text(shipped_ctx):
    for name, figure in charts(shipped_ctx).items():
        figure.savefig(io.BytesIO(), format="png")  # as the page draws it: tick labels come from their formatters
        ticks = [t for ax in figure.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
        texts = [t.get_text() for t in [*figure.findobj(Text), *ticks] if t.get_text()]
        assert texts, name
        assert {t: english_left(t) for t in texts if english_left(t)} == {}, name


def test_a_figure_in_english_is_left_as_it_is(shipped_ctx):
    figure = app.lesion_view(shipped_ctx, "digits")
    before = [t.get_text() for t in figure.findobj(Text)]
    assert [t.get_text() for t in translate_figure(figure, "en").findobj(Text)] == before


def test_the_live_training_curves():
    run = app.LiveRun(TrainConfig(dataset="digits", epochs=1, limit=128), Path("x.safetensors"))
    run.curves = [CurvePoint(0, "test accuracy", 0.1), CurvePoint(128, "train loss", 2.0)]
    run.curves.append(CurvePoint(128, "train accuracy", 0.3))
    texts = [chart[key] for chart in app.curves_view(run, "zh") for key in ("title", "caption", "x_title", "y_title")]
    assert {text: english_left(text) for text in texts if english_left(text)} == {}


@pytest.mark.parametrize(
    "line",
    [
        "epoch 2/3, step 5/10: loss 0.123, accuracy 55.0% · 300 images/s · about 12 s left",
        "epoch 1/2 done: test accuracy 91.0% on 2,000 test images · saved",
        "Finished after 2 epochs in 95 s: test accuracy 97.1%.",
        "Stopped before the first epoch ended: nothing to keep.",
        "random weights: test accuracy 9.8% (chance is 10%); training starts…",
        "⏹️ Stopping after the current batch; finished epochs stay saved.",
        "Yours: digits (trained here, 2 epochs)",  # the model switch's name of a model trained in the app
        "Yours: clothing, plain twin (trained here, 1 epoch)",
    ],
)
def test_training_status_lines(line):
    assert untranslated(line) == [] or untranslated(line) == untranslated(tr(line, "zh"))
    assert untranslated(tr(line, "zh")) == [] and tr(line, "zh") != line


def test_status_and_captions(shipped_ctx):
    seven = load_samples("digits").images[0]
    p = app.classify(shipped_ctx, seven, "digits", ["b3.1"], "upload", "zh")
    assert p.status == "数字模型的预测（b3.1 的 F(x) 已去掉）。" and "7" in p.label
    trouser = app.classify(shipped_ctx, load_samples("clothing").images[2], "clothing", [], "upload", "zh")
    assert "裤子" in trouser.label
    assert english_left(app.classify(shipped_ctx, None, "clothing", [], "sketch", "zh").status) == []
    assert tr_format("Prediction from the {model} model.", "en", "digits") == "Prediction from the digits model."


def test_texts_drawn_into_the_pictures(shipped_ctx, drawn):
    """The block panel and the feature grids carry texts inside their pixels: every one is translated, and drawn
    with a font that has the glyphs (Noto Sans CJK where installed)."""
    seven = load_samples("digits").images[0]
    app.residual_views(shipped_ctx, seven, "digits", ["b4.0"], "zh")
    app.residual_views(shipped_ctx, seven, "digits-plain", [], "zh")
    app.feature_views(shipped_ctx, seven, "digits", [], "predicted", "b5", "zh")
    texts = {text for text, _ in drawn}
    assert {"捷径 x", "残差 F(x)", "ReLU 输出", "无捷径", "激活值", "捷径: 恒等", "捷径: 1×1 投影"} <= texts
    assert sum(" · " in t for t in texts) == 11  # the stages' captions over their grids and Grad-CAMs, b5's channels
    assert {"各模块输出", "各模块的 Grad-CAM"} <= texts  # and the two pictures' titles
    assert {t: english_left(t) for t in texts if english_left(t)} == {}
    drawn.clear()  # a garment's class, named in Grad-CAM's captions ("b1 · “Sneaker”" on the Chinese page until now)
    app.feature_views(shipped_ctx, load_samples("clothing").images[2], "clothing", [], "Sneaker", "b1", "zh")
    captions = {text for text, _ in drawn if "“" in text}
    assert captions == {f"{stage} · “运动鞋”" for stage in ("b1", "b2", "b3", "b4", "b5")}, captions
    if pictures._cjk_font_file():
        assert all("CJK" in f.getname()[0] for _, f in drawn)


@pytest.mark.parametrize("model_key", ["digits", "clothing-plain"])
def test_the_layer_table(shipped_ctx, model_key):
    """Its "what" column in Chinese, numbers kept; module paths, shapes and counts as in English."""
    english = app.architecture_view(shipped_ctx, model_key)["data"]
    chinese = app.architecture_view(shipped_ctx, model_key, "zh")["data"]
    assert [row[:1] + row[2:] for row in chinese] == [row[:1] + row[2:] for row in english]
    assert {row[1]: english_left(row[1]) for row in chinese if english_left(row[1])} == {}
    kinds = dict(zip((row[1] for row in english), (row[1] for row in chinese), strict=True))
    assert kinds["conv 3×3, 64 ch"] == "卷积 3×3，64 通道" and kinds["fully connected 512 → 10"] == "全连接 512 → 10"
    if model_key == "digits":  # the plain twin has no projection shortcut
        assert kinds["conv 1×1, 128 ch, stride 2 (shortcut)"] == "卷积 1×1，128 通道，步幅 2（捷径）"


def test_the_training_prompt_follows_the_language():
    assert app.train_prompt("zh", app.TRAIN_PROMPT) == "按 **训练** 开始。"
    assert app.train_prompt("en", "按 **训练** 开始。") == app.TRAIN_PROMPT
    assert app.train_prompt("en", "✅ Finished after 2 epochs in 95 s: test accuracy 97.1%.") == app.gr.skip()


def test_the_tour_s_texts():
    """Each scene's title and text in Chinese, naming what the Chinese page shows (its block panel says 1×1 投影, its
    button 训练); ResNet is a name."""
    for step in TOUR:
        assert english_left(step.title["zh"]) == []
        assert [word for word in english_left(step.text["zh"]) if word != "ResNet"] == [], step.title["en"]


def test_every_chinese_note_renders_its_bold_and_italics(shipped_ctx):
    """CommonMark (the page's Markdown) leaves "**" as it is where it sits between a punctuation mark and a letter,
    as a full-width colon and the next character often do: "**你看到的：**从" showed its asterisks on the page."""
    notes = [*TEXTS["zh"].values(), *(step.text["zh"] for step in TOUR), tr(app.TRAIN_PROMPT, "zh")]
    notes += [app.static_charts(depth.load_runs(), "zh").verdict, app.note_translations()[app.TOUR_START["en"]]]
    notes += [tr(prompt, "zh") for prompt in app.EMPTY_PROMPT.values()]
    notes += [v for table in (strings.ZH, strings.PHRASES, strings.TEMPLATES) for v in table.values() if "*" in v]
    markdown = MarkdownIt("commonmark")
    for note in notes:
        html = markdown.render(note)
        assert "**" not in html and "*" not in html.replace("<em>", "").replace("</em>", ""), note
