"""The explanations beside each view, in English and in Chinese (the lecture's language), in our own words.

Plain Markdown strings keyed by language and view; the app picks one set. Formulas follow the lecture's notation.
"""

from __future__ import annotations

LANGUAGES = {"English": "en", "中文": "zh"}

_FORMULAS = r"""
$$f(\mathbf{x}) = \mathrm{ReLU}\big(F(\mathbf{x}) + \mathrm{shortcut}(\mathbf{x})\big),\qquad
F(\mathbf{x}) = \mathrm{BN}_2\big(\mathrm{conv}_2(\mathrm{ReLU}(\mathrm{BN}_1(\mathrm{conv}_1 \mathbf{x})))\big)$$
"""
_BN = r"""
$$\mathrm{BN}(\mathbf{x}) = \boldsymbol{\gamma} \odot \frac{\mathbf{x} - \hat{\boldsymbol{\mu}}_\mathcal{B}}
{\hat{\boldsymbol{\sigma}}_\mathcal{B}} + \boldsymbol{\beta}$$
"""

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "intro": """
# ResNet-18, seen from inside
The lecture's ResNet-18 (Part 7 ResNet): a 7×7 stem `b1`, four stages `b2`–`b5` of two **residual blocks** each,
global average pooling and one fully connected layer. Each block learns a **residual F(x)** and adds its input
back: **f(x) = F(x) + x**. Draw, upload or pick a sample; every view below follows your input live.
""",
        "hint_digits": "✏️ **Draw one digit (0–9)** on the canvas, as large as you like (brush and eraser on its left). "
        "It is cut out, scaled to 20×20 and centred by its centre of mass, exactly as MNIST was made.",
        "hint_clothing": "👕 **Draw a piece of clothing as a filled silhouette** (colour it in), "
        "or upload a product photo. Fashion-MNIST shows products as light shapes on black: your drawing is "
        "inverted, trimmed and fitted to 28×28.",
        "formulas": "### The residual block\n"
        + _FORMULAS
        + """
The block does not have to learn the whole mapping f(x), only the **residual** F(x) = f(x) − x. If the best thing
a block can do is nothing, it only needs F(x) = 0, which is easy to learn, so adding blocks need not make the
network worse. The **shortcut** is the identity, or a 1×1 convolution with stride 2 where a stage doubles the
channels and halves height and width (`b3.0`, `b4.0`, `b5.0`).

### Batch normalisation
"""
        + _BN
        + """
Each channel is shifted and scaled by the mean and standard deviation of the mini-batch (in training; running
averages at test time), then by the learned γ and β. It follows every convolution and comes before the ReLU.
""",
        "features": """
**Feature maps.** Each stage turns the image into many *channels*, each a map of where one learned pattern occurs.
The stem and `b2` keep fine detail (16×16 at our 64-pixel input); every later stage halves the resolution and
doubles the channels, trading *where* for *what*. Tiles are ordered by mean activation, strongest first, and
share the colour scale shown under each grid. **Grad-CAM** weights each stage's channels by how much they raise
the chosen class's score and shows where those channels fire: red regions speak for the class.
""",
        "residual": """
**Residual vs identity.** For every block: the **shortcut x** (identity, or the 1×1 projection), the **residual
F(x)** the block learned, their sum and the ReLU output, averaged over channels (blue < 0 < red, one scale per
block). Where ‖F(x)‖/‖x‖ is small the block barely changes its input; a negative cosine means F(x) removes part of x.
""",
        "lesions": """
**Lesions.** Tick a block above to remove its residual branch: its output becomes ReLU(shortcut(x)), as if
F(x) = 0, and the prediction updates at once. The chart shows each single lesion's effect on the 1,000 shipped
samples. Removing a block whose shortcut is the identity usually costs little: the other paths still carry the
signal, as if the network were an ensemble of shallower ones (Veit et al., 2016). The downsampling blocks
(hatched) hurt most: without F(x) only a 1×1 projection of the previous stage is left.
""",
        "plain": """
**Plain vs residual: why the shortcut matters.** The *plain twin* is the same network with every shortcut switched
off: each block outputs ReLU(F(x)) and has to learn the whole mapping, not a correction. He et al. (2016) found
that deeper plain networks train *worse* (a higher **training** error, so it is not overfitting) while deeper
residual networks do not. Below: our rerun of their experiment on Fashion-MNIST with their CIFAR networks (6n + 2
layers; plain dashed, residual solid); the path ensemble of Veit et al. (2016), the accuracy for every one of the
256 subsets of removed blocks (the star is the lesion set you ticked); the size of what each block learns
(He et al., Fig. 7); and the gradient that reaches each block.
""",
        "architecture": """
**Architecture.** Every layer with its output shape (channels × height × width) and parameter count, measured
by running the model on an input of the size it was trained at: 11,178,378 parameters in all, as in the lecture.
""",
        "training": """
**Train it yourself.** The same network from random weights, with the lecture's learning rate 0.05 as the peak
of a one-cycle schedule (SGD with momentum, batch 128, 64 px inputs, light augmentation). The curves show the
training loss and accuracy (running means over the epoch) after every batch and the test accuracy on 2,000 test
images after every epoch. On a 2-core CPU, 6,000 digits for 2 epochs take about two minutes and reach about 98%
(clothing: about 83%). Every finished epoch is saved; when the run
ends, pick your model in the model switch above and every view shows it: feature maps, residual branches, lesions.
""",
    },
    "zh": {
        "intro": """
# 看懂 ResNet-18
讲义（Part 7 ResNet）中的 ResNet-18：7×7 卷积的第一模块 `b1`，四个各含两个**残差块**的模块 `b2`–`b5`，
全局平均池化和一个全连接层。每个残差块学习一个**残差 F(x)**，再把输入加回去：**f(x) = F(x) + x**。
画一个图、上传图片或点击样本，下面的每个视图都会随输入实时更新。
""",
        "hint_digits": "✏️ 在画布上**写一个数字（0–9）**，大小随意（画笔和橡皮擦在画布左侧）。"
        "程序会像制作 MNIST 时一样：裁出数字、缩放到 20×20，并按质心居中。",
        "hint_clothing": "👕 **画一件衣物的实心轮廓**（把内部涂满），或上传商品照片。"
        "Fashion-MNIST 中的商品是黑底上的亮色图形：你的图会被反色、裁边并缩放到 28×28。",
        "formulas": "### 残差块\n"
        + _FORMULAS
        + """
残差块不必学习完整的映射 f(x)，只需学习**残差** F(x) = f(x) − x。如果这个块最好什么都不做，
只要 F(x) = 0 即可，这很容易学到，所以加深网络不必让效果变差。**捷径**（shortcut）是恒等映射；
当一个模块把通道数加倍、高宽减半时（`b3.0`、`b4.0`、`b5.0`），捷径是步幅为 2 的 1×1 卷积。

### 批量规范化
"""
        + _BN
        + """
训练时每个通道按小批量的均值和标准差做规范化（测试时用滑动平均），再乘以可学习的 γ、加上 β。
它放在每个卷积层之后、ReLU 之前。
""",
        "features": """
**特征图。** 每个模块把图像变成许多*通道*，每个通道是一张“某种学到的图案出现在哪里”的图。
第一模块和 `b2` 保留细节（输入 64 像素时为 16×16）；之后每个模块把分辨率减半、通道数加倍，
用“在哪里”换“是什么”。各小图按平均激活从强到弱排列，共用下方的颜色刻度。
**Grad-CAM** 按各通道对所选类别得分的贡献加权，显示这些通道在哪里被激活：红色区域支持该类别。
""",
        "residual": """
**残差与恒等。** 对每个残差块并排显示：**捷径 x**（恒等或 1×1 投影）、学到的**残差 F(x)**、二者之和以及
ReLU 输出，均为通道平均（蓝 < 0 < 红，每个块一个刻度）。‖F(x)‖/‖x‖ 越小，这个块对输入改动越小；
余弦为负表示 F(x) 抵消了 x 的一部分。
""",
        "lesions": """
**损毁实验。** 勾选上方的块即可去掉它的残差分支：输出变为 ReLU(shortcut(x))，相当于 F(x) = 0，
预测会立刻更新。图中是单独去掉每个块后在 1000 个样本上的准确率。去掉捷径为恒等映射的块通常影响不大：
信号仍能经其他路径传递，好像网络是许多较浅网络的集成（Veit 等，2016）。下采样块（斜线）影响最大：
去掉 F(x) 后只剩上一模块的 1×1 投影。
""",
        "plain": """
**普通网络与残差网络：捷径为什么重要。** *普通孪生网络*（plain twin）就是把每个捷径都关掉的同一个网络：每个块输出
ReLU(F(x))，必须学习整个映射，而不只是一个修正量。He 等人（2016）发现：更深的普通网络反而**训练**误差更高（所以不是
过拟合），而更深的残差网络不会这样。下面依次是：我们在 Fashion-MNIST 上用论文的 CIFAR 网络（6n + 2 层；虚线为普通网络，
实线为残差网络）重做的这个实验；Veit 等人（2016）的“路径集成”：去掉任意一组块（共 256 种组合）后的准确率（星号是你勾选
的损伤组合）；每个块所学 F(x) 的大小（He 等人，图 7）；以及传到每个块的梯度大小。
""",
        "architecture": """
**网络结构。** 每一层的输出形状（通道 × 高 × 宽）和参数量，由模型在训练时的输入尺寸上实际运行得到：
共 11,178,378 个参数，与讲义一致。
""",
        "training": """
**自己训练。** 同一个网络从随机权重开始训练，讲义的学习率 0.05 作为单周期学习率调度的峰值（带动量的 SGD，
批量 128，输入 64 像素，轻度数据增强）。曲线显示每个批量后的训练损失和准确率（本轮的滑动平均），以及每轮结束时
在 2000 张测试图像上的准确率。在双核 CPU 上，6000 张数字训练 2 轮约需两分钟，准确率约 98%（衣物约 83%）。
每轮结束都会保存模型；训练结束后在上方的模型选择中选中你的模型，所有视图（特征图、残差分支、损毁实验）
都会显示它。
""",
    },
}


def text(lang: str, key: str) -> str:
    """The explanation ``key`` in language ``lang`` ("en" or "zh")."""
    return TEXTS[lang][key]
