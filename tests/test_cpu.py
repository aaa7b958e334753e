"""The CPU speed-ups compute exactly what the plain network computes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from resnet.cpu import LowPriorityThread, SmallMapConv2d, columns, fast_weight_grads
from resnet.model import ResNet18

CASES = [  # (c_in, c_out, kernel, stride, padding, size)
    (8, 16, 3, 1, 1, 2),
    (8, 16, 3, 2, 1, 4),
    (4, 6, 3, 1, 1, 3),
    (8, 16, 1, 2, 0, 4),
    (2, 5, 7, 2, 3, 5),
]


@pytest.mark.parametrize("c_in,c_out,k,s,p,size", CASES)
@pytest.mark.parametrize("channels_last", [False, True])
def test_columns_match_unfold(c_in, c_out, k, s, p, size, channels_last):
    x = torch.randn(3, c_in, size, size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    cols = columns(x, (k, k), (s, s), (p, p))
    ref = F.unfold(x, k, padding=p, stride=s)  # (N, C * k * k, L), ordered (C, kh, kw)
    ref = ref.view(3, c_in, k, k, -1).permute(0, 4, 2, 3, 1).reshape(cols.shape)  # -> (N * L, kh * kw * C)
    torch.testing.assert_close(cols, ref, rtol=0, atol=0)


@pytest.mark.parametrize("c_in,c_out,k,s,p,size", CASES)
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_small_map_conv_gradients_equal_autograd(c_in, c_out, k, s, p, size, channels_last, bias):
    torch.manual_seed(0)
    plain = nn.Conv2d(c_in, c_out, k, stride=s, padding=p, bias=bias)
    swapped = fast_weight_grads(nn.Sequential(nn.Conv2d(c_in, c_out, k, stride=s, padding=p, bias=bias)))[0]
    assert isinstance(swapped, SmallMapConv2d)
    swapped.load_state_dict(plain.state_dict())
    x = torch.randn(4, c_in, size, size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        plain, swapped = plain.to(memory_format=torch.channels_last), swapped.to(memory_format=torch.channels_last)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = plain(xa), swapped(xb)
    assert yb.grad_fn is not None and "GemmWeightGrad" in type(yb.grad_fn).__name__  # the fast path ran
    torch.testing.assert_close(yb, ya)
    g = torch.randn_like(ya)
    ya.backward(g)
    yb.backward(g)
    torch.testing.assert_close(xb.grad, xa.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(swapped.weight.grad, plain.weight.grad, rtol=1e-5, atol=1e-5)
    if bias:
        torch.testing.assert_close(swapped.bias.grad, plain.bias.grad, rtol=1e-5, atol=1e-5)


def test_large_maps_and_evaluation_take_the_usual_path():
    conv = fast_weight_grads(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1)))[0]
    assert "GemmWeightGrad" not in type(conv(torch.randn(1, 3, 8, 8)).grad_fn).__name__  # 64 outputs > 16
    assert "GemmWeightGrad" in type(conv(torch.randn(1, 3, 4, 4)).grad_fn).__name__
    with torch.no_grad():
        assert conv(torch.randn(1, 3, 4, 4)).grad_fn is None


def test_swapped_resnet_keeps_its_state_dict_and_trains_the_same():
    torch.manual_seed(0)
    plain = ResNet18().train().to(memory_format=torch.channels_last)
    swapped = ResNet18().train().to(memory_format=torch.channels_last)
    swapped.load_state_dict(plain.state_dict())
    before = swapped.state_dict(keep_vars=True)
    fast_weight_grads(swapped)
    after = swapped.state_dict(keep_vars=True)
    assert list(after) == list(before) and all(after[k] is before[k] for k in before)  # the same tensors
    assert sum(isinstance(m, SmallMapConv2d) for m in swapped.modules()) == 20  # every convolution of the net

    x = torch.rand(16, 1, 64, 64).contiguous(memory_format=torch.channels_last)  # b4 4x4 and b5 2x2: fast path
    y = torch.randint(0, 10, (16,))
    la, lb = F.cross_entropy(plain(x), y), F.cross_entropy(swapped(x), y)
    torch.testing.assert_close(lb, la)
    la.backward()
    lb.backward()
    scale = max(p.grad.abs().max() for p in plain.parameters())
    for (name, pa), pb in zip(plain.named_parameters(), swapped.parameters(), strict=True):
        # Biases in front of a BatchNorm have a zero gradient in exact arithmetic: compare on the model's scale.
        torch.testing.assert_close(pb.grad, pa.grad, rtol=1e-4, atol=1e-5 * scale, msg=name)


def test_keep_freed_memory_takes_on_glibc():
    code = "from resnet.cpu import keep_freed_memory; import sys; sys.exit(0 if keep_freed_memory() else 3)"
    rc = subprocess.run([sys.executable, "-c", code], check=False).returncode
    if rc == 3:
        pytest.skip("the C library here is not glibc")
    assert rc == 0


def test_a_server_hands_freed_memory_back():
    """With two heaps and a trim, memory freed by many threads goes back to the kernel. 8 threads each allocate 64 MB
    in 4 KB blocks and keep every 16th (as a server keeps caches and sessions amid what it frees): 32 MB stay live.
    Measured growth of the resident size: 395 MB with glibc's defaults, 65 MB with both levers."""
    code = """
import ctypes, sys, threading, time
from resnet.cpu import bound_heaps, trim_every
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
if not bound_heaps(2):
    sys.exit(3)
start = rss()
kept = []
def churn():
    blocks = [ctypes.create_string_buffer(4096) for _ in range(16_000)]
    kept.append(blocks[::16])
    del blocks
threads = [threading.Thread(target=churn) for _ in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
trim_every(0.05)
time.sleep(0.5)
print(rss() - start)
"""
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    if out.returncode == 3:
        pytest.skip("the C library here is not glibc")
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 150, out.stdout  # MB resident of the 8 x 64 MB churned (32 MB live)


def test_a_full_collection_leaves_the_start_up_heap_alone():
    """After ``freeze_startup_heap`` a full collection walks only what was made since (the start-up objects are out
    of its reach, not freed: they stay alive), and garbage made later is still collected."""
    code = """
import gc, time, torch
from resnet.cpu import freeze_startup_heap
kept = [[{"n": i}] for i in range(300_000)]  # a large heap made at start-up, as PyTorch's and Gradio's
def full_s():
    t = time.perf_counter(); gc.collect(); return time.perf_counter() - t
before = min(full_s() for _ in range(3))
frozen = freeze_startup_heap()
after = min(full_s() for _ in range(3))
a = []; a.append(a); del a  # a cycle made later: garbage
print(frozen, before, after, gc.collect(), len(kept))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    frozen, before, after, collected, kept = out.stdout.split()
    assert int(frozen) > 300_000 and int(kept) == 300_000
    assert float(after) < float(before) / 5, out.stdout  # the full collection skips the start-up heap
    assert int(collected) >= 1  # later garbage is still collected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own priority is Linux's")
def test_a_low_priority_thread_runs_calls_below_the_process_one_at_a_time():
    """The work runs on one thread whose nice value is the process's plus ``nice``; the caller's stays; results and
    exceptions come back to the caller."""
    import os
    import threading
    import time

    low = LowPriorityThread(5, "low")
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert low.run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())) == min(19, mine + 5)
    assert low.lowered and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
    with pytest.raises(ZeroDivisionError):
        low.run(lambda: 1 / 0)

    inside, most = [0], [0]

    def step() -> None:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.02)
        inside[0] -= 1

    callers = [threading.Thread(target=low.run, args=(step,)) for _ in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert most[0] == 1
    assert LowPriorityThread(0, "same").run(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())) == mine
