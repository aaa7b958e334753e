"""The page's short strings in Chinese: labels, buttons, choices, status lines, captions, chart titles and axes.

English is the key: ``tr("Model", "zh") == "模型"``. Whole strings are looked up first; a string made of known
phrases and numbers (a chart legend such as "digits, residual (99.7% intact)") is translated phrase by phrase,
longest phrase first. The long explanations live in ``resnet.lecture``. ``translate_figure`` applies ``tr`` to every
text of a matplotlib figure, so the chart code stays in one language. ``tests/test_strings.py`` checks that every
label on the page and every text of every chart has a translation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from matplotlib import font_manager, rcParams
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FuncFormatter

CLASSES_ZH = {
    "T-shirt/top": "T恤/上衣",
    "Trouser": "裤子",
    "Pullover": "套头衫",
    "Dress": "连衣裙",
    "Coat": "外套",
    "Sandal": "凉鞋",
    "Shirt": "衬衫",
    "Sneaker": "运动鞋",
    "Bag": "包",
    "Ankle boot": "短靴",
}

# Whole strings (labels, buttons, choices, notes of one line).
ZH: dict[str, str] = {
    **CLASSES_ZH,
    "Model": "模型",
    "Language / 语言": "Language / 语言",
    "Projector view": "投影模式",
    "Copy link to this view": "复制此视图的链接",
    ". ": "。",  # between a run's saved file and the next sentence
    "Link to this view": "此视图的链接",
    "Guided tour": "导览",
    "◀ Back": "◀ 上一步",
    "Next ▶": "下一步 ▶",
    "Draw": "画",
    "Upload": "上传",
    "Canvas": "画布",
    "Image (any size; dark-on-light or light-on-dark)": "图片（任意大小；白底黑字或黑底白字均可）",
    "Test-set samples (click one to load it)": "测试集样本（点击载入）",
    "Prediction (top 3)": "预测（前 3 名）",
    "What it sees (28×28)": "模型看到的图（28×28）",
    "Lesions: remove the residual branch F(x) of these blocks": "损毁：去掉这些块的残差分支 F(x)",
    "b3.0, b4.0 and b5.0 downsample (1×1 projection shortcut).": "b3.0、b4.0 和 b5.0 做下采样（捷径为 1×1 投影）。",
    "What each single lesion costs on the 1,000 samples": "单独损毁每个块在 1000 个样本上的代价",
    "Feature maps": "特征图",
    "Stage outputs": "各模块输出",
    "Grad-CAM class": "Grad-CAM 类别",
    "predicted": "预测的类别",
    "Show all channels of stage": "显示该模块的全部通道",
    "Grad-CAM per stage": "各模块的 Grad-CAM",
    "All channels": "全部通道",
    "Residual vs identity": "残差与恒等",
    "Blocks b2.0 … b5.1": "残差块 b2.0 … b5.1",
    "Block statistics": "残差块统计",
    "Plain vs residual": "普通与残差",
    "Architecture & formulas": "结构与公式",
    "Train it yourself": "自己训练",
    "Network": "网络",
    "ResNet-18, the lecture's (64 px)": "ResNet-18，讲义的网络（64 像素）",
    "ResNet-20, He et al.'s CIFAR family (28 px)": "ResNet-20，He 等人的 CIFAR 网络族（28 像素）",
    "ResNet-32 (28 px)": "ResNet-32（28 像素）",
    "ResNet-56 (28 px)": "ResNet-56（28 像素）",
    "ResNet-110 (28 px)": "ResNet-110（28 像素）",
    "Shortcuts": "捷径",
    "residual (with shortcuts)": "残差（有捷径）",
    "plain twin (no shortcuts)": "普通孪生（无捷径）",
    "Dataset": "数据集",
    "Training images": "训练图像数",
    "Epochs": "轮数",
    "Learning rate (peak; the lecture's 0.05)": "学习率（峰值；讲义为 0.05）",
    "Train": "训练",
    "Stop": "停止",
    "Download your model (.safetensors)": "下载你的模型（.safetensors）",
    "See your model in every view": "在所有视图中查看你的模型",
    "Training curves": "训练曲线",
    "Your run over the shipped curves (training error per epoch)": "你的训练与我们的曲线（每轮训练误差）",
    "Press **Train** to start.": "按 **训练** 开始。",
    "Digits (MNIST)": "数字（MNIST）",
    "Digits, plain twin (no shortcuts)": "数字，普通孪生网络（无捷径）",
    "Clothing (Fashion-MNIST)": "衣物（Fashion-MNIST）",
    "Clothing, plain twin (no shortcuts)": "衣物，普通孪生网络（无捷径）",
    "layer": "层",
    "what": "类型",
    "output shape": "输出形状",
    "parameters": "参数量",
    # the layer table's "what" column (resnet.architecture); the kinds with numbers are in KINDS below
    "batch norm": "批量归一化",
    "global average pool": "全局平均池化",
    "Flatten": "展平",
    "stem: conv + BN + ReLU + max pool": "第一模块：卷积 + BN + ReLU + 最大池化",
}
# Whole strings of a fixed form with numbers in them (the layer table's kinds), by regular expression.
KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern), zh)
    for pattern, zh in (
        (r"conv (\d+×\d+), (\d+) ch", r"卷积 \1，\2 通道"),
        (r"conv (\d+×\d+), (\d+) ch, stride (\d+)", r"卷积 \1，\2 通道，步幅 \3"),
        (r"conv (\d+×\d+), (\d+) ch, stride (\d+) \(shortcut\)", r"卷积 \1，\2 通道，步幅 \3（捷径）"),
        (r"max pool (\d+×\d+), stride (\d+)", r"最大池化 \1，步幅 \2"),
        (r"fully connected (\d+) → (\d+)", r"全连接 \1 → \2"),
    )
]

# Phrases inside longer strings (status lines, captions, chart texts); numbers and names around them stay.
PHRASES: dict[str, str] = {
    # status lines
    "✏️ The canvas is empty: draw a digit, upload an image, or click a sample.": "✏️ 画布是空的：写一个数字、上传图片或点击样本。",
    "👕 The canvas is empty: draw a piece of clothing, upload a photo, or click a sample.": "👕 画布是空的：画一件衣物、上传照片或点击样本。",
    "(Dark-on-light input: inverted to light-on-dark, as in the training set.)": "（白底黑字的输入已反色为黑底白字，与训练集一致。）",
    "Yours: ": "你的：",
    ", plain twin (trained here, ": "，普通孪生网络（在此训练，",
    " (trained here, ": "（在此训练，",  # a model trained in the app: "digits (trained here, 2 epochs)"
    " epochs)": " 轮）",
    " epoch)": " 轮）",
    "Model input": "模型输入",
    "ℹ️ This link holds your input as the model sees it (28×28, in the link itself, for slides too): opened, it gives "
    "the same reading. Your drawing or photo itself stays here.": "ℹ️ 这个链接保存了模型眼中的你的输入（28×28，就在链接里，"
    "也可以放进幻灯片）：打开后得到完全相同的预测。你画的图或照片本身不会离开这里。",
    "ℹ️ This link holds the model, lesions and view, but not your input: it could not be read.": "ℹ️ 这个链接保存了模型、"
    "损毁和视图，但没有你的输入：它无法被读取。",
    # training (resnet.live statuses and the app's lines around them)
    "⚠️ A run is already training in this tab: stop it first.": "⚠️ 这个标签页已有一个训练在运行：请先停止它。",
    "⚠️ Enter a learning rate (the lecture's is 0.05).": "⚠️ 请输入学习率（讲义用 0.05）。",
    "Nothing is training in this tab.": "这个标签页没有正在运行的训练。",
    "⏹️ Stopping after the current batch; finished epochs stay saved.": "⏹️ 当前批量结束后停止；已完成的轮次会保留。",
    " Saved as ": " 已保存为 ",
    ": your curve is drawn over the shipped depth experiment below.": "：你的曲线画在下面我们的深度实验曲线上。",
    "Measuring each block's lesion on the 1,000 samples…": "正在 1000 个样本上测量每个块的损毁效果…",
    "Pick “Yours” in the model switch (or press the button) to see it in every view.": "在模型选择中选“你的”（或按按钮），"
    "即可在所有视图中查看它。",
    "It could not be loaded for the views": "无法载入到视图中",
    "random weights: test accuracy ": "随机权重：测试准确率 ",
    " (chance is 10%); training starts…": "（随机猜测为 10%）；开始训练…",
    " done: test accuracy ": " 完成：测试准确率 ",
    "% on ": "%，共 ",
    "test images · saved": "张测试图像 · 已保存",
    ", step ": "，步 ",
    ": loss ": "：损失 ",
    ", accuracy ": "，准确率 ",
    " images/s · about ": " 张图像/秒 · 约剩 ",
    " s left": " 秒",
    "Training stopped with an error: ": "训练因错误停止：",
    " Epochs 1–": " 第 1–",
    " are saved.": " 轮已保存。",
    "Finished after ": "完成，共 ",
    "%.": "%。",  # the end of a run's last line ("... test accuracy 97.1%.")
    "Stopped after ": "已停止，共 ",
    "Finished before the first epoch ended: nothing to keep.": "第一轮结束前已完成：没有可保存的内容。",
    "Stopped before the first epoch ended: nothing to keep.": "第一轮结束前已停止：没有可保存的内容。",
    " epochs in ": " 轮，用时 ",
    " epoch in ": " 轮，用时 ",
    " s: test accuracy ": " 秒：测试准确率 ",
    "Not used from the link": "链接中未使用的部分",
    # the depth experiment's sentence (resnet.depth.sentence)
    # the bold ends before the full-width colon: CommonMark does not close "**" between a punctuation mark and a letter
    "**What you see:** from ": "**你看到的**：从 ",
    " layers, the plain network's training error goes from ": " 层，普通网络的训练误差从 ",
    " and the residual network's from ": "，残差网络的从 ",
    "% to ": "% 变为 ",
    " to ": " 到 ",
    "without shortcuts, more layers make the network harder to train; with them, they do not.": "没有捷径时，层数越多越难训练；有捷径时则不会。",
    "more layers make both harder to train in this short schedule, the plain network much more so; the deeper "
    "residual network has not caught up with the shallower one yet (He et al. trained far longer).": "在这么短的训练中，层数"
    "越多两者都越难训练，普通网络尤甚；更深的残差网络还没赶上较浅的（He 等人训练得久得多）。",
    "at this budget the plain network does not degrade with depth (He et al.'s first claim does not show).": "在这个训练"
    "预算下，普通网络没有随深度退化（He 等人的第一个结论没有重现）。",
    "%: ": "%：",
    # captions
    "(top ": "(前 ",
    "(all)": "(全部)",
    ": all ": "：全部 ",
    "channels, strongest first": "个通道，由强到弱",
    # charts
    "(downsamples)": "(下采样)",
    "training loss (running mean over the epoch)": "训练损失（本轮的滑动平均）",
    "plain twin": "普通孪生网络",
    "how much the block changes x": "块对 x 改动多大",
    "does F(x) point along x?": "F(x) 与 x 同向吗？",
    "The depth experiment (He et al. 2016, Fig. 6) on Fashion-MNIST: plain dashed, residual solid": "深度实验（He 等，2016，"
    "图 6），Fashion-MNIST：虚线为普通网络，实线为残差网络",
    "The shipped ResNet-18 and its plain twin on MNIST: plain dashed, residual solid": "随附的 ResNet-18 及其普通孪生"
    "网络，MNIST：虚线为普通网络，实线为残差网络",
    "The shipped ResNet-18 and its plain twin on Fashion-MNIST: plain dashed, residual solid": "随附的 ResNet-18 及其"
    "普通孪生网络，Fashion-MNIST：虚线为普通网络，实线为残差网络",
    "Layer responses (He et al. Fig. 7): the size of what each block learns": "层响应（He 等，图 7）：每个块所学 F(x) 的大小",
    "‖∂loss/∂ output‖ of each block, per image": "每个块输出的梯度 ‖∂损失/∂输出‖，按每张图",
    "sample-set accuracy with one block's F(x) removed": "去掉一个块的 F(x) 后的样本准确率",
    "accuracy (%)": "准确率（%）",
    "no lesion: ": "无损毁：",
    "chance: ": "随机猜测：",
    "blocks removed (of 8; shaded: range over all subsets)": "去掉的块数（共 8 个；阴影：所有组合的范围）",
    "sample-set accuracy (%)": "样本准确率（%）",
    "the 256 paths of 8 blocks (Veit et al. 2016)": "8 个块的 256 条路径（Veit 等，2016）",
    "mean over all subsets": "所有组合的平均",
    "identity blocks only": "只去掉恒等块",
    "your lesions: ": "你的损毁：",
    "training images seen": "已训练图像数",
    "loss": "损失",
    "accuracy": "准确率",
    "train accuracy": "训练准确率",
    "test accuracy": "测试准确率",
    "train loss": "训练损失",
    "training loss": "训练损失",
    "after every batch, a running mean over the epoch": "每个批次之后：本轮的滑动平均",
    "🔵 training batches (running mean over the epoch) · 🟠 2,000 test images, after every epoch · ⚪ chance: 10%": (
        "🔵 训练批次（本轮的滑动平均）· 🟠 2,000 张测试图像，每轮之后 · ⚪ 随机猜测：10%"
    ),
    "this input": "当前输入",
    "sample-set mean": "样本平均",
    "intact": "完好",
    "residual": "残差",
    "plain": "普通",
    "digits": "数字",
    "clothing": "衣物",
    "yours": "你的",
    "images": "张图像",
    "epoch ": "第 ",
    "epoch": "轮次",
    "training error (%)": "训练误差（%）",
    "test error (%)": "测试误差（%）",
    "training error": "训练误差",
    "test error": "测试误差",
    "at initialisation": "初始化时",
    "trained": "训练后",
    "std of F(x)": "F(x) 的标准差",
    "block": "块",
    "gradient norm": "梯度范数",
    "layers": "层",
    "shortcut": "捷径",
    "identity": "恒等",
    "1×1 projection": "1×1 投影",
    "none (plain)": "无（普通）",
    "lesioned": "已损毁",
    # texts drawn into the views' pictures (resnet.viz)
    "activation": "激活值",
    "no shortcut": "无捷径",
    "nothing added": "无相加",
    "LESIONED": "已损毁",
    "F(x) removed": "F(x) 已去掉",
    "channel mean": "通道均值",
    "scale per block": "每块各自的刻度",
    "scale": "刻度",
    "shortcut x": "捷径 x",
    "residual F(x)": "残差 F(x)",
    "ReLU output": "ReLU 输出",
}
# Whole sentences with fields, filled in after translation (``tr_format``).
TEMPLATES: dict[str, str] = {
    "Prediction from the {model} model.": "{model}模型的预测。",
    "Prediction from the {model} model without F(x) in {blocks}.": "{model}模型的预测（{blocks} 的 F(x) 已去掉）。",
    "⚠️ This server trains at most {most} images × epochs in one run; {images} images × {epochs} epochs is {asked}. "
    "Take fewer images or epochs.": "⚠️ 这个服务器每次训练最多 {most} 图像×轮；{images} 张图像 × {epochs} 轮是 {asked}。请减少图像数或轮数。",
}
# What a link could not use (``resnet.scenes.Problem``): its value is shown apart, as it was written.
TEMPLATES |= {
    "not on this server; the shipped {dataset} model is shown": "不在这个服务器上，改为显示随附的 {dataset} 模型",
    "not one of {allowed}": "不是 {allowed} 之一",
    "the dataset is not one of {allowed}": "数据集不是 {allowed} 之一",
    "write dataset:index with an index from 0 to {last}": "应写作“数据集:序号”，序号从 0 到 {last}",
    "not among the blocks {blocks}": "不在这些块之中：{blocks}",
    "the link names a sample too, which is shown": "链接也指定了样本，显示的是样本",
    "longer than 2048 characters": "超过 2048 个字符",  # resnet.seen's reasons (tests/test_scenes.py checks them all)
    "not base64url": "不是 base64url 编码",
    "not a 28x28 PNG": "不是 28×28 的 PNG 图像",
    "not available here": "这里没有这个模型",
    "not a class of the {model} model": "不是 {model} 模型的类别",
    "not a {dataset} sample; the first {dataset} sample is shown": "不是 {dataset} 样本，改为显示第一个 {dataset} 样本",
}
_PHRASE = re.compile("|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)))


def tr(text: str, lang: str) -> str:
    """``text`` in ``lang``: English is returned as it is; Chinese by whole string (or its form, ``KINDS``), else
    phrase by phrase."""
    if lang != "zh" or not text:
        return text
    if text in ZH:
        return ZH[text]
    for pattern, zh in KINDS:
        if pattern.fullmatch(text):
            return pattern.sub(zh, text)
    return _PHRASE.sub(lambda m: PHRASES[m.group(0)], text)


def tr_format(template: str, lang: str, *args: object) -> str:
    """``template`` (English, with ``{name}`` fields) translated as a whole, then filled in by position."""
    translated = TEMPLATES.get(template, template) if lang == "zh" else template
    names = re.findall(r"{(\w+)}", template)
    return translated.format(**dict(zip(names, args, strict=True)))


def untranslated(text: str) -> list[str]:
    """The English words left in ``tr(text, "zh")`` (for the tests): letters outside names, units and formulas."""
    return english_left(tr(text, "zh"))


def english_left(text: str) -> list[str]:
    """The English words in ``text`` (already meant to be Chinese), names, units and formulas aside."""
    rest = re.sub(r"\$[^$]*\$", "", text)  # math text: tick numbers such as $10^{-2}$
    rest = re.sub(
        r"\b(b[1-5](\.[01])?|F\(x\)|x|ReLU|BN|Grad-CAM|MNIST|Fashion-MNIST|ResNet-\d+|CIFAR|px|He|Veit|et al|"
        r"ch|safetensors|[A-Z]|std|cos|lr|SGD|GPU|CPU|[a-z]\d*)\b",
        "",
        rest,
    )
    return re.findall(r"[A-Za-z]{2,}", rest)


def translate_figure(fig: Figure, lang: str) -> Figure:
    """Every text of ``fig`` (titles, axis labels, legends, notes) in ``lang``; the same figure, changed in place."""
    if lang != "en":
        for artist in fig.findobj(Text):
            artist.set_text(tr(artist.get_text(), lang))
        for ax in fig.axes:  # tick labels are redrawn from their formatter: translate its fixed strings too
            for axis in (ax.xaxis, ax.yaxis):
                formatter = axis.get_major_formatter()
                if isinstance(formatter, FixedFormatter):
                    formatter.seq = [tr(str(label), lang) for label in formatter.seq]
                elif isinstance(formatter, FuncFormatter):  # what set_xticks(ticks, labels) installs
                    formatter.func = functools.partial(_translated, formatter.func, lang)
    return fig


def _translated(label: Callable[[float, int | None], str], lang: str, x: float, pos: int | None = None) -> str:
    return tr(label(x, pos), lang)


def use_cjk_font() -> bool:
    """Let matplotlib fall back to a CJK font for Chinese glyphs, if one is installed (Debian: fonts-noto-cjk)."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [
        n for n in ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Droid Sans Fallback") if n in names
    ]
    if cjk:  # matplotlib falls back glyph by glyph along font.family (not within the generic "sans-serif")
        rcParams["font.family"] = ["DejaVu Sans", cjk[0]]
    return bool(cjk)


use_cjk_font()
