"""The Ray Tune function trainable: one :func:`sept_ray.train.run_trial` per Tune trial.

Each evaluation is reported with ``tune.report`` (``epoch``, ``base``, ``new``, ``H``, losses); a last
report with ``final = 1`` adds the trial's summary (parameters, times, memory). Artifacts stay in the trial's ``output_dir``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ray import tune

from sept_ray.config import TrialConfig, deep_merge, unflatten
from sept_ray.train import EpochMetrics, run_trial


def epoch_report(metrics: EpochMetrics) -> dict[str, float]:
    """Tune metrics of one evaluation (accuracies in percent)."""
    values = asdict(metrics)
    values["H"] = values.pop("h")
    values["final"] = 0
    return values


def resolve_point(config: dict[str, Any]) -> TrialConfig:
    """``config["point"]["trial"]`` (a :meth:`TrialConfig.to_dict` mapping) with every other key
    of ``config`` applied as a dotted override (``{"sept.lam": 0.3}``, as a searcher samples)."""
    values = config["point"]["trial"]
    for key, value in config.items():
        if key != "point":
            values = deep_merge(values, unflatten({key: value}))
    return TrialConfig.from_dict(values)


def train_b2n(config: dict[str, Any]) -> None:
    """Tune entry point: run the trial of :func:`resolve_point` and report as it goes."""
    cfg = resolve_point(config)
    result = run_trial(cfg, on_epoch=lambda m: tune.report(epoch_report(m)))
    final = epoch_report(result.history[-1])
    final.update(result.summary())
    final["final"] = 1
    tune.report(final)
