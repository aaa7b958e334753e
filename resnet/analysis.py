"""What one input does inside one model: the light path (stroke to label) and the analysis the views share.

``classify`` is one forward pass. ``Analyser.analyse`` is one traced forward pass and one Grad-CAM backward pass,
kept in a small cache keyed by the preprocessed image, the model key, the lesions and the Grad-CAM class, so
that every view of the same input reads the same pass. A stroke's label and its view (``/classify`` and
``/explain`` of one upload) share one preprocessing (``Preparations``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from resnet.gradcam import cams_from_trace
from resnet.model import check_lesions
from resnet.pictures import BlockMaps, Snapshot, digest
from resnet.preprocess import Prepared, preprocess
from resnet.probes import BlockStats, Trace, block_stats
from resnet.registry import ModelRegistry


@dataclass
class Classification:
    top: dict[str, float]  # the top-3 classes with probabilities
    seen: np.ndarray  # (28, 28) uint8: what the model sees
    model_input: np.ndarray  # (S, S) uint8: the resized input the network gets
    prepared: Prepared


@dataclass
class Analysis:
    """One forward (and backward, for Grad-CAM) pass of one input through one model."""

    model_key: str
    classes: tuple[str, ...]
    prepared: Prepared
    trace: Trace
    stats: list[BlockStats]  # ‖F(x)‖/‖x‖ and cos(F(x), x) of every block
    cams: dict[str, torch.Tensor]  # stage -> (S, S) Grad-CAM map in [0, 1]
    target: int  # the class Grad-CAM explains

    @property
    def target_name(self) -> str:
        return self.classes[self.target]

    @functools.cached_property
    def snapshot(self) -> Snapshot:
        """The arrays of this analysis (its first input) that its pictures read, sharing the tensors' memory.

        ``Tensor.numpy`` keeps the GIL where every PyTorch operation gives it up: under a class each of those waits
        up to the 5 ms switch interval behind the threads running Python (benchmarks/label_gil.py).
        """

        def first(t: torch.Tensor | None) -> np.ndarray | None:
            return None if t is None else t.numpy()[0]

        blocks = [
            BlockMaps(
                b.name,
                b.projects,
                b.plain,
                b.lesioned,
                float(s.ratio.numpy()[0]),
                float(s.cosine.numpy()[0]),
                first(b.shortcut),
                first(b.residual),
                first(b.preact),
                first(b.output),
            )
            for b, s in zip(self.trace.blocks, self.stats, strict=True)
        ]
        stages = {name: first(t) for name, t in self.trace.stages.items()}
        cams = {name: cam.numpy() for name, cam in self.cams.items()}
        return Snapshot(self.prepared.tensor.numpy()[0, 0], stages, blocks, cams, self.target_name)


def top_classes(logits: torch.Tensor, classes: Sequence[str], k: int = 3) -> dict[str, float]:
    """The k most likely classes of logits (10,) (not attached to an autograd graph) with their softmax
    probabilities, computed in NumPy: ten numbers, no operation that gives the GIL up (each of PyTorch's softmax,
    topk and item did, and waited up to 5 ms to win it back under a class: benchmarks/label_gil.py)."""
    z = logits.numpy().astype(np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    return {classes[i]: float(p[i]) for i in np.argsort(-p, kind="stable")[:k]}


def prepare(registry: ModelRegistry, image, model_key: str) -> Prepared:
    """Preprocess for a model; raises ``EmptyDrawingError`` / ``InvalidImageError`` with a message for the person."""
    card = registry.card(model_key)
    return preprocess(image, card.dataset, card.image_size)


def identity(image) -> tuple | None:
    """What names an input's content (``Preparations``' key, and the app's note of each session's latest input): an
    array's or bytes' digest, a file's path with its size and modification time (a file rewritten in place is a new
    input; a file that is gone, its path alone); None for anything else (never kept)."""
    if isinstance(image, np.ndarray | bytes):
        return ("data", digest(image))
    if isinstance(image, str | os.PathLike):
        try:
            st = os.stat(image)
        except OSError:
            return ("file", os.fspath(image))  # preprocess says what is wrong with it (an error is never kept)
        return ("file", os.fspath(image), st.st_size, st.st_mtime_ns)
    return None


class Preparations:
    """The preprocessing of the last few inputs, so that a stroke's label and its view preprocess it once.

    After a stroke the page asks for the label, then the view, each with the same canvas (decoded again by Gradio);
    an API client asks ``/classify``, then ``/explain``, with one uploaded file. Preprocessing is ~5 ms alone on this
    machine (a label's forward pass ~12 ms) and ~9 ms under 30 students (py-spy). The ``Prepared`` handed out is
    shared: nothing downstream writes to it. Thread-safe; two threads missing at once both compute it.
    """

    def __init__(self, registry: ModelRegistry, size: int | None = None):
        """``size`` inputs kept ($RESNET_PREPARED_KEPT, default 64; 0 keeps none, as before)."""
        self.registry = registry
        self.size = int(os.environ.get("RESNET_PREPARED_KEPT", 64)) if size is None else size
        self.hits = self.misses = 0
        self._kept: OrderedDict[tuple, Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, image, model_key: str, name: tuple | None = None) -> Prepared:
        """``prepare(registry, image, model_key)``, from the kept ones where the same input was prepared the same
        way (the model's dataset and input size, not the model: every model of a dataset and size shares it).
        ``name``: the input's ``identity`` where the caller already has it (a canvas's digest is ~0.26 ms)."""
        card = self.registry.card(model_key)
        name = identity(image) if name is None else name
        if name is None or self.size <= 0:
            return preprocess(image, card.dataset, card.image_size)
        key = (card.dataset, card.image_size, *name)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return kept
            self.misses += 1
        p = preprocess(image, card.dataset, card.image_size)
        with self._lock:
            self._kept[key] = p
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return p


@torch.no_grad()
def classify(
    registry: ModelRegistry,
    image,
    model_key: str,
    lesions: Collection[str] = (),
    prepared: Preparations | None = None,
    name: tuple | None = None,
) -> Classification:
    """The light path: preprocess (or take the kept preprocessing from ``prepared``, ``name`` the input's
    ``identity`` if known) and one (lesioned) forward pass; ``ValueError`` for unknown lesion names."""
    lesions = check_lesions(lesions)
    p = prepare(registry, image, model_key) if prepared is None else prepared(image, model_key, name)
    model, card = registry.get(model_key)
    logits = registry.graphs.forward(model, p.tensor, lesions)[0]  # one GIL release, not ~75 (resnet/graphs.py)
    return Classification(
        top_classes(logits, card.classes),
        p.view,
        np.round(np.clip(p.tensor.numpy()[0, 0], 0, 1) * 255).astype(np.uint8),  # NumPy keeps the GIL, torch's ops not
        p,
    )


class Analyser:
    """Traces and Grad-CAM of the last few inputs, shared by every view (thread-safe)."""

    def __init__(self, registry: ModelRegistry, cache_size: int = 16, scripted: bool = True):
        """``scripted``: Grad-CAM, the detach and the block statistics each as one TorchScript call (the GIL given up
        once each; False: the same operations eagerly, as benchmarks/explain_gil.py compares)."""
        self.registry = registry
        self.scripted = scripted
        # key -> (the model it was computed with, the analysis): a model reloaded under the same key never hits.
        self._cache: OrderedDict[tuple, tuple[weakref.ref, Analysis]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.prepared = Preparations(registry)  # shared with the labels (``classify(..., prepared=)``)

    def analyse(self, image, model_key: str, lesions: Collection[str] = (), target: int | None = None) -> Analysis:
        """The analysis of ``image`` with Grad-CAM for class ``target`` (the prediction when None)."""
        lesions = check_lesions(lesions)
        p = self.prepared(image, model_key)
        model, card = self.registry.get(model_key)
        key = (model_key, lesions, target, hashlib.sha1(p.tensor.numpy().tobytes()).hexdigest())
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0]() is model:
                self._cache.move_to_end(key)
                return hit[1]
        with torch.enable_grad():  # the parameters are frozen: gradients start at the input
            t = self.registry.graphs.trace(model, p.tensor.detach().requires_grad_(True), lesions)  # resnet/graphs.py
            cams, cls = cams_from_trace(t, p.tensor.shape[-1], target, graph=self.scripted)
        t = t.detached(graph=self.scripted)
        result = Analysis(model_key, card.classes, p, t, block_stats(t, graph=self.scripted), cams, cls)
        with self._lock:
            self._cache[key] = (weakref.ref(model), result)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result
