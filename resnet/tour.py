"""The guided tour: seven scenes in the order of the lecture "Part 7 ResNet", each with a short text in two languages.

Each step is a ``Scene`` (what the page shows) and its text; its deep link is ``?tour=N`` (1-based), for slides.
"""

from __future__ import annotations

from dataclasses import dataclass

from resnet.scenes import Scene

SEVEN = ("digits", 0)  # the first shipped digit sample: a 7
BOOT = ("clothing", 0)  # the first shipped clothing sample: an ankle boot


@dataclass(frozen=True)
class Step:
    scene: Scene
    title: dict[str, str]  # by language
    text: dict[str, str]
    # the elem_id of what the text speaks of first, which a phone and the projector view bring in under the open tour:
    # the view tabs; the block panel for the scenes that speak of its blocks (on a projector a stage a row, whole
    # under the tour; the block statistics under it); the label for the lesions' scene (its label and lesions lie
    # above the views)
    anchor: str = "view-tabs"


TOUR: tuple[Step, ...] = (
    Step(
        Scene(sample=SEVEN, tab="features", stage="b1"),
        {"en": "What the stem b1 sees", "zh": "第一模块 b1 看到了什么"},
        {
            "en": "The stem `b1` is a 7×7 convolution with stride 2, batch norm, ReLU and a 3×3 max-pool: 64 channels at "
            "16×16. Below, **all channels of b1**: most are edge and stroke detectors, each firing at one orientation "
            "or contrast. Nothing here knows about digits yet.",
            "zh": "第一模块 `b1` 是步幅为 2 的 7×7 卷积、批量规范化、ReLU 和 3×3 最大池化：64 个 16×16 的通道。"
            "下面是 **b1 的全部通道**：大多是边缘和笔画检测器，各自对一种方向或明暗变化响应。这里还没有任何关于数字的知识。",
        },
    ),
    Step(
        Scene(sample=SEVEN, tab="residual"),
        {"en": "One residual block: x, F(x), their sum", "zh": "一个残差块：x、F(x) 与二者之和"},
        {
            "en": "Each block shows, left to right, the **shortcut x**, the **residual F(x)**, their **sum**, the ReLU. "
            "For this 7 F(x) is not small (‖F(x)‖/‖x‖ 0.9 to 2.1, cos −0.4 to 0.2, in each block's numbers): each "
            "block adds something new, and x reaches the sum unchanged: f(x) = F(x) + x.",
            "zh": "每个残差块从左到右：**捷径 x**、块学到的**残差 F(x)**、二者之**和**以及 ReLU。"
            "这里的 F(x) 并不小：对这个 7，‖F(x)‖/‖x‖ 在 0.9 到 2.1 之间（见每个块的数字），而且 F(x) 几乎与 x 垂直"
            "（cos 在 −0.4 到 0.2 之间）。每个块都加上新的东西，而 x 本身原样到达求和处：f(x) = F(x) + x。",
        },
        anchor="block-panel",
    ),
    Step(
        Scene(model="clothing", sample=BOOT, tab="residual"),
        {"en": "Downsampling and the 1×1 shortcut", "zh": "下采样与 1×1 捷径"},
        {
            "en": "`b3.0`, `b4.0` and `b5.0` halve height and width and double the channels, so x no longer fits "
            "F(x). Their shortcut is a **1×1 convolution with stride 2** (the blocks marked *1×1 projection*): "
            "f(x) = F(x) + W·x. Every other block adds x itself.",
            "zh": "`b3.0`、`b4.0` 和 `b5.0` 把高宽减半、通道加倍，x 的形状就和 F(x) 对不上了。它们的捷径是"
            "**步幅为 2 的 1×1 卷积**（标为 *1×1 投影* 的块）：f(x) = F(x) + W·x。其余的块直接加上 x。",
        },
        anchor="block-panel",
    ),
    Step(
        Scene(model="clothing", sample=BOOT, tab="features", stage="b5"),
        {"en": "Stages trade where for what", "zh": "模块用“在哪里”换“是什么”"},
        {
            "en": "From `b2` to `b5` the maps shrink from 16×16 to 2×2 while the channels grow from 64 to 512. "
            "Early maps still look like the boot; **b5's 512 channels** (below) are 2×2 each: they say *what* is "
            "there, hardly *where*. Grad-CAM shows which places speak for the class at each stage.",
            "zh": "从 `b2` 到 `b5`，特征图从 16×16 缩小到 2×2，通道数从 64 增加到 512。早期的图还看得出靴子的样子；"
            "**b5 的 512 个通道**（下方）每个只有 2×2：它们说明那里有*什么*，几乎不再说明在*哪里*。"
            "Grad-CAM 显示每个模块中哪些位置支持这个类别。",
        },
    ),
    Step(
        Scene(sample=SEVEN, lesions=("b3.1", "b4.1"), tab="residual"),
        {"en": "Lesions: identity blocks against downsampling blocks", "zh": "损毁：恒等块与下采样块"},
        {
            "en": "Two identity blocks, `b3.1` and `b4.1`, are removed (F(x) = 0): the 7 is still a 7, because x "
            "still flows through their shortcuts. Now tick **b4.0**, a downsampling block: only a 1×1 projection "
            "is left, and the 7 is lost.",
            "zh": "两个恒等块 `b3.1` 和 `b4.1` 被去掉（F(x) = 0）：7 仍被认成 7，因为 x 仍沿它们的捷径流过。"
            "现在再勾选下采样块 **b4.0**：只剩 1×1 投影，7 就认不出来了。",
        },
        anchor="label",
    ),
    Step(
        Scene(model="digits-plain", sample=SEVEN, lesions=("b3.1",), tab="plain"),
        {"en": "Plain vs residual", "zh": "普通网络与残差网络"},
        {
            "en": "This is the **plain twin**: the same network with no shortcuts. Removing the single block `b3.1` "
            "ruins it, because every signal had to pass through that block. Below, He et al.'s depth experiment "
            "(2016) rerun here: the deeper plain network trains worse, the deeper residual one far less so (the "
            "sentence under the chart says how much of it our short runs reproduce), and a ResNet behaves like an "
            "ensemble of its 256 paths (Veit et al. 2016).",
            "zh": "这是**普通孪生网络**：没有捷径的同一个网络。只去掉一个块 `b3.1` 就让它失效，因为所有信号都必须经过这个块。"
            "下面是在这里重跑的 He 等人（2016）的深度实验：更深的普通网络训练得更差，更深的残差网络受的影响小得多"
            "（图下的一句话说明我们的短训练重现了多少）；ResNet 的行为像它 256 条路径的集成（Veit 等，2016）。",
        },
    ),
    Step(
        Scene(tab="train"),
        {"en": "Train it yourself", "zh": "自己训练"},
        {
            "en": "Train the lecture's network from random weights, or He et al.'s 20- and 56-layer networks with and "
            "without shortcuts, and watch your curve drawn over the shipped experiment. Press **Train**: 6,000 "
            "digits for 2 epochs take about two minutes on a 2-core CPU.",
            "zh": "从随机权重训练讲义中的网络，或训练 He 等人带/不带捷径的 20 层、56 层网络，看你的曲线画在我们的实验曲线上。"
            "按 **训练**：在双核 CPU 上，6000 张数字训练 2 轮约需两分钟。",
        },
    ),
)


def caption(step: int, lang: str) -> str:
    """The tour's text box for step ``step`` (0-based): "**Tour 2/7 · title**" and the text."""
    s = TOUR[step]
    tour = "导览" if lang == "zh" else "Tour"
    return f"**{tour} {step + 1}/{len(TOUR)} · {s.title[lang]}**\n\n{s.text[lang]}"
