"""Why the shortcut matters, measured per block: layer responses (He et al. 2016, Fig. 7) and gradient flow.

    python -m resnet.why        # writes assets/why/responses.json and assets/why/gradients.json

- **Responses.** He et al. call a block's response the output of its last BN, before the addition and the ReLU:
  F(x) itself. They found the residual network's responses smaller than the plain network's: each block only
  nudges its input. Here: the standard deviation of F(x) over the 1,000 shipped samples (all images, channels
  and positions together), per block, for each shipped model and its plain twin.
- **Gradient flow.** The norm of the loss gradient with respect to each block's output, per image (mean over the
  1,000 samples, BN in training mode as during training), at initialisation and after training, for the
  18-layer pair (the shipped models) and the 56-layer pair of the depth experiment (``assets/depth/``).
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import torch
import torch.nn.functional as F

from resnet.checkpoint import load_model
from resnet.data import resize
from resnet.evaluate import default_weights
from resnet.model import ResNet, build_model
from resnet.probes import trace
from resnet.samples import load_samples
from resnet.sampleset import sha256

WHY_DIR = Path(__file__).resolve().parent.parent / "assets" / "why"
DEPTH_DIR = WHY_DIR.parent / "depth"


@torch.no_grad()
def response_std(model: ResNet, images: torch.Tensor, image_size: int, batch: int = 250) -> dict[str, float]:
    """Per block, the standard deviation of F(x) (its last BN's output) over ``images`` (N, 28, 28) uint8."""
    total: dict[str, torch.Tensor] = {}
    for i in range(0, len(images), batch):
        for b in trace(model, resize(images[i : i + batch], image_size)).blocks:
            r = b.residual.double()
            total[b.name] = total.get(b.name, 0) + torch.stack([r.sum(), (r * r).sum(), torch.tensor(r.numel())])
    out = {}
    for name, (s, s2, n) in total.items():
        out[name] = float(((s2 - s * s / n) / (n - 1)).sqrt())
    return out


def gradient_norms(
    model: ResNet, images: torch.Tensor, labels: torch.Tensor, image_size: int, batch: int = 250
) -> dict[str, float]:
    """Per block, the mean over images of ‖∂ loss / ∂ block output‖, BN in training mode (on a copy of the model).

    The loss is the summed cross-entropy over a batch of ``batch`` images, so each image's gradient has the scale
    of its own loss. images (N, 28, 28) uint8, labels (N,).
    """
    model = copy.deepcopy(model).train().requires_grad_(True)
    total: dict[str, float] = {}
    for i in range(0, len(labels), batch):
        passes = list(model.walk(model.b1(resize(images[i : i + batch], image_size))))
        loss = F.cross_entropy(model.head(passes[-1].output), labels[i : i + batch], reduction="sum")
        grads = torch.autograd.grad(loss, [p.output for p in passes])
        for p, g in zip(passes, grads, strict=True):
            total[p.name] = total.get(p.name, 0.0) + float(g.flatten(1).norm(dim=1).sum())
    return {name: value / len(labels) for name, value in total.items()}


def untrained(arch: str, plain: bool, seed: int = 0) -> ResNet:
    """The network as training starts it (same seed as ``resnet.train``)."""
    torch.manual_seed(seed)
    return build_model(arch, plain)


def measure_responses(datasets: tuple[str, ...] = ("digits", "clothing")) -> dict:
    """Response std per block for every shipped model whose plain twin is shipped too."""
    out = {}
    for dataset in datasets:
        paths = {"residual": default_weights(dataset), "plain": default_weights(f"{dataset}-plain")}
        if not all(p.exists() for p in paths.values()):
            continue
        images, _ = load_samples(dataset).tensors()
        entry = {}
        for kind, path in paths.items():
            model, card = load_model(path)
            entry[kind] = {"weights_sha256": sha256(path), "std": response_std(model, images, card.image_size)}
        out[dataset] = entry
    return out


def measure_gradients(samples: int = 1000) -> dict:
    """Gradient norm per block at initialisation and after training, 18-layer and 56-layer plain/residual pairs."""
    pairs = {
        "18": (
            "digits",
            "resnet18",
            64,
            {k: default_weights(f"digits{s}") for k, s in (("residual", ""), ("plain", "-plain"))},
        ),
        "56": ("clothing", "resnet56", 28, {k: DEPTH_DIR / f"{k}-56.safetensors" for k in ("residual", "plain")}),
    }
    out = {}
    for depth, (dataset, arch, size, files) in pairs.items():
        images, labels = load_samples(dataset).tensors()
        images, labels = images[:samples], labels[:samples]
        entry: dict = {"dataset": dataset, "arch": arch, "image_size": size}
        for kind, path in files.items():
            entry[kind] = {"init": gradient_norms(untrained(arch, kind == "plain"), images, labels, size)}
            if path.exists():
                model, _ = load_model(path)
                entry[kind]["trained"] = gradient_norms(model, images, labels, size)
                entry[kind]["weights_sha256"] = sha256(path)
        out[depth] = entry
    return out


def load(name: str) -> dict:
    """A measurement written by ``python -m resnet.why`` ("responses" or "gradients"); {} when it is not there."""
    try:
        return json.loads((WHY_DIR / f"{name}.json").read_text())
    except (OSError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=WHY_DIR)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    responses = measure_responses()
    (args.out / "responses.json").write_text(json.dumps(responses, indent=1))
    for dataset, entry in responses.items():
        print(f"{dataset}: std of F(x) per block (He et al. Fig. 7)")
        for block in entry["residual"]["std"]:
            print(
                f"  {block}  residual {entry['residual']['std'][block]:.3f}   plain {entry['plain']['std'][block]:.3f}"
            )
    gradients = measure_gradients()
    (args.out / "gradients.json").write_text(json.dumps(gradients, indent=1))
    for depth, entry in gradients.items():
        print(f"{depth} layers ({entry['dataset']}): ‖∂loss/∂ block output‖ per image, first and last block")
        for kind in ("residual", "plain"):
            for when, norms in entry[kind].items():
                if isinstance(norms, dict):
                    *_, last = first, *_ = norms.values()
                    print(f"  {kind:8} {when:7}  first {first:.3g}  last {last:.3g}  ratio {first / last:.3g}")


if __name__ == "__main__":
    main()
