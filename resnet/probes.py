"""Everything inside one forward pass: stage outputs and, per residual block, x, shortcut, F(x), sum, output.

The trace walks the model's own modules in order and calls each block's ``shortcut`` and ``residual`` itself,
so its final logits are the model's logits (a test checks this) and a lesioned block is traced as
``relu(shortcut(x))``. Tensors are detached clones: nothing later can change them in place.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from resnet.model import BLOCK_NAMES, STAGES, ResNet18


@dataclass
class BlockTrace:
    """One residual block for a batch; every tensor is (B, C, H, W) with the block's output shape, but ``input``."""

    name: str  # "b2.0" .. "b5.1"
    projects: bool  # shortcut is a 1x1 projection (else the identity)
    lesioned: bool  # residual branch removed for this pass
    input: torch.Tensor  # x entering the block, (B, Cin, Hin, Win)
    shortcut: torch.Tensor  # identity x or conv3(x)
    residual: torch.Tensor  # F(x) = bn2(conv2(relu(bn1(conv1(x))))), zeros when lesioned
    preact: torch.Tensor  # F(x) + shortcut, before the ReLU
    output: torch.Tensor  # relu(preact)


@dataclass
class Trace:
    """A whole forward pass: stage outputs ``b1``..``b5``, the 8 blocks, and the logits (B, 10)."""

    stages: dict[str, torch.Tensor]
    blocks: list[BlockTrace]
    logits: torch.Tensor

    def block(self, name: str) -> BlockTrace:
        return next(b for b in self.blocks if b.name == name)


def _keep(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone()


def trace(model: ResNet18, x: torch.Tensor, lesions: Collection[str] = (), keep_graph: bool = False) -> Trace:
    """Run ``x`` (B, 1, S, S) through ``model`` (in its current mode), recording every intermediate.

    With ``keep_graph`` the stage outputs stay attached to the autograd graph (for Grad-CAM); the block
    tensors are always detached copies.
    """
    unknown = set(lesions) - set(BLOCK_NAMES)
    if unknown:
        raise ValueError(f"unknown blocks {sorted(unknown)}; expected names from {BLOCK_NAMES}")
    stages: dict[str, torch.Tensor] = {}
    blocks: list[BlockTrace] = []
    with torch.set_grad_enabled(keep_graph and torch.is_grad_enabled()):
        h = model.b1(x)
        stages["b1"] = h
        for stage in STAGES[1:]:
            for i, block in enumerate(getattr(model, stage)):
                name = f"{stage}.{i}"
                shortcut = block.shortcut(h)
                lesioned = name in lesions
                residual = torch.zeros_like(shortcut) if lesioned else block.residual(h)
                preact = residual + shortcut
                out = F.relu(preact)
                blocks.append(
                    BlockTrace(
                        name,
                        block.projects,
                        lesioned,
                        _keep(h),
                        _keep(shortcut),
                        _keep(residual),
                        _keep(preact),
                        _keep(out),
                    )
                )
                h = out
            stages[stage] = h
        logits = model.head(h)
    if not keep_graph:
        stages = {k: _keep(v) for k, v in stages.items()}
        logits = _keep(logits)
    return Trace(stages, blocks, logits)


@dataclass
class BlockStats:
    """How much a block changes its input, per image (B,): ‖F(x)‖/‖x‖ and cos(F(x), x), x = the shortcut."""

    name: str
    ratio: torch.Tensor
    cosine: torch.Tensor


def block_stats(t: Trace) -> list[BlockStats]:
    """‖F(x)‖ / ‖x‖ and the cosine between F(x) and x for every block of a trace (x: the shortcut output)."""
    stats = []
    for b in t.blocks:
        f, s = b.residual.flatten(1), b.shortcut.flatten(1)
        ratio = f.norm(dim=1) / s.norm(dim=1).clamp(min=1e-12)
        cosine = F.cosine_similarity(f, s, dim=1, eps=1e-12)
        stats.append(BlockStats(b.name, ratio, cosine))
    return stats
