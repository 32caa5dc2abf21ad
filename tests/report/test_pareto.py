"""The search's Pareto report: points with their roles, the front's table and the figure."""

from sept_ray.report.pareto import pareto_figure, pareto_points, pareto_table
from sept_ray.report.plots import save_png


def rows():
    return [
        {"trial_id": "t3", "base": 90.0, "new": 60.0, "H": 72.0},
        {"trial_id": "defaults", "base": 80.0, "new": 65.0, "H": 71.7},
        {"trial_id": "without-sept", "base": 92.0, "new": 50.0, "H": 64.8},
        {"trial_id": "t5", "base": 70.0, "new": 75.0, "H": 72.4},
        {"trial_id": "t6", "base": 60.0, "new": 55.0, "H": 57.4},
    ]


def test_points_table_and_figure_show_the_front_beside_the_references(tmp_path):
    points = pareto_points(rows(), ["t3", "defaults", "t5"])
    roles = {p.name: (p.role, p.on_front) for p in points}
    assert roles == {
        "t3": ("front", True),
        "defaults": ("defaults", True),
        "without-sept": ("without-sept", False),
        "t5": ("front", True),
        "t6": ("other", False),
    }
    table = pareto_table(points)
    assert [r[0] for r in table.rows] == ["t5", "defaults", "t3", "without-sept"]  # New first
    assert table.rows[-1][-1] == "no" and table.notes == ["3 of 5 settings are on the front"]
    path = save_png(pareto_figure(points), tmp_path / "pareto.png")
    assert path.stat().st_size > 10_000
