import pytest
import torch

from sept_ray.metrics import (
    AVERAGE,
    RunScore,
    accuracy,
    aggregate,
    harmonic_mean,
    per_class_accuracy,
)


def test_harmonic_mean():
    assert harmonic_mean(80.0, 40.0) == pytest.approx(53.3333, abs=1e-4)
    assert harmonic_mean(0.0, 0.0) == 0.0


def test_accuracies():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 1])
    assert accuracy(logits, labels) == 75.0
    assert per_class_accuracy(logits, labels, ["a", "b"]) == {
        "a": 100.0,
        "b": pytest.approx(200 / 3),
    }
    with pytest.raises(ValueError):
        accuracy(logits[:0], labels[:0])


def score(dataset, seed, fold, base, new, variant="coop"):
    return RunScore(dataset, variant, seed, fold, base, new, harmonic_mean(base, new))


def test_folds_then_seeds_then_datasets():
    scores = [
        score("A", 0, 1, 80, 40),
        score("A", 0, 2, 60, 60),  # seed 0: mean over folds
        score("A", 1, 1, 90, 30),
        score("A", 1, 2, 70, 50),
        score("B", 0, 1, 50, 50),
    ]
    rows = {(r.dataset, r.variant): r for r in aggregate(scores)}
    h00, h01 = harmonic_mean(80, 40), harmonic_mean(60, 60)
    h10, h11 = harmonic_mean(90, 30), harmonic_mean(70, 50)
    seed0, seed1 = (h00 + h01) / 2, (h10 + h11) / 2
    a = rows[("A", "coop")]
    assert a.base == pytest.approx(75.0) and a.new == pytest.approx(45.0)
    assert a.h == pytest.approx((seed0 + seed1) / 2)
    assert a.h_std == pytest.approx(abs(seed0 - seed1) / 2**0.5)
    assert (a.n_seeds, a.n_runs) == (2, 4)
    avg = rows[(AVERAGE, "coop")]
    assert avg.h == pytest.approx((a.h + 50.0) / 2)  # mean of per-dataset H, not H of means
    assert avg.base == pytest.approx((75.0 + 50.0) / 2)
    assert avg.h_std == 0.0  # B has only seed 0: one common seed, no spread


def test_average_std_is_over_seeds_of_the_per_seed_average():
    scores = [score("A", 0, 1, 80, 40), score("A", 1, 1, 60, 60)]
    scores += [score("B", 0, 1, 50, 50), score("B", 1, 1, 90, 90)]
    avg = next(r for r in aggregate(scores) if r.dataset == AVERAGE)
    per_seed = [(harmonic_mean(80, 40) + 50) / 2, (60 + 90) / 2]
    assert avg.h_std == pytest.approx(abs(per_seed[0] - per_seed[1]) / 2**0.5)


def test_variants_are_kept_apart():
    rows = aggregate([score("A", 0, 1, 80, 40), score("A", 0, 1, 70, 70, variant="coop+sept")])
    assert [(r.dataset, r.variant) for r in rows] == [
        ("A", "coop"),
        (AVERAGE, "coop"),
        ("A", "coop+sept"),
        (AVERAGE, "coop+sept"),
    ]


def test_base_and_new_std_are_over_seeds_too():
    """Each seed's Base/New is its mean over folds; the std is over those per-seed values."""
    scores = [score("A", 0, 1, 80, 40), score("A", 0, 2, 60, 60)]  # seed 0: 70, 50
    scores += [score("A", 1, 1, 90, 20), score("A", 1, 2, 90, 40)]  # seed 1: 90, 30
    scores += [score("B", 0, 1, 50, 50), score("B", 1, 1, 70, 10)]
    rows = {r.dataset: r for r in aggregate(scores)}
    assert rows["A"].base == pytest.approx(80.0) and rows["A"].new == pytest.approx(40.0)
    assert rows["A"].base_std == pytest.approx(20 / 2**0.5)
    assert rows["A"].new_std == pytest.approx(20 / 2**0.5)
    # average: per seed, the mean over datasets; seed 0 (60, 50), seed 1 (80, 20)
    assert rows[AVERAGE].base_std == pytest.approx(20 / 2**0.5)
    assert rows[AVERAGE].new_std == pytest.approx(30 / 2**0.5)


def test_missing_runs_are_flagged_never_zero():
    from sept_ray.report.tables import to_text

    scores = [score("A", 0, 1, 80, 40), score("B", 0, 1, 60, 60)]
    planned = {("coop", "A"): 2, ("coop", "B"): 1, ("coop", "C"): 1}
    rows = {r.dataset: r for r in aggregate(scores, planned)}
    assert rows["A"].n_runs == 1 and rows["A"].n_expected == 2 and not rows["A"].complete
    assert rows["B"].complete and "C" not in rows
    average = rows[AVERAGE]
    assert (average.n_runs, average.n_expected) == (2, 4)
    assert average.h == pytest.approx((harmonic_mean(80, 40) + 60.0) / 2)  # C is absent, not 0
    text = to_text(list(rows.values()))
    assert "1/2" in text and "2/4" in text and "only k of the n planned runs" in text
