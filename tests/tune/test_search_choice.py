"""The Pareto front of validation (Base, New) and the recommendation taken from it."""

from sept_ray.tune.search_choice import DEFAULTS_ROW, pareto_front, recommend


def row(trial_id, base, new, spread=0.5):
    h = 2 * base * new / (base + new)
    return {"trial_id": trial_id, "base": base, "new": new, "H": h, "spread_H": spread}


def test_the_front_keeps_exactly_the_settings_no_other_dominates():
    rows = [
        row("a", 90.0, 60.0),
        row("b", 80.0, 70.0),
        row("c", 70.0, 70.0),  # dominated by b (same New, lower Base)
        row("d", 60.0, 80.0),
        row("e", 60.0, 80.0),  # ties d: neither dominates the other
        row("f", 50.0, 50.0),
    ]
    assert pareto_front(rows) == ["a", "b", "d", "e"]


def test_with_the_front_the_recommendation_is_its_best_h_beyond_the_spread():
    rows = sorted(
        [row(DEFAULTS_ROW, 75.0, 60.0), row("t1", 95.0, 55.0), row("t2", 78.0, 75.0),
         row("t3", 70.0, 70.0)],
        key=lambda r: -r["H"],
    )  # fmt: skip
    front = pareto_front(rows)
    assert front == ["t2", "t1"]  # best H first; the defaults are dominated by t2
    choice = recommend(rows, front)
    assert choice.which == "searched" and choice.row["trial_id"] == "t2"
    near = [row(DEFAULTS_ROW, 80.0, 74.0, spread=2.0), row("t2", 79.0, 76.0, spread=2.0)]
    kept = recommend(near, pareto_front(near))
    assert kept.which == "defaults" and "not more than the spread" in kept.why
    alone = [row(DEFAULTS_ROW, 90.0, 90.0), row("t1", 80.0, 80.0)]
    assert recommend(alone, pareto_front(alone)).why == "no other on the front"
