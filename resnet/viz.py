"""Charts of the model (matplotlib figures, no global pyplot state) and what the pictures read of an analysis.

The pictures themselves (feature grids, Grad-CAM, the block panel) are drawn from NumPy arrays by
``resnet.pictures``, from an analysis's ``snapshot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from resnet.model import ResNet
from resnet.paths import PathStats
from resnet.pictures import BlockFacts, ChartSpec, Snapshot
from resnet.sampleset import SampleSetStats

RESIDUAL_COLOUR, PLAIN_COLOUR = "#3b6fb6", "#c0392b"


# The wide charts in the projector view (1280×720): a 10-inch chart at 90 dpi is drawn 900 px wide and shown ~1,216 px
# wide, its 6–9 pt text ~10–15 px on the screen (the 6.4-inch ones, shown 2.1× their drawn width, ~18–24 px).
PROJECTOR_TEXT = 1.5  # the text of a wide chart in the projector view, against its size as drawn for a desk
PROJECTOR_TALLER = 1.4  # and its height: the projector shows one chart a screen, as wide as the screen


def wide_figure(width: float, height: float, dpi: int = 90, projector: bool = False) -> Figure:
    """A chart's figure, ``width`` × ``height`` inches at ``dpi`` (constrained layout); for the projector view as
    many pixels wide, its text ``PROJECTOR_TEXT`` times larger against them (the inches divided by it, the dots per
    inch multiplied) and ``PROJECTOR_TALLER`` times as high."""
    text, taller = (PROJECTOR_TEXT, PROJECTOR_TALLER) if projector else (1.0, 1.0)
    return Figure(figsize=(width / text, height * taller / text), dpi=dpi * text, layout="constrained")


@dataclass
class LesionSeries:
    """One model's bars in the lesion chart."""

    name: str
    accuracy: Sequence[float]  # per block, in [0, 1]
    baseline: float  # with no lesion
    plain: bool


def lesion_figure(
    names: Sequence[str],
    downsamples: Sequence[bool],
    series: Sequence[LesionSeries],
    title: str,
    narrow: bool = False,
) -> Figure:
    """Sample-set accuracy with each single block's residual branch removed; downsampling blocks hatched.

    Several series (a residual network and its plain twin, as in Veit et al. 2016, Fig. 3) stand side by side:
    residual bars blue, plain bars red, each with its no-lesion accuracy as a dashed line. 576 × 324 px; with
    ``narrow`` (its box in a phone's column: ~302 px) 297 × 486 px, the blocks one under the other and the bars
    lying down (at 576 px the chart was swiped, half its blocks and its title out of sight).
    """
    fig = Figure(figsize=(3.3, 5.4) if narrow else (6.4, 3.6), dpi=90, layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(names))
    width = 0.8 / len(series)
    bar, line = (ax.barh, ax.axvline) if narrow else (ax.bar, ax.axhline)
    for k, s in enumerate(series):
        colour = PLAIN_COLOUR if s.plain else RESIDUAL_COLOUR
        x = pos - 0.4 + width * (k + 0.5)
        bars = bar(x, [100 * a for a in s.accuracy], width, color=colour, label=s.name)
        for drawn, down in zip(bars, downsamples, strict=True):
            if down:
                drawn.set_hatch("//")
        line(100 * s.baseline, color=colour, linestyle="--", linewidth=1, label=f"no lesion: {100 * s.baseline:.1f}%")
    line(10, color="#999", linestyle=":", linewidth=1, label="chance: 10%")
    ticks = [f"{n}\n(downsamples)" if p else n for n, p in zip(names, downsamples, strict=True)]
    if narrow:  # b2.0 at the top, as the block panel reads; the title over the whole picture (over the axes alone,
        # ~230 px, its end was cut off)
        ax.set_yticks(pos, ticks, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("accuracy (%)", fontsize=8)
        ax.set_xlim(0, 105)
        ax.tick_params(axis="x", labelsize=7)
        fig.suptitle(f"{title}:\nsample-set accuracy with one block's F(x) removed", fontsize=8.5)
    else:
        ax.set_xticks(pos, ticks, fontsize=7)
        ax.set_ylabel("accuracy (%)", fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_title(f"{title}: sample-set accuracy with one block's F(x) removed", fontsize=9)
    columns = 2 if narrow else 3 * len(series) - (len(series) - 1)
    fig.legend(fontsize=6.5 if narrow else 6, loc="outside lower center", ncol=columns)
    return fig


def lesion_chart(
    model: ResNet, models: Sequence[tuple[str, bool, SampleSetStats]], title: str, narrow: bool = False
) -> Figure:
    """``lesion_figure`` from sample-set statistics: ``models`` = (name, plain, statistics), residual first (for a
    phone's column where ``narrow``)."""
    names = [name for name, _ in model.blocks()]
    downsamples = [not block.keeps_shape for _, block in model.blocks()]
    series = [
        LesionSeries(name, [stats.lesion_accuracy[b] for b in names], stats.baseline, plain)
        for name, plain, stats in sorted(models, key=lambda m: m[1])
    ]
    return lesion_figure(names, downsamples, series, title, narrow)


def path_figure(series: Sequence[tuple[str, bool, PathStats]], current: tuple[int, float] | None, title: str) -> Figure:
    """Veit et al.'s path ensemble: accuracy against the number of blocks removed, over all lesion subsets.

    ``series`` = (name, plain, statistics): per model the mean over subsets (solid: any blocks; dotted: identity
    blocks only) with the range of all subsets shaded. ``current`` = (blocks removed, accuracy) of the lesion set
    ticked in the app, drawn as a point.
    """
    fig = Figure(figsize=(6.4, 3.4), dpi=90, layout="constrained")
    ax = fig.subplots()
    for name, plain, stats in series:
        colour = PLAIN_COLOUR if plain else RESIDUAL_COLOUR
        rows = stats.by_removed()
        k = np.arange(len(rows))
        mean, low, high = (np.array([r[i] for r in rows]) * 100 for i in range(3))
        ax.fill_between(k, low, high, color=colour, alpha=0.12, linewidth=0)
        ax.plot(k, mean, color=colour, marker="o", markersize=3, label=f"{name}: mean over all subsets")
        identity = stats.by_removed(stats.identity)
        ax.plot(
            range(len(identity)),
            [100 * r[0] for r in identity],
            color=colour,
            linestyle=":",
            marker=".",
            label=f"{name}: identity blocks only",
        )
    if current is not None:
        ax.plot(
            [current[0]],
            [100 * current[1]],
            marker="*",
            markersize=14,
            color="#f1c40f",
            markeredgecolor="black",
            linestyle="none",
            label=f"your lesions: {100 * current[1]:.1f}%",
            zorder=5,
        )
    ax.axhline(10, color="#999", linestyle=":", linewidth=1)
    ax.set_xlabel("blocks removed (of 8; shaded: range over all subsets)", fontsize=8)
    ax.set_ylabel("sample-set accuracy (%)", fontsize=8)
    ax.set_ylim(0, 105)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(f"{title}: the 256 paths of 8 blocks (Veit et al. 2016)", fontsize=9)
    ax.legend(fontsize=6, loc="upper right")
    return fig


@dataclass
class BlockRow(BlockFacts):
    """One block's statistics for one input (``BlockFacts``), beside the sample-set means."""

    mean_ratio: float = float("nan")
    mean_cosine: float = float("nan")


def block_rows(s: Snapshot, sample_stats: SampleSetStats) -> list[BlockRow]:
    """Per block: ‖F(x)‖/‖x‖ and cos(F(x), x) for this input and averaged over the sample set."""
    return [
        BlockRow(
            b.name,
            b.projects,
            b.plain,
            b.lesioned,
            b.ratio,
            b.cosine,
            sample_stats.mean_ratio[b.name],
            sample_stats.mean_cosine[b.name],
        )
        for b in s.blocks
    ]


def chart_spec(rows: Sequence[BlockRow]) -> ChartSpec:
    """What the block statistics chart shows for every input of the model these rows are of."""
    return ChartSpec(
        tuple(r.name for r in rows),
        tuple(r.projects for r in rows),
        tuple(r.mean_ratio for r in rows),
        tuple(r.mean_cosine for r in rows),
    )
