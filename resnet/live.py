"""Training from the app: a run that records its curves as plain rows, stops on request and keeps every epoch.

    run = LiveRun.start(dataset="digits", images=6000, epochs=2, lr=0.05, runs_dir=Path("runs/app"))
    for _ in run:            # after every step and every epoch
        draw(run.curves, run.status)
    run.stop.set()           # from another thread: the run ends after the current step

Each finished epoch writes the model to ``run.out`` (a safetensors checkpoint with its card) and a line to its
metrics log, so a stop, an error or a closed browser tab never loses more than the epoch in progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from resnet.checkpoint import CheckpointError
from resnet.data import DATASETS, DataNotFoundError, load_split
from resnet.evaluate import predict
from resnet.model import ResNet, build_model
from resnet.train import RECIPES, Epoch, Step, TrainConfig, state_path, train

TEST_IMAGES = 2000  # test images evaluated after each epoch: a few seconds on a CPU


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
    ) -> LiveRun:
        """A run on the first ``images`` training images, named by dataset, network and time.

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
        return cls(cfg, Path(runs_dir) / name)

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
        batch = self.cfg.batch_size
        try:
            model = self._untrained()  # the curve's first point: the test accuracy of random weights
            yield self
            for ev in train(self.cfg, self.out, model=model, should_stop=self.stop.is_set):
                self.event = "step" if isinstance(ev, Step) else "epoch"
                if isinstance(ev, Step):
                    steps = self.steps_per_epoch = ev.steps
                    seen = ((ev.epoch - 1) * ev.steps + ev.step) * batch
                    self.curves.append(CurvePoint(seen, "train loss", ev.loss))
                    self.curves.append(CurvePoint(seen, "train accuracy", ev.accuracy))
                    left = (self.cfg.epochs - ev.epoch) * ev.steps + ev.steps - ev.step
                    self.status = (
                        f"epoch {ev.epoch}/{self.cfg.epochs}, step {ev.step}/{ev.steps}: loss {ev.loss:.3f}, "
                        f"accuracy {100 * ev.accuracy:.1f}% · {ev.images_per_s:.0f} images/s · "
                        f"about {left * batch / max(ev.images_per_s, 1e-6):.0f} s left"
                    )
                elif isinstance(ev, Epoch):
                    seen = ev.epoch * steps * batch
                    self.curves.append(CurvePoint(seen, "test accuracy", ev.test_accuracy))
                    self.epochs.append(ev)
                    self.epochs_done, self.test_accuracy = ev.epoch, ev.test_accuracy
                    self.status = (
                        f"epoch {ev.epoch}/{self.cfg.epochs} done: test accuracy {100 * ev.test_accuracy:.1f}% on "
                        f"{TEST_IMAGES:,} test images · saved"
                    )
                yield self
        except (DataNotFoundError, CheckpointError, ValueError, RuntimeError, OSError) as exc:
            self.error = str(exc)
        finally:
            state_path(self.out).unlink(missing_ok=True)  # the resumable state is for the command line only
        self.status, self.event = self.summary(), "end"
        yield self

    def _untrained(self) -> ResNet:
        """The run's initial model (as ``train`` would make it), with its test accuracy recorded at 0 images."""
        torch.manual_seed(self.cfg.seed)
        model = build_model(self.cfg.arch, self.cfg.plain)
        test_x, test_y = load_split(self.cfg.dataset, train=False, data_dir=self.cfg.data_dir)
        test_x, test_y = test_x[:TEST_IMAGES], test_y[:TEST_IMAGES]
        with torch.no_grad():
            accuracy = (predict(model, test_x, self.cfg.image_size) == test_y).float().mean().item()
        self.curves.append(CurvePoint(0, "test accuracy", accuracy))
        self.status = f"random weights: test accuracy {100 * accuracy:.1f}% (chance is 10%); training starts…"
        return model

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
