"""Grad-CAM per stage: where in the image each stage's features support a class."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from resnet.probes import Trace


def cams_from_trace(t: Trace, size: int, target: int | None = None) -> tuple[dict[str, torch.Tensor], int]:
    """Grad-CAM maps of every stage from a trace made with ``keep_graph=True`` of one image.

    Each map is the ReLU of the stage's channels weighted by the spatially averaged gradient of the target
    logit, upsampled to (size, size) and scaled to [0, 1] (all zeros when nothing supports the class).
    Returns the maps by stage name and the target class (the prediction when ``target`` is None).
    """
    cls = int(t.logits[0].argmax()) if target is None else int(target)
    # Gradients w.r.t. the activations only: the shared model's .grad fields are never touched. A stage the logits
    # do not depend on (before a lesioned downsampling block of the plain twin, which passes nothing) gets zeros.
    linked = [name for name, a in t.stages.items() if a.requires_grad and t.logits.requires_grad]
    found = torch.autograd.grad(t.logits[0, cls], [t.stages[n] for n in linked], allow_unused=True) if linked else ()
    grads = dict(zip(linked, found, strict=True))
    maps = {}
    for name, a in t.stages.items():
        if grads.get(name) is None:
            maps[name] = torch.zeros(size, size)
            continue
        weights = grads[name][0].mean(dim=(1, 2))  # (C,)
        cam = F.relu((weights[:, None, None] * a[0].detach()).sum(0))  # (h, w)
        cam = F.interpolate(cam[None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
        peak = cam.max()
        maps[name] = cam / peak if peak > 0 else cam
    return maps, cls
