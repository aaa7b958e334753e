"""Grad-CAM per stage: where in the image each stage's features support a class."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from resnet import graphs
from resnet.probes import Trace


def cam_maps(logits: torch.Tensor, acts: list[torch.Tensor], target: int, size: int) -> tuple[list[torch.Tensor], int]:
    """Grad-CAM of each stage: the logits (1, 10) and the stages' activations (1, C, h, w) they were computed from
    (attached to the autograd graph) -> (size, size) in [0, 1] a stage, the ReLU of the channels weighted by the
    target logit's spatially averaged gradient, upsampled and scaled to its peak (all zeros when nothing supports
    the class or the logits do not depend on the stage), and the target class (the prediction when ``target`` < 0).
    Written in TorchScript's Python (``scripted``)."""
    cls = int(logits[0].argmax()) if target < 0 else target
    # Gradients w.r.t. the activations only: the shared model's .grad fields are never touched.
    grads = torch.autograd.grad([logits[0, cls]], acts, allow_unused=True)
    maps: list[torch.Tensor] = []
    for i in range(len(acts)):  # TorchScript has no zip(strict=True)
        g = grads[i]
        if g is None:
            maps.append(torch.zeros(size, size))
        else:
            weights = g[0].mean(dim=[1, 2])  # (C,)
            cam = F.relu((weights[:, None, None] * acts[i][0].detach()).sum(0))  # (h, w)
            cam = F.interpolate(cam[None, None], size=[size, size], mode="bilinear", align_corners=False)[0, 0]
            peak = cam.max()
            maps.append(torch.where(peak > 0, cam / peak, cam))
    return maps, cls


def scripted() -> Callable[[torch.Tensor, list[torch.Tensor], int, int], tuple[list[torch.Tensor], int]]:
    """``cam_maps`` as one TorchScript function (``graphs.scripted``: the GIL given up once, not ~40 times; its maps
    equal the eager ones bit for bit, ``tests/test_analysis.py``), or ``cam_maps`` itself where TorchScript is gone."""
    return graphs.scripted(cam_maps)


def cams_from_trace(
    t: Trace, size: int, target: int | None = None, graph: bool = True
) -> tuple[dict[str, torch.Tensor], int]:
    """Grad-CAM maps of every stage (``cam_maps``: the gradient and the maps) from a trace made with
    ``keep_graph=True`` of one image, by ``scripted``'s graph (unoptimised, as ``graphs.LabelGraphs.trace``) unless
    ``graph`` is False.

    Returns the maps by stage name and the target class (the prediction when ``target`` is None).
    """
    # A stage the logits do not depend on (before a lesioned downsampling block of the plain twin, which passes
    # nothing) is cut from the graph: it gets zeros.
    linked = [name for name, a in t.stages.items() if a.requires_grad] if t.logits.requires_grad else []
    wanted = -1 if target is None else int(target)
    if linked:
        with torch.jit.optimized_execution(False):
            maps, cls = (scripted() if graph else cam_maps)(t.logits, [t.stages[n] for n in linked], wanted, size)
    else:  # nothing attached to the logits: nothing to differentiate
        maps, cls = [], int(t.logits[0].argmax()) if wanted < 0 else wanted
    computed = dict(zip(linked, maps, strict=True))
    # zeros made only where needed (each PyTorch call gives the GIL up: a default argument was made for every stage)
    return {name: computed[name] if name in computed else torch.zeros(size, size) for name in t.stages}, cls
