"""The path ensemble (Veit et al. 2016): a network's accuracy for every subset of lesioned blocks.

    python -m resnet.paths        # every shipped model (residual and plain twin), cached in assets/cache/

A residual network with 8 blocks has 2^8 = 256 paths from input to output; lesioning a block removes the half of
them that run through its F(x). Veit et al. found that a residual network degrades smoothly with the number of
blocks removed, as an ensemble of shallower networks would, while a plain network collapses. Here every one of
the 256 lesion subsets is measured on the 1,000 shipped samples. The subsets share their prefixes, so one pass
walks the tree of choices (keep or lesion each block in turn): 255 block evaluations of a batch instead of
256 x 8, about 1 minute per model on 2 CPU cores.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import torch

from resnet.checkpoint import load_model
from resnet.data import resize
from resnet.model import ResNet
from resnet.samples import load_samples
from resnet.sampleset import CACHE_DIR, read_cache, sha256, write_cache


@dataclass
class PathStats:
    """Sample-set accuracy for every lesion subset: ``accuracy[mask]``, bit i of mask set = ``blocks[i]`` lesioned."""

    dataset: str
    weights_sha256: str
    blocks: list[str]
    identity: list[str]  # the blocks that keep their input's shape (no downsampling)
    accuracy: list[float]  # 2^len(blocks) values in [0, 1]

    def of(self, lesions: set[str] | frozenset[str]) -> float:
        """The accuracy with exactly these blocks lesioned."""
        return self.accuracy[sum(1 << i for i, name in enumerate(self.blocks) if name in lesions)]

    def by_removed(self, among: Collection[str] | None = None) -> list[tuple[float, float, float]]:
        """(mean, min, max) accuracy over the subsets of each size k = 0, 1, ... blocks removed.

        With ``among``, only the subsets that lesion nothing but those blocks (for example the identity blocks).
        """
        allowed = sum(1 << i for i, name in enumerate(self.blocks) if among is None or name in among)
        groups: list[list[float]] = [[] for _ in range(allowed.bit_count() + 1)]
        for mask, accuracy in enumerate(self.accuracy):
            if mask & ~allowed == 0:
                groups[mask.bit_count()].append(accuracy)
        return [(sum(g) / len(g), min(g), max(g)) for g in groups]


@torch.no_grad()
def subset_correct(model: ResNet, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Correct predictions of the batch x (B, 1, S, S) for every lesion subset: (2^blocks,) counts.

    Depth-first over the blocks: each block runs once per subset of the blocks before it, kept or lesioned.
    """
    blocks = [block for _, block in model.blocks()]
    correct = torch.zeros(1 << len(blocks), dtype=torch.long)

    def visit(i: int, h: torch.Tensor, mask: int) -> None:
        if i == len(blocks):
            correct[mask] = (model.head(h).argmax(1) == y).sum()
            return
        for lesioned in (False, True):
            visit(i + 1, blocks[i].paths(h, lesioned)[3], mask | (lesioned << i))

    visit(0, model.b1(x), 0)
    return correct


def compute_paths(model: ResNet, dataset: str, image_size: int, weights_sha: str, batch: int = 250) -> PathStats:
    """Every lesion subset's accuracy on the shipped samples of ``dataset``."""
    images, labels = load_samples(dataset).tensors()
    correct = sum(
        subset_correct(model, resize(images[i : i + batch], image_size), labels[i : i + batch])
        for i in range(0, len(labels), batch)
    )
    names = [name for name, _ in model.blocks()]
    identity = [name for name, block in model.blocks() if block.keeps_shape]
    return PathStats(dataset, weights_sha, names, identity, (correct.double() / len(labels)).tolist())


def cached_paths(
    model: ResNet,
    dataset: str,
    image_size: int,
    weights: str | Path,
    cache_dir: Path = CACHE_DIR,
    compute: Callable[..., PathStats] | None = compute_paths,
) -> PathStats | None:
    """The path statistics of these weights from the cache; computed and cached when missing (None: don't)."""
    digest = sha256(weights)
    path = cache_dir / f"paths-{dataset}-{digest[:16]}.json"
    cached = read_cache(path, PathStats, digest)
    if cached is not None or compute is None:
        return cached
    return write_cache(path, compute(model, dataset, image_size, digest))


def main(argv: list[str] | None = None) -> None:
    from resnet.registry import shipped_weights

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, nargs="*", help="weights files (default: every shipped model)")
    args = p.parse_args(argv)
    for path in args.weights or shipped_weights().values():
        model, card = load_model(path)
        stats = cached_paths(model, card.dataset, card.image_size, path)
        kind = "plain twin" if card.plain else "residual"
        identity = stats.identity
        print(f"{path.name} ({card.dataset}, {kind}): sample-set accuracy by blocks removed, mean [min, max]")
        print(f"  {'k':>2}  {'any of the 8 blocks':<26} only identity blocks ({', '.join(identity)})")
        rows = zip(stats.by_removed(), [*stats.by_removed(identity), *[None] * 8], strict=False)
        for k, ((mean, low, high), only) in enumerate(rows):
            more = f"{100 * only[0]:5.1f}%  [{100 * only[1]:5.1f}, {100 * only[2]:5.1f}]" if only else ""
            print(f"  {k:>2}  {100 * mean:5.1f}%  [{100 * low:5.1f}, {100 * high:5.1f}]      {more}")


if __name__ == "__main__":
    main()
