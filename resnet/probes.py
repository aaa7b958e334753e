"""Everything inside one forward pass: stage outputs and, per residual block, x, shortcut, F(x), sum, output.

The trace walks the model's own modules in order and calls each block's ``shortcut`` and ``residual`` itself,
so its final logits are the model's logits (a test checks this) and a lesioned block is traced as
``relu(shortcut(x))``. Tensors are detached clones: nothing later can change them in place.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from resnet.model import ResNet


@dataclass
class BlockTrace:
    """One residual block for a batch; every tensor is (B, C, H, W) with the block's output shape, but ``input``."""

    name: str  # "b2.0" .. "b5.1"
    projects: bool  # shortcut is a 1x1 projection (else the identity, or none in a plain block)
    plain: bool  # the plain twin's block: no shortcut, the output is relu(F(x))
    lesioned: bool  # residual branch removed for this pass
    input: torch.Tensor  # x entering the block, (B, Cin, Hin, Win)
    shortcut: torch.Tensor | None  # identity x or conv3(x); None in a plain block
    residual: torch.Tensor  # F(x) = bn2(conv2(relu(bn1(conv1(x))))), zeros when lesioned
    preact: torch.Tensor  # F(x) + shortcut (plain: F(x)), before the ReLU
    output: torch.Tensor  # relu(preact)


@dataclass
class Trace:
    """A whole forward pass: stage outputs ``b1``..``b5``, the 8 blocks, and the logits (B, 10)."""

    stages: dict[str, torch.Tensor]
    blocks: list[BlockTrace]
    logits: torch.Tensor

    def block(self, name: str) -> BlockTrace:
        return next(b for b in self.blocks if b.name == name)

    def detached(self, graph: bool = True) -> Trace:
        """The same trace with its stage outputs and logits cut from the autograd graph (by one scripted call of
        ``detach`` unless ``graph`` is False: the GIL given up once, not six times)."""
        from resnet import graphs  # graphs traces this module's ``trace``

        *stages, logits = (graphs.scripted(detach) if graph else detach)([*self.stages.values(), self.logits])
        return Trace(dict(zip(self.stages, stages, strict=True)), self.blocks, logits)


def detach(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor cut from the autograd graph. Written in TorchScript's Python (``graphs.scripted``)."""
    return [t.detach() for t in tensors]


def _keep(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.detach().clone()


def trace(model: ResNet, x: torch.Tensor, lesions: Collection[str] = (), keep_graph: bool = False) -> Trace:
    """Run ``x`` (B, 1, S, S) through ``model`` (in its current mode), recording every intermediate.

    The blocks come from ``model.walk``, the same walk as the forward pass. With ``keep_graph`` the stage outputs
    stay attached to the autograd graph (for Grad-CAM); the block tensors are always detached copies.
    """
    stages: dict[str, torch.Tensor] = {}
    blocks: list[BlockTrace] = []
    kinds = dict(model.blocks())
    with torch.set_grad_enabled(keep_graph and torch.is_grad_enabled()):
        h = stages["b1"] = model.b1(x)
        for p in model.walk(h, lesions):
            block = kinds[p.name]
            residual = torch.zeros_like(p.output) if p.residual is None else p.residual
            blocks.append(
                BlockTrace(
                    p.name,
                    block.projects,
                    block.plain,
                    p.residual is None,
                    _keep(p.input),
                    _keep(p.shortcut),
                    _keep(residual),
                    _keep(p.preact),
                    _keep(p.output),
                )
            )
            h = stages[p.name.split(".")[0]] = p.output
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


def ratios_and_cosines(
    residuals: list[torch.Tensor], shortcuts: list[torch.Tensor]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """‖F(x)‖ / ‖x‖ and cos(F(x), x), each (B,), of pairs of the same shape (B, C, H, W); NaN for an image whose x
    is all zeros (neither is defined). Written in TorchScript's Python (``graphs.scripted``)."""
    ratios: list[torch.Tensor] = []
    cosines: list[torch.Tensor] = []
    for i in range(len(residuals)):  # TorchScript has no zip(strict=True)
        f, s = residuals[i].flatten(1), shortcuts[i].flatten(1)
        size = torch.linalg.vector_norm(s, dim=[1])
        nan = torch.full_like(size, float("nan"))
        ratio = torch.linalg.vector_norm(f, dim=[1]) / size.clamp(min=1e-12)
        ratios.append(torch.where(size > 0, ratio, nan))
        cosines.append(torch.where(size > 0, F.cosine_similarity(f, s, dim=1, eps=1e-12), nan))
    return ratios, cosines


def block_stats(t: Trace, graph: bool = True) -> list[BlockStats]:
    """‖F(x)‖ / ‖x‖ and the cosine between F(x) and x for every block of a trace (x: the shortcut output).

    A plain block has no shortcut: there F(x) is set against the block's input where they have the same shape,
    and both numbers are NaN where the block downsamples (nothing to compare with) and where its input is all zeros
    (after a lesioned downsampling block of the plain twin, which passes nothing on: the ratio was ~10¹³).

    ``ratios_and_cosines`` computes them, as one scripted function unless ``graph`` is False: the GIL given up once,
    not ~60 times (beside a thread running Python 343 → 12 ms an analysis, this machine; equal to the eager ones
    bit for bit, ``tests/test_model.py``).
    """
    from resnet import graphs  # graphs traces this module's ``trace``

    pairs = {}
    for b in t.blocks:
        x = b.shortcut if b.shortcut is not None else b.input
        if x.shape == b.residual.shape:
            pairs[b.name] = (b.residual, x)
    measure = graphs.scripted(ratios_and_cosines) if graph else ratios_and_cosines
    ratios, cosines = measure([f for f, _ in pairs.values()], [x for _, x in pairs.values()])
    measured = {name: (r, c) for name, r, c in zip(pairs, ratios, cosines, strict=True)}
    undefined = np.full(t.logits.shape[0], np.nan, np.float32)  # in NumPy: torch.full gives the GIL up

    def nan() -> torch.Tensor:
        return torch.from_numpy(undefined.copy())

    return [
        BlockStats(b.name, *measured[b.name]) if b.name in measured else BlockStats(b.name, nan(), nan())
        for b in t.blocks
    ]
