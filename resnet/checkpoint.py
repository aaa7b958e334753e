"""Weights as safetensors files with metadata; written atomically, validated on load, never unpickled."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import safetensors
import torch
from safetensors.torch import save_file

from resnet.data import dataset_info
from resnet.model import ResNet, build_model

FORMAT = "resnet-explainer/1"


class CheckpointError(ValueError):
    """A weights file that is missing, corrupted, or not one of ours."""


@dataclass
class ModelCard:
    """The metadata stored beside the weights."""

    dataset: str
    image_size: int
    epochs: float = 0
    test_accuracy: float | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    date: str = ""
    plain: bool = False  # the plain twin (no shortcuts); files from before the twin existed say nothing: False
    arch: str = "resnet18"  # resnet.model.build_model's name: the lecture's network, or resnet20, resnet56, ...
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def classes(self) -> tuple[str, ...]:
        return dataset_info(self.dataset).classes

    def to_metadata(self) -> dict[str, str]:
        return {
            "format": FORMAT,
            "dataset": self.dataset,
            "classes": json.dumps(list(self.classes)),
            "image_size": str(self.image_size),
            "plain": json.dumps(self.plain),
            "arch": self.arch,
            "epochs": json.dumps(self.epochs),
            "test_accuracy": json.dumps(self.test_accuracy),
            "recipe": json.dumps(self.recipe, sort_keys=True),
            "date": self.date or datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": json.dumps(
                self.versions
                or {
                    "torch": torch.__version__,
                    "torchvision": metadata.version("torchvision"),  # not imported: a heavy import for a string
                    "safetensors": safetensors.__version__,
                }
            ),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, str] | None, path: Path) -> ModelCard:
        if not meta or meta.get("format") != FORMAT:
            raise CheckpointError(f"{path} is not a ResNet explainer checkpoint (no '{FORMAT}' metadata)")
        try:
            card = cls(
                dataset=meta["dataset"],
                image_size=int(meta["image_size"]),
                epochs=json.loads(meta["epochs"]),
                test_accuracy=json.loads(meta["test_accuracy"]),
                recipe=json.loads(meta["recipe"]),
                date=meta["date"],
                versions=json.loads(meta["versions"]),
                plain=json.loads(meta.get("plain", "false")),
                arch=meta.get("arch", "resnet18"),
            )
            build_model(card.arch)
            if not isinstance(card.plain, bool):
                raise ValueError(f"'plain' must be true or false, not {card.plain!r}")
            dataset_info(card.dataset)
        except (KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{path} has invalid metadata: {exc}") from None
        if json.loads(meta["classes"]) != list(card.classes):
            raise CheckpointError(f"{path}: its class names do not match the {card.dataset!r} dataset")
        if not 16 <= card.image_size <= 512:
            raise CheckpointError(f"{path}: image size {card.image_size} is out of range")
        return card


def atomic_save(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str]) -> None:
    """Write a safetensors file via a temporary file and a rename, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp, metadata=metadata)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model: ResNet, card: ModelCard, path: str | Path, half: bool = False) -> None:
    """Save the model's state dict (optionally float16 floats) with ``card`` as metadata.

    With ``half``, a tensor whose values do not fit in float16 stays float32: the BN running variances of a deep
    plain network reach 1e5 and more (plain-56 of the depth experiment), beyond float16's 65,504.
    """
    state = {k: (v.half() if half and _fits_half(v) else v) for k, v in model.state_dict().items()}
    atomic_save(state, path, card.to_metadata())


def _fits_half(t: torch.Tensor) -> bool:
    """A floating tensor whose every value float16 can hold."""
    if not t.is_floating_point() or t.numel() == 0:
        return False
    return bool(t.abs().max() <= torch.finfo(torch.float16).max)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The raw metadata of a safetensors file."""
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except FileNotFoundError:
        raise CheckpointError(f"no weights file at {path}") from None
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc})") from None


def load_state(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and metadata of a safetensors file (read once), with ``CheckpointError`` for anything unreadable."""
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, f.metadata() or {}  # noqa: SIM118 (not a dict)
    except FileNotFoundError:
        raise CheckpointError(f"no weights file at {path}") from None
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file, or is corrupted ({exc})") from None


def load_model(path: str | Path, device: torch.device | str = "cpu") -> tuple[ResNet, ModelCard]:
    """Load a model in eval mode, float32, after checking every tensor's name, shape and the metadata."""
    path = Path(path)
    state, meta = load_state(path)
    card = ModelCard.from_metadata(meta, path)
    model = build_model(card.arch, card.plain)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        kind = f"{'plain ' if card.plain else ''}{card.arch}"
        raise CheckpointError(f"{path} does not hold this {kind}: missing {missing[:3]}, unexpected {extra[:3]}")
    for k, v in expected.items():
        if state[k].shape != v.shape:
            raise CheckpointError(f"{path}: {k} has shape {tuple(state[k].shape)}, expected {tuple(v.shape)}")
        if state[k].is_floating_point() and not torch.isfinite(state[k]).all():
            raise CheckpointError(f"{path}: {k} holds NaN or infinite values")
        state[k] = state[k].to(v.dtype)
    model.load_state_dict(state)
    return model.to(device).eval(), card
