"""The ResNet-18 of the lecture "Part 7 ResNet" (the d2l.ai variant), for 1-channel 28x28-ish images.

Module names follow the lecture's code so that a reader finds them here: stages ``b1`` .. ``b5``, blocks
``Residual`` with ``conv1``/``conv2``/``conv3`` and ``bn1``/``bn2``. Unlike the lecture's ``Y += X``, the block
keeps its two paths apart (``shortcut`` and ``residual``) and adds them out of place, so that a captured
residual branch is never overwritten by the sum.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Iterator

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 10
STAGES = ("b1", "b2", "b3", "b4", "b5")
# (name, output channels) of the four residual stages.
STAGE_CHANNELS = {"b1": 64, "b2": 64, "b3": 128, "b4": 256, "b5": 512}


class Residual(nn.Module):
    """The residual block: ``relu(residual(x) + shortcut(x))``.

    ``residual(x)`` = bn2(conv2(relu(bn1(conv1(x))))) is the branch F(x) the block learns; ``shortcut(x)`` is
    the identity, or a 1x1 convolution (``conv3``) when the block changes channels or resolution.

    Args:
        input_channels: channels of the block's input.
        num_channels: channels of both 3x3 convolutions and of the output.
        use_1x1conv: project the shortcut with a 1x1 convolution.
        strides: stride of ``conv1`` (and ``conv3``); 2 halves height and width.
    """

    def __init__(self, input_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    @property
    def projects(self) -> bool:
        """Whether the shortcut is a 1x1 projection rather than the identity."""
        return self.conv3 is not None

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The skip path x: (B, Cin, H, W) -> (B, C, H/s, W/s)."""
        return x if self.conv3 is None else self.conv3(x)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch F(x): (B, Cin, H, W) -> (B, C, H/s, W/s), before the final ReLU."""
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.residual(x) + self.shortcut(x))

    def forward_lesioned(self, x: torch.Tensor) -> torch.Tensor:
        """The block with its residual branch removed: ``relu(shortcut(x))``."""
        return F.relu(self.shortcut(x))


def resnet_block(
    input_channels: int, num_channels: int, num_residuals: int, first_block: bool = False
) -> list[Residual]:
    """A stage of ``num_residuals`` blocks; all but the first stage halve H and W in their first block."""
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


class ResNet18(nn.Sequential):
    """The lecture's ``net``: ``b1`` stem, stages ``b2``..``b5``, global average pool, flatten, ``fc``.

    Input (B, 1, S, S) in [0, 1]; output logits (B, 10). At S = 96 the stages give b1 64x24x24, b2 64x24x24,
    b3 128x12x12, b4 256x6x6, b5 512x3x3.
    """

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__(
            OrderedDict(
                b1=nn.Sequential(
                    nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                    nn.BatchNorm2d(64),
                    nn.ReLU(),
                    nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
                ),
                b2=nn.Sequential(*resnet_block(64, 64, 2, first_block=True)),
                b3=nn.Sequential(*resnet_block(64, 128, 2)),
                b4=nn.Sequential(*resnet_block(128, 256, 2)),
                b5=nn.Sequential(*resnet_block(256, 512, 2)),
                pool=nn.AdaptiveAvgPool2d((1, 1)),
                flatten=nn.Flatten(),
                fc=nn.Linear(512, num_classes),
            )
        )

    def blocks(self) -> Iterator[tuple[str, Residual]]:
        """The 8 residual blocks in order, named ``"b2.0"`` .. ``"b5.1"``."""
        for stage in STAGES[1:]:
            for i, block in enumerate(getattr(self, stage)):
                yield f"{stage}.{i}", block

    def head(self, x: torch.Tensor) -> torch.Tensor:
        """Pool, flatten and classify: (B, 512, h, w) -> logits (B, 10)."""
        return self.fc(self.flatten(self.pool(x)))

    def forward_lesioned(self, x: torch.Tensor, lesions: Collection[str] = ()) -> torch.Tensor:
        """Logits (B, 10) with the residual branch of every block named in ``lesions`` removed.

        The model is neither copied nor changed, so one shared model serves any set of lesions.
        """
        unknown = set(lesions) - set(BLOCK_NAMES)
        if unknown:
            raise ValueError(f"unknown blocks {sorted(unknown)}; expected names from {BLOCK_NAMES}")
        x = self.b1(x)
        for stage in STAGES[1:]:
            for i, block in enumerate(getattr(self, stage)):
                x = block.forward_lesioned(x) if f"{stage}.{i}" in lesions else block(x)
        return self.head(x)


BLOCK_NAMES: tuple[str, ...] = tuple(f"{s}.{i}" for s in STAGES[1:] for i in range(2))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
