"""SEPT's paired effect: pairs by (dataset, seed, fold), the AVERAGE of per-dataset means, a
bootstrap interval that covers the mean and shrinks to a point when every pair agrees."""

import numpy as np
import pytest

from sept_ray.metrics import AVERAGE, RunScore, aggregate
from sept_ray.report.sept_effect import effect_rows, paired_deltas, sept_effects, without_sept


def run(dataset, label, h, seed=0, fold=1):
    return RunScore(dataset, label, seed, fold, h, h, h)


def test_sept_labels_pair_with_the_method_before_the_mark():
    assert without_sept("coop+sept") == "coop" and without_sept("coop+sept:searched") == "coop"
    assert without_sept("coop+sept-frozen") == "coop"
    assert without_sept("coop") is None and without_sept("row7") is None


def test_pairs_need_both_labels_on_the_same_dataset_seed_and_fold():
    scores = [
        run("A", "coop", 80, seed=0),
        run("A", "coop+sept", 83, seed=0),
        run("A", "coop+sept", 90, seed=1),  # no coop run for seed 1: not a pair
        run("B", "coop", 70, fold=2),
        run("B", "coop+sept", 60, fold=1),  # other fold: not a pair
    ]
    deltas = paired_deltas(scores)
    assert list(deltas) == [("coop+sept", "coop")]
    assert list(deltas[("coop+sept", "coop")]) == ["A"]
    np.testing.assert_allclose(deltas[("coop+sept", "coop")]["A"], [3.0])


def test_average_is_the_mean_of_dataset_means_and_matches_the_table():
    scores = []
    for seed in range(3):
        for fold in (1, 2, 3):  # A: 9 pairs, SEPT +1 on each
            scores += [run("A", "coop", 80, seed, fold), run("A", "coop+sept", 81, seed, fold)]
        scores += [run("B", "coop", 70 + seed, seed), run("B", "coop+sept", 64 + seed, seed)]
    effects = {e.dataset: e for e in sept_effects(scores, resamples=500)}
    assert effects["A"].delta_h == pytest.approx(1.0)
    assert (effects["A"].low, effects["A"].high) == pytest.approx((1.0, 1.0))
    assert effects["B"].delta_h == pytest.approx(-6.0)
    assert effects[AVERAGE].delta_h == pytest.approx(-2.5)  # not the pooled mean over 12 pairs
    assert (effects[AVERAGE].wins, effects[AVERAGE].losses, effects[AVERAGE].pairs) == (9, 3, 12)
    table = {(r.variant, r.dataset): r.h for r in aggregate(scores)}
    assert effects[AVERAGE].delta_h == pytest.approx(
        table[("coop+sept", AVERAGE)] - table[("coop", AVERAGE)]
    )


def test_interval_covers_the_mean_and_is_reproducible():
    rng = np.random.default_rng(3)
    scores = []
    for seed in range(12):
        delta = float(rng.normal(0.5, 2.0))
        scores += [run("A", "coop", 80, seed), run("A", "coop+sept", 80 + delta, seed)]
    first = sept_effects(scores, resamples=2000)
    average = first[-1]
    assert average.low < average.delta_h < average.high
    assert average.high - average.low > 0.5  # 12 noisy pairs cannot pin the mean
    assert sept_effects(scores, resamples=2000) == first


def test_ties_and_rows():
    scores = [run("A", "coop", 80, s) for s in range(2)]
    scores += [run("A", "coop+sept", 80, 0), run("A", "coop+sept", 79, 1)]
    effect = sept_effects(scores, resamples=100)[-1]
    assert (effect.wins, effect.ties, effect.losses) == (0, 1, 1)
    assert effect_rows([effect])[0][:5] == ["coop+sept", "coop", AVERAGE, "-0.50", "[-1.00, +0.00]"]


def test_without_a_sept_variant_there_is_nothing_to_pair():
    assert sept_effects([run("A", "coop", 80), run("A", "zeroshot", 70)]) == []


def test_a_single_pair_has_no_interval_nor_has_an_average_over_it():
    scores = [run("A", "coop", 80), run("A", "coop+sept", 82)]
    for seed in range(3):
        scores += [run("B", "coop", 70, seed), run("B", "coop+sept", 70 + seed, seed)]
    effects = {e.dataset: e for e in sept_effects(scores, resamples=200)}
    assert np.isnan(effects["A"].low) and np.isnan(effects[AVERAGE].high)
    assert effects["B"].low == pytest.approx(0.0) and effects["B"].high == pytest.approx(2.0)
    assert effects[AVERAGE].delta_h == pytest.approx(1.5)
    rows = {r[2]: r for r in effect_rows(list(effects.values()))}
    assert rows["A"][4] == "—" == rows[AVERAGE][4]
