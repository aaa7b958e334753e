"""Statistics over the shipped sample set: accuracy with each block lesioned, and mean block statistics.

They take a few dozen seconds on a 2-core CPU, so they are computed once per weights file and cached as JSON
next to the samples (keyed by the weights' SHA-256, so new weights never read stale numbers).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import torch

from resnet.data import resize
from resnet.model import BLOCK_NAMES, ResNet18
from resnet.probes import block_stats, trace
from resnet.samples import SAMPLES_DIR, load_samples

CACHE_DIR = SAMPLES_DIR.parent / "cache"
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class SampleSetStats:
    """Accuracies in [0, 1] and per-block means over the 1,000 shipped samples of one dataset."""

    dataset: str
    weights_sha256: str
    baseline: float  # accuracy with no lesion
    lesion_accuracy: dict[str, float]  # block -> accuracy with that block's F(x) removed
    mean_ratio: dict[str, float]  # block -> mean ‖F(x)‖/‖x‖
    mean_cosine: dict[str, float]  # block -> mean cos(F(x), x)


def sha256(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@torch.no_grad()
def compute_stats(model: ResNet18, dataset: str, image_size: int, weights_sha: str, batch: int = 250) -> SampleSetStats:
    """One pass per lesion over the samples (9 in all), plus the block statistics from the plain pass."""
    s = load_samples(dataset)
    images, labels = s.tensors()
    correct = {name: 0 for name in ("", *BLOCK_NAMES)}
    ratio = {n: 0.0 for n in BLOCK_NAMES}
    cosine = {n: 0.0 for n in BLOCK_NAMES}
    for i in range(0, len(labels), batch):
        x = resize(images[i : i + batch], image_size)
        y = labels[i : i + batch]
        t = trace(model, x)
        correct[""] += int((t.logits.argmax(1) == y).sum())
        for st in block_stats(t):
            ratio[st.name] += float(st.ratio.sum())
            cosine[st.name] += float(st.cosine.sum())
        for name in BLOCK_NAMES:
            correct[name] += int((model.forward_lesioned(x, {name}).argmax(1) == y).sum())
    n = len(labels)
    return SampleSetStats(
        dataset,
        weights_sha,
        correct[""] / n,
        {k: correct[k] / n for k in BLOCK_NAMES},
        {k: v / n for k, v in ratio.items()},
        {k: v / n for k, v in cosine.items()},
    )


def cached_stats(
    model: ResNet18,
    dataset: str,
    image_size: int,
    weights: str | Path,
    cache_dir: Path = CACHE_DIR,
    digest: str | None = None,
) -> SampleSetStats:
    """The statistics for these weights (their file's SHA-256 ``digest``, hashed here when not given): from the
    cache when it matches, else computed (and cached if we can)."""
    digest = digest or sha256(weights)
    return read_stats(dataset, weights, cache_dir, digest) or write_cache(
        cache_dir / f"{dataset}-{digest[:16]}.json", compute_stats(model, dataset, image_size, digest)
    )


def read_stats(
    dataset: str, weights: str | Path, cache_dir: Path = CACHE_DIR, digest: str | None = None
) -> SampleSetStats | None:
    """The cached statistics for these weights, or None: no model needed (the registry loads one only to compute)."""
    digest = digest or sha256(weights)
    return read_cache(cache_dir / f"{dataset}-{digest[:16]}.json", SampleSetStats, digest)


def read_cache(path: Path, cls: type[T], digest: str) -> T | None:
    """The dataclass ``cls`` stored as JSON at ``path`` if it was computed for the weights ``digest``, else None."""
    try:
        cached = cls(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return cached if cached.weights_sha256 == digest else None


def write_cache(path: Path, value: T) -> T:
    """Store a dataclass as JSON (a read-only deployment only logs a warning and recomputes next start)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(value), indent=1))
    except OSError as exc:
        log.warning("could not cache %s: %s", path.name, exc)
    return value
