"""Grad-CAM per stage: where in the image each stage's features support a class."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from resnet import graphs
from resnet.probes import Trace


def cam_maps(acts: list[torch.Tensor], grads: list[torch.Tensor], size: int) -> list[torch.Tensor]:
    """Grad-CAM of each stage: activations (1, C, h, w) and the target logit's gradient with respect to them ->
    (size, size) in [0, 1], the ReLU of the channels weighted by their spatially averaged gradient, upsampled and
    scaled to its peak (all zeros when nothing supports the class). Written in TorchScript's Python (``scripted``)."""
    maps: list[torch.Tensor] = []
    for i in range(len(acts)):  # TorchScript has no zip(strict=True)
        a, g = acts[i], grads[i]
        weights = g[0].mean(dim=[1, 2])  # (C,)
        cam = F.relu((weights[:, None, None] * a[0].detach()).sum(0))  # (h, w)
        cam = F.interpolate(cam[None, None], size=[size, size], mode="bilinear", align_corners=False)[0, 0]
        peak = cam.max()
        maps.append(torch.where(peak > 0, cam / peak, cam))
    return maps


def scripted() -> Callable[[list[torch.Tensor], list[torch.Tensor], int], list[torch.Tensor]]:
    """``cam_maps`` as one TorchScript function (``graphs.scripted``: the GIL given up once, not ~40 times; its maps
    equal the eager ones bit for bit, ``tests/test_analysis.py``), or ``cam_maps`` itself where TorchScript is gone."""
    return graphs.scripted(cam_maps)


def cams_from_trace(
    t: Trace, size: int, target: int | None = None, graph: bool = True
) -> tuple[dict[str, torch.Tensor], int]:
    """Grad-CAM maps of every stage (``cam_maps``) from a trace made with ``keep_graph=True`` of one image, by
    ``scripted``'s graph (unoptimised, as ``graphs.LabelGraphs.trace``) unless ``graph`` is False.

    Returns the maps by stage name and the target class (the prediction when ``target`` is None).
    """
    cls = int(t.logits[0].argmax()) if target is None else int(target)
    # Gradients w.r.t. the activations only: the shared model's .grad fields are never touched. A stage the logits
    # do not depend on (before a lesioned downsampling block of the plain twin, which passes nothing) gets zeros.
    linked = [name for name, a in t.stages.items() if a.requires_grad and t.logits.requires_grad]
    found = torch.autograd.grad(t.logits[0, cls], [t.stages[n] for n in linked], allow_unused=True) if linked else ()
    grads = {n: g for n, g in zip(linked, found, strict=True) if g is not None}
    with torch.jit.optimized_execution(False):
        maps = (scripted() if graph else cam_maps)([t.stages[n] for n in grads], list(grads.values()), size)
    computed = dict(zip(grads, maps, strict=True))
    return {name: computed.get(name, torch.zeros(size, size)) for name in t.stages}, cls
