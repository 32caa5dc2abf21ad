"""Ray Tune sweeps tracked in MLflow. The only package (with ``sweeps/``) that imports Ray."""

from sept_ray.tune.grid import GridTrial, b2n_grid, parse_variant, trial_name
from sept_ray.tune.sweep import SweepResult, SweepSpec, run_sweep

__all__ = [
    "GridTrial",
    "SweepResult",
    "SweepSpec",
    "b2n_grid",
    "parse_variant",
    "run_sweep",
    "trial_name",
]
