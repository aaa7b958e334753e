"""One object the app talks to: both shipped models, loaded once and never changed, and the views built on them.

Every method takes what a person gives (an image of any kind, a model key, the set of lesioned blocks) and
returns pictures, figures and plain numbers. A model key is a dataset name ("digits", "clothing": the shipped
models) or the key ``add_trained`` returned for a model trained in the app ("clothing:<file stem>").
The heavy views share one forward pass: the trace and Grad-CAM of the last few inputs are kept in a small cache
keyed by the preprocessed image, the model key and the lesions.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from resnet import viz
from resnet.architecture import Layer, layer_table
from resnet.checkpoint import CheckpointError, ModelCard, load_model
from resnet.data import DATASETS
from resnet.evaluate import default_weights
from resnet.gradcam import cams_from_trace
from resnet.model import BLOCK_NAMES, STAGES, ResNet18
from resnet.preprocess import Prepared, preprocess
from resnet.probes import BlockStats, Trace, block_stats, trace
from resnet.samples import Samples, load_samples
from resnet.sampleset import SampleSetStats, cached_stats


@dataclass
class Classification:
    top: dict[str, float]  # the top-3 classes with probabilities
    seen: np.ndarray  # (28, 28) uint8: what the model sees
    model_input: np.ndarray  # (S, S) uint8: the resized input the network gets
    prepared: Prepared


@dataclass
class BlockRow:
    """One block's statistics for one input, beside the sample-set means."""

    block: str
    shortcut: str  # "identity" or "1×1 projection"
    lesioned: bool
    ratio: float  # ‖F(x)‖ / ‖x‖
    cosine: float  # cos(F(x), x)
    mean_ratio: float
    mean_cosine: float


@dataclass
class Analysis:
    """One forward (and backward, for Grad-CAM) pass over one input."""

    prepared: Prepared
    trace: Trace
    stats: list[BlockStats]  # ‖F(x)‖/‖x‖ and cos(F(x), x) of every block
    cams: dict[str, torch.Tensor]
    target: int


MAX_TRAINED = 8  # models trained in the app kept in memory (about 45 MB each); the oldest goes first


class Explainer:
    """Both shipped models, any models trained in the app, and everything the app shows about them."""

    def __init__(self, weights: dict[str, Path] | None = None, cache_size: int = 16):
        """Load every weights file; one that is missing or corrupted is reported in ``errors``, not raised,
        so that the other model still serves. Raises ``CheckpointError`` only when no model loads."""
        self.weights = weights or {name: default_weights(name) for name in DATASETS}
        self.models: dict[str, tuple[ResNet18, ModelCard]] = {}
        self.errors: dict[str, str] = {}
        for name, path in self.weights.items():
            try:
                model, card = load_model(path)
                if card.dataset != name:
                    raise CheckpointError(f"{path} holds a {card.dataset!r} model, not {name!r}")
            except CheckpointError as exc:
                self.errors[name] = str(exc)
                continue
            model.requires_grad_(False)  # read-only; Grad-CAM needs gradients w.r.t. activations only
            self.models[name] = (model, card)
        if not self.models:
            raise CheckpointError("no model could be loaded: " + "; ".join(self.errors.values()))
        self._cache: OrderedDict[tuple, Analysis] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.RLock()
        self._stats: dict[str, SampleSetStats] = {}
        self._trained: set[str] = set()  # keys of every model trained in the app; their files are in `weights`

    # -- basics --------------------------------------------------------------------------------------------
    def model(self, key: str) -> tuple[ResNet18, ModelCard]:
        """The model and card of a key; a trained model pushed out of memory comes back from its file."""
        entry = self.models.get(key)
        if entry is None and key in self._trained:
            self.add_trained(self.weights[key])
            entry = self.models[key]
        if entry is None:
            raise KeyError(f"no model {key!r}; the models here are {sorted(self.models)}")
        return entry

    def knows(self, key: str) -> bool:
        return key in self.models or key in self._trained

    def card(self, dataset: str) -> ModelCard:
        return self.model(dataset)[1]

    def dataset_of(self, key: str) -> str:
        """The dataset ("digits" or "clothing") a model key's model was trained on."""
        return self.card(key).dataset

    def classes(self, dataset: str) -> tuple[str, ...]:
        return self.card(dataset).classes

    def samples(self, dataset: str) -> Samples:
        return load_samples(self.dataset_of(dataset))

    def prepare(self, image, dataset: str) -> Prepared:
        """Preprocess; raises ``EmptyDrawingError`` / ``InvalidImageError`` with a message for the person."""
        card = self.card(dataset)
        return preprocess(image, card.dataset, card.image_size)

    def add_trained(self, path: Path) -> str:
        """Load a checkpoint trained in the app (validated) and return its model key.

        At most ``MAX_TRAINED`` stay in memory; adding one more drops the oldest, which ``model()`` reloads from its
        file when it is asked for again.
        Raises ``CheckpointError`` for a file that is not a valid model.
        """
        path = Path(path)
        model, card = load_model(path)
        model.requires_grad_(False)
        key = f"{card.dataset}:{path.stem}"
        with self._lock:
            self.models.pop(key, None)  # (re)inserted last: `models` keeps the order of use
            self.models[key], self.weights[key] = (model, card), path
            self._trained.add(key)
            self._stats.pop(key, None)
            for stale in [k for k in self._cache if k[0] == key]:
                del self._cache[stale]
            loaded = [k for k in self.models if k in self._trained]  # oldest first
            for old in loaded[: max(0, len(loaded) - MAX_TRAINED)]:
                self.models.pop(old), self._stats.pop(old, None)
        return key

    # -- the light path: stroke to label ---------------------------------------------------------------------
    @torch.no_grad()
    def classify(self, image, dataset: str, lesions: Collection[str] = ()) -> Classification:
        p = self.prepare(image, dataset)
        model, card = self.model(dataset)
        logits = model.forward_lesioned(p.tensor, set(lesions))[0]
        return Classification(
            viz.top_classes(logits, card.classes),
            (p.image * 255).round().astype(np.uint8),
            (p.tensor[0, 0].clamp(0, 1) * 255).round().byte().numpy(),
            p,
        )

    # -- the heavy views, sharing one pass -----------------------------------------------------------------
    def analyse(self, image, dataset: str, lesions: Collection[str] = (), target: int | None = None) -> Analysis:
        p = self.prepare(image, dataset)
        key = (dataset, frozenset(lesions), target, hashlib.sha1(p.tensor.numpy().tobytes()).hexdigest())
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        model, _ = self.model(dataset)
        with torch.enable_grad():  # the parameters are frozen: gradients start at the input
            t = trace(model, p.tensor.detach().requires_grad_(True), lesions, keep_graph=True)
            cams, cls = cams_from_trace(t, p.tensor.shape[-1], target)
        t = _detached(t)
        result = Analysis(p, t, block_stats(t), cams, cls)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def feature_maps(self, a: Analysis, max_channels: int | None = 16) -> list[tuple[np.ndarray, str]]:
        """One grid per stage (b1..b5) with captions like "b3 · 128 × 8 × 8"."""
        out = []
        for name in STAGES:
            acts = a.trace.stages[name][0]
            grid, _ = viz.feature_grid(acts, max_channels, tile=48 if max_channels else 24)
            c, h, w = acts.shape
            shown = f"top {min(max_channels, c)}" if max_channels else "all"
            out.append((grid, f"{name} · {c} × {h} × {w} ({shown})"))
        return out

    def stage_channels(self, a: Analysis, stage: str) -> tuple[np.ndarray, str]:
        acts = a.trace.stages[stage][0]
        c, h, w = acts.shape
        grid, _ = viz.feature_grid(acts, None, tile=max(16, 128 // h), columns=int(np.ceil(np.sqrt(c))))
        return grid, f"{stage} · {c} × {h} × {w}: all {c} channels, strongest first"

    def gradcams(self, a: Analysis, dataset: str) -> list[tuple[np.ndarray, str]]:
        image = a.prepared.tensor[0, 0]
        cls = self.classes(dataset)[a.target]
        return [(viz.gradcam_overlay(image, cam), f"{name} · “{cls}”") for name, cam in a.cams.items()]

    def block_rows(self, a: Analysis, dataset: str) -> list[BlockRow]:
        """Per block: ‖F(x)‖/‖x‖ and cos(F(x), x) for this input and averaged over the sample set."""
        avg = self.sample_stats(dataset)
        return [
            BlockRow(
                b.name,
                "1×1 projection" if b.projects else "identity",
                b.lesioned,
                float(s.ratio[0]),
                float(s.cosine[0]),
                avg.mean_ratio[b.name],
                avg.mean_cosine[b.name],
            )
            for b, s in zip(a.trace.blocks, a.stats, strict=True)
        ]

    def block_panel(self, a: Analysis) -> np.ndarray:
        return viz.block_panel(a.trace.blocks, a.stats)

    def residual_views(self, a: Analysis, dataset: str) -> tuple[np.ndarray, Figure]:
        """The block panel and the chart of the block statistics beside their sample-set means."""
        rows = self.block_rows(a, dataset)
        fig = viz.block_stats_figure(
            [r.block for r in rows],
            [r.ratio for r in rows],
            [r.cosine for r in rows],
            [r.mean_ratio for r in rows],
            [r.mean_cosine for r in rows],
            [r.shortcut != "identity" for r in rows],
        )
        return self.block_panel(a), fig

    # -- model-level views ---------------------------------------------------------------------------------
    def sample_stats(self, dataset: str) -> SampleSetStats:
        """Lesion accuracies and mean block statistics over the shipped samples (cached per weights file).

        Computed outside the lock: a new model's statistics take half a minute, and other people's views go on.
        """
        with self._lock:
            if dataset in self._stats:
                return self._stats[dataset]
            model, card = self.model(dataset)
            path = Path(self.weights[dataset])
        # A model trained in the app keeps its cache beside its file, not among the shipped assets.
        cache = {"cache_dir": path.parent / "cache"} if dataset in self._trained else {}
        stats = cached_stats(model, card.dataset, card.image_size, path, **cache)
        with self._lock:
            return self._stats.setdefault(dataset, stats)

    def lesion_figure(self, dataset: str) -> Figure:
        s = self.sample_stats(dataset)
        model, _ = self.model(dataset)
        projects = [block.projects for _, block in model.blocks()]
        accuracy = [s.lesion_accuracy[n] for n in BLOCK_NAMES]
        return viz.lesion_figure(BLOCK_NAMES, accuracy, s.baseline, projects, self.label(dataset))

    def label(self, key: str) -> str:
        """How a person reads a model key: "clothing", or "clothing (trained here, 2 epochs)"."""
        if key not in self._trained:
            return key
        card = self.card(key)
        n = int(card.epochs)
        return f"{card.dataset} (trained here, {n} epoch{'s' * (n != 1)})"

    def architecture(self, dataset: str) -> list[Layer]:
        model, card = self.model(dataset)
        return layer_table(model, card.image_size)


def _detached(t: Trace) -> Trace:
    return Trace({k: v.detach() for k, v in t.stages.items()}, t.blocks, t.logits.detach())
