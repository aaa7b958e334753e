"""The depth experiment's results (He et al. 2016, Figures 1, 4 and 6): deeper plain networks train worse.

    bash scripts/depth_study.sh     # trains the runs, writes assets/depth/{plain,residual}-{depth}.metrics.jsonl
    python -m resnet.depth          # prints the table of training and test error at the last epoch

Each log is what ``resnet.train`` writes: one JSON line per epoch with ``train_loss``, ``train_accuracy`` (the
running mean over the epoch, as He et al.'s training curves) and ``test_accuracy``.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

DEPTH_DIR = Path(__file__).resolve().parent.parent / "assets" / "depth"
WEIGHTS_DIR = DEPTH_DIR.parent / "weights"
LOG = re.compile(r"(plain|residual)-(\d+)\.metrics\.jsonl")


@dataclass(frozen=True)
class DepthRun:
    """One network's training curve: per epoch, training error and test error in [0, 1]."""

    plain: bool
    depth: int
    train_error: tuple[float, ...]
    test_error: tuple[float, ...]

    @property
    def name(self) -> str:
        return f"{'plain' if self.plain else 'residual'}-{self.depth}"


def read_log(path: Path) -> DepthRun:
    """One ``{plain,residual}-{depth}.metrics.jsonl``; ``ValueError`` for a file that is not such a log."""
    match = LOG.fullmatch(path.name)
    if match is None:
        raise ValueError(f"{path.name}: expected plain-<depth>.metrics.jsonl or residual-<depth>.metrics.jsonl")
    return read_metrics(path, match[1] == "plain", int(match[2]))


def read_metrics(path: Path, plain: bool, depth: int) -> DepthRun:
    """Any metrics log of ``resnet.train`` as a run of a network with ``depth`` layers."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not rows or [r["epoch"] for r in rows] != list(range(1, len(rows) + 1)):
        raise ValueError(f"{path}: epochs are not 1, 2, ... in order")
    return DepthRun(
        plain, depth, tuple(1 - r["train_accuracy"] for r in rows), tuple(1 - r["test_accuracy"] for r in rows)
    )


def reference_runs(arch: str, dataset: str) -> list[DepthRun]:
    """The shipped curves a run trained in the app is drawn over: the depth experiment's for He et al.'s family,
    the shipped ResNet-18 and its plain twin (where shipped) for the lecture's network."""
    if arch != "resnet18":
        return load_runs()
    logs = [
        (WEIGHTS_DIR / f"{dataset}{suffix}.metrics.jsonl", plain) for suffix, plain in (("", False), ("-plain", True))
    ]
    return [read_metrics(path, plain, 18) for path, plain in logs if path.exists()]


DEPTH_TITLE = "The depth experiment (He et al. 2016, Fig. 6) on Fashion-MNIST: plain dashed, residual solid"


def reference_title(arch: str, dataset_title: str) -> str:
    """The title of the chart a run trained in the app is drawn on: what ``reference_runs`` gives, on its dataset
    (``dataset_title``: its own name, ``DatasetInfo.title``). The lecture's network's curves are the shipped weights'
    on the run's own dataset, not the depth experiment's: a digits run was drawn under "... on Fashion-MNIST"."""
    if arch != "resnet18":
        return DEPTH_TITLE
    return f"The shipped ResNet-18 and its plain twin on {dataset_title}: plain dashed, residual solid"


def load_runs(folder: Path = DEPTH_DIR) -> list[DepthRun]:
    """Every run in ``folder``, by depth, plain before residual."""
    runs = [read_log(p) for p in folder.glob("*.metrics.jsonl")]
    return sorted(runs, key=lambda r: (r.depth, not r.plain))


def verdict(runs: list[DepthRun]) -> list[str]:
    """He et al.'s two claims, checked on the last epoch's training error of the shallowest and deepest pair."""
    by = {(r.plain, r.depth): r.train_error[-1] for r in runs}
    depths = sorted({d for p, d in by if (not p, d) in by})
    if len(depths) < 2:
        return []
    low, high = depths[0], depths[-1]
    plain, residual = (by[True, high], by[True, low]), (by[False, high], by[False, low])
    return [
        f"plain-{high} {'trains worse than' if plain[0] > plain[1] else 'does NOT train worse than'} plain-{low}: "
        f"training error {100 * plain[0]:.1f}% against {100 * plain[1]:.1f}%",
        f"residual-{high} {'trains at least as well as' if residual[0] <= residual[1] else 'trains worse than'} "
        f"residual-{low}: training error {100 * residual[0]:.1f}% against {100 * residual[1]:.1f}%",
    ]


def sentence(runs: list[DepthRun]) -> str:
    """What a student sees in the depth figure, in one sentence with the measured numbers."""
    by = {(r.plain, r.depth): r.train_error[-1] for r in runs}
    depths = sorted({d for p, d in by if (not p, d) in by})
    if len(depths) < 2:
        return "The depth experiment's logs are not here yet (bash scripts/depth_study.sh makes them)."
    low, high = depths[0], depths[-1]
    plain = f"the plain network's training error goes from {100 * by[True, low]:.1f}% to {100 * by[True, high]:.1f}%"
    residual = f"the residual network's from {100 * by[False, low]:.1f}% to {100 * by[False, high]:.1f}%"
    if by[True, high] > by[True, low] and by[False, high] <= by[False, low]:
        moral = "without shortcuts, more layers make the network harder to train; with them, they do not."
    elif by[True, high] - by[True, low] > by[False, high] - by[False, low]:
        moral = (
            "more layers make both harder to train in this short schedule, the plain network much more so; the deeper "
            "residual network has not caught up with the shallower one yet (He et al. trained far longer)."
        )
    else:
        moral = "at this budget the plain network does not degrade with depth (He et al.'s first claim does not show)."
    return f"**What you see:** from {low} to {high} layers, {plain} and {residual}: {moral}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", type=Path, default=DEPTH_DIR)
    args = p.parse_args(argv)
    runs = load_runs(args.dir)
    print("| network | layers | epochs | training error | test error |")
    print("| --- | --- | --- | --- | --- |")
    for r in runs:
        kind = "plain" if r.plain else "residual"
        errors = f"{100 * r.train_error[-1]:.2f}% | {100 * r.test_error[-1]:.2f}%"
        print(f"| {kind} | {r.depth} | {len(r.train_error)} | {errors} |")
    for line in verdict(runs):
        print(line)


if __name__ == "__main__":
    main()
