"""The search's audit: does validation H rank settings the way the real protocol does?

After a search, the b2n sweep of its follow-up runs the audited settings (SEPT's defaults, the
top-k settings by validation H and k others drawn at random) on the real b2n protocol. Each
audited setting is an :class:`AuditPoint` (its validation H beside its AVERAGE b2n H); Spearman's
ρ over them says how well the objective predicts the real protocol, shown as a table and a
scatter plot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from sept_ray.metrics import AVERAGE, TableRow
from sept_ray.report.plots import plt  # the Agg backend
from sept_ray.report.table import Table

MIN_POINTS = 3  # Spearman's rho of fewer points says nothing


@dataclass(frozen=True)
class AuditPoint:
    """One audited setting: its table label, validation H (the search's objective, mean over
    datasets and partitions) and AVERAGE H on the b2n protocol (percent)."""

    label: str
    val_h: float
    b2n_h: float


def audit_points(val_h: Mapping[str, float], rows: Sequence[TableRow]) -> list[AuditPoint]:
    """The audited labels of ``val_h`` that have an AVERAGE row in the b2n table ``rows``, in
    ``val_h``'s order."""
    average = {r.variant: r.h for r in rows if r.dataset == AVERAGE}
    return [AuditPoint(k, v, average[k]) for k, v in val_h.items() if k in average]


def spearman(points: Sequence[AuditPoint]) -> float:
    """Spearman's rank correlation of validation H and b2n H (ties get mean ranks); NaN with
    fewer than :data:`MIN_POINTS` points or when either side is constant."""
    from scipy.stats import spearmanr

    if len(points) < MIN_POINTS:
        return math.nan
    if len({p.val_h for p in points}) < 2 or len({p.b2n_h for p in points}) < 2:
        return math.nan
    return float(spearmanr([p.val_h for p in points], [p.b2n_h for p in points]).statistic)


def rho_text(rho: float, n: int) -> str:
    """``ρ = 0.83 over 7 settings``, or why there is none."""
    if math.isnan(rho):
        return f"ρ undefined over {n} settings (needs {MIN_POINTS} with distinct scores)"
    return f"ρ = {rho:.2f} over {n} settings"


def audit_table(points: Sequence[AuditPoint], rho: float) -> Table:
    """Each audited setting's validation H and b2n H, best validation first, with ρ noted."""
    rows = [
        [p.label, f"{p.val_h:.2f}", f"{p.b2n_h:.2f}"]
        for p in sorted(points, key=lambda p: -p.val_h)
    ]
    note = f"Spearman's {rho_text(rho, len(points))} between validation H and b2n H"
    return Table(
        "audit",
        "Search audit: validation H against b2n H",
        ["setting", "H (val)", "H (b2n)"],
        rows,
        notes=[note],
        align="lrr",
    )


def audit_figure(points: Sequence[AuditPoint], rho: float) -> Figure:
    """Validation H (x) against AVERAGE b2n H (y), one labelled point per audited setting."""
    figure, axes = plt.subplots(figsize=(6.0, 5.0))
    axes.scatter([p.val_h for p in points], [p.b2n_h for p in points], color="C0", s=36)
    for point in points:
        axes.annotate(point.label, (point.val_h, point.b2n_h), fontsize=7, xytext=(3, 3),
                      textcoords="offset points")  # fmt: skip
    axes.set_xlabel("validation H (search objective)")
    axes.set_ylabel("b2n H (AVERAGE)")
    axes.set_title(f"Search audit: {rho_text(rho, len(points))}", fontsize=10)
    axes.grid(alpha=0.3)
    return figure
