"""Study tables in the paper's layouts: cross-dataset, the SEPT ablation and efficiency, as the
(header, rows) of a :class:`~sept_ray.report.table.Table` (the sweep prints them; the report adds
the paper's columns)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from sept_ray.metrics import AVERAGE, TableRow
from sept_ray.sept.ablation import ABLATION_ROWS

MARK = "✓"


def mean_cell(value: float, std: float, n_seeds: int) -> str:
    """``"86.85"``, or ``"86.85 ± 0.42"`` (std over seeds) when there are several seeds."""
    return f"{value:.2f} ± {std:.2f}" if n_seeds > 1 else f"{value:.2f}"


def runs_cell(row: TableRow) -> str:
    """``"6"``, or ``"5/6"`` when only 5 of 6 planned runs finished."""
    return str(row.n_runs) if row.complete else f"{row.n_runs}/{row.n_expected}"


def averages(rows: Sequence[TableRow]) -> dict[str, TableRow]:
    """label -> its AVERAGE row (mean of per-dataset values)."""
    return {r.variant: r for r in rows if r.dataset == AVERAGE}


def xd_table(rows: Sequence[TableRow]) -> tuple[list[str], list[list[str]]]:
    """The paper's cross-dataset layout: per (source -> target) pair and method, the source
    accuracy (all source classes) and the target accuracy (target classes), in percent."""
    header = ["source -> target", "method", "Source", "Target", "runs"]
    body = [
        [
            r.dataset,
            r.variant,
            mean_cell(r.base, r.base_std, r.n_seeds),
            mean_cell(r.new, r.new_std, r.n_seeds),
            runs_cell(r),
        ]
        for r in rows
        if r.dataset != AVERAGE
    ]
    return header, body


def ablation_table(rows: Sequence[TableRow]) -> tuple[list[str], list[list[str]]]:
    """The paper's ablation layout: row, the four switches, Base, New, H (averages over
    datasets); a row whose trials all failed is shown as missing."""
    header = ["#", "L_intra", "m_intra", "L_inter", "m_inter", "Base", "New", "H", "runs"]
    found = averages(rows)
    body = []
    for row in ABLATION_ROWS:
        marks = [
            MARK if on else ""
            for on in (row.use_intra, row.intra_margin, row.use_inter, row.inter_margin)
        ]
        cell = found.get(row.label)
        scores = (
            [
                mean_cell(cell.base, cell.base_std, cell.n_seeds),
                mean_cell(cell.new, cell.new_std, cell.n_seeds),
                mean_cell(cell.h, cell.h_std, cell.n_seeds),
                runs_cell(cell),
            ]
            if cell
            else ["missing"] * 3 + ["0"]
        )
        body.append([str(row.number), *marks, *scores])
    return header, body


def efficiency_table(
    rows: Sequence[TableRow], finals: dict[str, list[dict[str, float]]]
) -> tuple[list[str], list[list[str]]]:
    """The paper's efficiency layout per method: trainable parameters, training time per run,
    inference time per clip (audio tower included, and from a cached embedding), H (average).

    ``finals``: label -> the final metrics of each of its trials. Means over trials; parameter
    counts that differ between datasets (a head or vectors per class) show as a range.
    """
    header = [
        "Method",
        "# Params",
        "Training Time (s)",
        "Inference Time (ms)",
        "Inference, cached audio (ms)",
        "H",
        "runs",
    ]
    found = averages(rows)
    body = []
    for label, metrics in finals.items():
        params = sorted({int(m["n_params"]) for m in metrics})
        shown = f"{params[0]:,}" if len(params) == 1 else f"{params[0]:,}–{params[-1]:,}"
        cell = found.get(label)
        body.append(
            [
                label,
                shown,
                f"{statistics.fmean(m['train_seconds'] for m in metrics):.1f}",
                f"{statistics.fmean(m['infer_ms'] for m in metrics):.2f}",
                f"{statistics.fmean(m['infer_ms_cached_audio'] for m in metrics):.4f}",
                mean_cell(cell.h, cell.h_std, cell.n_seeds) if cell else "missing",
                str(len(metrics)),
            ]
        )
    return header, body
