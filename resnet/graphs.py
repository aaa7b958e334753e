"""A label's forward pass, and an analysis's probed pass, as one TorchScript graph each: Python's GIL given up once
a pass, not at every operation.

Under a class the server's one interpreter is shared by the views, Gradio's event loop and the label workers.
Every eager PyTorch operation gives the GIL up and must win it back, and a thread that wants it back waits until
the thread holding it reaches the interpreter's switch interval (5 ms). A ResNet-18 forward pass is ~75
operations. Measured (2026-11-30, the digits model, one torch thread, batch 1): alone, eager p50 8.3 ms and the
traced graph 7.6 ms; beside one thread running Python (as a view drawing its pictures), eager p50 394 ms and the
graph 13–18 ms. The graph runs the same kernels on the model's own weights (shared, not copied): its logits equal
the eager pass's bit for bit (``tests/test_graphs.py``). An analysis's pass (``probes.trace``: every stage and
block tensor, attached for Grad-CAM) is traced the same way (``LabelGraphs.trace``).

``torch.jit.trace`` is deprecated in favour of ``torch.compile`` and ``torch.export``, which need a C++ compiler
at run time or run their graph op by op from Python; if tracing is gone or fails, the eager pass serves.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection

import torch
from torch import nn

from resnet.model import STAGES, ResNet
from resnet.probes import BlockTrace, Trace, trace

# One trace per (model, lesion set, input shape): ~70 ms to make, a few MB to keep. Labels nearly always ask for
# the intact model and a handful of lesion sets a lecture uses.
CACHE_SIZE = 8

warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=FutureWarning)
# The labels' passes as graphs (these traces, the preprocessing's scripted functions): ``$RESNET_LABEL_GRAPHS=0``
# runs them eagerly.
ENABLED = os.environ.get("RESNET_LABEL_GRAPHS", "1") != "0"


@functools.cache
def scripted(fn: Callable) -> Callable:
    """``fn`` (written in TorchScript's Python) compiled by ``torch.jit.script`` once, or ``fn`` itself where
    TorchScript is gone or cannot compile it (the tests check that the served functions compile)."""
    try:
        return torch.jit.script(fn)
    except Exception:
        return fn


class _Lesioned(nn.Module):
    """``model.forward_lesioned`` with a fixed lesion set, as a module to trace (it holds the model, not a copy)."""

    def __init__(self, model: ResNet, lesions: tuple[str, ...]):
        super().__init__()
        self.model, self.lesions = model, lesions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_lesioned(x, self.lesions)


class _Probed(nn.Module):
    """``probes.trace(model, x, lesions, keep_graph=True)`` with a fixed lesion set, its tensors as one flat tuple
    (``flatten``), as a module to trace (it holds the model, not a copy)."""

    def __init__(self, model: ResNet, lesions: tuple[str, ...]):
        super().__init__()
        self.model, self.lesions = model, lesions

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return flatten(trace(self.model, x, self.lesions, keep_graph=True))


def flatten(t: Trace) -> tuple[torch.Tensor, ...]:
    """A trace's tensors in order: its stages, its logits, then per block its input, shortcut (where it has
    one), residual, sum and output."""
    flat = [*t.stages.values(), t.logits]
    for b in t.blocks:
        flat += [b.input, *([] if b.shortcut is None else [b.shortcut]), b.residual, b.preact, b.output]
    return tuple(flat)


def unflatten(model: ResNet, lesions: Collection[str], flat: tuple[torch.Tensor, ...]) -> Trace:
    """The trace of ``model`` with ``lesions`` whose tensors are ``flat`` (``flatten``'s order): the names and kinds
    come from the model, as ``probes.trace`` takes them (a plain block has no shortcut)."""
    tensors = iter(flat)
    stages = {name: next(tensors) for name in STAGES}
    logits = next(tensors)
    blocks = []
    for name, block in model.blocks():
        x = next(tensors)
        shortcut = None if block.plain else next(tensors)
        maps = (next(tensors) for _ in "rpo")  # residual, sum, output
        blocks.append(BlockTrace(name, block.projects, block.plain, name in lesions, x, shortcut, *maps))
    return Trace(stages, blocks, logits)


class LabelGraphs:
    """Traced forward passes of the served models, made on first use and kept for the last ``size`` keys
    (thread-safe). ``enabled=False`` (or ``$RESNET_LABEL_GRAPHS=0``) runs every pass eagerly."""

    def __init__(self, size: int = CACHE_SIZE, enabled: bool | None = None):
        self.enabled = ENABLED if enabled is None else enabled
        self._size = size
        # key -> (the model it was traced from, the graph): a model reloaded under the same id never hits.
        self._graphs: OrderedDict[tuple, tuple[weakref.ref, torch.jit.ScriptModule]] = OrderedDict()
        self._lock = threading.Lock()

    def forward(self, model: ResNet, x: torch.Tensor, lesions: tuple[str, ...] = ()) -> torch.Tensor:
        """Logits (B, classes) of ``x`` (B, 1, S, S), as ``model.forward_lesioned(x, lesions)``; call it under
        ``torch.no_grad()`` (a traced graph is for inference only)."""
        graph = self._graph(model, x, lesions) if self.enabled and not torch.is_grad_enabled() else None
        return graph(x) if graph is not None else model.forward_lesioned(x, lesions)

    def trace(self, model: ResNet, x: torch.Tensor, lesions: tuple[str, ...] = ()) -> Trace:
        """``probes.trace(model, x, lesions, keep_graph=True)`` for an analysis (``x`` (1, 1, S, S) requiring grad,
        under ``torch.enable_grad()``), as one graph: the same tensors bit for bit, its stages attached to the
        autograd graph for Grad-CAM (``tests/test_graphs.py``).

        The graph runs unoptimised (``torch.jit.optimized_execution(False)``, a setting of this thread): its
        optimiser folds the pass into one differentiable node after two calls, and the gradient of the logits with
        respect to a stage, an output of that node, then came out wrong. Unoptimised, every operation keeps its own
        autograd step, as in the eager pass. Measured (digits, one torch thread): trace and Grad-CAM beside a thread
        running Python, eager p50 1,269 ms, this graph 457 ms; alone 16.2 and 15.8 ms.
        """
        if not (self.enabled and torch.is_grad_enabled()):
            return trace(model, x, lesions, keep_graph=True)
        key = ("trace", id(model), tuple(sorted(lesions)), tuple(x.shape), x.dtype)
        with torch.jit.optimized_execution(False):
            graph = self._kept(
                key, model, lambda: torch.jit.trace(_Probed(model, tuple(lesions)).eval(), x, check_trace=False)
            )
            return trace(model, x, lesions, keep_graph=True) if graph is None else unflatten(model, lesions, graph(x))

    def _graph(self, model: ResNet, x: torch.Tensor, lesions: tuple[str, ...]) -> torch.jit.ScriptModule | None:
        """A label's forward pass of ``model`` with ``lesions``, traced for inputs shaped as ``x``."""
        key = (id(model), tuple(sorted(lesions)), tuple(x.shape), x.dtype)
        return self._kept(
            key, model, lambda: torch.jit.trace(_Lesioned(model, tuple(lesions)).eval(), x, check_trace=False)
        )

    def _kept(
        self, key: tuple, model: ResNet, make: Callable[[], torch.jit.ScriptModule]
    ) -> torch.jit.ScriptModule | None:
        """The graph kept under ``key`` for ``model``, made by ``make`` (a trace) on first use; None where tracing
        fails."""
        with self._lock:
            hit = self._graphs.get(key)
            if hit is not None and hit[0]() is model:
                self._graphs.move_to_end(key)
                return hit[1]
        try:  # outside the lock: other labels go on while one set of lesions is traced
            graph = make()
        except Exception:  # no TorchScript here (or a model it cannot trace): the eager pass serves
            return None
        with self._lock:
            for old in [k for k, (ref, _) in self._graphs.items() if ref() is None]:
                del self._graphs[old]  # a model no longer served: its graph would keep its weights alive
            self._graphs[key] = (weakref.ref(model), graph)
            while len(self._graphs) > self._size:
                self._graphs.popitem(last=False)
        return graph

    def __len__(self) -> int:
        return len(self._graphs)
