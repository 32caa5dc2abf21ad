"""A sweep's lifecycle, shared by every study (grids and the search): open, run under Tune, close.

:func:`running` is the one way a driver uses a session::

    with running(spec, resume) as session:
        tuner = make_tuner(session, param_space, tune_config, total)
        ...

It opens the session on one of two paths, closes the sweep's parent MLflow run when the block
ends (FINISHED, or ``session.status`` when the driver set it; FAILED on an error; KILLED on Ctrl-C):

- :func:`new_session`: check the trials, start or join Ray, fill the embedding cache, then reserve
  a run folder ``<results>/<experiment>/<time>``, place the trials in it, create the parent run
  and write ``sweep.json`` (what ``--resume`` reads) and ``sweep_plan.json``.
- :func:`resumed_session`: read ``sweep.json`` of a run folder, check that these options make the
  same trials, do the same checks and cache fill, and reopen the parent run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from filelock import FileLock

from sept_ray.config import ConfigError
from sept_ray.tune.grid import GridTrial, table_dataset
from sept_ray.tune.placement import check_trials, resolved_trials, with_output_dirs

SWEEP_FILE = "sweep.json"  # in the run folder: what --resume needs to find the sweep again
PLAN_FILE = "sweep_plan.json"  # on the parent run: every planned trial (reports name the missing)
CACHE_FILE = "cache_fill.json"  # on the parent run: what the embedding cache fill did


@dataclass
class SweepSession:
    """A sweep's run folder, placed trials and MLflow parent run, ready for Tune; ``status`` is
    what the parent run is marked when the driver's block ends without an error."""

    spec: Any  # sept_ray.tune.sweep.SweepSpec
    run_dir: Path
    trials: list[GridTrial]
    uri: str
    experiment_id: str
    parent_id: str
    commit: str
    resumed: bool
    status: str = "FINISHED"

    @property
    def tune_path(self) -> Path:
        return self.run_dir / "ray" / self.spec.experiment


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


def latest_run_dir(results_dir: Path, experiment: str) -> Path:
    """The newest run folder of ``experiment`` under ``results_dir`` (for a bare ``--resume``)."""
    runs = sorted(p.parent for p in (results_dir / experiment).glob(f"*/{SWEEP_FILE}"))
    if not runs:
        raise ConfigError(f"--resume: no run of experiment {experiment!r} in {results_dir}")
    return runs[-1]


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


def prepare(spec, trials: list[GridTrial], uri: str) -> list[dict[str, Any]]:
    """Before any run folder or MLflow run: check the trials and the MLflow target, start or join
    Ray, check that every node sees the results folder, fill the embedding cache (Ray tasks).
    Returns the cache fill's records."""
    from sept_ray.tune.cache_fill import cache_jobs, fill_cache
    from sept_ray.tune.local_ray import init_ray
    from sept_ray.tune.preflight import check_tracking
    from sept_ray.tune.shared_storage import check_shared_storage

    check_trials(trials)
    check_tracking(uri)
    init_ray(spec.ray_address, spec.num_cpus)
    check_shared_storage(spec.results_dir)  # several nodes: each must see the results folder
    jobs = cache_jobs([t.config for t in trials])
    return fill_cache(jobs, spec.cpus_per_trial, spec.cache_gpus, spec.plugins)


def new_session(spec) -> SweepSession:
    """Prepare, then a fresh run folder, the placed trials and a new parent MLflow run."""
    from mlflow.entities import Param
    from mlflow.tracking import MlflowClient

    from sept_ray.tune.tracking import default_tracking_uri, ensure_experiment, git_commit

    uri = spec.mlflow_uri or default_tracking_uri(spec.results_dir)
    resolved = resolved_trials(spec)
    records = prepare(spec, resolved, uri)
    # after the checks (a bad trial leaves no folder behind); a folder of its own, though
    # another sweep of this experiment started in the same second
    run_dir = reserve_run_dir(spec.results_dir / spec.experiment / time.strftime("%Y%m%d-%H%M%S"))
    trials = with_output_dirs(resolved, run_dir)
    commit = git_commit()
    client = MlflowClient(uri)
    local_store = uri.startswith("sqlite:") or uri.startswith("file:")
    with FileLock(str(spec.results_dir / "mlflow.lock")):  # one sweep at a time creates the store
        experiment_id = ensure_experiment(
            client, spec.experiment, spec.results_dir / "mlartifacts" if local_store else None
        )
    parent_id = client.create_run(
        experiment_id,
        run_name=f"{spec.experiment}-{run_dir.name}",
        tags={
            "sept.sweep": spec.experiment,
            "sept.git_commit": commit,
            "sept.run_dir": str(run_dir),
        },
    ).info.run_id
    sweep_params = {"n_trials": len(trials), **spec.params}
    client.log_batch(parent_id, params=[Param(k, str(v)[:6000]) for k, v in sweep_params.items()])
    record = {
        "experiment": spec.experiment,
        "experiment_id": experiment_id,
        "mlflow_uri": uri,
        "parent_run_id": parent_id,
        "trials": [t.name for t in trials],
        "params": {k: str(v) for k, v in sweep_params.items()},
    }
    (run_dir / SWEEP_FILE).write_text(json.dumps(record, indent=1))
    log_file(client, parent_id, run_dir / PLAN_FILE, sweep_plan(trials))
    log_file(client, parent_id, run_dir / CACHE_FILE, records)
    return SweepSession(spec, run_dir, trials, uri, experiment_id, parent_id, commit, False)


def resumed_session(spec, run_dir: Path) -> SweepSession:
    """Prepare again, and reopen the parent MLflow run of ``run_dir`` (an interrupted sweep's
    folder), whose trials must be the ones these options make."""
    from mlflow.tracking import MlflowClient

    from sept_ray.tune.tracking import git_commit

    run_dir = run_dir.resolve()
    if not (run_dir / SWEEP_FILE).is_file():
        raise ConfigError(f"--resume {run_dir}: no {SWEEP_FILE} there (not a sweep run folder)")
    record = json.loads((run_dir / SWEEP_FILE).read_text())
    trials = with_output_dirs(resolved_trials(spec), run_dir)
    if record["trials"] != [t.name for t in trials]:
        raise ConfigError(
            f"--resume {run_dir}: its trials differ from these options' trials; "
            "resume with the options the sweep was started with"
        )
    uri, parent_id = record["mlflow_uri"], record["parent_run_id"]
    records = prepare(spec, trials, uri)
    commit = git_commit()
    client = MlflowClient(uri)
    client.update_run(parent_id, status="RUNNING")
    client.set_tag(parent_id, "sept.resumed_with_commit", commit)
    log_file(client, parent_id, run_dir / CACHE_FILE, records)
    return SweepSession(
        spec, run_dir, trials, uri, record["experiment_id"], parent_id, commit, True
    )


def log_file(client, run_id: str, path: Path, content: Any) -> None:
    """Write ``content`` as JSON to ``path`` and attach it to MLflow run ``run_id``."""
    path.write_text(json.dumps(content, indent=1))
    client.log_artifact(run_id, str(path))


@contextmanager
def running(spec, resume: Path | None = None) -> Iterator[SweepSession]:
    """The session of ``spec`` (new, or with ``resume`` the run folder's), closed when the block
    ends: its parent run marked ``session.status`` (default FINISHED), FAILED on an error,
    KILLED on Ctrl-C."""
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # readable progress
    if spec.checkpoint_every < 0:
        raise ConfigError(f"--checkpoint-every {spec.checkpoint_every}: must be >= 0 (0: never)")
    spec = replace(spec, results_dir=spec.results_dir.resolve())
    session = new_session(spec) if resume is None else resumed_session(spec, resume)
    try:
        yield session
    except BaseException as exc:
        close_session(session, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    close_session(session, session.status)


def close_session(session: SweepSession, status: str) -> None:
    """Mark the sweep's parent run ``status`` (FINISHED, FAILED or KILLED)."""
    from mlflow.tracking import MlflowClient

    MlflowClient(session.uri).set_terminated(session.parent_id, status)


def make_tuner(session: SweepSession, param_space: dict[str, Any], tune_config, total: int):
    """A Tuner of the one trainable (:func:`sept_ray.tune.trainable.train_point`) for the
    session, restored from its folder when resuming an interrupted sweep: resources per trial,
    retries, the MLflow tracker and the progress printer."""
    from ray import tune

    from sept_ray.tune import trainable
    from sept_ray.tune.progress import ProgressPrinter
    from sept_ray.tune.tracking import MlflowTracker

    spec = session.spec
    resources = {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial}
    with_resources = tune.with_resources(trainable.train_point, resources)
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
