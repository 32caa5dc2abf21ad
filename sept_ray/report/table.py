"""The one table type of the project, and its text, Markdown and CSV writers.

Every table a sweep prints or writes is a :class:`Table`: the Base/New/H table
(:mod:`sept_ray.report.tables`), the studies' own tables (:mod:`sept_ray.report.studies`), the
report's paper-layout tables (:mod:`sept_ray.report.layouts`), SEPT's paired effect and a
search's trials. Cells are strings, formatted by whoever builds the table.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Table:
    """A titled table: ``header`` and ``rows`` of string cells, ``notes`` said under it.

    ``key`` names its files (``<key>.csv``, ``<key>.md``; in a report, tables sharing a key go in
    one CSV, each row prefixed by its table's ``block``). ``align``: one letter per column for
    the text writer, ``l`` or ``r`` (columns past its end: ``l``)."""

    key: str
    title: str
    header: list[str]
    rows: list[list[str]]
    block: str = ""
    notes: list[str] = field(default_factory=list)
    align: str = ""


def to_text(table: Table) -> str:
    """Fixed-width text for a terminal: the header, a rule, the rows, then each note on a line."""
    lines = [list(table.header)] + table.rows
    widths = [max(len(line[i]) for line in lines) for i in range(len(table.header))]
    align = table.align.ljust(len(widths), "l")
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(width) if side == "r" else cell.ljust(width)
            for cell, width, side in zip(line, widths, align, strict=True)
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out + table.notes) + "\n"


def to_markdown(table: Table) -> str:
    """A GitHub Markdown table (an empty cell as a space), each note after it in italics."""
    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in table.rows]
    notes = [f"\n\n_{note}_" for note in table.notes]
    return "\n".join(lines) + "".join(notes) + "\n"


def write_csv(tables: Sequence[Table], path: Path) -> Path:
    """``tables`` (sharing one header) as one CSV at ``path``, with a leading ``block`` column
    when there are several; returns ``path``."""
    blocks = len(tables) > 1
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow((["block"] if blocks else []) + tables[0].header)
        for table in tables:
            for row in table.rows:
                writer.writerow(([table.block] if blocks else []) + row)
    return path


def write_files(table: Table, folder: Path) -> list[Path]:
    """``<key>.md`` and ``<key>.csv`` of ``table`` in ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md_path = folder / f"{table.key}.md"
    md_path.write_text(to_markdown(table), encoding="utf-8")
    return [md_path, write_csv([table], folder / f"{table.key}.csv")]
