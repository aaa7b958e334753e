"""The charts of the "Plain vs residual" tab: the depth experiment, layer responses and gradient flow.

Pure functions of measured data (``resnet.depth``, ``resnet.why``); ``matplotlib.figure.Figure`` objects, residual
solid and blue, plain dashed and red, as in He et al.'s figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from resnet.depth import DEPTH_TITLE, DepthRun
from resnet.viz import PLAIN_COLOUR, RESIDUAL_COLOUR, wide_figure

DEPTH_SHADES = {20: 0.55, 32: 0.7, 44: 0.85, 56: 1.0, 110: 1.0}  # deeper = stronger colour


def _legend(ax, measured: bool, command: str) -> None:
    """The legend of a chart with data; on one without, what is missing and the command that measures it."""
    if measured:
        ax.legend(fontsize=7)
        return
    ax.text(
        0.5,
        0.5,
        f"not measured yet:\n{command}",
        ha="center",
        va="center",
        fontsize=9,
        color="#666",
        transform=ax.transAxes,
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _finish(ax, title: str, xlabel: str) -> None:
    """The common dress of every chart here: small type, a light grid."""
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, which="both")


def _style(plain: bool) -> dict:
    return {"color": PLAIN_COLOUR if plain else RESIDUAL_COLOUR, "linestyle": "--" if plain else "-"}


def depth_figure(
    runs: Sequence[DepthRun],
    extra: Sequence[tuple[str, Sequence[float], Sequence[float]]] = (),
    projector: bool = False,
    title: str = DEPTH_TITLE,
) -> Figure:
    """Training error (left) and test error (right) against epochs: plain dashed, residual solid, one line a depth.

    ``extra`` = (label, epochs, training error) curves drawn on top in black, e.g. a run trained in the app;
    ``projector``: drawn for the projector view (``viz.wide_figure``); ``title``: what ``runs`` are.
    """
    fig = wide_figure(10, 3.4, projector=projector)
    ax_train, ax_test = fig.subplots(1, 2, sharey=False)
    for r in runs:
        epochs = np.arange(1, len(r.train_error) + 1)
        alpha = DEPTH_SHADES.get(r.depth, 1.0)
        marker = "o" if r.depth > 30 else "s"
        for ax, values in ((ax_train, r.train_error), (ax_test, r.test_error)):
            ax.plot(
                epochs,
                [100 * v for v in values],
                marker=marker,
                markersize=3,
                alpha=alpha,
                label=r.name,
                **_style(r.plain),
            )
    for label, epochs, errors in extra:
        ax_train.plot(epochs, [100 * e for e in errors], color="black", marker="*", markersize=7, label=label)
    fig.suptitle(title, fontsize=9)
    for ax, title in ((ax_train, "training error (%)"), (ax_test, "test error (%)")):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _finish(ax, title, "epoch")
        ax.set_ylim(bottom=0)
    _legend(ax_train, bool(runs), "bash scripts/depth_study.sh")
    return fig


def responses_figure(responses: dict) -> Figure:
    """He et al. Fig. 7: per block, the std of F(x) (its last BN's output) for the ResNet and its plain twin."""
    fig = Figure(figsize=(6.4, 3.2), dpi=90, layout="constrained")
    ax = fig.subplots()
    for dataset, entry in responses.items():
        alpha = 1.0 if dataset == "digits" else 0.6
        for kind in ("residual", "plain"):
            std = entry[kind]["std"]
            ax.plot(
                list(std),
                list(std.values()),
                marker="o",
                markersize=3,
                alpha=alpha,
                label=f"{dataset}, {kind}",
                **_style(kind == "plain"),
            )
    ax.set_ylabel("std of F(x)", fontsize=8)
    _finish(ax, "Layer responses (He et al. Fig. 7): the size of what each block learns", "block")
    _legend(ax, bool(responses), "python -m resnet.why")
    return fig


def gradients_figure(gradients: dict, projector: bool = False) -> Figure:
    """Per block, ‖∂loss/∂ block output‖ per image (log scale), at initialisation (thin) and after training (thick);
    ``projector``: drawn for the projector view (``viz.wide_figure``)."""
    pairs = [k for k in ("18", "56") if k in gradients]
    fig = wide_figure(10, 3.2, projector=projector)
    wrap = "\n" if projector else " "  # each half's title on two lines where its text is larger
    axes = np.atleast_1d(fig.subplots(1, max(len(pairs), 1)))
    for ax, depth in zip(axes, pairs, strict=False):
        entry = gradients[depth]
        for kind in ("residual", "plain"):
            for when, width in (("init", 1.0), ("trained", 2.2)):
                norms = entry[kind].get(when)
                if not norms:
                    continue
                ax.plot(
                    range(len(norms)),
                    list(norms.values()),
                    linewidth=width,
                    alpha=0.6 if when == "init" else 1,
                    label=f"{kind}, {'at initialisation' if when == 'init' else 'trained'}",
                    **_style(kind == "plain"),
                )
        names = list(entry["residual"]["init"])
        step = max(1, len(names) // 9)
        ax.set_xticks(range(0, len(names), step), names[::step], fontsize=6, rotation=45)
        ax.set_yscale("log")
        title = f"{depth} layers ({entry['dataset']}):{wrap}‖∂loss/∂ output‖ of each block, per image"
        _finish(ax, title, "block")
        ax.legend(fontsize=6)
    if not pairs:
        _legend(axes[0], False, "python -m resnet.why")
    return fig
