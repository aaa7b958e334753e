"""The two datasets by their user-facing names, and a batch pipeline built for a 2-core CPU.

A split is held as one uint8 tensor (N, 28, 28); batches are resized and augmented as tensors, in one
``grid_sample`` call per batch, and handed out ``channels_last``. No per-image PIL work runs in the hot loop.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

DEFAULT_DATA_DIR = Path("data")


@dataclass(frozen=True)
class DatasetInfo:
    """What the app and the trainer need to know about one dataset."""

    name: str  # user-facing name: "digits" or "clothing"
    title: str  # the dataset's own name
    folder: str  # torchvision's folder under the data dir
    classes: tuple[str, ...]
    hflip: bool  # whether a mirrored image is still the same class


DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo("digits", "MNIST", "MNIST", tuple(str(i) for i in range(10)), hflip=False),
    "clothing": DatasetInfo(
        "clothing",
        "Fashion-MNIST",
        "FashionMNIST",
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        hflip=True,
    ),
}

_RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DataNotFoundError(FileNotFoundError):
    """The dataset's files are missing and could not be downloaded."""


def dataset_info(name: str) -> DatasetInfo:
    """Look a dataset up by its user-facing name, with a clear error for anything else."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}") from None


SHARED_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"  # beside the repository, as here


def find_data_dir(name: str, candidates: tuple[str | Path, ...] = (DEFAULT_DATA_DIR, SHARED_DATA_DIR)) -> Path:
    """Where the app looks for a dataset: ``$RESNET_DATA_DIR``, else the first candidate holding its raw files,
    else ``data/`` (torchvision downloads there when a network is available)."""
    if os.environ.get("RESNET_DATA_DIR"):
        return Path(os.environ["RESNET_DATA_DIR"])
    folder = dataset_info(name).folder
    for root in map(Path, candidates):
        if all((root / folder / "raw" / f).exists() for f in _RAW_FILES):
            return root
    return DEFAULT_DATA_DIR


def load_split(name: str, train: bool, data_dir: str | Path = DEFAULT_DATA_DIR) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of one split, via ``torchvision.datasets``.

    Downloads when the files are missing and a network is there; otherwise raises ``DataNotFoundError``
    naming the files it expected and the ``--data-dir`` flag.
    """
    from torchvision import datasets  # here, not at the top: the server never reads a split, and the import is heavy

    info = dataset_info(name)
    cls = datasets.MNIST if info.folder == "MNIST" else datasets.FashionMNIST
    root = Path(data_dir)
    try:
        ds = cls(root=str(root), train=train, download=False)
    except RuntimeError:
        try:
            ds = cls(root=str(root), train=train, download=True)
        except Exception as exc:  # no network, or a partial download
            expected = "\n".join(f"  {root / info.folder / 'raw' / f}" for f in _RAW_FILES)
            raise DataNotFoundError(
                f"{info.title} not found under {root} and it could not be downloaded ({exc}).\n"
                f"Expected the raw IDX files:\n{expected}\n"
                f"Point --data-dir at a folder that holds {info.folder}/raw/ (for example ../shared/data)."
            ) from exc
    return ds.data.contiguous(), ds.targets.long()


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (B, 28, 28) -> float (B, 1, size, size) in [0, 1], like torchvision ``Resize(size)`` + ``ToTensor()``."""
    x = images.unsqueeze(1).float().div_(255)
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x.clamp_(0, 1)


@dataclass(frozen=True)
class Augment:
    """Random affine augmentation applied to a whole batch at once.

    Each image gets its own rotation, scale, translation and (optionally) horizontal flip; resizing to the
    model's input size happens in the same ``grid_sample``.
    """

    degrees: float = 0.0  # rotation drawn from [-degrees, degrees]
    scale: tuple[float, float] = (1.0, 1.0)  # zoom factor drawn from this range
    translate: float = 0.0  # shift as a fraction of the image side, drawn per axis from [-t, t]
    hflip: bool = False  # mirror half of the images
    dilate: float = 0.0  # probability of thickening strokes by a 3x3 max filter (thick pens, bold uploads)
    flat: float = 0.0  # probability of drawing an item as flat artwork with a drop shadow (``flat_shot``)

    def __call__(self, images: torch.Tensor, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """uint8 (B, 28, 28) -> float (B, 1, size, size) in [0, 1], augmented."""
        b = images.shape[0]
        dev = images.device

        def uniform(lo: float, hi: float) -> torch.Tensor:
            return torch.rand(b, generator=generator, device=dev) * (hi - lo) + lo

        angle = uniform(-self.degrees, self.degrees) * (math.pi / 180)
        zoom = uniform(*self.scale)
        tx, ty = (uniform(-self.translate, self.translate) * 2 for _ in range(2))
        flip = torch.ones(b, device=dev)
        if self.hflip:
            flip = torch.where(torch.rand(b, generator=generator, device=dev) < 0.5, -flip, flip)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        # theta maps output coordinates to input coordinates (both in [-1, 1]).
        theta = torch.stack(
            [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
        )  # (B, 2, 3)
        grid = F.affine_grid(theta, [b, 1, size, size], align_corners=False)
        x = images.unsqueeze(1).float().div_(255)  # (B, 1, 28, 28)
        if self.dilate:
            pick = torch.rand(b, 1, 1, 1, generator=generator, device=dev) < self.dilate
            x = torch.where(pick, F.max_pool2d(x, 3, stride=1, padding=1), x)
        if self.flat:
            pick = torch.rand(b, 1, 1, 1, generator=generator, device=dev) < self.flat
            x = torch.where(pick, flat_shot(x, generator), x)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False).clamp_(0, 1)


def flat_shot(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 1, 28, 28) items in [0, 1] -> the same items as flat artwork on a product shot.

    Product photos and clip art differ from Fashion-MNIST's catalogue photos in two ways that survive the app's
    normalisation (seen on ``clothing-products``): flat fills of a few grey levels instead of fabric texture and
    shading, and a soft drop shadow around the item. Each item gets 2-4 grey levels over its own range (the
    background stays black) and a blurred copy of its silhouette, shifted 0-2 px down and right (one shift per
    batch), at 10-35% brightness beneath it.
    """
    b, dev = x.shape[0], x.device
    levels = torch.randint(2, 5, (b, 1, 1, 1), generator=generator, device=dev).float()
    item = x > 0.1
    flat = torch.where(item, torch.ceil(x * levels) / levels, torch.zeros_like(x))
    shadow = F.avg_pool2d(item.float(), 5, stride=1, padding=2)
    dy, dx = (int(v) for v in torch.randint(0, 3, (2,), generator=generator, device=dev))
    shadow = torch.roll(shadow, (dy, dx), (2, 3))
    strength = torch.rand(b, 1, 1, 1, generator=generator, device=dev) * 0.25 + 0.1
    return torch.maximum(flat, shadow * strength)


# Light augmentation per dataset: digits must not be mirrored or turned much (6 vs 9); clothing may be mirrored.
AUGMENTS: dict[str, Augment] = {
    "digits": Augment(degrees=10, scale=(0.85, 1.15), translate=0.1, dilate=0.2),
    "clothing": Augment(degrees=0, scale=(0.9, 1.1), translate=0.08, hflip=True),
}


class TensorLoader:
    """Batches from a split held in memory as one uint8 tensor.

    Yields ``(x, y)``: x (B, 1, size, size) float32 in [0, 1], ``channels_last``; y (B,) int64.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        size: int,
        batch_size: int,
        shuffle: bool = False,
        augment: Augment | None = None,
        seed: int = 0,
        device: torch.device | str = "cpu",
        drop_last: bool = False,
        twins: torch.Tensor | None = None,
        twin_p: float = 0.0,
    ):
        """``twins`` (N, 28, 28) uint8, if given, replaces each image by its twin with probability ``twin_p``
        (``resnet.lowres``: the digit as a coarse scanner keeps it)."""
        self.images = images.to(device)
        self.twins = None if twins is None else twins.to(device)
        self.twin_p = twin_p
        self.labels = labels.to(device)
        self.size = size
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.drop_last = drop_last
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        dev = self.labels.device
        order = torch.randperm(n, generator=self.generator, device=dev) if self.shuffle else torch.arange(n, device=dev)
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            imgs = self.images[idx]
            if self.twins is not None and self.twin_p:
                pick = torch.rand(len(idx), 1, 1, generator=self.generator, device=dev) < self.twin_p
                imgs = torch.where(pick, self.twins[idx], imgs)
            x = self.augment(imgs, self.size, self.generator) if self.augment else resize(imgs, self.size)
            yield x.contiguous(memory_format=torch.channels_last), self.labels[idx]
