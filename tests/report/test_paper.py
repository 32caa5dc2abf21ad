"""The paper's numbers shipped with the package, and when ours may stand beside them."""

from importlib.resources import files
from pathlib import Path

import pytest

from sept_ray.metrics import AVERAGE, RunScore, aggregate, harmonic_mean
from sept_ray.report import paper

VARIANTS = list(paper.PAPER_METHODS)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "paper_tables.csv"


@pytest.mark.skipif(not SHARED.is_file(), reason="../shared/reference is not beside the checkout")
def test_the_packaged_copy_is_the_reference_table():
    packaged = files("sept_ray.report").joinpath("data/paper_tables.csv").read_text()
    assert packaged == SHARED.read_text()


def test_the_shipped_table_has_every_study_of_the_poster():
    rows = paper.paper_rows()
    assert {r.table for r in rows} == {"b2n", "xd", "ablation", "efficiency"}
    assert len(paper.paper_datasets()) == 11
    assert paper.paper_datasets()[:3] == ["Beijing-Opera", "NS-Instruments", "ESC50"]
    assert paper.find("b2n", "ESC50", "coop+sept").h == 24.70
    assert paper.find("xd", "RAVDESS->CREMA-D", "kgcoop+sept").target == 20.60
    assert paper.find("ablation", AVERAGE, "", row=5).new == 38.79
    assert paper.find("efficiency", AVERAGE, "coop").params == 8192
    assert paper.find("b2n", "ESC50", "palm") is None  # not in the paper


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_papers_averages_are_the_mean_of_its_rows(variant):
    """Our aggregation over the paper's own per-dataset rows (one run each) gives its
    "Avg. over 11 datasets" (to its rounding), e.g. CoOp H 42.83: the average H is the mean of
    per-dataset H, not the H of the mean Base and New (CoOp: that would be 44.72)."""
    runs = [
        RunScore(d, variant, 0, 1, r.base, r.new, r.h)
        for d in paper.paper_datasets()
        if (r := paper.find("b2n", d, variant))
    ]
    (average,) = [r for r in aggregate(runs) if r.dataset == AVERAGE]
    theirs = paper.find("b2n", AVERAGE, variant)
    assert average.h == pytest.approx(theirs.h, abs=0.006)
    assert average.new == pytest.approx(theirs.new, abs=0.006)
    if variant == "cocoop":  # the one cell of the paper that is not the mean of its rows
        assert average.base == pytest.approx(68.31, abs=0.006) and theirs.base == 69.13
    else:
        assert average.base == pytest.approx(theirs.base, abs=0.006)
    assert paper.mean_over(paper.paper_datasets(), variant)[2] == pytest.approx(average.h)


def test_coop_average_h_by_hand():
    hs = [r.h for d in paper.paper_datasets() if (r := paper.find("b2n", d, "coop"))]
    assert round(sum(hs) / 11, 2) == 42.83
    assert round(harmonic_mean(65.00, 34.09), 2) == 44.72  # H of the averages: not the paper's


def test_comparability_names_each_reason():
    assert paper.comparability("pengi", "paper").comparable
    check = paper.comparability("tiny-alm", "demo")
    assert not check.comparable
    assert "backbone tiny-alm" in check.reason and "demo preset" in check.reason
    assert "pengi-random" in paper.comparability("pengi-random", "paper").reason
    on_pengi = paper.comparability("pengi", "paper")
    assert on_pengi.for_dataset("ESC50").comparable
    assert on_pengi.for_dataset("ESC50-Actions->UrbanSound8K").comparable
    assert "SynthHome is not a dataset" in on_pengi.for_dataset("SynthHome").reason
    assert "SynthHome" in on_pengi.for_dataset("ESC50->SynthHome").reason
