"""The layer table of the model, with output shapes and parameter counts measured at a given input size."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from resnet.model import Residual, ResNet18


@dataclass
class Layer:
    name: str  # module path, e.g. "b3.0.conv3"
    kind: str  # what it is, in the lecture's words
    shape: tuple[int, ...]  # output (C, H, W) or (features,)
    params: int
    depth: int  # 0: stage / head, 1: block or stem layer, 2: layer inside a block


def _describe(name: str, m: nn.Module) -> str:
    if isinstance(m, Residual):
        return "residual block, shortcut = " + ("1×1 conv (projection)" if m.projects else "identity")
    if isinstance(m, nn.Conv2d):
        k, s = m.kernel_size[0], m.stride[0]
        role = " (shortcut)" if name.endswith("conv3") else ""
        return f"conv {k}×{k}, {m.out_channels} ch" + (f", stride {s}" if s > 1 else "") + role
    if isinstance(m, nn.BatchNorm2d):
        return "batch norm"
    if isinstance(m, nn.MaxPool2d):
        return f"max pool {m.kernel_size}×{m.kernel_size}, stride {m.stride}"
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return "global average pool"
    if isinstance(m, nn.Linear):
        return f"fully connected {m.in_features} → {m.out_features}"
    if isinstance(m, nn.Sequential):
        return "stem: conv + BN + ReLU + max pool" if name == "b1" else f"stage of {len(m)} residual blocks"
    return type(m).__name__


@torch.no_grad()
def layer_table(model: ResNet18, image_size: int) -> list[Layer]:
    """Every module down to the block's layers, in forward order, at input (1, 1, image_size, image_size)."""
    shapes: dict[str, tuple[int, ...]] = {}
    named = [(n, m) for n, m in model.named_modules() if n and n.count(".") <= 2]

    def record(name: str):
        def hook(mod: nn.Module, inp: tuple, out: torch.Tensor) -> None:
            shapes.setdefault(name, tuple(out.shape[1:]))

        return hook

    started: list[str] = []  # forward order, containers before their children
    hooks = [m.register_forward_hook(record(n)) for n, m in named]
    hooks += [m.register_forward_pre_hook(lambda mod, inp, n=n: started.append(n)) for n, m in named]
    try:
        was_training = model.training
        model.eval()
        model(torch.zeros(1, 1, image_size, image_size))
        model.train(was_training)
    finally:
        for h in hooks:
            h.remove()
    rows = []
    for n, m in named:
        if n not in shapes:  # modules the block calls functionally never run by themselves
            continue
        depth = n.count(".")
        if depth == 1 and n.startswith("b1."):
            depth = 2
        rows.append(Layer(n, _describe(n, m), shapes[n], sum(p.numel() for p in m.parameters()), depth))
    order = {n: i for i, n in reversed(list(enumerate(started)))}
    return sorted(rows, key=lambda r: order[r.name])
