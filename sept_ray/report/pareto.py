"""The Pareto front of a search with ``--objective pareto``: validation Base against New.

Each finished setting is a :class:`ParetoPoint` (validation Base, New and H, in percent, and its
role: on the front, SEPT's defaults, the reference without SEPT, or another setting). The
search writes the front's table and the figure beside its files; the search's report shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from sept_ray.report.plots import plt  # the Agg backend
from sept_ray.report.table import Table

ROLES = ("front", "defaults", "without-sept", "other")


@dataclass(frozen=True)
class ParetoPoint:
    """One setting: its trial id, validation Base, New and H (percent, means over datasets,
    partitions and seeds), whether it is on the front, and its role (:data:`ROLES`)."""

    name: str
    base: float
    new: float
    h: float
    on_front: bool
    role: str


def pareto_points(rows: Sequence[Mapping[str, Any]], front: Sequence[str]) -> list[ParetoPoint]:
    """The points of a search's rows (``trial_id``, ``base``, ``new``, ``H``); ``front``: the
    trial ids on the Pareto front. SEPT's defaults and the reference keep their role on the
    front too."""
    points = []
    for row in rows:
        name = str(row["trial_id"])
        on_front = name in front
        role = name if name in ROLES else ("front" if on_front else "other")
        points.append(ParetoPoint(name, row["base"], row["new"], row["H"], on_front, role))
    return points


def pareto_table(points: Sequence[ParetoPoint]) -> Table:
    """The settings on the front, highest validation New first, and the reference without SEPT
    and SEPT's defaults beside them (marked when off the front)."""
    shown = [p for p in points if p.on_front or p.role in ("defaults", "without-sept")]
    rows = [
        [p.name, f"{p.base:.2f}", f"{p.new:.2f}", f"{p.h:.2f}", "yes" if p.on_front else "no"]
        for p in sorted(shown, key=lambda p: -p.new)
    ]
    n_front = sum(p.on_front for p in points)
    return Table(
        "pareto_front",
        "Search: Pareto front of validation Base and New",
        ["setting", "Base (val)", "New (val)", "H (val)", "on the front"],
        rows,
        notes=[f"{n_front} of {len(points)} settings are on the front"],
        align="lrrrl",
    )


def pareto_figure(points: Sequence[ParetoPoint]) -> Figure:
    """Validation Base (x) against New (y): every setting, the front as a line, SEPT's
    defaults and the reference without SEPT labelled."""
    figure, axes = plt.subplots(figsize=(6.0, 5.0))
    others = [p for p in points if not p.on_front]
    front = sorted((p for p in points if p.on_front), key=lambda p: p.base)
    axes.scatter([p.base for p in others], [p.new for p in others], color="0.6", s=24,
                 label="other settings")  # fmt: skip
    axes.plot([p.base for p in front], [p.new for p in front], "o-", color="C0", ms=6,
              label="Pareto front")  # fmt: skip
    for role, marker, color in (("defaults", "s", "C1"), ("without-sept", "^", "C3")):
        for p in points:
            if p.role == role:
                axes.scatter([p.base], [p.new], marker=marker, color=color, s=60, zorder=3,
                             label=role)  # fmt: skip
    axes.set_xlabel("validation Base accuracy (%)")
    axes.set_ylabel("validation New accuracy (%)")
    axes.set_title("Search: validation Base against New", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure
