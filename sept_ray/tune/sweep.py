"""Run a sweep of trials with Ray Tune, tracked in MLflow, and aggregate its table.

A sweep is data (:class:`SweepSpec`): trials, resources, a tracking target. :func:`run_sweep`
checks every trial before Ray starts (names, datasets, folds, neighbour banks), fills the
audio-embedding cache once per (backbone, dataset), runs the trials, and writes the Base/New/H
table (CSV + Markdown) to the sweep folder and to the sweep's parent MLflow run.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sept_ray.config import ConfigError
from sept_ray.metrics import RunScore, TableRow, aggregate
from sept_ray.report.tables import write_tables
from sept_ray.tune.grid import GridTrial


@dataclass
class SweepSpec:
    """What to run and where: trials, resources per trial, results folder, MLflow target."""

    experiment: str
    trials: list[GridTrial]
    results_dir: Path
    mlflow_uri: str = ""  # empty: sqlite:///<results_dir>/mlflow.db
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0  # a fraction packs several trials on one GPU
    ray_address: str = ""  # empty: start a local Ray on this machine
    num_cpus: int | None = None  # CPUs of a local Ray (None: all)
    max_concurrent: int = 0  # 0: as many as resources allow
    params: dict[str, Any] = field(default_factory=dict)  # logged on the sweep's parent run


@dataclass
class SweepResult:
    """What a sweep produced; ``failed`` lists (trial name, error) of trials that did not finish."""

    experiment: str
    run_dir: Path
    mlflow_uri: str
    parent_run_id: str
    outcomes: list[TrialOutcome]
    table: list[TableRow]
    table_files: list[Path]
    failed: list[tuple[str, str]] = field(default_factory=list)
    wall_seconds: float = 0.0


def absolute(path: str) -> str:
    """``path`` made absolute against the driver's working folder (trials run in their own)."""
    return str(Path(path).expanduser().resolve()) if path else path


def absolute_if_local(path: str) -> str:
    """Like :func:`absolute` for a path that exists here; anything else (a hub id, a missing
    file whose check will name it) is left as given."""
    return absolute(path) if path and Path(path).expanduser().exists() else path


def place_trials(spec: SweepSpec, run_dir: Path) -> list[GridTrial]:
    """Give every trial an absolute output folder under ``run_dir``, the shared cache folder, and
    absolute data, weights and bank paths: Ray Tune runs each trial in a folder of its own."""
    names = [t.name for t in spec.trials]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"trial names must be unique; repeated: {duplicates}")
    cache_dir = spec.results_dir / "cache"
    placed = []
    for trial in spec.trials:
        cfg = trial.config
        bank = cfg.sept.bank if cfg.sept.bank == "builtin" else absolute_if_local(cfg.sept.bank)
        cfg = replace(
            cfg,
            output_dir=absolute(cfg.output_dir or str(run_dir / "trials" / trial.name)),
            cache_dir=absolute(cfg.cache_dir or str(cache_dir)),
            data=replace(cfg.data, root=absolute(cfg.data.root)),
            backbone=replace(cfg.backbone, weights=absolute_if_local(cfg.backbone.weights)),
            sept=replace(cfg.sept, bank=bank),
        )
        placed.append(GridTrial(trial.name, cfg, trial.label))
    return placed


def check_and_cache(trials: list[GridTrial]) -> None:
    """Fail fast on any bad trial, then fill the embedding cache once per (backbone, dataset).

    Checks, for every trial before any embedding is computed: method and backbone names, the
    dataset fold (files, columns, classes), and for SEPT trials that the bank (``builtin``: the
    shipped bank of the dataset) holds N phrases for every class of the dataset.
    """
    from sept_ray.backbones import BACKBONES, build_backbone
    from sept_ray.backbones.registry import release_backbones
    from sept_ray.data.manifest import load_split
    from sept_ray.features import EmbeddingCache
    from sept_ray.methods import METHODS
    from sept_ray.sept import BankError, load_bank

    splits = []
    for trial in trials:
        cfg = trial.config
        METHODS.get(cfg.method.name).parse_options(cfg.method.options)
        BACKBONES.get(cfg.backbone.name)
        split = load_split(cfg.data.root, cfg.data.name, cfg.data.fold)
        if cfg.sept.enabled:  # every class of the dataset, though a trial trains on base ones
            bank = load_bank(cfg.sept.bank, cfg.data.name)
            try:
                bank.neighbours(cfg.data.name, split.classes, cfg.sept.n_neighbors)
            except BankError as exc:
                raise BankError(f"trial {trial.name}: {exc}") from None
        splits.append(split)
    seen_entries = set()
    for trial, split in zip(trials, splits, strict=True):
        cfg = trial.config
        views = cfg.data.crop_views if cfg.data.train_crop == "random" else 0
        key = (cfg.backbone.name, cfg.backbone.weights, cfg.data.root, cfg.data.name, views)
        if key not in seen_entries:
            seen_entries.add(key)
            backbone = build_backbone(cfg.backbone)
            print(f"embedding cache: {cfg.data.name} on {cfg.backbone.name}", flush=True)
            EmbeddingCache(cfg.cache_dir).load_or_build(backbone, split.root, views)
    release_backbones()


@dataclass(frozen=True)
class TrialOutcome:
    """A finished trial: its grid point and its final metrics (``metrics``: the trial summary)."""

    trial: GridTrial
    score: RunScore
    metrics: dict[str, float]


def collect(grid, trials: list[GridTrial]) -> tuple[list[TrialOutcome], list[tuple[str, str]]]:
    """Finished trials in grid order, and (name, last line of the error) of those that failed."""
    by_name = {t.name: (i, t) for i, t in enumerate(trials)}
    finished, failed = [], []
    for result in grid:
        name = result.config["point"]["name"]
        metrics = result.metrics or {}
        if result.error is not None or not metrics.get("final"):
            lines = [line.strip() for line in str(result.error or "").splitlines() if line.strip()]
            failed.append((name, lines[-1] if lines else "no final result"))
            continue
        index, trial = by_name[name]
        cfg = trial.config
        score = RunScore(
            cfg.data.name,
            trial.row,
            cfg.train.seed,
            cfg.data.fold,
            metrics["base"],
            metrics["new"],
            metrics["H"],
        )
        finished.append((index, TrialOutcome(trial, score, dict(metrics))))
    return [outcome for _, outcome in sorted(finished, key=lambda pair: pair[0])], failed


def run_sweep(spec: SweepSpec) -> SweepResult:
    """Run ``spec`` (see the module docstring) and return its outcomes and table."""
    from mlflow.entities import Param
    from mlflow.tracking import MlflowClient
    from ray import tune

    from sept_ray.tune.local_ray import init_ray
    from sept_ray.tune.progress import ProgressPrinter
    from sept_ray.tune.tracking import (
        MlflowTracker,
        default_tracking_uri,
        ensure_experiment,
        git_commit,
    )
    from sept_ray.tune.trainable import train_b2n

    started = time.monotonic()
    results_dir = spec.results_dir.resolve()
    run_dir = results_dir / spec.experiment / time.strftime("%Y%m%d-%H%M%S")
    trials = place_trials(replace(spec, results_dir=results_dir), run_dir)
    check_and_cache(trials)

    uri = spec.mlflow_uri or default_tracking_uri(results_dir)
    client = MlflowClient(uri)
    local_store = uri.startswith("sqlite:") or uri.startswith("file:")
    experiment_id = ensure_experiment(
        client, spec.experiment, results_dir / "mlartifacts" if local_store else None
    )
    commit = git_commit()
    parent = client.create_run(
        experiment_id,
        run_name=f"{spec.experiment}-{run_dir.name}",
        tags={
            "sept.sweep": spec.experiment,
            "sept.git_commit": commit,
            "sept.run_dir": str(run_dir),
        },
    )
    parent_id = parent.info.run_id
    sweep_params = {"n_trials": len(trials), **spec.params}
    client.log_batch(parent_id, params=[Param(k, str(v)[:6000]) for k, v in sweep_params.items()])

    try:
        init_ray(spec.ray_address, spec.num_cpus)
        resources = {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial}
        points = [{"name": t.name, "label": t.row, "trial": t.config.to_dict()} for t in trials]
        tuner = tune.Tuner(
            tune.with_resources(train_b2n, resources),
            param_space={"point": tune.grid_search(points)},
            tune_config=tune.TuneConfig(
                reuse_actors=True, max_concurrent_trials=spec.max_concurrent or None
            ),
            run_config=tune.RunConfig(
                name=spec.experiment,
                storage_path=str(run_dir / "ray"),
                callbacks=[
                    MlflowTracker(uri, experiment_id, parent_id, commit),
                    ProgressPrinter(len(trials)),
                ],
                verbose=0,
            ),
        )
        print(f"running {len(trials)} trials; MLflow: {uri} (experiment {spec.experiment!r})")
        outcomes, failed = collect(tuner.fit(), trials)
        planned = Counter((t.row, t.config.data.name) for t in trials)
        table = aggregate([o.score for o in outcomes], planned) if outcomes else []
        table_files = write_tables(table, run_dir) if table else []
        for path in table_files:
            client.log_artifact(parent_id, str(path))
    except BaseException as exc:
        client.set_terminated(
            parent_id, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        )
        raise
    client.set_terminated(parent_id, "FINISHED" if outcomes else "FAILED")
    return SweepResult(
        experiment=spec.experiment,
        run_dir=run_dir,
        mlflow_uri=uri,
        parent_run_id=parent_id,
        outcomes=outcomes,
        table=table,
        table_files=table_files,
        failed=failed,
        wall_seconds=time.monotonic() - started,
    )


def log_to_parent(result: SweepResult, paths: list[Path]) -> None:
    """Attach study-specific tables to the sweep's parent MLflow run."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(result.mlflow_uri)
    for path in paths:
        client.log_artifact(result.parent_run_id, str(path))
