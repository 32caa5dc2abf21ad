"""The search audit: validation H beside b2n H per audited setting, and Spearman's rho."""

import math

import pytest

from sept_ray.metrics import RunScore, aggregate
from sept_ray.report.audit import AuditPoint, audit_points, audit_table, spearman
from sept_ray.studies.search import audited
from sept_ray.tune.search_choice import DEFAULTS_ROW


def test_points_pair_validation_h_with_the_average_b2n_h():
    rows = aggregate(
        [
            RunScore("A", "coop+sept", 0, 1, 90.0, 60.0, 72.0),
            RunScore("B", "coop+sept", 0, 1, 80.0, 80.0, 80.0),
            RunScore("A", "coop+sept:3", 0, 1, 90.0, 90.0, 90.0),
        ]
    )
    points = audit_points({"coop+sept": 70.0, "coop+sept:3": 75.0, "coop+sept:9": 60.0}, rows)
    assert [p.label for p in points] == ["coop+sept", "coop+sept:3"]  # :9 never finished
    assert points[0].b2n_h == pytest.approx(76.0) and points[1].b2n_h == pytest.approx(90.0)


def test_spearman_ranks_and_says_when_it_cannot():
    rising = [AuditPoint(str(i), v, b) for i, (v, b) in enumerate([(1, 10), (2, 30), (3, 20)])]
    assert spearman(rising) == pytest.approx(0.5)
    assert spearman(rising[:2]) != spearman(rising[:2])  # NaN: two points say nothing
    flat = [AuditPoint(str(i), 5.0, float(i)) for i in range(4)]
    assert math.isnan(spearman(flat))
    table = audit_table(rising, spearman(rising))
    assert [r[0] for r in table.rows] == ["2", "1", "0"]  # best validation first
    assert "ρ = 0.50 over 3 settings" in table.notes[0]
    assert "ρ undefined over 2 settings" in audit_table(rising[:2], math.nan).notes[0]


def test_the_audit_runs_the_defaults_the_top_k_and_k_drawn_from_the_rest():
    rows = [{"trial_id": f"t{i}", "H": 90.0 - i} for i in range(10)]
    rows.insert(4, {"trial_id": DEFAULTS_ROW, "H": 86.5})
    chosen = [r["trial_id"] for r in audited(rows, 3, seed=0)]
    assert chosen[:4] == [DEFAULTS_ROW, "t0", "t1", "t2"] and len(chosen) == 7
    assert set(chosen[4:]) <= {f"t{i}" for i in range(3, 10)} and len(set(chosen)) == 7
    assert chosen == [r["trial_id"] for r in audited(rows, 3, seed=0)]  # seeded
    assert [r["trial_id"] for r in audited(rows[:3], 3, seed=0)] == ["t0", "t1", "t2"]
