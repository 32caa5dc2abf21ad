"""Run a sweep of trials with Ray Tune, tracked in MLflow, and aggregate its table.

A sweep is data (:class:`SweepSpec`): trials, resources, a tracking target. :func:`run_sweep`
opens the sweep's session (:mod:`sept_ray.tune.session`: checks every trial before Ray starts,
fills the audio-embedding cache with one Ray task per (backbone, dataset), creates the parent
MLflow run), runs the trials as one Tune grid (one nested MLflow run each), collects them
(:mod:`sept_ray.tune.collect`) and writes the Base/New/H table (CSV + Markdown) to the sweep folder
and to the parent run. The run folder's ``sweep.json`` lets ``--resume`` restore an interrupted
sweep: Tune reruns only unfinished trials and each keeps its one MLflow run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sept_ray.metrics import RunScore, TableRow, aggregate
from sept_ray.report.tables import write_tables
from sept_ray.tune.collect import Finished, collect
from sept_ray.tune.grid import GridTrial, table_dataset
from sept_ray.tune.point import POINT, TrialPoint
from sept_ray.tune.session import make_tuner, running


@dataclass
class SweepSpec:
    """What to run and where: trials, resources per trial, results folder, MLflow target."""

    experiment: str
    trials: list[GridTrial]
    results_dir: Path
    mlflow_uri: str = ""  # empty: sqlite:///<results_dir>/mlflow.db
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0  # a fraction packs several trials on one GPU
    ray_address: str = ""  # empty or "local": start a local Ray on this machine
    num_cpus: int | None = None  # CPUs of a local Ray (None: all)
    max_concurrent: int = 0  # 0: as many as resources allow
    max_failures: int = 1  # retries of a failed trial (Tune FailureConfig)
    checkpoint_every: int = 1  # epochs between a trial's checkpoints (0: none; retries restart)
    cache_gpus: float = 0.0  # GPUs of each embedding-cache task
    table_stem: str = "b2n_table"  # file name of the aggregated Base/New/H table
    plugins: list[str] = field(default_factory=list)  # modules every trial and cache task imports
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
    score_rules: tuple[str, ...] = ()  # the trials' train.report_epoch values
    experiment_id: str = ""


@dataclass(frozen=True)
class TrialOutcome:
    """A finished trial: its grid point and its final metrics (``metrics``: the trial summary)."""

    trial: GridTrial
    score: RunScore
    metrics: dict[str, float]


def outcomes(finished: list[Finished], trials: list[GridTrial]) -> list[TrialOutcome]:
    """The finished trials' outcomes, in ``trials`` order."""
    by_name = {f.name: f for f in finished}
    done = []
    for trial in trials:
        if trial.name not in by_name:
            continue
        metrics, cfg = by_name[trial.name].metrics, trial.config
        score = RunScore(
            table_dataset(cfg),
            trial.row,
            cfg.train.seed,
            cfg.data.fold,
            metrics["base"],
            metrics["new"],
            metrics["H"],
        )
        done.append(TrialOutcome(trial, score, metrics))
    return done


def trial_points(
    trials: list[GridTrial], checkpoint_every: int = 1, plugins: Sequence[str] = ()
) -> list[TrialPoint]:
    """Tune's grid points: each trial's name, table row, config, checkpoint interval (epochs)
    and the plugin modules its worker imports first."""
    return [
        TrialPoint(t.name, t.row, t.config.to_dict(), checkpoint_every, tuple(plugins))
        for t in trials
    ]


def run_sweep(spec: SweepSpec, resume: Path | None = None) -> SweepResult:
    """Run ``spec`` (see the module docstring) and return its outcomes and table; ``resume``
    (a run folder) restores an interrupted sweep and runs only its unfinished trials."""
    from mlflow.tracking import MlflowClient
    from ray import tune

    started = time.monotonic()
    with running(spec, resume) as session:
        trials, run_dir = session.trials, session.run_dir
        points = trial_points(trials, spec.checkpoint_every, spec.plugins)
        tuner = make_tuner(
            session,
            {POINT: tune.grid_search([p.to_config() for p in points])},
            tune.TuneConfig(reuse_actors=True, max_concurrent_trials=spec.max_concurrent or None),
            len(trials),
        )
        print(
            f"running {len(trials)} trials; MLflow: {session.uri} (experiment {spec.experiment!r})"
        )
        collected = collect(tuner.fit())  # no scheduler: a stopped trial did not finish
        failed = collected.failed + [(n, "no final result") for n in collected.stopped]
        done = outcomes(collected.finished, trials)
        planned = Counter((t.row, table_dataset(t.config)) for t in trials)
        table = aggregate([o.score for o in done], planned) if done else []
        rules = tuple(sorted({t.config.train.report_epoch for t in trials}))
        table_files = write_tables(table, run_dir, spec.table_stem, rules) if table else []
        client = MlflowClient(session.uri)
        for path in table_files:
            client.log_artifact(session.parent_id, str(path))
        session.status = "FINISHED" if done else "FAILED"
    return SweepResult(
        experiment=spec.experiment,
        run_dir=run_dir,
        mlflow_uri=session.uri,
        parent_run_id=session.parent_id,
        outcomes=done,
        table=table,
        table_files=table_files,
        failed=failed,
        wall_seconds=time.monotonic() - started,
        score_rules=rules,
        experiment_id=session.experiment_id,
    )


def log_to_parent(result: SweepResult, paths: list[Path]) -> None:
    """Attach study-specific tables to the sweep's parent MLflow run."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(result.mlflow_uri)
    for path in paths:
        client.log_artifact(result.parent_run_id, str(path))
