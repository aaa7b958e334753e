"""Training from the app: a run that records its curves as plain rows, stops on request and keeps every epoch.

    run = LiveRun.start(dataset="digits", images=6000, epochs=2, lr=0.05, runs_dir=Path("runs/app"))
    for _ in run:            # after every step and every epoch
        draw(run.curves, run.status)
    run.stop.set()           # from another thread: the run ends after the current step

Each finished epoch writes the model to ``run.out`` (a safetensors checkpoint with its card) and a line to its
metrics log, so a stop, an error or a closed browser tab never loses more than the epoch in progress.

The run trains in a process of its own (``python -m resnet.live``), ``nice`` levels below the server, one step at
a time as its caller asks: its memory (1.3-1.4 GB for 60,000 digits at 64 px, batch 128) goes back when it ends,
where in a thread it left the server at 1.7 GB for good (``python benchmarks/load.py --training``); a crash there
(out of memory) ends the run with a message, not the server.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import torch

from resnet.checkpoint import CheckpointError
from resnet.data import DATASETS, DataNotFoundError, load_split
from resnet.evaluate import predict
from resnet.model import ResNet, build_model
from resnet.train import RECIPES, Epoch, Step, TrainConfig, state_path, train

TEST_IMAGES = 2000  # test images evaluated after each epoch: a few seconds on a CPU
NICE = 10  # how much lower a run's CPU priority is than the server's
ROOT = Path(__file__).resolve().parent.parent
NEXT, STOP = b"n", b"s"  # what the caller answers after each event: go on, or stop after this step


@dataclass
class CurvePoint:
    """One point of a curve: x is the number of training images seen so far."""

    images: int
    series: str  # "train loss", "train accuracy" or "test accuracy"
    value: float


@dataclass
class LiveRun:
    """One training run started from the app: its settings, its file, its curves and where it stands."""

    cfg: TrainConfig
    out: Path
    stop: threading.Event = field(default_factory=threading.Event)
    curves: list[CurvePoint] = field(default_factory=list)
    status: str = "starting…"
    epochs_done: int = 0
    test_accuracy: float | None = None
    error: str | None = None
    started: float = field(default_factory=time.perf_counter)
    steps_per_epoch: int | None = None  # known once the first batch is done
    event: str = "start"  # what the last yield came after: "start", "step", "epoch" or "end"
    epochs: list[Epoch] = field(default_factory=list)  # every finished epoch, as ``train`` reported it
    nice: int = NICE  # the training process's priority below the caller's
    idle: bool = True  # and whether it runs only on CPU time nobody else wants (Linux's SCHED_IDLE)
    pid: int | None = None  # the training process, while it runs

    @classmethod
    def start(
        cls,
        dataset: str,
        images: int,
        epochs: int,
        lr: float,
        runs_dir: Path,
        data_dir: str | Path,
        batch_size: int = 128,
        arch: str = "resnet18",
        plain: bool = False,
        nice: int = NICE,
        idle: bool = True,
    ) -> LiveRun:
        """A run on the first ``images`` training images, named by dataset, network and time; its process runs
        ``nice`` levels below the caller, and with ``idle`` (where the OS has it) under Linux's SCHED_IDLE policy:
        it gets a core only when no other process wants it, so a class's labels never wait for it.

        The lecture's ResNet-18 (or its plain twin) trains with our "fast" recipe at 64 px; He et al.'s CIFAR family
        (``arch`` "resnet20", "resnet56", ...) with the depth experiment's recipe at 28 px, as in
        ``scripts/depth_study.sh``, so that a run can be set against the shipped curves.
        Batch 128 rather than the command line's 256: as fast per image on a CPU, twice the updates per epoch, so
        short runs learn more (6,000 digits, 2 epochs: 98.2% against 84.9% at 256, both in 85 s on 2 cores).
        """
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}")
        if not 0 < lr <= 1:
            raise ValueError(f"the learning rate must be in (0, 1], not {lr}")
        if images < 1 or epochs < 1:
            raise ValueError(f"a run needs at least 1 image and 1 epoch, not {images} and {epochs}")
        build_model(arch, plain)  # a clear ValueError for an unknown network
        stamp = time.strftime("%Y%m%d-%H%M%S")
        recipe = {} if arch == "resnet18" else dict(RECIPES["depth"], image_size=28)
        cfg = TrainConfig(
            dataset=dataset,
            epochs=int(epochs),
            lr=float(lr),
            batch_size=batch_size,
            limit=int(images),
            test_limit=TEST_IMAGES,
            data_dir=str(data_dir),
            arch=arch,
            plain=plain,
            **recipe,
        )
        network = f"{arch}{'-plain' if plain else ''}-" if (arch, plain) != ("resnet18", False) else ""
        name = f"{dataset}-{network}{stamp}-{int(images)}img-{int(epochs)}ep.safetensors"
        return cls(cfg, Path(runs_dir) / name, nice=nice, idle=idle)

    @property
    def total_images(self) -> int:
        """Training images the whole run will see (until the first step: as asked for)."""
        per_epoch = self.steps_per_epoch * self.cfg.batch_size if self.steps_per_epoch else self.cfg.limit
        return per_epoch * self.cfg.epochs

    @property
    def running_s(self) -> float:
        return time.perf_counter() - self.started

    def __iter__(self) -> Iterator[LiveRun]:
        """Train, yielding ``self`` after each step and each epoch; errors end the run with ``self.error`` set."""
        self.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with contextlib.closing(self._events()) as events:  # closed at once when the caller stops iterating
                yield from self._record(events)
        except (RuntimeError, OSError) as exc:
            self.error = str(exc)
        self.status, self.event = self.summary(), "end"
        yield self

    def _record(self, events: Iterator[tuple[str, object]]) -> Iterator[LiveRun]:
        """Each event into the curves and the status line; yields ``self`` after each (an error is only recorded)."""
        batch = self.cfg.batch_size
        for kind, item in events:
            self.event = kind
            if kind == "start":  # the curve's first point: the test accuracy of random weights
                self.curves.append(CurvePoint(0, "test accuracy", item))
                self.status = f"random weights: test accuracy {100 * item:.1f}% (chance is 10%); training starts…"
            elif kind == "step":
                steps = self.steps_per_epoch = item.steps
                seen = ((item.epoch - 1) * item.steps + item.step) * batch
                self.curves.append(CurvePoint(seen, "train loss", item.loss))
                self.curves.append(CurvePoint(seen, "train accuracy", item.accuracy))
                left = (self.cfg.epochs - item.epoch) * item.steps + item.steps - item.step
                self.status = (
                    f"epoch {item.epoch}/{self.cfg.epochs}, step {item.step}/{item.steps}: loss {item.loss:.3f}, "
                    f"accuracy {100 * item.accuracy:.1f}% · {item.images_per_s:.0f} images/s · "
                    f"about {left * batch / max(item.images_per_s, 1e-6):.0f} s left"
                )
            elif kind == "epoch":
                seen = item.epoch * steps * batch
                self.curves.append(CurvePoint(seen, "test accuracy", item.test_accuracy))
                self.epochs.append(item)
                self.epochs_done, self.test_accuracy = item.epoch, item.test_accuracy
                self.status = (
                    f"epoch {item.epoch}/{self.cfg.epochs} done: test accuracy {100 * item.test_accuracy:.1f}% "
                    f"on {TEST_IMAGES:,} test images · saved"
                )
            else:  # "error"
                self.error = item
                continue
            yield self

    def _events(self) -> Iterator[tuple[str, object]]:
        """The training process's events, ("start", accuracy), ("step", Step), ("epoch", Epoch), ("error", str), in
        lockstep: after each one it waits for ``NEXT`` (or ``STOP`` once ``self.stop`` is set). Closing this iterator
        (a closed tab) stops the process after its current step and waits for it."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
        child = subprocess.Popen(
            [sys.executable, "-m", "resnet.live"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self.pid = child.pid
        try:
            pickle.dump((self.cfg, self.out, self.nice, self.idle, torch.get_num_threads()), child.stdin)
            child.stdin.flush()
            while True:
                try:
                    yield pickle.load(child.stdout)
                except EOFError:
                    break
                with contextlib.suppress(OSError):  # it may have ended after its last event
                    child.stdin.write(STOP if self.stop.is_set() else NEXT)
                    child.stdin.flush()
            if child.wait() != 0:
                raise RuntimeError(f"the training process ended unexpectedly (exit status {child.returncode})")
        finally:
            with contextlib.suppress(OSError):
                child.stdin.close()  # end of input: it stops after its current step
            try:
                child.wait(timeout=120)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            child.stdout.close()
            self.pid = None

    def summary(self) -> str:
        if self.error:
            kept = f" Epochs 1–{self.epochs_done} are saved." if self.epochs_done else ""
            return f"Training stopped with an error: {self.error}.{kept}"
        how = "Stopped" if self.stop.is_set() and self.epochs_done < self.cfg.epochs else "Finished"
        if not self.epochs_done:
            return f"{how} before the first epoch ended: nothing to keep."
        return (
            f"{how} after {self.epochs_done} epoch{'s' * (self.epochs_done > 1)} in {self.running_s:.0f} s: "
            f"test accuracy {100 * self.test_accuracy:.1f}%."
        )


def untrained(cfg: TrainConfig) -> tuple[ResNet, float]:
    """The run's initial model (as ``train`` would make it) and its accuracy on the first test images."""
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.arch, cfg.plain)
    test_x, test_y = load_split(cfg.dataset, train=False, data_dir=cfg.data_dir)
    test_x, test_y = test_x[:TEST_IMAGES], test_y[:TEST_IMAGES]
    with torch.no_grad():
        accuracy = (predict(model, test_x, cfg.image_size) == test_y).float().mean().item()
    return model, accuracy


def train_process(commands: BinaryIO, events: BinaryIO) -> None:
    """The training process: reads (cfg, out, nice, idle, threads) from ``commands``, then trains, writing each event to
    ``events`` and waiting for ``NEXT`` before going on; ``STOP`` or the end of ``commands`` stops it after the
    current step (the finished epochs stay saved)."""
    cfg, out, nice, idle, threads = pickle.load(commands)
    if nice > 0:
        os.nice(nice)
    if idle and hasattr(os, "SCHED_IDLE"):
        # Nice +10 alone still took cores from the server's threads: beside 10 students label p95 rose 1.30-2.31×.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    torch.set_num_threads(threads)
    stop = threading.Event()

    def send(kind: str, item: object) -> None:
        pickle.dump((kind, item), events)
        events.flush()
        if commands.read(1) != NEXT:
            stop.set()

    try:
        model, accuracy = untrained(cfg)
        send("start", accuracy)
        for ev in train(cfg, out, model=model, should_stop=stop.is_set):
            send("step" if isinstance(ev, Step) else "epoch", ev)
    except BrokenPipeError:
        pass  # the caller is gone: what is saved stays
    except (DataNotFoundError, CheckpointError, ValueError, RuntimeError, OSError) as exc:
        with contextlib.suppress(OSError):
            pickle.dump(("error", str(exc)), events)
            events.flush()
    finally:
        state_path(out).unlink(missing_ok=True)  # the resumable state is for the command line only


if __name__ == "__main__":
    wire = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the events
    train_process(sys.stdin.buffer, wire)
