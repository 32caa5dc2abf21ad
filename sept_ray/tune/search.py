"""Optuna search of SEPT's settings on a validation objective that never sees test data.

Each search trial scores one setting on the ``val`` protocol (:mod:`sept_ray.protocols`) of every
dataset with enough base classes, on R partitions of each dataset's base classes into pseudo-base
and pseudo-new (``--partitions``, default 3: every base class is pseudo-new in one) and with each
training seed of the search: the objective is the mean H over them, on held-out training clips;
``spread_H`` is the std over (partition, seed) pairs. The space is conditional
(:mod:`sept_ray.tune.search_space`). The first trial is the method without SEPT, outside Optuna's
study (:class:`sept_ray.tune.optuna_searcher.SearchWithReference`); the second scores the trials'
own settings (SEPT's defaults): the search recommends its best setting only if it beats them by
more than the spread (:mod:`sept_ray.tune.search_choice`), else the defaults, and says why.
``--objective pareto`` searches validation Base and New at once and recommends from the Pareto
front. ``OptunaSearch`` (seeded, its study stored in the run folder's ``optuna.db``) behind a
concurrency limit proposes the settings. The parent MLflow run gets the study summary (every
trial's settings and objective) and ``best_settings.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from sept_ray.config import ConfigError
from sept_ray.data.manifest import load_split
from sept_ray.data.split import base_new_split
from sept_ray.protocols import MIN_VAL_BASE_CLASSES
from sept_ray.report.table import write_files
from sept_ray.tune.collect import collect
from sept_ray.tune.grid import GridTrial
from sept_ray.tune.point import POINT, TrialPoint
from sept_ray.tune.search_choice import (
    DEFAULTS_ROW,
    OBJECTIVES,
    REFERENCE,
    is_reference,
    pareto_front,
    recommend,
    row_of,
    sampled_rows,
    scored,
    search_rows,
    settings_of,
    write_summary,
)
from sept_ray.tune.search_space import SEARCHED, default_settings, sample_settings, write_space
from sept_ray.tune.session import make_tuner, running
from sept_ray.tune.sweep import SweepSpec


def eligible_datasets(root: Path, datasets: list[str], fold: int = 1) -> tuple[list[str], dict]:
    """(datasets the objective uses, {left out: reason}): the val split needs at least
    :data:`MIN_VAL_BASE_CLASSES` base classes."""
    kept, left_out = [], {}
    for name in datasets:
        n_base = len(base_new_split(load_split(root, name, fold).classes).base)
        if n_base < MIN_VAL_BASE_CLASSES:
            left_out[name] = (
                f"{n_base} base classes; the validation split needs {MIN_VAL_BASE_CLASSES}"
            )
        else:
            kept.append(name)
    return kept, left_out


def bank_size(trials: list[GridTrial]) -> int:
    """The largest N every class of every dataset of ``trials`` has phrases for."""
    from sept_ray.sept import load_bank

    sizes = []
    for trial in trials:
        cfg = trial.config
        entries = load_bank(cfg.sept.bank, cfg.data.name).datasets.get(cfg.data.name, {})
        classes = load_split(cfg.data.root, cfg.data.name, cfg.data.fold).classes
        sizes += [len(entries.get(c, [])) for c in classes]
    size = min(sizes) if sizes else 0
    if size < 1:
        raise ConfigError("the neighbour bank has no phrases for some class of the search")
    return size


@dataclass(frozen=True)
class SearchOptions:
    """How a search runs: ``num_samples`` settings (the first SEPT's defaults) besides the
    reference without SEPT, Optuna's ``sampler_seed``, each setting scored on ``partitions``
    partitions of every dataset's base classes and with each training seed of ``val_seeds``;
    ``objective``: ``h`` (mean validation H) or ``pareto`` (validation Base and New); ``prune``:
    stop poor settings early (``h`` only)."""

    num_samples: int
    sampler_seed: int = 0
    partitions: int = 1
    val_seeds: tuple[int, ...] = (0,)
    objective: str = "h"
    prune: bool = True

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            known = ", ".join(OBJECTIVES)
            raise ConfigError(f"--objective {self.objective!r}: unknown (known: {known})")
        if self.partitions < 1:
            raise ConfigError(f"--partitions {self.partitions}: must be >= 1")
        if self.num_samples < 1:
            raise ConfigError(f"--num-samples {self.num_samples}: must be >= 1")
        if not self.val_seeds:
            raise ConfigError("the search needs at least one training seed")
        if self.prune and self.objective != "h":
            raise ConfigError("early stopping ranks settings by H: use it with --objective h")


@dataclass
class SearchResult:
    """The search's recommendation (``recommended``: ``searched`` or ``defaults``, ``why``, its
    ``settings``), its best sampled settings, every trial's settings and objective (``trials``,
    the reference without SEPT among them), the Pareto front (``pareto`` objective) and where
    they are."""

    run_dir: Path
    mlflow_uri: str
    parent_run_id: str
    recommended: str
    why: str
    settings: dict[str, Any]
    best: dict[str, Any]
    best_h: float
    best_per_dataset: dict[str, float]
    trials: list[dict[str, Any]]
    failed: list[tuple[str, str]]
    pruned: dict[str, Any]  # what early stopping saved (compute_saved)
    front: list[str]  # trial ids on the Pareto front of validation (Base, New); empty for h
    files: list[Path]
    wall_seconds: float

    def row(self, trial_id: str) -> dict[str, Any] | None:
        """The row of ``trial_id`` (e.g. ``defaults``, ``without-sept``), if it finished."""
        return row_of(self.trials, trial_id)


def pruner(epochs: int, steps: int):
    """The early stopping of poor settings: Tune's ASHA on per-epoch validation H, at the steps
    of a sample's trainings (``epoch`` counts on across them). Its first rung is the end of a
    sample's first training (``epochs``), each next one twice as far, up to ``steps`` (a
    sample's last step); at each rung a setting goes on only if its H is at least the median of
    those that reached the rung before it. The reference without SEPT is never stopped."""
    from ray.tune.schedulers import ASHAScheduler, TrialScheduler

    class SparingReference(ASHAScheduler):
        def on_trial_result(self, tune_controller, trial, result):
            if is_reference(trial.config):
                return TrialScheduler.CONTINUE
            return super().on_trial_result(tune_controller, trial, result)

        def on_trial_complete(self, tune_controller, trial, result):
            if is_reference(trial.config):
                self._trial_info.pop(trial.trial_id, None)
                return
            super().on_trial_complete(tune_controller, trial, result)

    return SparingReference(
        time_attr="epoch",
        metric="H",
        mode="max",
        max_t=steps,
        grace_period=epochs,
        reduction_factor=PRUNE_FACTOR,
    )


PRUNE_FACTOR = 2  # ASHA's reduction factor: half of the settings at a rung go on


def run_search(spec: SweepSpec, options: SearchOptions, resume: Path | None = None) -> SearchResult:
    """Search SEPT's settings over ``spec.trials`` (one val-protocol trial per dataset, sharing
    every setting but the dataset) as ``options`` say: first the reference (the method without
    SEPT, outside Optuna's study), then ``options.num_samples`` settings, the first the trials'
    own (:func:`default_settings`), ``spec.max_concurrent`` at once, each scored on every
    dataset, partition and seed, poor ones stopped early (:func:`pruner`); then
    :func:`recommend` (with the Pareto objective, among the front's settings)."""
    import optuna
    from mlflow.tracking import MlflowClient
    from ray import tune
    from ray.tune.search import ConcurrencyLimiter

    from sept_ray.tune.optuna_searcher import SearchWithReference

    started = time.monotonic()
    pareto = options.objective == "pareto"
    with running(spec, resume) as session:
        first = session.trials[0]
        size = bank_size(session.trials)
        defaults = default_settings(first.config.sept, size)
        storage_url = f"sqlite:///{session.run_dir / 'optuna.db'}"
        client = MlflowClient(session.uri)
        client.log_artifact(session.parent_id, str(write_space(session.run_dir, size)))
        searcher = SearchWithReference(
            space=partial(sample_settings, bank_size=size),
            metric=["base", "new"] if pareto else "H",
            mode=["max", "max"] if pareto else "max",
            points_to_evaluate=[defaults],
            seed=options.sampler_seed,
            study_name=spec.experiment,
            storage=optuna.storages.RDBStorage(storage_url),
            reference=REFERENCE,
        )
        limited = ConcurrencyLimiter(searcher, max_concurrent=spec.max_concurrent or 2)
        point = TrialPoint(
            name="search",
            label="search",
            trial=replace(first.config, output_dir=str(session.run_dir / "trials")).to_dict(),
            checkpoint_every=spec.checkpoint_every,
            plugins=tuple(spec.plugins),
            sampled=True,
            datasets=tuple(t.config.data.name for t in session.trials),
            partitions=options.partitions,
            seeds=options.val_seeds,
        )
        trainings = len(point.datasets) * options.partitions * len(options.val_seeds)
        steps = point.steps
        scheduler = pruner(first.config.train.epochs, steps) if options.prune else None
        total = options.num_samples + 1  # and the reference
        tuner = make_tuner(
            session,
            {POINT: point.to_config()},
            tune.TuneConfig(
                search_alg=limited,
                scheduler=scheduler,
                num_samples=total,
                reuse_actors=True,
            ),
            total,
        )
        print(
            f"searching {options.num_samples} settings of {len(SEARCHED)} SEPT options (the "
            f"first: the trials' own), after the method without SEPT as the reference, on "
            f"{', '.join(point.datasets)} (val protocol, {options.partitions} partition(s) of "
            f"the base classes, seed(s) {', '.join(map(str, options.val_seeds))}: {trainings} "
            f"trainings a setting; N up to {size}; objective: "
            f"{'Pareto front of Base and New' if pareto else 'H'}; "
            f"{'poor settings stopped early' if options.prune else 'no early stopping'}); "
            f"MLflow: {session.uri} (experiment {spec.experiment!r})",
            flush=True,
        )
        grid = tuner.fit()
        collected = collect(grid)
        failed = collected.failed
        rows = search_rows(collected.finished, defaults)
        if not sampled_rows(rows):
            raise RuntimeError(f"no setting of SEPT finished: {failed[:3]}")
        front = pareto_front(sampled_rows(rows)) if pareto else []
        choice = recommend(rows, front if pareto else None)
        saved = compute_saved(grid, steps, collected.stopped)
        extra: dict[str, Any] = {"early_stopping": saved}
        if pareto:
            extra["pareto_front"] = [scored(r) | {"trial_id": r["trial_id"]}
                                     for r in rows if r["trial_id"] in front]  # fmt: skip
        files = write_summary(
            session.run_dir, rows, choice, options.objective, extra, storage_url, spec.experiment
        )
        if pareto:
            files += write_pareto(session.run_dir, rows, front)
        for path in files:
            client.log_artifact(session.parent_id, str(path))
        client.log_metric(session.parent_id, "best_val_H", sampled_rows(rows)[0]["H"])
    candidates = sampled_rows(rows)
    best = next((r for r in candidates if r["trial_id"] != DEFAULTS_ROW), candidates[0])
    return SearchResult(
        run_dir=session.run_dir,
        mlflow_uri=session.uri,
        parent_run_id=session.parent_id,
        recommended=choice.which,
        why=choice.why,
        settings=settings_of(choice.row),
        best=settings_of(best),
        best_h=best["H"],
        best_per_dataset={k[2:]: v for k, v in best.items() if k.startswith("H_")},
        trials=rows,
        failed=failed,
        pruned=saved,
        front=front,
        files=files,
        wall_seconds=time.monotonic() - started,
    )


def write_pareto(run_dir: Path, rows: list[dict[str, Any]], front: list[str]) -> list[Path]:
    """``pareto_front.{csv,md}`` and ``pareto.png`` (every setting's validation Base against New,
    the front, SEPT's defaults and the reference without SEPT marked)."""
    from sept_ray.report.pareto import pareto_figure, pareto_points, pareto_table
    from sept_ray.report.plots import save_png

    points = pareto_points(rows, front)
    files = write_files(pareto_table(points), run_dir)
    files.append(save_png(pareto_figure(points), run_dir / "pareto.png"))
    return files


def compute_saved(grid, steps: int, stopped: list[str]) -> dict[str, Any]:
    """What early stopping saved: the settings stopped, the training steps (epochs, and one
    evaluation step per training) run against those a search without stopping would run."""
    run = sum(int((r.metrics or {}).get("epoch", 0)) for r in grid)
    planned = steps * len(grid)
    return {
        "stopped": sorted(stopped),
        "steps_run": run,
        "steps_planned": planned,
        "saved_fraction": 1.0 - run / planned if planned else 0.0,
    }
