"""The block statistics chart of the residual view: drawn whole once per model and language, then only its bars.

For every block it shows ‖F(x)‖/‖x‖ (how much the block changes x) and cos(F(x), x) (does F(x) point along x?) for
this input, in blue, beside their means over the 1,000 shipped samples, in grey. Everything but the blue bars is the
same for every input of a model, so it is rendered once and kept as a picture (matplotlib's blitting: the saved
background is restored and only the 16 blue bars are drawn over it). Measured on this 2-core machine
(``python benchmarks/residual_view.py``): 6.9 ms a view with its PNG, against 135.5 ms for the figure drawn whole
through ``gr.Plot``, which was most of a residual view, on the server's one interpreter. The scales are fixed, so
bars can be compared from one drawing to the next: cos on [−1, 1], the ratio from 0 to 1.5× the largest sample-set
mean, or to a round number past an input's tallest bar where it goes higher (a background drawn once per height).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from resnet.strings import translate_figure

THIS_INPUT, SAMPLE_MEAN = "#3b6fb6", "#bbbbbb"
TITLES = ("‖F(x)‖ / ‖x‖: how much the block changes x", "cos(F(x), x): does F(x) point along x?")


def nice_top(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is ≥ ``value`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value * (1 - 1e-9))


def finite(values: Sequence[float]) -> list[float]:
    """``values`` with NaN (a block without a shortcut has no ‖F(x)‖/‖x‖ against it) as 0: no bar."""
    return [v if v == v else 0.0 for v in values]


class BlockChart:
    """One model's block statistics chart in one language; ``draw`` gives it for one input as (H, W, 3) uint8.

    ``names``, ``projects`` (a 1×1 projection shortcut), ``mean_ratio`` and ``mean_cosine``: per block, in order.
    The two charts side by side, 640 × 272 px, or with ``narrow`` one above the other, 320 × 464 px (a phone's column
    is ~326 px: at 640 px the chart was swiped sideways, shrunk to the column its text was 4 px). Thread-safe (one
    canvas, drawn under a lock).
    """

    def __init__(
        self,
        names: Sequence[str],
        projects: Sequence[bool],
        mean_ratio: Sequence[float],
        mean_cosine: Sequence[float],
        lang: str = "en",
        narrow: bool = False,
    ):
        self.figure = Figure(figsize=(4, 5.8) if narrow else (8, 3.4), dpi=80, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.ratio_axes, self.cosine_axes = self.figure.subplots(*((2, 1) if narrow else (1, 2)))
        pos = np.arange(len(names))
        labels = [f"{n}\n(1×1)" if p else n for n, p in zip(names, projects, strict=True)]
        self.bars = []  # (this input's ratio bars, its cosine bars): drawn per input, never in the background
        for ax, mean, title in ((self.ratio_axes, mean_ratio, TITLES[0]), (self.cosine_axes, mean_cosine, TITLES[1])):
            ax.bar(pos + 0.2, finite(mean), 0.4, label="sample-set mean", color=SAMPLE_MEAN)
            # Above the zero line (zorder 2), as they are drawn after it: the same picture a whole draw would give.
            mine = ax.bar(pos - 0.2, [0.0] * len(pos), 0.4, label="this input", color=THIS_INPUT, zorder=2.5)
            for bar in mine:
                bar.set_animated(True)
            self.bars.append(list(mine))
            ax.set_xticks(pos, labels, fontsize=8)
            ax.set_title(title, fontsize=10)
            ax.axhline(0, color="black", linewidth=0.6)
            ax.tick_params(axis="y", labelsize=8)
            ax.set_xlim(-0.6, len(pos) - 0.4)
        self.cosine_axes.set_ylim(-1, 1)
        # Outside the axes, so that no bar ever runs under it.
        handles, legend_labels = self.ratio_axes.get_legend_handles_labels()
        self.figure.legend(handles[::-1], legend_labels[::-1], loc="outside lower center", ncols=2, fontsize=8)
        translate_figure(self.figure, lang)
        self.top = nice_top(1.5 * max([*finite(mean_ratio), 0.5]))  # the ratio axis's usual height
        self._lock = threading.Lock()
        self._render(self.top)  # lays the figure out once ...
        self.figure.set_layout_engine("none")  # ... and it stays so for every height: the bars go where the axes are
        self._backgrounds = {self.top: self._render(self.top)}  # per height of the ratio axis

    def _render(self, top: float):
        """Draw everything but this input's bars, the ratio axis from 0 to ``top``, and keep it."""
        self.ratio_axes.set_ylim(0, top)
        self.canvas.draw()
        return self.canvas.copy_from_bbox(self.figure.bbox)

    def scale(self, ratio: Sequence[float]) -> float:
        """The ratio axis's height for an input: the usual one, or a round number past its tallest bar (a lesion
        upstream can make ‖F(x)‖/‖x‖ of a later block 10 or more); each height's background is drawn once."""
        tallest = max(finite(ratio), default=0.0)
        return self.top if tallest <= self.top else nice_top(tallest * 1.1)

    def draw(self, ratio: Sequence[float], cosine: Sequence[float]) -> np.ndarray:
        """The chart with this input's bars: (H, W, 3) uint8, 640 × 272 px (narrow: 320 × 464)."""
        with self._lock:
            top = self.scale(ratio)
            if top not in self._backgrounds:
                self._backgrounds[top] = self._render(top)
            self.ratio_axes.set_ylim(0, top)
            self.canvas.restore_region(self._backgrounds[top])
            for bars, values in zip(self.bars, (finite(ratio), finite(cosine)), strict=True):
                for bar, value in zip(bars, values, strict=True):
                    bar.set_height(value)
                    bar.axes.draw_artist(bar)
            return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()

    def whole_figure(self, ratio: Sequence[float], cosine: Sequence[float]) -> Figure:
        """The reference ``draw`` is measured and tested against: the figure with this input's bars as ordinary
        artists, to be drawn whole in one go (savefig, ``canvas.draw``). The chart no longer blits afterwards."""
        for bars, values in zip(self.bars, (finite(ratio), finite(cosine)), strict=True):
            for bar, value in zip(bars, values, strict=True):
                bar.set_animated(False)
                bar.set_height(value)
        return self.figure
