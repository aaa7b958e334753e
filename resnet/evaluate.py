"""Accuracy, per-class accuracy and the confusion matrix of a weights file on a full test split.

python -m resnet.evaluate --dataset clothing [--weights assets/weights/clothing.safetensors] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from resnet.checkpoint import CheckpointError, load_model
from resnet.data import DATASETS, DEFAULT_DATA_DIR, DataNotFoundError, load_split, resize
from resnet.model import ResNet

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "weights"


def default_weights(dataset: str) -> Path:
    """The shipped weights file of a dataset."""
    return WEIGHTS_DIR / f"{dataset}.safetensors"


@torch.no_grad()
def predict(
    model: ResNet, images: torch.Tensor, image_size: int, batch_size: int = 500, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Predicted classes (N,) for uint8 images (N, 28, 28)."""
    model.eval()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=torch.device(device).type == "cuda")
    preds = []
    with autocast:
        for i in range(0, len(images), batch_size):
            x = resize(images[i : i + batch_size].to(device), image_size)
            preds.append(model(x.contiguous(memory_format=torch.channels_last)).argmax(1).cpu())
    return torch.cat(preds)


@dataclass
class Report:
    """Test-set results: accuracy in [0, 1], per-class accuracy, confusion[true, predicted] counts."""

    dataset: str
    accuracy: float
    per_class: list[float]
    confusion: list[list[int]]

    def format(self) -> str:
        classes = DATASETS[self.dataset].classes
        w = max(len(c) for c in classes)
        lines = [
            f"{self.dataset}: test accuracy {100 * self.accuracy:.2f}% on {sum(map(sum, self.confusion))} images",
            "",
        ]
        lines += [f"  {c:<{w}}  {100 * a:6.2f}%" for c, a in zip(classes, self.per_class, strict=True)]
        lines += ["", "confusion matrix (rows: true class, columns: predicted)"]
        lines += ["  " + " ".join(f"{i:>5}" for i in range(len(classes)))]
        lines += [f"{i} " + " ".join(f"{n:>5}" for n in row) for i, row in enumerate(self.confusion)]
        return "\n".join(lines)


def report(dataset: str, labels: torch.Tensor, preds: torch.Tensor) -> Report:
    """Summarise predictions against labels (both (N,) int64)."""
    k = len(DATASETS[dataset].classes)
    confusion = torch.bincount(labels * k + preds, minlength=k * k).reshape(k, k)
    per_class = (confusion.diag() / confusion.sum(1).clamp(min=1)).tolist()
    return Report(dataset, (preds == labels).float().mean().item(), per_class, confusion.tolist())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    p.add_argument("--weights", type=Path, help="safetensors file (default: the shipped weights)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    try:
        model, card = load_model(args.weights or default_weights(args.dataset), args.device)
        if card.dataset != args.dataset:
            raise CheckpointError(f"those weights are for {card.dataset!r}, not {args.dataset!r}")
        images, labels = load_split(args.dataset, train=False, data_dir=args.data_dir)
    except (CheckpointError, DataNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    r = report(args.dataset, labels, predict(model, images, card.image_size, device=args.device))
    print(json.dumps(r.__dict__) if args.json else r.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
