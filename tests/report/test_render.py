"""Markdown, CSV and the self-contained HTML page of a report."""

import base64
import csv
import re

from sept_ray.metrics import RunScore, aggregate
from sept_ray.report.layouts import MISSING, NOT_COMPARABLE
from sept_ray.report.plots import base_new_scatter, save_png
from sept_ray.report.render import FigureFile, ReportContent, to_html, to_markdown, write_csvs
from sept_ray.report.table import Table


def content(tmp_path):
    rows = aggregate([RunScore("A", "coop", 0, 1, 80, 40, 53.33)])
    figure = save_png(base_new_scatter(rows), tmp_path / "figures" / "scatter.png")
    blocks = [
        Table(
            "b2n",
            "Average",
            ["Method", "H", "H (paper)"],
            [["coop", "53.33", NOT_COMPARABLE]],
            "AVERAGE",
            ["paper: not comparable: x"],
        ),
        Table(
            "b2n",
            "A",
            ["Method", "H", "H (paper)"],
            [["coop", "53.33", NOT_COMPARABLE], ["dept", MISSING, ""]],
            "A",
        ),
    ]
    failed = Table(
        "failed_trials", "Failed trials (1)", ["trial", "error"], [["t<1>", "boom & bust"]]
    )
    return ReportContent(
        "report <x>",
        [("study", "b2n")],
        blocks,
        [FigureFile(figure, "Plots", "Base vs New")],
        [failed],
        "cite",
    )


def test_html_is_one_self_contained_page(tmp_path):
    page = to_html(content(tmp_path))
    assert "<title>report &lt;x&gt;</title>" in page
    assert "t&lt;1&gt;" in page and "boom &amp; bust" in page  # escaped
    assert '<td class="missing">missing</td>' in page and 'class="nc"' in page
    (data,) = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert base64.b64decode(data) == (tmp_path / "figures" / "scatter.png").read_bytes()
    assert not re.search(r'(src|href)="(http|//|file:)', page)  # nothing fetched from elsewhere


def test_markdown_and_csv(tmp_path):
    report = content(tmp_path)
    text = to_markdown(report, tmp_path)
    assert "## Average\n\n| Method | H | H (paper) |" in text
    assert "| dept | missing |   |" in text and "_paper: not comparable: x_" in text
    assert "![Base vs New](figures/scatter.png)" in text
    b2n, failed = write_csvs([*report.tables, *report.problems], tmp_path)
    assert list(csv.reader(b2n.open()))[:3] == [
        ["block", "Method", "H", "H (paper)"],
        ["AVERAGE", "coop", "53.33", NOT_COMPARABLE],
        ["A", "coop", "53.33", NOT_COMPARABLE],
    ]
    assert list(csv.reader(failed.open())) == [["trial", "error"], ["t<1>", "boom & bust"]]
