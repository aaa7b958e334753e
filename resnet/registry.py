"""The models the app serves: the shipped ones, checked at start-up and loaded when first used, and those trained
in the app.

A model key is a dataset name for a shipped model ("digits", "clothing"), ``"<dataset>-plain"`` for its shipped
plain twin (when its file is there), or ``"<dataset>:<file stem>"`` for a model trained in the app (what
``add_trained`` returns). Every shipped file is read and checked at start-up, but only the first model stays in
memory; the others load when a view first needs them (a ResNet-18 is ~45 MB of float32 weights: the registry's
process after start-up 823 MB resident with the four loaded, 676 MB with one, measured 2026-12-01), and then stay.
Trained models are kept in memory up to ``MAX_TRAINED``; an older one is dropped and comes back from its file when
asked for again. Each model's sample-set statistics (lesion accuracies, mean block statistics) are computed once
per weights file and kept beside the model; cached ones are read without loading the model.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

import torch

from resnet.checkpoint import CheckpointError, ModelCard, load_model
from resnet.data import DATASETS
from resnet.evaluate import default_weights
from resnet.graphs import LabelGraphs
from resnet.model import ResNet18
from resnet.paths import PathStats, cached_paths
from resnet.samples import Samples, load_samples
from resnet.sampleset import SampleSetStats, cached_stats, read_stats, sha256

MAX_TRAINED = 8  # models trained in the app kept in memory (about 45 MB each); the oldest goes first
PLAIN = "-plain"  # the suffix of a plain twin's key


def serving(model: ResNet18) -> ResNet18:
    """A loaded model made ready to serve: read-only (Grad-CAM needs no weight gradients) and its weights in
    channels-last order, where PyTorch's own convolution for a single small input (im2col and one GEMM; oneDNN's
    is taken only for batches, kernels over 3×3 (the stem) or inputs over 20,480 values) runs about twice as fast.
    Measured here for the digits ResNet-18 at batch 1 on one thread: forward 16.4 → 8.6 ms, forward + backward
    36.8 → 18.4 ms (again with torch 2.14, 2026-12-07: 17.9 → 8.9 ms and 41.0 → 18.0 ms; oneDNN's forced
    instead, 12.5–14.2 ms); outputs equal to float32 rounding."""
    return model.requires_grad_(False).to(memory_format=torch.channels_last)


def shipped_weights() -> dict[str, Path]:
    """Each dataset's shipped model, and its plain twin where that file is shipped, in the model switch's order."""
    weights = {}
    for name in DATASETS:
        weights[name] = default_weights(name)
        if default_weights(name + PLAIN).exists():
            weights[name + PLAIN] = default_weights(name + PLAIN)
    return weights


class ModelRegistry:
    """Model keys to (model, card), with the weights file of each and its sample-set statistics."""

    def __init__(self, weights: Mapping[str, Path] | None = None):
        """Check every shipped weights file (each tensor's name, shape and values, and its card); one that is
        missing or corrupted is reported in ``errors``, not raised, so that the other models still serve. The first
        model that passes stays loaded, the others load on first use (``get``). Raises ``CheckpointError`` only when
        no model passes."""
        self.weights: dict[str, Path] = dict(weights or shipped_weights())
        self.cards: dict[str, ModelCard] = {}  # every model this registry serves, loaded or not
        self.models: dict[str, tuple[ResNet18, ModelCard]] = {}  # those in memory, in order of loading: oldest first
        self.errors: dict[str, str] = {}
        self._trained: set[str] = set()  # keys of every model trained in the app; their files are in `weights`
        self._stats: dict[str, SampleSetStats] = {}
        self._paths: dict[str, PathStats | None] = {}  # shipped models: read at start-up, never computed here
        self._lock = threading.RLock()  # guards the dictionaries; held for no file read
        self._loading: dict[str, threading.Lock] = {}  # one per key: a second caller waits for the first's load
        self.graphs = LabelGraphs()  # the labels' forward passes, traced (resnet/graphs.py)
        for key, path in self.weights.items():
            try:
                model, card = self._load(key, path)
            except CheckpointError as exc:
                self.errors[key] = str(exc)
                continue
            self.cards[key] = card
            self._paths[key] = cached_paths(model, card.dataset, card.image_size, path, compute=None)
            if not self.models:
                self.models[key] = (model, card)
        if not self.cards:
            raise CheckpointError("no model could be loaded: " + "; ".join(self.errors.values()))

    @staticmethod
    def _load(key: str, path: Path) -> tuple[ResNet18, ModelCard]:
        """The served model of ``path``, checked to be what ``key`` names (``CheckpointError`` if not)."""
        model, card = load_model(path)
        if ":" not in key and (card.dataset != key.removesuffix(PLAIN) or card.plain != key.endswith(PLAIN)):
            kind = f"{card.dataset!r}{' plain twin' if card.plain else ''}"
            raise CheckpointError(f"{path} holds a {kind} model, not {key!r}")
        return serving(model), card

    @property
    def shipped(self) -> list[str]:
        """Keys of the shipped models that passed their check, in the order of ``DATASETS``."""
        return [key for key in self.weights if key in self.cards and key not in self._trained]

    def knows(self, model_key: str) -> bool:
        return model_key in self.cards

    def get(self, model_key: str) -> tuple[ResNet18, ModelCard]:
        """The model and card of a key, loaded from its file if it is not in memory (a shipped model not used yet,
        a trained model pushed out): only callers of that key wait for the load, not those of the others."""
        entry = self.models.get(model_key)
        if entry is not None:
            return entry
        if model_key not in self.cards:
            raise KeyError(f"no model {model_key!r}; the models here are {sorted(self.cards)}")
        with self._lock:
            loading = self._loading.setdefault(model_key, threading.Lock())
        with loading:
            entry = self.models.get(model_key)
            if entry is None:
                entry = self._load(model_key, self.weights[model_key])
                with self._lock:
                    self._keep(model_key, entry)
        return entry

    def _keep(self, key: str, entry: tuple[ResNet18, ModelCard]) -> None:
        """Put a loaded model in memory (last: `models` keeps the order of loading), then drop the oldest trained
        models past ``MAX_TRAINED``. Called under the lock."""
        self.models.pop(key, None)
        self.models[key] = entry
        loaded = [k for k in self.models if k in self._trained]  # oldest first
        for old in loaded[: max(0, len(loaded) - MAX_TRAINED)]:
            self.models.pop(old), self._stats.pop(old, None)

    def card(self, model_key: str) -> ModelCard:
        """A model's card (read at start-up or when it was added: it never loads the model)."""
        card = self.cards.get(model_key)
        if card is None:
            raise KeyError(f"no model {model_key!r}; the models here are {sorted(self.cards)}")
        return card

    def samples(self, model_key: str) -> Samples:
        """The shipped test-set samples of the model's dataset."""
        return load_samples(self.card(model_key).dataset)

    def add_trained(self, path: Path) -> str:
        """Load a checkpoint trained in the app (validated) and return its model key.

        At most ``MAX_TRAINED`` stay in memory; adding one more drops the oldest, which ``get()`` reloads from its
        file when it is asked for again. Raises ``CheckpointError`` for a file that is not a valid model.
        """
        path = Path(path)
        model, card = load_model(path)
        key = f"{card.dataset}:{path.stem}"
        with self._lock:
            self.weights[key], self.cards[key] = path, card
            self._trained.add(key)
            self._stats.pop(key, None)
            self._keep(key, (serving(model), card))
        return key

    def twin(self, model_key: str) -> str | None:
        """The shipped model's other half: "digits" <-> "digits-plain" (None when that one is not here)."""
        if model_key in self._trained or model_key not in self.cards:
            return None
        other = model_key.removesuffix(PLAIN) if model_key.endswith(PLAIN) else model_key + PLAIN
        return other if other in self.cards else None

    def label(self, model_key: str) -> str:
        """How a person reads a model key: "clothing", "clothing, plain twin", "clothing (trained here, 2 epochs)"."""
        card = self.card(model_key)
        plain = ", plain twin" if card.plain else ""
        if model_key not in self._trained:
            return card.dataset + plain
        n = int(card.epochs)
        return f"{card.dataset}{plain} (trained here, {n} epoch{'s' * (n != 1)})"

    def path_stats(self, model_key: str) -> PathStats | None:
        """Accuracy for every lesion subset (``python -m resnet.paths`` caches it); None where it was not computed."""
        return self._paths.get(model_key)

    def sample_stats(self, model_key: str) -> SampleSetStats:
        """Lesion accuracies and mean block statistics over the shipped samples (cached per weights file).

        Computed outside the lock: a new model's statistics take half a minute, and other people's views go on.
        """
        with self._lock:
            if model_key in self._stats:
                return self._stats[model_key]
            card, path = self.card(model_key), Path(self.weights[model_key])
        # A model trained in the app keeps its cache beside its file, not among the shipped assets.
        cache = {"cache_dir": path.parent / "cache"} if model_key in self._trained else {}
        digest = sha256(path)  # once: a model's 45 MB file
        stats = read_stats(card.dataset, path, digest=digest, **cache) or cached_stats(
            self.get(model_key)[0], card.dataset, card.image_size, path, digest=digest, **cache
        )
        with self._lock:
            return self._stats.setdefault(model_key, stats)
