"""The ResNet-18 of the lecture "Part 7 ResNet" (the d2l.ai variant), for 1-channel 28x28-ish images.

Module names follow the lecture's code so that a reader finds them here: stages ``b1`` .. ``b5``, blocks
``Residual`` with ``conv1``/``conv2``/``conv3`` and ``bn1``/``bn2``. Unlike the lecture's ``Y += X``, the block
keeps its two paths apart (``shortcut`` and ``residual``) and adds them out of place, so that a captured
residual branch is never overwritten by the sum.

``ResNet18(plain=True)`` is the plain twin of He et al. (2016): the same blocks with the shortcut switched off,
``relu(F(x))``, and no 1x1 projections. Its layer names are the same, so every probe and view works on it.

He et al.'s CIFAR family (``CifarResNet``, 6n + 2 layers) is built from the same parts for the depth experiment.

One walk through the blocks, ``ResNet.walk``, serves the forward pass, the lesioned forward pass and the
probes (``resnet.probes.trace``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterator
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 10
STAGES = ("b1", "b2", "b3", "b4", "b5")
# (name, output channels) of the four residual stages.
STAGE_CHANNELS = {"b1": 64, "b2": 64, "b3": 128, "b4": 256, "b5": 512}
BLOCK_NAMES: tuple[str, ...] = tuple(f"{s}.{i}" for s in STAGES[1:] for i in range(2))


class BlockPass(NamedTuple):
    """One block's pass over a batch; every tensor is (B, C, H, W) with the block's output shape, but ``input``."""

    name: str  # "b2.0" .. "b5.1"
    input: torch.Tensor  # x entering the block, (B, Cin, Hin, Win)
    shortcut: torch.Tensor | None  # identity x or conv3(x); None in a plain block (there is no shortcut)
    residual: torch.Tensor | None  # F(x); None when the block is lesioned
    preact: torch.Tensor  # what the final ReLU gets: F(x) + shortcut (plain: F(x))
    output: torch.Tensor  # relu(preact)


def check_lesions(lesions: Collection[str], names: Collection[str] = BLOCK_NAMES) -> frozenset[str]:
    """The lesion set as a frozenset; ``ValueError`` naming the valid blocks (``names``) for any unknown name."""
    unknown = set(lesions) - set(names)
    if unknown:
        raise ValueError(f"unknown blocks {sorted(unknown)}; lesions take names from {list(names)}")
    return frozenset(lesions)


class Residual(nn.Module):
    """The residual block: ``relu(residual(x) + shortcut(x))``; with ``plain``, ``relu(residual(x))``.

    ``residual(x)`` = bn2(conv2(relu(bn1(conv1(x))))) is the branch F(x) the block learns; ``shortcut(x)`` is
    the identity, or a 1x1 convolution (``conv3``) when the block changes channels or resolution.

    Args:
        input_channels: channels of the block's input.
        num_channels: channels of both 3x3 convolutions and of the output.
        use_1x1conv: project the shortcut with a 1x1 convolution (ignored when ``plain``).
        strides: stride of ``conv1`` (and ``conv3``); 2 halves height and width.
        plain: no shortcut at all (the plain twin's block).
    """

    def __init__(
        self, input_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1, plain: bool = False
    ):
        super().__init__()
        self.plain = plain
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        project = use_1x1conv and not plain
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides) if project else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    @property
    def projects(self) -> bool:
        """Whether the shortcut is a 1x1 projection rather than the identity."""
        return self.conv3 is not None

    @property
    def keeps_shape(self) -> bool:
        """Whether the output has the input's shape (no downsampling, no change of channels)."""
        return self.conv1.stride == (1, 1) and self.conv1.in_channels == self.conv1.out_channels

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The skip path x: (B, Cin, H, W) -> (B, C, H/s, W/s). (A plain block never calls it.)"""
        return x if self.conv3 is None else self.conv3(x)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch F(x): (B, Cin, H, W) -> (B, C, H/s, W/s), before the final ReLU."""
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def paths(self, x: torch.Tensor, lesioned: bool = False) -> tuple[torch.Tensor | None, ...]:
        """(shortcut, residual, preact, output) of one pass; a lesioned block has no residual branch.

        Lesioned, a residual block gives ``relu(shortcut(x))``. A plain block has nothing left then: where the
        shapes allow, the block is skipped (its input passes unchanged, as when a layer is deleted from a plain
        network in Veit et al. 2016); a downsampling plain block passes nothing (zeros).
        """
        shortcut = None if self.plain else self.shortcut(x)
        residual = None if lesioned else self.residual(x)
        if residual is None:
            preact = shortcut if shortcut is not None else self._deleted(x)
        elif shortcut is None:
            preact = residual
        else:
            preact = residual + shortcut  # out of place: a captured F(x) stays F(x)
        return shortcut, residual, preact, F.relu(preact)

    def _deleted(self, x: torch.Tensor) -> torch.Tensor:
        """What a plain block without its F(x) passes on: x where shapes allow, else zeros of the output shape."""
        if self.keeps_shape:
            return x
        s = self.conv1.stride[0]
        return x.new_zeros(x.shape[0], self.conv1.out_channels, -(-x.shape[2] // s), -(-x.shape[3] // s))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.paths(x)[3]


def resnet_block(
    input_channels: int, num_channels: int, num_residuals: int, first_block: bool = False, plain: bool = False
) -> list[Residual]:
    """A stage of ``num_residuals`` blocks; all but the first stage halve H and W in their first block."""
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2, plain=plain))
        else:
            blk.append(Residual(num_channels, num_channels, plain=plain))
    return blk


class ResNet(nn.Sequential):
    """A stem ``b1``, residual stages ``b2``, ``b3``, ..., global average pooling, flatten and ``fc``.

    The lecture's ResNet-18 and He et al.'s CIFAR family are both built from it. ``plain`` says that its blocks
    have no shortcut (the plain twin).
    """

    def __init__(self, stem: nn.Module, stages: list[list[Residual]], width: int, num_classes: int, plain: bool):
        modules: OrderedDict[str, nn.Module] = OrderedDict(b1=stem)
        for i, blocks in enumerate(stages, start=2):
            modules[f"b{i}"] = nn.Sequential(*blocks)
        modules.update(pool=nn.AdaptiveAvgPool2d((1, 1)), flatten=nn.Flatten(), fc=nn.Linear(width, num_classes))
        super().__init__(modules)
        self.plain = plain
        self.stages = tuple(f"b{i}" for i in range(1, len(stages) + 2))  # the stem, then the residual stages
        self.block_names = tuple(name for name, _ in self.blocks())

    def blocks(self) -> Iterator[tuple[str, Residual]]:
        """The residual blocks in order, named ``"<stage>.<index>"`` (``"b2.0"`` .. ``"b5.1"`` in ResNet-18)."""
        for stage in self.stages[1:]:
            for i, block in enumerate(getattr(self, stage)):
                yield f"{stage}.{i}", block

    def walk(self, h: torch.Tensor, lesions: Collection[str] = ()) -> Iterator[BlockPass]:
        """The one walk through the blocks: from the stem's output h (B, C, H, W), each block's pass in order.

        Every block named in ``lesions`` runs without its residual branch (checked by ``check_lesions``).
        """
        lesions = check_lesions(lesions, self.block_names)
        for name, block in self.blocks():
            shortcut, residual, preact, out = block.paths(h, name in lesions)
            yield BlockPass(name, h, shortcut, residual, preact, out)
            h = out

    def head(self, x: torch.Tensor) -> torch.Tensor:
        """Pool, flatten and classify: (B, C, h, w) -> logits (B, classes)."""
        return self.fc(self.flatten(self.pool(x)))

    def forward_lesioned(self, x: torch.Tensor, lesions: Collection[str] = ()) -> torch.Tensor:
        """Logits (B, classes) with the residual branch of every block named in ``lesions`` removed.

        The model is neither copied nor changed, so one shared model serves any set of lesions.
        """
        h = self.b1(x)
        for p in self.walk(h, lesions):
            h = p.output
        return self.head(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, classes) of images (B, 1, S, S)."""
        return self.forward_lesioned(x)


class ResNet18(ResNet):
    """The lecture's ``net``: ``b1`` stem, stages ``b2``..``b5``, global average pool, flatten, ``fc``.

    Input (B, 1, S, S) in [0, 1]; output logits (B, 10). At S = 96 the stages give b1 64x24x24, b2 64x24x24,
    b3 128x12x12, b4 256x6x6, b5 512x3x3. ``plain=True`` builds the plain twin (no shortcuts, no projections).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, plain: bool = False):
        stem = nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        stages = [
            resnet_block(64, 64, 2, first_block=True, plain=plain),
            resnet_block(64, 128, 2, plain=plain),
            resnet_block(128, 256, 2, plain=plain),
            resnet_block(256, 512, 2, plain=plain),
        ]
        super().__init__(stem, stages, 512, num_classes, plain)


class CifarResNet(ResNet):
    """He et al.'s CIFAR family (2016, section 4.2): 6n + 2 layers for the depth experiment.

    A 3x3 convolution with 16 channels (``b1``), three stages ``b2``..``b4`` of n blocks with 16, 32 and 64
    channels (the first block of ``b3`` and ``b4`` halves H and W with a 1x1 projection shortcut), global average
    pooling and ``fc``. Input (B, 1, 28, 28): the stages give 16x28x28, 32x14x14, 64x7x7.
    """

    def __init__(self, depth: int, num_classes: int = NUM_CLASSES, plain: bool = False):
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"the CIFAR family has 6n + 2 layers (20, 32, 44, 56, 110, ...), not {depth}")
        n = (depth - 2) // 6
        stem = nn.Sequential(nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        stages = [
            resnet_block(16, 16, n, first_block=True, plain=plain),
            resnet_block(16, 32, n, plain=plain),
            resnet_block(32, 64, n, plain=plain),
        ]
        super().__init__(stem, stages, 64, num_classes, plain)
        self.depth = depth


def build_model(arch: str = "resnet18", plain: bool = False) -> ResNet:
    """A model by name: ``"resnet18"`` (the lecture's) or ``"resnet<6n+2>"`` (He et al.'s CIFAR family)."""
    if arch == "resnet18":
        return ResNet18(plain=plain)
    depth = arch.removeprefix("resnet")
    if arch.startswith("resnet") and depth.isdigit():
        return CifarResNet(int(depth), plain=plain)
    raise ValueError(f"unknown architecture {arch!r}: 'resnet18' or 'resnet<6n+2>' (resnet20, resnet56, ...)")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
