"""Two measured speed-ups for training on a small CPU; neither changes what the network computes.

- ``keep_freed_memory()``: glibc hands every large freed block back to the kernel and takes fresh pages for the
  next one, so each training step page-faults and zeroes hundreds of megabytes (about 90,000 faults per step of
  batch 256 at 64 px). Keeping freed memory in the heap removes that: about 6% more images/s on 2 cores.
- ``fast_weight_grads(model)``: oneDNN's weight gradient is slow for convolutions on small feature maps (b4 at
  4x4, b5 at 2x2 with 64 px inputs), about 2x slower than the same product done as one GEMM. The swapped
  convolutions (``SmallMapConv2d``) compute that gradient as ``grad_out^T @ columns(x)``; the forward and the input
  gradient stay oneDNN's. About 11% more images/s on 2 cores; gradients equal autograd's to float32 rounding.

``python benchmarks/train_throughput.py`` measures both against the lecture's reference pipeline.

For the server, the opposite: ``bound_heaps(2)`` and ``trim_every(seconds)`` keep a long-running app's resident
memory from creeping up (``python benchmarks/load.py --soak 240`` measures it), and ``freeze_startup_heap()`` keeps
Python's cyclic garbage collector from stopping every thread to walk the imported libraries and the models.
``LowPriorityThread`` runs work that may wait (the views' analyses) below the priority of the rest (the labels).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

T = TypeVar("T")

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8


def _libc() -> ctypes.CDLL | None:
    """glibc, or None where the C library is something else (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallopt, libc.malloc_trim  # noqa: B018 (both must exist)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse instead of returning it to the kernel; process-wide.

    The process's resident memory then stays at its peak (about 1.7 GB for batch 256 at 64 px). Returns whether
    the setting took (False where the C library is not glibc).
    """
    libc = _libc()
    if libc is None:
        return False
    # No mmap for large blocks (they come from the heap and are reused), and never trim the heap's top.
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def bound_heaps(heaps: int) -> bool:
    """At most ``heaps`` glibc heaps (arenas) for all threads; call it before the threads start.

    glibc gives each new thread that allocates its own heap, up to 8 per core; a server that runs calls on a pool
    of threads then holds freed memory scattered over many heaps that it never returns. Returns whether it took.
    """
    libc = _libc()
    return libc is not None and bool(libc.mallopt(_M_ARENA_MAX, heaps))


def trim_every(seconds: float) -> threading.Thread | None:
    """A daemon thread that hands the heaps' free pages back to the kernel every ``seconds`` (``malloc_trim``); one
    per process (a second call returns the running one)."""
    libc = _libc()
    if libc is None:
        return None
    running = [t for t in threading.enumerate() if t.name == "malloc-trim"]
    if running:
        return running[0]

    def trim() -> None:
        while True:
            time.sleep(seconds)
            libc.malloc_trim(0)

    thread = threading.Thread(target=trim, name="malloc-trim", daemon=True)
    thread.start()
    return thread


def freeze_startup_heap() -> int:
    """Collect, then put every object alive now beyond the cyclic garbage collector's reach (``gc.freeze``); the
    number of objects frozen.

    A full collection walks every object the collector tracks while it holds the GIL: in the server that is the
    whole of PyTorch, Gradio, matplotlib, the models and the page's components, created once at start-up and alive
    until the end (~400,000 tracked objects). Under 30 students a full collection came about every 20-30 s and
    took 302 ms of CPU, every thread stopped (``gc.callbacks`` in a timed server, 2026-12-06): all labels in flight
    waited that long. Frozen, the same collection took 30 ms: it walks only what was made since (~37,000 objects).
    Objects made later are collected as before; a start-up object is still freed by its reference count (only
    a cycle among start-up objects would now stay: they live to the end anyway). The collection before the
    freeze costs the start-up ~0.26 s once (the same timed server), so that no garbage is frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class LowPriorityThread:
    """One thread of this process, ``nice`` levels below the rest of it, that runs calls one at a time.

    On Linux a thread has a priority of its own (``setpriority`` on its thread id): where both cores are busy, the
    kernel then runs the other threads' work first (the labels' forward passes) and this one's in what is left,
    preempting it mid-convolution, which no lock between Python steps can. With one torch thread a call, a
    call's tensor work runs on this thread too. Where the priority cannot be set (another OS), the calls still run
    one at a time here, at the process's priority. A thread cannot raise its priority again without privileges,
    which is why it is a thread of its own and not the caller's.
    """

    def __init__(self, nice: int, name: str) -> None:
        self.nice = nice
        self.lowered = False  # whether the priority took
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name, initializer=self._lower)

    def _lower(self) -> None:
        if self.nice <= 0 or not hasattr(os, "setpriority"):
            return
        tid = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.nice)
            self.lowered = True
        except OSError:
            pass

    def run(self, fn: Callable[..., T], *args) -> T:
        """``fn(*args)`` on this thread, after the calls before it; its result or its exception."""
        return self._pool.submit(fn, *args).result()


def columns(
    x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]
) -> torch.Tensor:
    """The patches a convolution sees: (N, C, H, W) -> (N * Ho * Wo, kh * kw * C), rows in output order.

    Built from one channels-last copy of the padded input as a strided view, so columns are ordered
    (kh, kw, C) to match a weight laid out as (Cout, kh, kw, Cin). ``F.unfold`` gives the same numbers in
    (C, kh, kw) order per image, but its transposed copy made the weight gradient 20-50% slower here.
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = F.pad(x, (pw, pw, ph, ph)).permute(0, 2, 3, 1).contiguous()  # (N, H + 2ph, W + 2pw, C)
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    s_n, s_h, s_w, s_c = xp.stride()
    patches = xp.as_strided((n, ho, wo, kh, kw, c), (s_n, s_h * sh, s_w * sw, s_h, s_w, s_c))
    return patches.reshape(n * ho * wo, kh * kw * c)


class _GemmWeightGradConv(torch.autograd.Function):
    """conv2d whose backward takes the weight gradient from one GEMM and the input gradient from oneDNN."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv2d(x, weight, bias, stride, padding)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        c_out, c_in, kh, kw = weight.shape
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.nn.grad.conv2d_input(x.shape, weight, grad_out, ctx.stride, ctx.padding)
        if ctx.needs_input_grad[1]:
            g = grad_out.permute(0, 2, 3, 1).reshape(-1, c_out)  # (N * Ho * Wo, Cout)
            cols = columns(x, (kh, kw), ctx.stride, ctx.padding)  # (N * Ho * Wo, kh * kw * Cin)
            grad_w = (g.t() @ cols).view(c_out, kh, kw, c_in).permute(0, 3, 1, 2)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_out.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


class SmallMapConv2d(nn.Conv2d):
    """``nn.Conv2d`` with a GEMM weight gradient when training on a CPU with at most ``max_positions`` outputs.

    Same parameters and state-dict keys as ``nn.Conv2d``; evaluation, GPUs and larger maps take the usual path.
    """

    max_positions = 16  # 4x4: measured faster from 2x2 to 4x4, level at 8x8, slower at 16x16 (2 cores, AVX2)

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if x.device.type == "cpu" and torch.is_grad_enabled() and weight.requires_grad:
            ho = (x.shape[-2] + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
            wo = (x.shape[-1] + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
            if ho * wo <= self.max_positions:
                return _GemmWeightGradConv.apply(x, weight, bias, self.stride, self.padding)
        return super()._conv_forward(x, weight, bias)


def fast_weight_grads(model: nn.Module) -> nn.Module:
    """Swap every plain ``nn.Conv2d`` of ``model`` for a ``SmallMapConv2d`` sharing its parameters; in place.

    The state dict (names, shapes, values) is unchanged, so checkpoints and plain models load each other.
    """
    for name, child in list(model.named_children()):
        plain = type(child) is nn.Conv2d and isinstance(child.padding, tuple)
        if plain and child.groups == 1 and child.dilation == (1, 1) and child.padding_mode == "zeros":
            swapped = SmallMapConv2d(
                child.in_channels,
                child.out_channels,
                child.kernel_size,
                child.stride,
                child.padding,
                bias=child.bias is not None,
                device="meta",
            )
            swapped.weight, swapped.bias = child.weight, child.bias
            setattr(model, name, swapped)
        else:
            fast_weight_grads(child)
    return model
