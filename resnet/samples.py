"""The shipped sample sets: 100 test-split images per class, with labels and their test-set indices.

python -m resnet.samples --data-dir ../shared/data   # rebuilds assets/samples/{digits,clothing}.npz
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from resnet.data import DATASETS, DEFAULT_DATA_DIR, dataset_info, load_split

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "samples"
PER_CLASS = 100


@dataclass(frozen=True)
class Samples:
    """images (N, 28, 28) uint8 light-on-dark, labels (N,) int64, indices (N,) into the official test split."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.tensor(self.images), torch.tensor(self.labels)


@cache
def load_samples(dataset: str, folder: Path = SAMPLES_DIR) -> Samples:
    """The shipped samples of a dataset (read once, shared read-only)."""
    dataset_info(dataset)
    with np.load(folder / f"{dataset}.npz") as z:
        s = Samples(z["images"], z["labels"].astype(np.int64), z["indices"].astype(np.int64))
    for a in (s.images, s.labels, s.indices):
        a.setflags(write=False)
    return s


def make_samples(dataset: str, data_dir: str | Path, per_class: int = PER_CLASS) -> Samples:
    """The first ``per_class`` test images of each class, in test-set order."""
    images, labels = load_split(dataset, train=False, data_dir=data_dir)
    idx = torch.cat([torch.nonzero(labels == c).flatten()[:per_class] for c in range(10)]).sort().values
    return Samples(images[idx].numpy(), labels[idx].numpy(), idx.numpy())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--out", type=Path, default=SAMPLES_DIR)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in DATASETS:
        s = make_samples(name, args.data_dir)
        np.savez_compressed(args.out / f"{name}.npz", images=s.images, labels=s.labels, indices=s.indices)
        print(f"{name}: {len(s.labels)} samples -> {args.out / name}.npz")


if __name__ == "__main__":
    main()
