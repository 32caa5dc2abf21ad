"""The report's figures (matplotlib, Agg): Base vs New, per-class accuracy, training curves.

Each function returns a :class:`matplotlib.figure.Figure`; :func:`save_png` writes it. Accuracies
are percentages; curves are means over a cell's runs at each epoch.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sept_ray.metrics import AVERAGE, TableRow  # noqa: E402

MARKERS = "osD^vP*Xph<>"


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` (PNG, 110 dpi) and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def base_new_scatter(rows: Sequence[TableRow]) -> Figure:
    """Base (x) against New (y) accuracy: one colour per method, a small point per dataset and a
    large one for the average; dotted lines of constant H."""
    figure, axes = plt.subplots(figsize=(6.4, 5.6))
    grid = np.linspace(1, 100, 200)
    for h in (20, 40, 60, 80):
        new = h * grid / (2 * grid - h)
        keep = (new > 0) & (new <= 100) & (2 * grid > h)
        axes.plot(grid[keep], new[keep], ":", color="0.75", lw=0.8)
        axes.annotate(f"H={h}", (100, h * 100 / (200 - h)), fontsize=7, color="0.5", ha="right")
    variants = list(dict.fromkeys(r.variant for r in rows))
    for index, variant in enumerate(variants):
        color = f"C{index % 10}"
        marker = MARKERS[index % len(MARKERS)]
        cells = [r for r in rows if r.variant == variant and r.dataset != AVERAGE]
        axes.scatter(
            [c.base for c in cells], [c.new for c in cells], color=color, marker=marker, s=22
        )
        average = [r for r in rows if r.variant == variant and r.dataset == AVERAGE]
        for cell in average:
            axes.scatter(
                cell.base,
                cell.new,
                color=color,
                marker=marker,
                s=150,
                edgecolor="black",
                label=f"{variant} (avg H {cell.h:.2f})",
            )
    axes.set(xlim=(0, 101), ylim=(0, 101), xlabel="Base accuracy (%)", ylabel="New accuracy (%)")
    axes.set_title("Base vs New: small = a dataset, large = average")
    axes.legend(fontsize=8, loc="lower left")
    return figure


def per_class_bars(
    dataset: str, accuracy: Mapping[str, Mapping[tuple[str, str], list[float]]]
) -> Figure:
    """Per-class test accuracy of one dataset: ``accuracy[variant][(group, class)]`` holds one
    value per run (group ``base`` or ``new``); bars are their means, classes of the new group
    are marked ``(new)``."""
    keys = sorted({k for by_class in accuracy.values() for k in by_class})
    keys.sort(key=lambda k: (k[0] != "base", k[1]))
    variants = list(accuracy)
    height = max(2.5, 0.28 * len(keys) * max(1, len(variants)) ** 0.5 + 1)
    figure, axes = plt.subplots(figsize=(7.5, height))
    width = 0.8 / max(1, len(variants))
    positions = np.arange(len(keys))
    for index, variant in enumerate(variants):
        values = [
            statistics.fmean(accuracy[variant][k]) if accuracy[variant].get(k) else np.nan
            for k in keys
        ]
        axes.barh(
            positions + index * width, values, height=width, label=variant, color=f"C{index % 10}"
        )
    axes.set_yticks(positions + width * (len(variants) - 1) / 2)
    axes.set_yticklabels([name if group == "base" else f"{name} (new)" for group, name in keys])
    axes.invert_yaxis()
    axes.set(xlim=(0, 100), xlabel="accuracy (%)", title=f"{dataset}: per-class accuracy")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def training_curves(
    dataset: str,
    curves: Mapping[str, Mapping[str, Mapping[int, list[float]]]],
) -> Figure:
    """H and training loss per epoch of one dataset: ``curves[metric][variant][epoch]`` holds one
    value per run; the line is their mean (a variant scored only at epoch 0, zero-shot, is a
    dashed reference line)."""
    metrics = [m for m in ("H", "loss") if curves.get(m)]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        last = max(e for by_epoch in curves[metric].values() for e in by_epoch)
        for index, (variant, by_epoch) in enumerate(curves[metric].items()):
            epochs = sorted(by_epoch)
            values = [statistics.fmean(by_epoch[e]) for e in epochs]
            if epochs == [0]:  # nothing trained (zero-shot): a reference line
                ax.axhline(values[0], ls="--", color=f"C{index % 10}", label=variant)
                continue
            ax.plot(epochs, values, marker=".", color=f"C{index % 10}", label=variant)
        ax.set_xlim(0, max(1, last))
        ax.set(xlabel="epoch", ylabel="H (%)" if metric == "H" else "training loss")
        ax.set_title(f"{dataset}: {'H' if metric == 'H' else 'loss'} per epoch")
        ax.legend(fontsize=8)
    return figure


DIAGNOSTIC_PANELS = (
    ("intra_active", "active intra hinges (fraction)"),
    ("inter_active", "active inter hinges (fraction)"),
    ("intra_ratio", "own-neighbour distance / margin"),
    ("inter_ratio", "other-neighbour distance / margin"),
    ("drift", "cos(learned, zero-shot) of a class"),
    ("intra", "L_intra (unweighted)"),
    ("inter", "L_inter (unweighted)"),
)


def diagnostics_curves(
    dataset: str, curves: Mapping[str, Mapping[tuple[str, str], Mapping[int, list[float]]]]
) -> Figure:
    """SEPT's hinge diagnostics per epoch of one dataset: ``curves[stat][(variant, group)][epoch]``
    holds one value per run (group ``base`` or ``new``); lines are their means, solid for base
    classes, dashed for new ones, one colour per variant (:mod:`sept_ray.sept.diagnostics`)."""
    variants = list(dict.fromkeys(v for by_key in curves.values() for v, _ in by_key))
    figure, axes = plt.subplots(2, 4, figsize=(17, 7))
    for ax, (stat, title) in zip(axes.flat, DIAGNOSTIC_PANELS, strict=False):
        for (variant, group), by_epoch in curves.get(stat, {}).items():
            epochs = sorted(by_epoch)
            values = [statistics.fmean(by_epoch[e]) for e in epochs]
            color = f"C{variants.index(variant) % 10}"
            style = "-" if group == "base" else "--"
            ax.plot(epochs, values, style, marker=".", color=color, label=f"{variant} {group}")
        ax.set(xlabel="epoch", title=title)
    legend = axes.flat[len(DIAGNOSTIC_PANELS)]
    legend.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    legend.legend(handles, labels, loc="center", fontsize=8, title="solid: base, dashed: new")
    figure.suptitle(f"{dataset}: SEPT's hinge diagnostics per epoch (mean over runs)")
    figure.tight_layout()
    return figure
