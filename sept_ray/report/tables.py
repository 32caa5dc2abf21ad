"""The Base/New/H table of a sweep (a :class:`~sept_ray.report.table.Table`) as text, Markdown
and CSV."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from sept_ray.metrics import AVERAGE, TableRow
from sept_ray.report.table import Table, to_markdown, write_csv
from sept_ray.report.table import to_text as table_text

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
    return "scores: " + "; or ".join(SCORE_RULES[r] for r in chosen)


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


def score_table(
    rows: Sequence[TableRow], rules: Iterable[str] = (), key: str = "b2n_table"
) -> Table:
    """The Base/New/H table: grouped by dataset (average last), the average row of each method
    the mean of per-dataset values; its notes say which epoch ``rules`` (the trials'
    ``train.report_epoch`` values) report, and which rows lack runs."""
    notes = [score_note(rules), footnote(rows)]
    return Table(
        key,
        "Base/New/H",
        list(COLUMNS),
        [row_values(r) for r in ordered(rows)],
        notes=[n for n in notes if n],
        align="llrrrrrr",
    )


def to_text(rows: Sequence[TableRow], rules: Iterable[str] = ()) -> str:
    """:func:`score_table` as fixed-width text for the terminal."""
    return table_text(score_table(rows, rules))


def footnote(rows: Sequence[TableRow]) -> str:
    """The note on incomplete rows, when there are any."""
    return "" if all(r.complete for r in rows) else INCOMPLETE_NOTE


def write_tables(
    rows: Sequence[TableRow], folder: Path, stem: str = "b2n_table", rules: Iterable[str] = ()
) -> list[Path]:
    """Write ``<stem>.csv`` (full-precision numbers and the planned runs) and ``<stem>.md`` (the
    :func:`score_table`) into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    values = [
        [r.dataset, r.variant, r.base, r.new, r.h, r.h_std, r.n_seeds, r.n_runs, r.n_expected]
        for r in ordered(rows)
    ]
    full = Table(stem, "Base/New/H", list(CSV_COLUMNS), [[str(v) for v in row] for row in values])
    md_path = folder / f"{stem}.md"
    md_path.write_text(to_markdown(score_table(rows, rules, stem)), encoding="utf-8")
    return [write_csv([full], folder / f"{stem}.csv"), md_path]
