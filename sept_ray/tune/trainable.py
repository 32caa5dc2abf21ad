"""The Ray Tune function trainables: one trial of a grid, or one sampled setting of a search.

:func:`train_b2n` runs one :func:`sept_ray.train.run_trial` (any protocol) and reports each
evaluation with ``tune.report`` (``epoch``, ``base``, ``new``, ``H``, losses, SEPT's diagnostics
``diag_*``) and a checkpoint of
the training state after it (:mod:`sept_ray.train_state`): a retried or resumed trial continues
after its last checkpoint instead of starting again (a search trial too, skipping the datasets it
finished). A last report with ``final = 1`` holds the trial's score (the epoch
``train.report_epoch`` picks: ``base``, ``new``, ``H``, ``report_epoch``; the last epoch's as
``*_last``), its summary (parameters, times, memory) and its ``output_dir``. Under
``min_train_loss`` its ``epoch`` is one past the last, so a tracker logs the score as the latest
value after the per-epoch curve.
:func:`train_search` scores one sampled setting on the val protocol of every dataset of the
search and reports the mean over datasets (``H``, the objective) and each dataset's ``H_<name>``.
Trials never embed audio: the sweep filled the cache before they start.
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ray import tune

from sept_ray.config import TrialConfig, deep_merge, unflatten
from sept_ray.plugins import load_plugins
from sept_ray.train import EpochMetrics, run_trial
from sept_ray.train_state import TrainState, saved_epoch
from sept_ray.tune.point import point_of, sampled_settings

# Tune logs every persisted checkpoint at INFO (one line per epoch per trial): keep progress readable
logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)


SEARCH_PROGRESS = "search.json"  # in a search trial's checkpoint, beside the training state


def epoch_report(metrics: EpochMetrics) -> dict[str, float]:
    """Tune metrics of one evaluation (accuracies in percent; diagnostics flattened in)."""
    values = asdict(metrics)
    values["H"] = values.pop("h")
    values.update(values.pop("diagnostics"))
    values["final"] = 0
    return values


def resolve_point(config: dict[str, Any]) -> TrialConfig:
    """The point's trial config with the searcher's sampled settings applied as dotted
    overrides (``{"sept.lam": 0.3}``), after importing the point's plugin modules (their
    registrations must exist here too)."""
    point = point_of(config)
    load_plugins(point.plugins)
    values = deep_merge(point.trial, unflatten(sampled_settings(config)))
    return TrialConfig.from_dict(values)


def report_epoch(
    values: dict[str, Any],
    state: TrainState,
    epoch: int,
    every: int,
    progress: dict[str, Any] | None = None,
) -> None:
    """``tune.report(values)``; when ``epoch`` is a multiple of ``every`` (0: never), with
    ``state`` (and a search trial's ``progress``, as ``search.json``) as the trial's checkpoint."""
    if not every or epoch % every:
        tune.report(values)
        return
    with tempfile.TemporaryDirectory(prefix="sept-state-") as folder:
        state.save(Path(folder))
        if progress is not None:
            (Path(folder) / SEARCH_PROGRESS).write_text(json.dumps(progress))
        tune.report(values, checkpoint=tune.Checkpoint.from_directory(folder))


def train_b2n(config: dict[str, Any]) -> None:
    """Tune entry point: run the trial of :func:`resolve_point` (from its last checkpoint when
    Tune restores one) and report each evaluation, with a checkpoint every
    ``point.checkpoint_every`` epochs (default 1; 0: never)."""
    cfg = resolve_point(config)
    every = point_of(config).checkpoint_every

    def on_epoch(metrics: EpochMetrics, state: TrainState) -> None:
        report_epoch(epoch_report(metrics), state, metrics.epoch, every)

    checkpoint = tune.get_checkpoint()
    resumed_from = 0
    if checkpoint is None:
        result = run_trial(cfg, on_epoch=on_epoch, embed_missing=False)
    else:
        with checkpoint.as_directory() as folder:
            resumed_from = saved_epoch(Path(folder))
            result = run_trial(cfg, on_epoch, embed_missing=False, resume_from=Path(folder))
    final = epoch_report(result.last)
    final.update(result.summary())
    if cfg.train.report_epoch != "last":
        final["epoch"] = result.last.epoch + 1
    final["final"] = 1
    final["resumed_from_epoch"] = resumed_from  # 0: this attempt trained from the start
    final["output_dir"] = str(result.output_dir)
    tune.report(final)


def train_search(config: dict[str, Any]) -> None:
    """Tune entry point of a search: the sampled setting on ``point.datasets`` (val protocol),
    each in ``<output_dir>/<trial id>/<dataset>``; reports after each epoch (step counting on
    across datasets) and a final mean of per-dataset Base, New and H.

    Each report carries a checkpoint (every ``point.checkpoint_every`` epochs): the running
    dataset's training state and ``search.json`` (the finished datasets' scores, their training
    seconds, the running dataset and the step). A retried or resumed trial skips the finished
    datasets and continues the running one from its state."""
    cfg = resolve_point(config)
    out_dir = Path(cfg.output_dir) / tune.get_context().get_trial_id()
    datasets = point_of(config).datasets
    every = point_of(config).checkpoint_every
    saved = tempfile.TemporaryDirectory(prefix="sept-search-")
    progress: dict[str, Any] = {"scores": {}, "seconds": 0.0, "dataset": "", "step": 0}
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        checkpoint.to_directory(saved.name)
        progress = json.loads((Path(saved.name) / SEARCH_PROGRESS).read_text())
    resumed_from = progress["step"]
    scores: dict[str, list[float]] = dict(progress["scores"])
    seconds = float(progress["seconds"])
    with saved:
        for index, dataset in enumerate(datasets):
            if dataset in scores:  # finished before the last checkpoint
                continue
            step0 = index * (cfg.train.epochs + 1)
            trial_cfg = replace(
                cfg, output_dir=str(out_dir / dataset), data=replace(cfg.data, name=dataset)
            )

            def report(
                m: EpochMetrics,
                state: TrainState,
                step0: int = step0,
                dataset: str = dataset,
                done_seconds: float = seconds,  # the finished datasets' training time
            ) -> None:
                values = epoch_report(m)
                values["epoch"] = step0 + m.epoch
                mark = {"scores": scores, "seconds": done_seconds, "dataset": dataset}
                mark["step"] = values["epoch"]
                report_epoch(values, state, m.epoch, every, mark)

            resume = Path(saved.name) if progress["dataset"] == dataset else None
            result = run_trial(trial_cfg, report, embed_missing=False, resume_from=resume)
            scores[dataset] = [result.base, result.new, result.h]
            seconds += result.train_seconds
    final: dict[str, Any] = {
        "epoch": len(datasets) * (cfg.train.epochs + 1),
        "base": statistics.fmean(s[0] for s in scores.values()),
        "new": statistics.fmean(s[1] for s in scores.values()),
        "H": statistics.fmean(s[2] for s in scores.values()),  # mean of per-dataset H
        "train_seconds": seconds,
        "final": 1,
        "resumed_from_epoch": resumed_from,  # a step: epochs count on across datasets
        "output_dir": str(out_dir),
    }
    final.update({f"H_{name}": s[2] for name, s in scores.items()})
    tune.report(final)
