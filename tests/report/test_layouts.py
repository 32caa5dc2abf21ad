"""The report's paper-layout tables: our cells, SEPT's Δ, the paper's beside, missing cells."""

from sept_ray.metrics import AVERAGE, RunScore, aggregate, harmonic_mean
from sept_ray.report import paper
from sept_ray.report.layouts import (
    MISSING,
    NOT_COMPARABLE,
    ablation_table,
    b2n_tables,
    diagnostics_table,
    efficiency_table,
    xd_table,
)

ON_PENGI = paper.comparability("pengi", "paper")
ON_TINY = paper.comparability("tiny-alm", "demo")


def score(dataset, label, base, new, seed=0, fold=1):
    return RunScore(dataset, label, seed, fold, base, new, harmonic_mean(base, new))


def by_method(table):
    return {row[0]: row for row in table.rows}


def test_b2n_blocks_on_the_papers_setting():
    runs = [
        score("ESC50", "coop", 60, 10, seed=0),
        score("ESC50", "coop", 64, 14, seed=1),
        score("ESC50", "coop+sept", 58, 16),
        score("CREMA-D", "coop", 50, 10),
        score("CREMA-D", "coop+sept", 52, 40),
    ]
    planned = {
        ("coop", "ESC50"): 2,
        ("coop+sept", "ESC50"): 1,
        ("coop", "CREMA-D"): 1,
        ("coop+sept", "CREMA-D"): 1,
        ("dept", "ESC50"): 1,  # planned, never finished
    }
    tables = b2n_tables(aggregate(runs, planned), list(planned), ON_PENGI)
    assert [t.title for t in tables] == [
        "Average over 2 datasets",
        "ESC50",
        "CREMA-D",
    ]  # paper order
    esc50 = by_method(tables[1])
    h0, h1 = harmonic_mean(60, 10), harmonic_mean(64, 14)
    std = abs(h0 - h1) / 2**0.5
    assert esc50["coop"][1:4] == [
        "62.00 ± 2.83",
        "12.00 ± 2.83",
        f"{(h0 + h1) / 2:.2f} ± {std:.2f}",
    ]
    assert esc50["coop+sept"][4] == f"{harmonic_mean(58, 16) - (h0 + h1) / 2:+.2f}"
    assert esc50["coop+sept"][5:9] == ["59.00", "15.80", "24.70", f"{24.70 - 19.46:+.2f}"]
    assert esc50["dept"][1:4] == [MISSING] * 3 and esc50["dept"][-1] == "0"  # never 0.00
    assert esc50["dept"][5:8] == ["60.80", "14.00", "22.53"]  # the paper still has DePT
    assert "dept" not in by_method(tables[2])  # planned on ESC50 only: no row for CREMA-D
    average = by_method(tables[0])
    # the average of two of the paper's datasets: the mean of its two rows, said so in a note
    assert average["coop"][7] == f"{(19.46 + 15.29) / 2:.2f}"
    assert "mean of the paper's rows for these 2 datasets" in tables[0].notes[0]
    assert average["coop"][-1] == "3"


def test_b2n_blocks_elsewhere_are_not_comparable():
    runs = [score("SynthHome", "zeroshot", 90, 80), score("SynthHome", "palm", 95, 70)]
    tables = b2n_tables(
        aggregate(runs), [("zeroshot", "SynthHome"), ("palm", "SynthHome")], ON_TINY
    )
    for table in tables:
        assert all(row[7] == NOT_COMPARABLE and row[5] == "" for row in table.rows)
        assert "backbone tiny-alm" in table.notes[0]
    on_pengi = b2n_tables(aggregate(runs), [("zeroshot", "SynthHome")], ON_PENGI)
    assert "SynthHome is not a dataset of the paper" in on_pengi[1].notes[0]


def test_the_papers_own_average_with_all_eleven_datasets():
    datasets = paper.paper_datasets()
    runs = [score(d, "coop", 50, 50) for d in datasets]
    tables = b2n_tables(aggregate(runs), [("coop", d) for d in datasets], ON_PENGI)
    assert by_method(tables[0])["coop"][5:8] == ["65.00", "34.09", "42.83"]
    assert tables[0].notes == []


def test_xd_with_the_papers_source_and_target():
    pair = "RAVDESS->CREMA-D"
    rows = aggregate([score(pair, "coop", 30, 16), score("SynthA->SynthB", "coop", 80, 40)])
    table = xd_table(rows, ON_PENGI)
    cells = {r[0]: r for r in table.rows}
    assert cells[pair][2:7] == ["30.00", "16.00", "30.68", "15.74", "1"]
    assert cells["SynthA->SynthB"][4:6] == ["", NOT_COMPARABLE]
    assert any("SynthA" in n for n in table.notes)


def test_ablation_needs_the_papers_eleven_datasets():
    datasets = paper.paper_datasets()
    runs = [score(d, "row1", 60, 30) for d in datasets] + [
        score(d, "row7", 60, 40) for d in datasets
    ]
    full = ablation_table(aggregate(runs), datasets, ON_PENGI)
    assert full.rows[0][-4:] == ["65.00", "34.09", "42.83", "11"]
    assert full.rows[1][5:8] == [MISSING] * 3  # row 2 never ran
    partial = ablation_table(aggregate(runs[:1]), datasets[:1], ON_PENGI)
    assert partial.rows[0][-2] == NOT_COMPARABLE and "1 datasets" in partial.notes[0]


def test_efficiency_with_the_papers_columns():
    rows = aggregate([score("ESC50", "coop", 60, 20)])
    finals = {
        "coop": [
            {"n_params": 8192, "train_seconds": 3.0, "infer_ms": 2.0, "infer_ms_cached_audio": 0.1}
        ]
    }
    table = efficiency_table(rows, finals, ON_PENGI)
    assert table.rows[0][:3] == ["coop", "8,192", "3.0"]
    assert table.rows[0][6:10] == ["8,192", "94.0", "2.8", "42.83"]
    assert table.header[6] == "# Params (paper)"
    assert efficiency_table(rows, finals, ON_TINY).rows[0][9] == NOT_COMPARABLE
    assert all(row.dataset != AVERAGE or row.n_runs == 1 for row in rows)


def test_diagnostics_table_averages_datasets_at_the_epochs_new_classes_were_measured():
    def curves(active, new_epochs=(25, 50)):
        base = {e: [active, active + 0.2] for e in range(1, 51)}  # every step of a SEPT trial
        new = {e: [active / 2] for e in new_epochs}
        return {"intra_active": {("coop+sept", "base"): base, ("coop+sept", "new"): new}}

    table = diagnostics_table({"A": curves(0.2), "B": curves(0.6), "C": curves(0.4, (25,))})
    assert table.header[:4] == ["Method", "classes", "epoch", "active intra"]
    rows = {(r[1], r[2]): r for r in table.rows}
    assert list(rows) == [("base", "25"), ("base", "50"), ("new", "25"), ("new", "50")]
    assert rows[("base", "25")][3] == "0.500" and rows[("base", "25")][-1] == "3"
    assert rows[("new", "50")][3] == "0.200" and rows[("new", "50")][-1] == "2"
    assert rows[("new", "25")][4] == ""  # no inter values were logged
