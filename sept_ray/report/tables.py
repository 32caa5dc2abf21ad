"""The Base/New/H table of a sweep as text, Markdown and CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from sept_ray.metrics import AVERAGE, TableRow

COLUMNS = ("dataset", "method", "base", "new", "H", "H_std", "seeds", "runs")
CSV_COLUMNS = (*COLUMNS, "runs_planned")
INCOMPLETE_NOTE = "runs k/n: only k of the n planned runs finished; that row averages fewer runs."
SCORE_RULES = {
    "last": "each trial's last epoch",
    "min_train_loss": "each trial's epoch of lowest mean training loss "
    "(train.report_epoch = min_train_loss)",
}


def score_note(rules: Iterable[str]) -> str:
    """Which epoch the table's trials report (``train.report_epoch``), one line; empty for none."""
    chosen = sorted(set(rules))
    if not chosen:
        return ""
    return "scores: " + "; or ".join(SCORE_RULES[r] for r in chosen) + "\n"


def row_values(row: TableRow) -> list[str]:
    return [
        row.dataset,
        row.variant,
        f"{row.base:.2f}",
        f"{row.new:.2f}",
        f"{row.h:.2f}",
        f"{row.h_std:.2f}",
        str(row.n_seeds),
        str(row.n_runs) if row.complete else f"{row.n_runs}/{row.n_expected}",
    ]


def ordered(rows: Sequence[TableRow]) -> list[TableRow]:
    """Grouped by dataset (average last), methods in their sweep order within each dataset."""
    variants = list(dict.fromkeys(r.variant for r in rows))
    datasets = sorted({r.dataset for r in rows if r.dataset != AVERAGE}) + [AVERAGE]
    index = {(r.dataset, r.variant): r for r in rows}
    return [index[(d, v)] for d in datasets for v in variants if (d, v) in index]


def to_markdown(rows: Sequence[TableRow], rules: Iterable[str] = ()) -> str:
    """A GitHub Markdown table; the average row of each method is the mean of per-dataset values;
    ``rules``: the trials' ``train.report_epoch`` values, said under the table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row_values(r)) + " |" for r in ordered(rows)]
    note = score_note(rules)
    return "\n".join(lines) + "\n" + (f"\n{note}" if note else "") + footnote(rows)


def to_text(rows: Sequence[TableRow], rules: Iterable[str] = ()) -> str:
    """A fixed-width table for the terminal (``rules`` as in :func:`to_markdown`)."""
    body = [list(COLUMNS)] + [row_values(r) for r in ordered(rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(COLUMNS))]
    lines = []
    for n, line in enumerate(body):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n" + score_note(rules) + footnote(rows)


def footnote(rows: Sequence[TableRow]) -> str:
    """The note on incomplete rows, when there are any."""
    return "" if all(r.complete for r in rows) else f"\n{INCOMPLETE_NOTE}\n"


def write_tables(
    rows: Sequence[TableRow], folder: Path, stem: str = "b2n_table", rules: Iterable[str] = ()
) -> list[Path]:
    """Write ``<stem>.csv`` and ``<stem>.md`` (saying which epoch its ``rules`` report) into
    ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / f"{stem}.csv", folder / f"{stem}.md"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in ordered(rows):
            writer.writerow(
                [
                    row.dataset,
                    row.variant,
                    row.base,
                    row.new,
                    row.h,
                    row.h_std,
                    row.n_seeds,
                    row.n_runs,
                    row.n_expected,
                ]
            )
    md_path.write_text(to_markdown(rows, rules))
    return [csv_path, md_path]
