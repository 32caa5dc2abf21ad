"""Run a sweep of trials with Ray Tune, tracked in MLflow, and aggregate its table.

A sweep is data (:class:`SweepSpec`): trials, resources, a tracking target. :func:`run_sweep`
checks every trial before Ray starts (names, datasets, folds, neighbour banks), fills the
audio-embedding cache with one Ray task per (backbone, dataset), runs the trials (one nested MLflow
run each under the sweep's parent run), and writes the Base/New/H table (CSV + Markdown) to the
sweep folder and to the parent run. The run folder's ``sweep.json`` lets ``--resume`` restore an
interrupted sweep: Tune reruns only unfinished trials and each keeps its one MLflow run.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from filelock import FileLock

from sept_ray.config import ConfigError
from sept_ray.metrics import RunScore, TableRow, aggregate
from sept_ray.report.tables import write_tables
from sept_ray.tune.grid import GridTrial, table_dataset
from sept_ray.tune.point import POINT, TrialPoint, point_of


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


def check_trials(trials: list[GridTrial]) -> None:
    """Fail fast on any bad trial, before Ray starts or any embedding is computed.

    Checks, for every trial: method and backbone names, the protocol's task (dataset fold files,
    columns and classes; an xd target; enough base classes for val), and for SEPT trials that the
    bank (``builtin``: the shipped bank of the dataset) holds N phrases for every class of the
    dataset.
    """
    from sept_ray.backbones import BACKBONES
    from sept_ray.data.split import FewShotWarning
    from sept_ray.methods import METHODS
    from sept_ray.protocols import build_task
    from sept_ray.sept import BankError, load_bank
    from sept_ray.train import check_short_classes

    short_noted: dict[tuple[str, int], dict[str, int]] = {}
    for trial in trials:
        cfg = trial.config
        METHODS.get(cfg.method.name).parse_options(cfg.method.options)
        BACKBONES.get(cfg.backbone.name)
        try:
            with warnings.catch_warnings():  # said once per dataset below, not once per trial
                warnings.simplefilter("ignore", FewShotWarning)
                task = build_task(cfg)
            check_short_classes(cfg, task)
        except (ConfigError, ValueError) as exc:
            raise ConfigError(f"trial {trial.name}: {exc}") from None
        short = task.short_classes(cfg.data.shots)
        if short:
            short_noted.setdefault((task.split.name, task.split.fold), {}).update(short)
        if cfg.sept.enabled:  # every class of the dataset, though a trial trains on some
            bank = load_bank(cfg.sept.bank, cfg.data.name)
            try:
                bank.neighbours(cfg.data.name, task.split.classes, cfg.sept.n_neighbors)
            except BankError as exc:
                raise BankError(f"trial {trial.name}: {exc}") from None
    for (dataset, fold), short in short_noted.items():
        counts = ", ".join(f"{name} ({n})" for name, n in sorted(short.items()))
        print(
            f"note: {dataset} fold {fold}: classes with fewer training clips than data.shots "
            f"train on all of them (data.short_classes = warn): {counts}",
            flush=True,
        )


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
        name = point_of(result.config).name
        metrics = result.metrics or {}
        if result.error is not None or not metrics.get("final"):
            lines = [line.strip() for line in str(result.error or "").splitlines() if line.strip()]
            failed.append((name, lines[-1] if lines else "no final result"))
            continue
        index, trial = by_name[name]
        cfg = trial.config
        score = RunScore(
            table_dataset(cfg),
            trial.row,
            cfg.train.seed,
            cfg.data.fold,
            metrics["base"],
            metrics["new"],
            metrics["H"],
        )
        finished.append((index, TrialOutcome(trial, score, dict(metrics))))
    return [outcome for _, outcome in sorted(finished, key=lambda pair: pair[0])], failed


SWEEP_FILE = "sweep.json"  # in the run folder: what --resume needs to find the sweep again
PLAN_FILE = "sweep_plan.json"  # on the parent run: every planned trial (reports name the missing)


def sweep_plan(trials: list[GridTrial]) -> list[dict[str, Any]]:
    """Each planned trial's name, table row label, table dataset, seed, fold and protocol."""
    return [
        {
            "name": t.name,
            "label": t.row,
            "dataset": table_dataset(t.config),
            "seed": t.config.train.seed,
            "fold": t.config.data.fold,
            "protocol": t.config.protocol.name,
        }
        for t in trials
    ]


@dataclass
class SweepSession:
    """A sweep's run folder, placed trials and MLflow parent run, ready for Tune."""

    spec: SweepSpec
    run_dir: Path
    trials: list[GridTrial]
    uri: str
    experiment_id: str
    parent_id: str
    commit: str
    resumed: bool

    @property
    def tune_path(self) -> Path:
        return self.run_dir / "ray" / self.spec.experiment


def latest_run_dir(results_dir: Path, experiment: str) -> Path:
    """The newest run folder of ``experiment`` under ``results_dir`` (for a bare ``--resume``)."""
    runs = sorted(p.parent for p in (results_dir / experiment).glob(f"*/{SWEEP_FILE}"))
    if not runs:
        raise ConfigError(f"--resume: no run of experiment {experiment!r} in {results_dir}")
    return runs[-1]


def open_session(spec: SweepSpec, resume: Path | None = None) -> SweepSession:
    """Place and check the trials, start or join Ray, fill the embedding cache (Ray tasks), and
    create the sweep's parent MLflow run, or with ``resume`` (a run folder) reopen its run."""
    from mlflow.entities import Param
    from mlflow.tracking import MlflowClient

    from sept_ray.tune.cache_fill import cache_jobs, fill_cache
    from sept_ray.tune.local_ray import init_ray
    from sept_ray.tune.preflight import check_tracking
    from sept_ray.tune.shared_storage import check_shared_storage
    from sept_ray.tune.tracking import default_tracking_uri, ensure_experiment, git_commit

    os.environ.setdefault(
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true"
    )  # keep progress readable
    results_dir = spec.results_dir.resolve()
    if resume is not None:
        run_dir = resume.resolve()
        if not (run_dir / SWEEP_FILE).is_file():
            raise ConfigError(f"--resume {resume}: no {SWEEP_FILE} there (not a sweep run folder)")
        record = json.loads((run_dir / SWEEP_FILE).read_text())
        uri = record["mlflow_uri"]
    else:
        run_dir = results_dir / spec.experiment / time.strftime("%Y%m%d-%H%M%S")
        record = None
        uri = spec.mlflow_uri or default_tracking_uri(results_dir)
    trials = place_trials(replace(spec, results_dir=results_dir), run_dir)
    if record is not None and record["trials"] != [t.name for t in trials]:
        raise ConfigError(
            f"--resume {run_dir}: its trials differ from these options' trials; "
            "resume with the options the sweep was started with"
        )
    check_trials(trials)
    check_tracking(uri)
    init_ray(spec.ray_address, spec.num_cpus)
    check_shared_storage(results_dir)  # several nodes: each must see the results folder
    records = fill_cache(
        cache_jobs([t.config for t in trials]), spec.cpus_per_trial, spec.cache_gpus, spec.plugins
    )
    if record is None:  # a folder of its own, though another sweep started in the same second
        run_dir = reserve_run_dir(run_dir)
        trials = place_trials(replace(spec, results_dir=results_dir), run_dir)

    commit = git_commit()
    if record is not None:
        uri, experiment_id, parent_id = (
            record["mlflow_uri"],
            record["experiment_id"],
            record["parent_run_id"],
        )
        client = MlflowClient(uri)
        client.update_run(parent_id, status="RUNNING")
        client.set_tag(parent_id, "sept.resumed_with_commit", commit)
    else:
        client = MlflowClient(uri)
        local_store = uri.startswith("sqlite:") or uri.startswith("file:")
        with FileLock(str(results_dir / "mlflow.lock")):  # one sweep at a time creates the store
            experiment_id = ensure_experiment(
                client, spec.experiment, results_dir / "mlartifacts" if local_store else None
            )
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
        params = [Param(k, str(v)[:6000]) for k, v in sweep_params.items()]
        client.log_batch(parent_id, params=params)
        record = {
            "experiment": spec.experiment,
            "experiment_id": experiment_id,
            "mlflow_uri": uri,
            "parent_run_id": parent_id,
            "trials": [t.name for t in trials],
            "params": {k: str(v) for k, v in sweep_params.items()},
        }
        (run_dir / SWEEP_FILE).write_text(json.dumps(record, indent=1))
        plan_file = run_dir / PLAN_FILE
        plan_file.write_text(json.dumps(sweep_plan(trials), indent=1))
        client.log_artifact(parent_id, str(plan_file))
    cache_file = run_dir / "cache_fill.json"
    cache_file.write_text(json.dumps(records, indent=1))
    client.log_artifact(parent_id, str(cache_file))
    return SweepSession(
        spec, run_dir, trials, uri, experiment_id, parent_id, commit, resume is not None
    )


def reserve_run_dir(wanted: Path) -> Path:
    """Create ``wanted``, or ``wanted-2``, ``wanted-3``... when a concurrent sweep of the same
    experiment already took it (``mkdir`` is atomic): no two sweeps share a run folder."""
    wanted.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        candidate = wanted if attempt == 1 else wanted.with_name(f"{wanted.name}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise ConfigError(f"{wanted.parent}: no free run folder name for {wanted.name}")


def make_tuner(
    session: SweepSession,
    trainable,
    param_space: dict[str, Any],
    tune_config,
    total: int,
):
    """A Tuner for the session (restored from its folder when resuming an interrupted sweep):
    resources per trial, retries, the MLflow tracker and the progress printer."""
    from ray import tune

    from sept_ray.tune.progress import ProgressPrinter
    from sept_ray.tune.tracking import MlflowTracker

    spec = session.spec
    resources = {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial}
    with_resources = tune.with_resources(trainable, resources)
    path = session.tune_path
    if session.resumed and tune.Tuner.can_restore(str(path)):
        print(f"resuming {path}: finished trials are kept, the rest run", flush=True)
        return tune.Tuner.restore(
            str(path), with_resources, resume_unfinished=True, resume_errored=True
        )
    return tune.Tuner(
        with_resources,
        param_space=param_space,
        tune_config=tune_config,
        run_config=tune.RunConfig(
            name=spec.experiment,
            storage_path=str(session.run_dir / "ray"),
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),  # the latest epoch's state
            callbacks=[
                MlflowTracker(
                    session.uri, session.experiment_id, session.parent_id, session.commit
                ),
                ProgressPrinter(total),
            ],
            verbose=0,
        ),
    )


def close_session(session: SweepSession, status: str) -> None:
    """Mark the sweep's parent run ``status`` (FINISHED, FAILED or KILLED)."""
    from mlflow.tracking import MlflowClient

    MlflowClient(session.uri).set_terminated(session.parent_id, status)


def check_run_options(spec: SweepSpec) -> None:
    """The checkpoint interval is >= 0."""
    if spec.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every {spec.checkpoint_every}: must be >= 0 (0: never)")


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

    from sept_ray.tune.trainable import train_b2n

    started = time.monotonic()
    check_run_options(spec)
    session = open_session(spec, resume)
    trials, run_dir = session.trials, session.run_dir
    try:
        points = trial_points(trials, spec.checkpoint_every, spec.plugins)
        tuner = make_tuner(
            session,
            train_b2n,
            {POINT: tune.grid_search([p.to_config() for p in points])},
            tune.TuneConfig(reuse_actors=True, max_concurrent_trials=spec.max_concurrent or None),
            len(trials),
        )
        print(
            f"running {len(trials)} trials; MLflow: {session.uri} (experiment {spec.experiment!r})"
        )
        outcomes, failed = collect(tuner.fit(), trials)
        planned = Counter((t.row, table_dataset(t.config)) for t in trials)
        table = aggregate([o.score for o in outcomes], planned) if outcomes else []
        rules = tuple(sorted({t.config.train.report_epoch for t in trials}))
        table_files = write_tables(table, run_dir, spec.table_stem, rules) if table else []
        client = MlflowClient(session.uri)
        for path in table_files:
            client.log_artifact(session.parent_id, str(path))
    except BaseException as exc:
        close_session(session, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    close_session(session, "FINISHED" if outcomes else "FAILED")
    return SweepResult(
        experiment=spec.experiment,
        run_dir=run_dir,
        mlflow_uri=session.uri,
        parent_run_id=session.parent_id,
        outcomes=outcomes,
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
