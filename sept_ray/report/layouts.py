"""The report's tables in the paper's layouts, our numbers with the paper's beside them.

Each builder returns :class:`Table` objects (a title, a header, rows of cells, notes). A cell the
sweep planned but that has no finished run reads ``missing`` (never 0); a paper cell reads
``not comparable`` when the sweep's backbone, preset or dataset differs from the paper's (the
reason is in the table's notes) and is empty when the paper has no such row (e.g. PALM).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence

from sept_ray.metrics import AVERAGE, TableRow
from sept_ray.report import paper, sept_effect, studies
from sept_ray.report.sept_effect import without_sept
from sept_ray.report.studies import mean_cell, runs_cell
from sept_ray.report.table import Table
from sept_ray.sept.ablation import ABLATION_ROWS

NOT_COMPARABLE = "not comparable"
MISSING = "missing"


def delta(value: float, reference: float | None) -> str:
    return "" if reference is None else f"{value - reference:+.2f}"


def b2n_tables(
    rows: Sequence[TableRow],
    planned: Sequence[tuple[str, str]],
    comparable: paper.Comparability,
) -> list[Table]:
    """The base-to-new table as the paper lays it out: the average over datasets first, then
    each dataset (the paper's order, then any other); per block one row per method (± SEPT in
    the sweep's order) with Base, New, H (± std over seeds), SEPT's ΔH over the same method
    without it, and the paper's Base, New, H and ΔH.

    ``planned``: every (label, dataset) the sweep planned, so that a cell without any finished
    run is shown as missing."""
    labels = list(dict.fromkeys([*(label for label, _ in planned), *(r.variant for r in rows)]))
    datasets = sorted({d for _, d in planned} | {r.dataset for r in rows if r.dataset != AVERAGE})
    order = paper.paper_datasets()
    datasets.sort(key=lambda d: (order.index(d) if d in order else len(order), d))
    found = {(r.variant, r.dataset): r for r in rows}
    planned_cells = set(planned)
    header = [
        "Method",
        "Base",
        "New",
        "H",
        "ΔH (SEPT)",
        "Base (paper)",
        "New (paper)",
        "H (paper)",
        "ΔH (paper)",
        "runs",
    ]
    tables = []
    for dataset in [AVERAGE, *datasets]:
        reference, note = paper_block(dataset, datasets, comparable)
        body = []
        for label in labels:
            in_block = dataset == AVERAGE or (label, dataset) in planned_cells
            if not in_block and (label, dataset) not in found:
                continue  # this method was never planned on this dataset
            cell = found.get((label, dataset))
            base_label = without_sept(label)
            base_cell = found.get((base_label, dataset)) if base_label else None
            ours = (
                [
                    mean_cell(cell.base, cell.base_std, cell.n_seeds),
                    mean_cell(cell.new, cell.new_std, cell.n_seeds),
                    mean_cell(cell.h, cell.h_std, cell.n_seeds),
                    delta(cell.h, base_cell.h if base_cell else None),
                ]
                if cell
                else [MISSING, MISSING, MISSING, ""]
            )
            theirs = paper_cells(reference, label, base_label, note)
            body.append([label, *ours, *theirs, runs_cell(cell) if cell else "0"])
        count = f"{len(datasets)} dataset{'s' if len(datasets) != 1 else ''}"
        title = f"Average over {count}" if dataset == AVERAGE else dataset
        notes = [f"paper: {note}"] if note else []
        tables.append(Table("b2n", title, header, body, block=dataset, notes=notes))
    return tables


def paper_b2n_rows(dataset: str) -> dict[str, tuple[float, float, float]]:
    """{variant: the paper's Base, New, H} of its b2n table for ``dataset`` (or AVERAGE)."""
    values = {}
    for variant in paper.PAPER_METHODS:
        row = paper.find("b2n", dataset, variant)
        if row is not None:
            values[variant] = (row.base, row.new, row.h)
    return values


def paper_block(
    dataset: str, datasets: Sequence[str], comparable: paper.Comparability
) -> tuple[dict[str, tuple[float, float, float]] | None, str]:
    """({variant: the paper's Base, New, H} for one block, a note); None with the reason when
    the block is not comparable. The average block takes the paper's own average when the
    sweep has all 11 of its datasets, else the mean of its rows for the sweep's datasets."""
    if dataset != AVERAGE:
        check = comparable.for_dataset(dataset)
        if not check.comparable:
            return None, f"{NOT_COMPARABLE}: {check.reason}"
        return paper_b2n_rows(dataset), ""
    if not comparable.comparable:
        return None, f"{NOT_COMPARABLE}: {comparable.reason}"
    outside = [d for d in datasets if d not in paper.paper_datasets()]
    if outside:
        return None, f"{NOT_COMPARABLE}: {', '.join(outside)} not in the paper"
    if sorted(datasets) == sorted(paper.paper_datasets()):
        return paper_b2n_rows(AVERAGE), ""
    values = {v: m for v in paper.PAPER_METHODS if (m := paper.mean_over(list(datasets), v))}
    return values, f"the mean of the paper's rows for these {len(datasets)} datasets"


def paper_cells(
    reference: dict[str, tuple[float, float, float]] | None,
    label: str,
    base_label: str | None,
    note: str,
) -> list[str]:
    """The paper's Base, New, H and ΔH for ``label``: ``not comparable``, or empty cells when the
    paper has no such method."""
    if reference is None:
        return ["", "", NOT_COMPARABLE, ""]
    values = reference.get(label)
    if values is None:
        return ["", "", "", ""]
    without = reference.get(base_label) if base_label else None
    return [
        f"{values[0]:.2f}",
        f"{values[1]:.2f}",
        f"{values[2]:.2f}",
        delta(values[2], without[2] if without else None),
    ]


def xd_table(rows: Sequence[TableRow], comparable: paper.Comparability) -> Table:
    """The cross-dataset table (source accuracy, target accuracy) with the paper's beside."""
    header, body = studies.xd_table(rows)
    notes = []
    for cells in body:
        check = comparable.for_dataset(cells[0])
        row = paper.find("xd", cells[0], cells[1]) if check.comparable else None
        if not check.comparable:
            cells[-1:-1] = ["", NOT_COMPARABLE]
            notes.append(f"{cells[0]}: {NOT_COMPARABLE}: {check.reason}")
        else:
            cells[-1:-1] = [f"{row.source:.2f}", f"{row.target:.2f}"] if row else ["", ""]
    header[-1:-1] = ["Source (paper)", "Target (paper)"]
    return Table("xd", "Cross-dataset transfer", header, body, notes=sorted(set(notes)))


def ablation_table(
    rows: Sequence[TableRow], datasets: Sequence[str], comparable: paper.Comparability
) -> Table:
    """The SEPT ablation (average over datasets) with the paper's rows, which average its 11
    datasets: comparable only when the sweep has those 11."""
    header, body = studies.ablation_table(rows)
    reason = comparable.reason
    if comparable.comparable and sorted(datasets) != sorted(paper.paper_datasets()):
        reason = f"{len(datasets)} datasets (the paper's ablation averages its 11)"
    for cells, spec in zip(body, ABLATION_ROWS, strict=True):
        row = paper.find("ablation", AVERAGE, "", row=spec.number)
        if reason:
            cells[-1:-1] = ["", "", NOT_COMPARABLE]
        else:
            cells[-1:-1] = [f"{row.base:.2f}", f"{row.new:.2f}", f"{row.h:.2f}"]
    header[-1:-1] = ["Base (paper)", "New (paper)", "H (paper)"]
    notes = [f"paper: {NOT_COMPARABLE}: {reason}"] if reason else []
    return Table("ablation", "SEPT ablation (average over datasets)", header, body, notes=notes)


def efficiency_table(
    rows: Sequence[TableRow],
    finals: dict[str, list[dict[str, float]]],
    comparable: paper.Comparability,
) -> Table:
    """Parameters, training and inference time, H per method, with the paper's (Pengi, its GPU:
    times depend on the hardware, parameter counts only on the backbone)."""
    header, body = studies.efficiency_table(rows, finals)
    for cells in body:
        row = paper.find("efficiency", AVERAGE, cells[0])
        if not comparable.comparable:
            cells[-1:-1] = ["", "", "", NOT_COMPARABLE]
        elif row is None:
            cells[-1:-1] = ["", "", "", ""]
        else:
            cells[-1:-1] = [
                f"{row.params:,}",
                f"{row.train_s:.1f}",
                f"{row.infer_ms:.1f}",
                f"{row.h:.2f}",
            ]
    header[-1:-1] = [
        "# Params (paper)",
        "Training (paper, s)",
        "Inference (paper, ms)",
        "H (paper)",
    ]
    notes = [f"paper: {NOT_COMPARABLE}: {comparable.reason}"] if not comparable.comparable else []
    notes.append("The paper's times are on its own GPU; ours on the machine that ran the sweep.")
    return Table("efficiency", "Efficiency", header, body, notes=notes)


def sept_effect_table(effects: Sequence[sept_effect.SeptEffect]) -> Table:
    """SEPT's effect on H paired by dataset, fold and seed: per SEPT variant, per dataset then
    AVERAGE, the mean ΔH with its bootstrap interval and the pairs SEPT wins, ties and loses."""
    return Table(
        key="sept_effect",
        title="SEPT's effect on H, paired by dataset, fold and seed",
        header=list(sept_effect.HEADER),
        rows=sept_effect.effect_rows(effects),
        notes=[sept_effect.NOTE],
    )


DIAGNOSTIC_COLUMNS = (
    ("intra_active", "active intra"),
    ("inter_active", "active inter"),
    ("intra_ratio", "own d/m"),
    ("inter_ratio", "other d/m"),
    ("drift", "drift"),
)


def diagnostics_table(
    by_dataset: Mapping[str, Mapping[str, Mapping[tuple[str, str], Mapping[int, list[float]]]]],
) -> Table:
    """SEPT's hinge diagnostics, AVERAGE over datasets (of the mean over runs), per method, class
    group and epoch at which new classes were measured: the fractions of active intra and inter
    hinges, the distance/margin ratios to own and other neighbours, and the drift.

    ``by_dataset``: dataset -> stat -> (label, group) -> epoch -> one value per run."""
    cells: dict[tuple[str, str, int], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    labels: list[str] = []
    for stats in by_dataset.values():
        for stat, _ in DIAGNOSTIC_COLUMNS:
            for (label, group), by_epoch in stats.get(stat, {}).items():
                labels += [] if label in labels else [label]
                for epoch, values in by_epoch.items():
                    cells[(label, group, epoch)][stat].append(statistics.fmean(values))
    epochs = sorted({epoch for _, group, epoch in cells if group == "new"})
    rows = []
    for label in labels:
        for group in ("base", "new"):
            for epoch in epochs:
                cell = cells.get((label, group, epoch))
                if not cell:
                    continue
                values = [
                    f"{statistics.fmean(cell[s]):.3f}" if cell[s] else ""
                    for s, _ in DIAGNOSTIC_COLUMNS
                ]
                datasets = max(len(v) for v in cell.values())
                rows.append([label, group, str(epoch), *values, str(datasets)])
    return Table(
        key="sept_diagnostics",
        title="SEPT's hinges against the pretrained margins (AVERAGE over datasets)",
        header=["Method", "classes", "epoch", *(n for _, n in DIAGNOSTIC_COLUMNS), "datasets"],
        rows=rows,
        notes=[
            "active: fraction of hinges with a positive term; d/m: mean distance to a neighbour "
            "over its margin (intra: own neighbours, a hinge is active above 1; inter: other "
            "classes' neighbours, active below 1); drift: mean cos between a class's learned and "
            "zero-shot text feature (1: none). Epochs: those at which new classes were measured "
            "(train.diagnostics_every and the last); base classes of a SEPT trial are the means "
            "of that epoch's training steps."
        ],
    )
