"""Recognition of inputs from outside MNIST and Fashion-MNIST, beside the test splits, for every weights file given.

    python benchmarks/recognition.py [--weights assets/weights/digits.safetensors ...] [--data-dir ../shared/data]

For each model, every external set of its dataset (assets/external/, made by scripts/make_external.py) goes
through the app's own preprocessing (resnet.preprocess), and the full test split through the training pipeline
(resnet.evaluate). Prints accuracy per set, per class, and the goals of issue 10: external digits >= 99%, product
shots >= 92%, while the test splits stay >= 99.6% (digits) and >= 94.0% (clothing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resnet import preprocess as preprocess_module
from resnet.checkpoint import load_model
from resnet.data import DATASETS, DEFAULT_DATA_DIR, SHARED_DATA_DIR, DataNotFoundError, find_data_dir, load_split
from resnet.evaluate import predict
from resnet.external import SETS, load_external, prepare_all

GOALS = {"digits": (0.99, 0.996), "clothing": (0.92, 0.940)}  # (external, test split)


@torch.no_grad()
def _argmax(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    """Predicted classes (N,) of prepared inputs (N, 1, S, S)."""
    model.eval()
    return torch.cat([model(x[i : i + 250]).argmax(1) for i in range(0, len(x), 250)]).numpy()


def external_accuracy(model: torch.nn.Module, name: str, dataset: str, image_size: int) -> tuple[float, int, list[str]]:
    """Accuracy on one external set, its number of images and its per-class lines."""
    images, labels = load_external(name)
    preds = _argmax(model, prepare_all(images, dataset, image_size))
    classes = DATASETS[dataset].classes
    lines = []
    for c in np.unique(labels):
        hit = preds[labels == c] == c
        wrong = np.bincount(preds[labels == c][~hit], minlength=len(classes))
        worst = f" (mostly read as {classes[int(wrong.argmax())]})" if (~hit).any() else ""
        lines.append(f"    {classes[c]:<12} {100 * hit.mean():6.1f}% of {len(hit)}{worst}")
    return float((preds == labels).mean()), len(labels), lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, nargs="*", default=None, help="default: the shipped digits and clothing")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    p.add_argument("--per-class", action="store_true", help="also print each class's accuracy")
    p.add_argument("--without-thicken", action="store_true", help="also measure without thickening thin strokes")
    args = p.parse_args()
    root = Path(__file__).resolve().parent.parent / "assets" / "weights"
    weights = args.weights or [root / "digits.safetensors", root / "clothing.safetensors"]
    rows = []
    for path in weights:
        model, card = load_model(path)
        dataset = card.dataset
        ext_goal, test_goal = GOALS[dataset]
        try:
            data_dir = find_data_dir(dataset, (args.data_dir, SHARED_DATA_DIR))
            images, labels = load_split(dataset, train=False, data_dir=data_dir)
            test = float((predict(model, images, card.image_size) == labels).float().mean())
            rows.append((path.name, f"{dataset} test split", len(labels), test, test_goal))
            # The same split handed to the app as uploads: its preprocessing must not cost what the split is worth.
            x = prepare_all(images.numpy(), dataset, card.image_size)
            uploads = float((_argmax(model, x) == labels.numpy()).mean())
            rows.append((path.name, f"{dataset} test split as uploads", len(labels), uploads, test_goal))
        except DataNotFoundError:
            rows.append((path.name, f"{dataset} test split", 0, float("nan"), test_goal))
        for s in SETS:
            if s.dataset == dataset:
                acc, n, lines = external_accuracy(model, s.name, dataset, card.image_size)
                rows.append((path.name, s.name, n, acc, ext_goal))
                if args.without_thicken and dataset == "digits":
                    stroke, preprocess_module.STROKE = preprocess_module.STROKE, 0.0
                    acc, _, _ = external_accuracy(model, s.name, dataset, card.image_size)
                    preprocess_module.STROKE = stroke
                    rows.append((path.name, f"{s.name} without thickening", n, acc, ext_goal))
                if args.per_class:
                    print(f"{path.name} on {s.name}:", *lines, sep="\n")
    print("\nsets:", *(f"  {s.name}: {s.made_from}" for s in SETS), sep="\n")
    print("\n| weights | set | images | accuracy | goal | met |\n| --- | --- | ---: | ---: | ---: | --- |")
    for name, set_name, n, acc, goal in rows:
        met = "no data" if n == 0 else ("yes" if acc >= goal else "**no**")
        print(f"| {name} | {set_name} | {n} | {100 * acc:.2f}% | >= {100 * goal:.1f}% | {met} |")


if __name__ == "__main__":
    main()
