"""Write a report as Markdown, CSV (one file per table key) and one self-contained HTML page
(styles inline, figures embedded as base64 PNG: the page opens anywhere, offline)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sept_ray.report.layouts import MISSING, NOT_COMPARABLE
from sept_ray.report.table import Table, write_csv
from sept_ray.report.table import to_markdown as table_markdown


@dataclass(frozen=True)
class FigureFile:
    """A saved figure, its section heading and its caption."""

    path: Path
    section: str
    caption: str


@dataclass
class ReportContent:
    """Everything a rendered report shows."""

    title: str
    summary: list[tuple[str, str]]  # (field, value) about the sweep
    tables: list[Table]
    figures: list[FigureFile]
    problems: list[Table]  # failed and missing trials
    citation: str


def to_markdown(content: ReportContent, figure_root: Path) -> str:
    """The report as Markdown; figures are linked relative to ``figure_root``."""
    out = [f"# {content.title}", ""]
    out += [f"- **{name}**: {value}" for name, value in content.summary]
    section = None
    for table in [*content.tables, *content.problems]:
        out += ["", f"## {table.title}", "", table_markdown(table)]
    for figure in content.figures:
        if figure.section != section:
            section = figure.section
            out += ["", f"## {section}"]
        out += ["", f"![{figure.caption}]({figure.path.relative_to(figure_root).as_posix()})"]
        out += ["", f"_{figure.caption}_"]
    out += ["", f"Paper numbers: {content.citation}.", ""]
    return "\n".join(out)


def write_csvs(tables: Sequence[Table], folder: Path) -> list[Path]:
    """One ``<key>.csv`` per table key: the header with a leading ``block`` column when the key
    has several tables (b2n: one block per dataset and the average)."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = dict.fromkeys(t.key for t in tables)
    return [write_csv([t for t in tables if t.key == key], folder / f"{key}.csv") for key in keys]


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
td.missing{color:#b00;font-weight:600}td.nc{color:#777;font-style:italic}
td.up{color:#070}td.down{color:#a00}
.note{color:#555;font-size:.85em;margin:.2em 0 1em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#444;font-size:.9em}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}
"""


def cell_class(value: str) -> str:
    if value == MISSING:
        return ' class="missing"'
    if value == NOT_COMPARABLE:
        return ' class="nc"'
    if value.startswith("+") and value[1:2].isdigit():
        return ' class="up"'
    if value.startswith("-") and value[1:2].isdigit():
        return ' class="down"'
    return ""


def html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td{cell_class(c)}>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in table.rows
    )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in table.notes)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"


def to_html(content: ReportContent) -> str:
    """The report as one self-contained HTML page."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(content.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(content.title)}</h1><dl>",
    ]
    for name, value in content.summary:
        parts.append(f"<dt>{html.escape(name)}</dt><dd>{html.escape(value)}</dd>")
    parts.append("</dl>")
    for table in [*content.tables, *content.problems]:
        parts.append(f'<section><h2 id="{html.escape(table.key)}">{html.escape(table.title)}</h2>')
        parts.append(html_table(table) + "</section>")
    section = None
    for figure in content.figures:
        if figure.section != section:
            section = figure.section
            parts.append(f"<h2>{html.escape(section)}</h2>")
        data = base64.b64encode(figure.path.read_bytes()).decode("ascii")
        parts.append(
            f'<figure><img alt="{html.escape(figure.caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>"
        )
    parts.append(f'<p class="note">Paper numbers: {html.escape(content.citation)}.</p>')
    parts.append("</body></html>")
    return "\n".join(parts)
