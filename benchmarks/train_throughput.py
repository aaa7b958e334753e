"""Training throughput of our pipeline against the lecture's reference pipeline, side by side in one run.

    python benchmarks/train_throughput.py [--image-size 64] [--batch-size 256] [--data-dir ../shared/data]
    python benchmarks/train_throughput.py --time-to-accuracy benchmarks/results/clothing-1epoch-cpu.metrics.jsonl

Ours, as ``python -m resnet.train`` runs on a CPU: the split as one uint8 tensor, batch-level resize/augmentation,
channels_last, and ``resnet.cpu`` (freed memory kept for reuse, GEMM weight gradients on small maps). Reference
(the lecture / d2l): torchvision ``Resize(S)`` + ``ToTensor()`` per PIL image, a ``DataLoader``, contiguous
tensors. Both train the same ResNet-18 with the same SGD step. A third line, ours without ``resnet.cpu``, shows
what the data pipeline and channels_last alone give.

Each pipeline runs in its own process (the allocator setting is process-wide) and the processes take turns,
round after round, so that drift in the machine hits all alike; medians are printed.

With ``--time-to-accuracy LOG`` it also measures the reference at 96 px (the lecture's recipe: 10 epochs of
60,000 images), estimates that recipe's training time, and compares it with the time our run's metrics log took
to pass the lecture's 89.3% test accuracy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from resnet.cpu import fast_weight_grads, keep_freed_memory
from resnet.data import AUGMENTS, TensorLoader, load_split
from resnet.model import ResNet18

LECTURE_ACCURACY = 0.893  # the lecture's recipe on Fashion-MNIST (10 epochs, 96 px, lr 0.05)
PIPELINES = {
    "ours": "ours (as resnet.train runs on a CPU)",
    "ours-plain": "ours without resnet.cpu (channels_last only)",
    "reference": "reference (the lecture's pipeline)",
}


class PILImages(Dataset):
    """The reference: one PIL image per item, as torchvision's FashionMNIST hands them to its transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, size: int):
        self.images, self.labels = images.numpy(), labels
        self.transform = transforms.Compose([transforms.Resize(size), transforms.ToTensor()])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(Image.fromarray(self.images[i], mode="L")), self.labels[i]


def make_step(model: torch.nn.Module, channels_last: bool):
    opt = torch.optim.SGD(model.parameters(), lr=0.05)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def time_steps(batches, step, n: int) -> float:
    """Images per second over ``n`` steps, batch production included.

    Each round gets its own iterator and one untimed step (which starts the reference's workers and fills
    their queue); the iterator is closed afterwards, so no worker keeps prefetching into another pipeline's
    round.
    """
    it = iter(batches)
    x, y = next(it)
    step(x, y)
    seen = 0
    t0 = time.perf_counter()
    for _ in range(n):
        x, y = next(it)
        step(x, y)
        seen += len(y)
    rate = seen / (time.perf_counter() - t0)
    del it  # a DataLoader iterator shuts its workers down when it is released
    return rate


def load_images(data_dir: str) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The Fashion-MNIST training split as uint8 (N, 28, 28) and its labels, or random images without it."""
    try:
        images, labels = load_split("clothing", train=True, data_dir=data_dir)
        return images, labels, f"Fashion-MNIST train split from {data_dir}"
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        images = torch.from_numpy(rng.integers(0, 256, (6000, 28, 28), dtype=np.uint8))
        return images, torch.from_numpy(rng.integers(0, 10, 6000)), "random images (no dataset found)"


def pipeline_worker(conn: Connection, name: str, data_dir: str, size: int, batch: int, workers: int) -> None:
    """Build one pipeline in this process, then answer each request for ``n`` timed steps with its images/s."""
    torch.manual_seed(0)
    images, labels, _ = load_images(data_dir)
    if name == "reference":
        model = ResNet18().train()
        batches = DataLoader(
            PILImages(images, labels, size),
            batch_size=batch,
            shuffle=True,
            num_workers=workers,
            drop_last=True,
            multiprocessing_context="fork" if workers else None,  # as the lecture's script starts them on Linux
        )
    else:
        model = ResNet18().train().to(memory_format=torch.channels_last)
        batches = TensorLoader(images, labels, size, batch, shuffle=True, augment=AUGMENTS["clothing"], drop_last=True)
        if name == "ours":  # what `python -m resnet.train` does on a CPU
            keep_freed_memory()
            fast_weight_grads(model)
    step = make_step(model, channels_last=name != "reference")
    time_steps(batches, step, 1)  # warm-up: allocator, oneDNN kernels
    conn.send("ready")
    while (n := conn.recv()) is not None:
        conn.send(time_steps(batches, step, n))


def measure(
    names: list[str], data_dir: str, size: int, batch: int, steps: int, rounds: int, workers: int
) -> dict[str, float]:
    """Median images/s of each named pipeline: one process each, taking turns for ``rounds`` rounds."""
    ctx = mp.get_context("spawn")
    conns, procs = {}, []
    for name in names:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=pipeline_worker, args=(child, name, data_dir, size, batch, workers))
        proc.start()
        conns[name] = parent
        procs.append(proc)
    try:
        for conn in conns.values():
            if conn.recv() != "ready":
                raise RuntimeError("a pipeline process did not start")
        rates: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(rounds):
            for name, conn in conns.items():
                conn.send(steps)
                rates[name].append(conn.recv())
        return {name: statistics.median(r) for name, r in rates.items()}
    finally:
        for conn in conns.values():
            conn.send(None)
        for proc in procs:
            proc.join()


def time_to_accuracy(log: Path, target: float) -> tuple[float, int] | None:
    """(wall seconds, epoch) at which a metrics log first passed ``target`` test accuracy."""
    for line in log.read_text().splitlines():
        m = json.loads(line)
        if m["test_accuracy"] >= target:
            return m["wall_time_s"], m["epoch"]
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=4, help="timed steps per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=4, help="DataLoader workers of the reference (d2l: 4)")
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--time-to-accuracy", type=Path, metavar="LOG", help="our run's metrics log (clothing)")
    args = p.parse_args()
    source = load_images(args.data_dir)[2]
    print(f"data: {source}; {args.image_size} px, batch {args.batch_size}; {torch.get_num_threads()} threads")
    print(f"each pipeline in its own process; median of {args.rounds} rounds of {args.steps} steps, taking turns")
    names = list(PIPELINES)
    rates = measure(names, args.data_dir, args.image_size, args.batch_size, args.steps, args.rounds, args.workers)
    for name in names:
        ratio = rates[name] / rates["reference"]
        print(f"  {PIPELINES[name]:<46} {rates[name]:7.1f} img/s   ratio {ratio:.2f}x")
    if args.time_to_accuracy:
        ref96 = measure(["reference"], args.data_dir, 96, args.batch_size, args.steps, args.rounds, args.workers)
        lecture_s = 10 * 60_000 / ref96["reference"]
        print(
            f"96 px  reference {ref96['reference']:7.1f} img/s -> the lecture's recipe (10 epochs) "
            f"~ {lecture_s / 60:.0f} min"
        )
        hit = time_to_accuracy(args.time_to_accuracy, LECTURE_ACCURACY)
        if hit is None:
            print(f"{args.time_to_accuracy} never reached {100 * LECTURE_ACCURACY:.1f}%")
        else:
            s, epoch = hit
            print(
                f"ours passed {100 * LECTURE_ACCURACY:.1f}% after epoch {epoch}: {s / 60:.1f} min of wall time "
                f"-> {lecture_s / s:.1f}x sooner than the lecture's recipe"
            )


if __name__ == "__main__":
    main()
