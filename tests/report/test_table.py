"""The one table type's writers: text for the terminal, Markdown, CSV."""

import csv

from sept_ray.metrics import RunScore, aggregate
from sept_ray.report.table import Table, to_markdown, to_text, write_csv, write_files
from sept_ray.report.tables import score_table


def test_text_aligns_columns_as_told_and_puts_notes_under_the_table():
    table = Table("t", "T", ["name", "value"], [["a", "1.5"], ["long", "10.25"]], align="lr")
    assert to_text(table) == "name  value\n----  -----\na       1.5\nlong  10.25\n"
    noted = Table("t", "T", ["x", "y"], [["a", ""]], notes=["n1", "n2"])
    assert to_text(noted) == "x  y\n-  -\na\nn1\nn2\n"  # left cells stripped at the line's end


def test_markdown_keeps_empty_cells_and_notes(tmp_path):
    table = Table("t", "T", ["x", "y"], [["a", ""]], notes=["said"])
    assert to_markdown(table) == "| x | y |\n|---|---|\n| a |   |\n\n_said_\n"
    md, path = write_files(table, tmp_path)
    assert md.read_text() == to_markdown(table)
    assert list(csv.reader(path.open())) == [["x", "y"], ["a", ""]]


def test_csv_of_several_tables_gets_a_block_column(tmp_path):
    first = Table("b2n", "A", ["m", "H"], [["coop", "1"]], block="A")
    second = Table("b2n", "B", ["m", "H"], [["coop", "2"]], block="B")
    rows = list(csv.reader(write_csv([first, second], tmp_path / "b2n.csv").open()))
    assert rows == [["block", "m", "H"], ["A", "coop", "1"], ["B", "coop", "2"]]


def test_the_score_table_is_one_of_them():
    rows = aggregate([RunScore("A", "coop", 0, 1, 80.0, 40.0, 53.333333)])
    table = score_table(rows, ["last"])
    assert table.header[:3] == ["dataset", "method", "base"] and table.align == "llrrrrrr"
    assert [r[:2] for r in table.rows] == [["A", "coop"], ["AVERAGE", "coop"]]
    assert table.notes == ["scores: each trial's last epoch"]
    assert to_text(table).splitlines()[-1] == "scores: each trial's last epoch"
