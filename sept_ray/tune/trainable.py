"""The one Ray Tune trainable, :func:`train_point`, for every study: a grid trial or a search sample.

A grid point trains one :func:`sept_ray.train.run_trial` (any protocol); a search sample trains
the sampled setting on the val protocol of each dataset of the search, each partition of its
base classes and each of the search's training seeds, one after the other. Each
evaluation goes to ``tune.report`` (``epoch``, ``base``, ``new``, ``H``, losses, SEPT's diagnostics
``diag_*``; a search's ``epoch`` counts on across datasets), with a checkpoint of the training
state after it (:mod:`sept_ray.train_state`) and the trial's progress: a retried or resumed trial
continues after its last checkpoint instead of starting again, skipping the trainings it finished.
A last report with ``final = 1`` holds the trial's score: a grid trial's is the epoch
``train.report_epoch`` picks (``base``, ``new``, ``H``, ``report_epoch``; the last epoch's as
``*_last``) with its summary (parameters, times, memory) and ``output_dir``, and under
``min_train_loss`` its ``epoch`` is one past the last, so a tracker logs the score as the latest
value after the per-epoch curve; a search sample's is the mean over its trainings (``H``, the
objective), its ``spread_H`` over partitions and seeds and each dataset's ``H_<name>``.
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
from sept_ray.train import EpochMetrics, TrialResult, run_trial
from sept_ray.train_state import TrainState, saved_epoch
from sept_ray.tune.point import TrialPoint, point_of, sampled_settings

# Tune logs every persisted checkpoint at INFO (one line per epoch per trial): keep progress readable
logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)


PROGRESS_FILE = "progress.json"  # in a checkpoint, beside the running training's state


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
    progress: dict[str, Any],
) -> None:
    """``tune.report(values)``; when ``epoch`` is a multiple of ``every`` (0: never), with
    ``state`` and ``progress`` (as ``progress.json``) as the trial's checkpoint."""
    if not every or epoch % every:
        tune.report(values)
        return
    with tempfile.TemporaryDirectory(prefix="sept-state-") as folder:
        state.save(Path(folder))
        (Path(folder) / PROGRESS_FILE).write_text(json.dumps(progress))
        tune.report(values, checkpoint=tune.Checkpoint.from_directory(folder))


def point_runs(cfg: TrialConfig, point: TrialPoint) -> dict[str, TrialConfig]:
    """The trainings of a point by name: a grid point's one trial (named by its dataset); a
    search sample's one per dataset of ``point.datasets``, partition of its base classes and
    training seed of ``point.seeds`` (``<dataset>``, with ``-p<r>`` when there are several
    partitions and ``-s<seed>`` when there are several seeds), each in
    ``<output_dir>/<trial id>/<name>``."""
    if not point.sampled:
        return {cfg.data.name: cfg}
    out_dir = Path(cfg.output_dir) / tune.get_context().get_trial_id()
    seeds = point.seeds or (cfg.train.seed,)
    runs = {}
    for name in point.datasets:
        for partition in range(point.partitions):
            for seed in seeds:
                key = name + (f"-p{partition}" if point.partitions > 1 else "")
                key += f"-s{seed}" if len(seeds) > 1 else ""
                protocol = replace(
                    cfg.protocol, val_partition=partition, val_partitions=point.partitions
                )
                runs[key] = replace(
                    cfg,
                    output_dir=str(out_dir / key),
                    data=replace(cfg.data, name=name),
                    protocol=protocol,
                    train=replace(cfg.train, seed=seed),
                )
    return runs


def saved_progress(folder: Path, runs: dict[str, TrialConfig]) -> dict[str, Any]:
    """The progress a checkpoint in ``folder`` holds (``progress.json``); a checkpoint of a
    single training from before that file existed holds only its state: its epoch is the step."""
    path = folder / PROGRESS_FILE
    if path.is_file():
        return json.loads(path.read_text())
    if len(runs) > 1:
        raise RuntimeError(f"{folder}: a search checkpoint without {PROGRESS_FILE}")
    return {"scores": {}, "seconds": 0.0, "running": next(iter(runs)), "step": saved_epoch(folder)}


def trial_final(result: TrialResult, cfg: TrialConfig) -> dict[str, Any]:
    """A grid trial's final report: its score, the last epoch's metrics as ``*_last`` and its
    summary; under a ``report_epoch`` other than ``last`` its ``epoch`` is one past the last."""
    final = epoch_report(result.last)
    final.update(result.summary())
    if cfg.train.report_epoch != "last":
        final["epoch"] = result.last.epoch + 1
    final["output_dir"] = str(result.output_dir)
    return final


def sample_final(
    scores: dict[str, list[float]], seconds: float, runs: dict[str, TrialConfig]
) -> dict[str, Any]:
    """A search sample's final report: the mean over its trainings (datasets, partitions, seeds)
    of Base, New and H (the objective), each dataset's ``H_<name>`` (mean over its partitions
    and seeds), ``spread_H`` (the population std, over the (partition, seed) pairs, of the mean
    H over datasets; 0 with one partition and one seed) and the training seconds of all of
    them."""
    by_dataset: dict[str, list[float]] = {}
    by_split: dict[tuple[int, int], list[float]] = {}
    for key, cfg in runs.items():
        by_dataset.setdefault(cfg.data.name, []).append(scores[key][2])
        split = (cfg.protocol.val_partition, cfg.train.seed)
        by_split.setdefault(split, []).append(scores[key][2])
    first = next(iter(runs.values()))
    final: dict[str, Any] = {
        "epoch": len(runs) * (first.train.epochs + 1),
        "base": statistics.fmean(s[0] for s in scores.values()),
        "new": statistics.fmean(s[1] for s in scores.values()),
        "H": statistics.fmean(s[2] for s in scores.values()),  # mean of per-training H
        "spread_H": statistics.pstdev(statistics.fmean(h) for h in by_split.values()),
        "train_seconds": seconds,
        "output_dir": str(Path(first.output_dir).parent),
    }
    final.update({f"H_{name}": statistics.fmean(h) for name, h in by_dataset.items()})
    return final


def train_point(config: dict[str, Any]) -> None:
    """Tune's one trainable, for every study: the trainings of the trial's point
    (:func:`point_runs`) one after the other, each evaluation reported with the step counting on
    across them, then the final report (:func:`trial_final`, or a search sample's
    :func:`sample_final`).

    Every ``point.checkpoint_every`` epochs (0: never) a report carries a checkpoint: the running
    training's state and ``progress.json`` (the finished trainings' scores and seconds, the
    running one, the step). A retried or resumed trial skips the finished trainings and continues
    the running one from its state."""
    point = point_of(config)
    runs = point_runs(resolve_point(config), point)
    saved = tempfile.TemporaryDirectory(prefix="sept-state-")
    progress: dict[str, Any] = {"scores": {}, "seconds": 0.0, "running": "", "step": 0}
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        checkpoint.to_directory(saved.name)
        progress = saved_progress(Path(saved.name), runs)
    scores: dict[str, list[float]] = dict(progress["scores"])
    seconds = float(progress["seconds"])
    with saved:
        for index, (name, cfg) in enumerate(runs.items()):
            if name in scores:  # finished before the last checkpoint
                continue
            step0 = index * (cfg.train.epochs + 1)

            def report(
                m: EpochMetrics,
                state: TrainState,
                step0: int = step0,
                name: str = name,
                done_seconds: float = seconds,  # the finished trainings' time
            ) -> None:
                values = epoch_report(m)
                values["epoch"] = step0 + m.epoch
                mark = {"scores": scores, "seconds": done_seconds, "running": name}
                mark["step"] = values["epoch"]
                report_epoch(values, state, m.epoch, point.checkpoint_every, mark)

            resume = Path(saved.name) if progress["running"] == name else None
            result = run_trial(cfg, report, embed_missing=False, resume_from=resume)
            scores[name] = [result.base, result.new, result.h]
            seconds += result.train_seconds
    final = sample_final(scores, seconds, runs) if point.sampled else trial_final(result, cfg)
    final["final"] = 1
    final["resumed_from_epoch"] = progress["step"]  # 0: this attempt trained from the start
    tune.report(final)
