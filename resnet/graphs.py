"""A label's forward pass as one TorchScript graph: Python's GIL given up once a pass, not at every operation.

Under a class the server's one interpreter is shared by the views (drawing pictures in Python), Gradio's event
loop and the label workers. Every eager PyTorch operation gives the GIL up and must win it back, and a thread that
wants it back waits until the thread holding it reaches the interpreter's switch interval (5 ms). A ResNet-18
forward pass is ~75 operations. Measured (2026-11-30, the digits model, one torch thread, batch 1): alone, eager
p50 8.3 ms and the traced graph 7.6 ms; beside one thread running Python (as a view drawing its pictures), eager
p50 394 ms and the graph 13–18 ms. The graph runs the same kernels on the model's own weights (shared, not copied):
its logits equal the eager pass's bit for bit (``tests/test_graphs.py``).

``torch.jit.trace`` is deprecated in favour of ``torch.compile`` and ``torch.export``, which need a C++ compiler
at run time or run their graph op by op from Python; if tracing is gone or fails, the eager pass serves.
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections import OrderedDict

import torch
from torch import nn

from resnet.model import ResNet

# One trace per (model, lesion set, input shape): ~70 ms to make, a few MB to keep. Labels nearly always ask for
# the intact model and a handful of lesion sets a lecture uses.
CACHE_SIZE = 8

warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=FutureWarning)


class _Lesioned(nn.Module):
    """``model.forward_lesioned`` with a fixed lesion set, as a module to trace (it holds the model, not a copy)."""

    def __init__(self, model: ResNet, lesions: tuple[str, ...]):
        super().__init__()
        self.model, self.lesions = model, lesions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_lesioned(x, self.lesions)


class LabelGraphs:
    """Traced forward passes of the served models, made on first use and kept for the last ``size`` keys
    (thread-safe). ``enabled=False`` (or ``$RESNET_LABEL_GRAPHS=0``) runs every pass eagerly."""

    def __init__(self, size: int = CACHE_SIZE, enabled: bool | None = None):
        self.enabled = os.environ.get("RESNET_LABEL_GRAPHS", "1") != "0" if enabled is None else enabled
        self._size = size
        # key -> (the model it was traced from, the graph): a model reloaded under the same id never hits.
        self._graphs: OrderedDict[tuple, tuple[weakref.ref, torch.jit.ScriptModule]] = OrderedDict()
        self._lock = threading.Lock()

    def forward(self, model: ResNet, x: torch.Tensor, lesions: tuple[str, ...] = ()) -> torch.Tensor:
        """Logits (B, classes) of ``x`` (B, 1, S, S), as ``model.forward_lesioned(x, lesions)``; call it under
        ``torch.no_grad()`` (a traced graph is for inference only)."""
        graph = self._graph(model, x, lesions) if self.enabled and not torch.is_grad_enabled() else None
        return graph(x) if graph is not None else model.forward_lesioned(x, lesions)

    def _graph(self, model: ResNet, x: torch.Tensor, lesions: tuple[str, ...]) -> torch.jit.ScriptModule | None:
        key = (id(model), tuple(lesions), tuple(x.shape), x.dtype)
        with self._lock:
            hit = self._graphs.get(key)
            if hit is not None and hit[0]() is model:
                self._graphs.move_to_end(key)
                return hit[1]
        try:  # outside the lock: other labels go on while one set of lesions is traced
            graph = torch.jit.trace(_Lesioned(model, tuple(lesions)).eval(), x, check_trace=False)
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
