"""Optuna search of SEPT's settings on a validation objective that never sees test data.

Each search trial samples λ (log scale), N (an integer up to the bank's size), the four margin
switches, the inter constant margin, a margin scale and the neighbour reading, and scores them on
the ``val`` protocol (:mod:`sept_ray.protocols`) of every dataset with enough base classes: the
mean of per-dataset H
on held-out training clips is the objective. ``OptunaSearch`` (seeded, its study stored in the run
folder's ``optuna.db``) behind a concurrency limit proposes the settings. The parent MLflow run gets
the study summary (every trial's settings and objective) and the best settings.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sept_ray.config import NEIGHBOUR_SPACES, ConfigError
from sept_ray.data.manifest import load_split
from sept_ray.data.split import base_new_split
from sept_ray.protocols import MIN_VAL_BASE_CLASSES
from sept_ray.report.table import Table, write_files
from sept_ray.tune.collect import Finished, collect
from sept_ray.tune.grid import GridTrial
from sept_ray.tune.point import POINT, TrialPoint
from sept_ray.tune.session import make_tuner, running
from sept_ray.tune.sweep import SweepSpec

SEARCHED = (
    "sept.lam",
    "sept.n_neighbors",
    "sept.use_intra",
    "sept.intra_margin",
    "sept.use_inter",
    "sept.inter_margin",
    "sept.inter_const_margin",
    "sept.margin_scale",
    "sept.neighbour_space",
)
LAMBDA_RANGE = (0.01, 10.0)  # log scale
INTER_CONST_RANGE = (0.25, 2.0)  # unit-vector distances lie in [0, 2]
MARGIN_SCALE_RANGE = (0.25, 4.0)  # log scale


def search_space(bank_size: int) -> dict[str, Any]:
    """The Tune search space over :data:`SEARCHED` (dotted config keys), N in [1, bank_size]."""
    from ray import tune

    switch = tune.choice([True, False])
    return {
        "sept.lam": tune.loguniform(*LAMBDA_RANGE),
        "sept.n_neighbors": tune.randint(1, bank_size + 1),  # upper bound exclusive
        "sept.use_intra": switch,
        "sept.intra_margin": switch,
        "sept.use_inter": switch,
        "sept.inter_margin": switch,
        "sept.inter_const_margin": tune.uniform(*INTER_CONST_RANGE),
        "sept.margin_scale": tune.loguniform(*MARGIN_SCALE_RANGE),
        "sept.neighbour_space": tune.choice(list(NEIGHBOUR_SPACES)),
    }


def optuna_distributions(bank_size: int) -> dict[str, Any]:
    """The same space as :func:`search_space` as Optuna distributions (what a report rebuilds
    the study from: ``search_space.json`` on the search's parent run)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    switch = CategoricalDistribution([True, False])
    return {
        "sept.lam": FloatDistribution(*LAMBDA_RANGE, log=True),
        "sept.n_neighbors": IntDistribution(1, bank_size),
        "sept.use_intra": switch,
        "sept.intra_margin": switch,
        "sept.use_inter": switch,
        "sept.inter_margin": switch,
        "sept.inter_const_margin": FloatDistribution(*INTER_CONST_RANGE),
        "sept.margin_scale": FloatDistribution(*MARGIN_SCALE_RANGE, log=True),
        "sept.neighbour_space": CategoricalDistribution(list(NEIGHBOUR_SPACES)),
    }


def write_space(run_dir: Path, bank_size: int) -> Path:
    """``search_space.json``: {dotted key: Optuna distribution JSON} of the searched space."""
    from optuna.distributions import distribution_to_json

    path = run_dir / "search_space.json"
    space = {k: distribution_to_json(d) for k, d in optuna_distributions(bank_size).items()}
    path.write_text(json.dumps(space, indent=1))
    return path


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


@dataclass
class SearchResult:
    """The search's best settings, every trial's settings and objective, and where they are."""

    run_dir: Path
    mlflow_uri: str
    parent_run_id: str
    best: dict[str, Any]
    best_h: float
    best_per_dataset: dict[str, float]
    trials: list[dict[str, Any]]
    failed: list[tuple[str, str]]
    files: list[Path]
    wall_seconds: float


def run_search(
    spec: SweepSpec, num_samples: int, seed: int, resume: Path | None = None
) -> SearchResult:
    """Search SEPT's settings over ``spec.trials`` (one val-protocol trial per dataset, sharing
    every setting but the dataset): ``num_samples`` settings, ``spec.max_concurrent`` at once."""
    import optuna
    from mlflow.tracking import MlflowClient
    from ray import tune
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.search.optuna import OptunaSearch

    started = time.monotonic()
    with running(spec, resume) as session:
        first = session.trials[0]
        size = bank_size(session.trials)
        storage_url = f"sqlite:///{session.run_dir / 'optuna.db'}"
        client = MlflowClient(session.uri)
        client.log_artifact(session.parent_id, str(write_space(session.run_dir, size)))
        searcher = OptunaSearch(
            metric="H",
            mode="max",
            seed=seed,
            study_name=spec.experiment,
            storage=optuna.storages.RDBStorage(storage_url),
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
        )
        tuner = make_tuner(
            session,
            {POINT: point.to_config(), **search_space(size)},
            tune.TuneConfig(search_alg=limited, num_samples=num_samples, reuse_actors=True),
            num_samples,
        )
        print(
            f"searching {num_samples} settings of {len(SEARCHED)} SEPT options on "
            f"{', '.join(point.datasets)} (val protocol; N up to {size}); "
            f"MLflow: {session.uri} (experiment {spec.experiment!r})",
            flush=True,
        )
        finished, failed = collect(tuner.fit())
        if not finished:
            raise RuntimeError(f"every search trial failed: {failed[:3]}")
        rows = search_rows(finished)
        best = rows[0]
        files = write_summary(session.run_dir, rows, best, storage_url, spec.experiment)
        for path in files:
            client.log_artifact(session.parent_id, str(path))
        client.log_metric(session.parent_id, "best_val_H", best["H"])
    return SearchResult(
        run_dir=session.run_dir,
        mlflow_uri=session.uri,
        parent_run_id=session.parent_id,
        best={k: best[k] for k in SEARCHED},
        best_h=best["H"],
        best_per_dataset={k[2:]: v for k, v in best.items() if k.startswith("H_")},
        trials=rows,
        failed=failed,
        files=files,
        wall_seconds=time.monotonic() - started,
    )


def search_rows(finished: list[Finished]) -> list[dict[str, Any]]:
    """One row per finished search trial, best objective first: its trial id, settings,
    objective and per-dataset H."""
    rows = []
    for trial in finished:
        row = {"trial_id": trial.name, **{k: trial.config[k] for k in SEARCHED}}
        row.update({k: v for k, v in trial.metrics.items() if k in ("H", "base", "new")})
        row.update({k: v for k, v in trial.metrics.items() if k.startswith("H_")})
        rows.append(row)
    rows.sort(key=lambda r: -r["H"])
    return rows


def write_summary(
    run_dir: Path, rows: list[dict[str, Any]], best: dict[str, Any], storage_url: str, study: str
) -> list[Path]:
    """``search_trials.{csv,md}`` (every finished trial, best first), ``best_settings.json`` and
    ``optuna_study.csv`` (Optuna's own table of the stored study)."""
    import optuna

    header = list(rows[0])
    body = [[fmt(r.get(k)) for k in header] for r in rows]
    files = write_files(Table("search_trials", "Search trials", header, body), run_dir)
    best_file = run_dir / "best_settings.json"
    best_file.write_text(
        json.dumps(
            {
                "objective": "mean over datasets of H on the val protocol (no test clip)",
                "H": best["H"],
                "per_dataset_H": {k[2:]: v for k, v in best.items() if k.startswith("H_")},
                "settings": {k: best[k] for k in SEARCHED},
            },
            indent=1,
        )
    )
    files.append(best_file)
    frame = optuna.load_study(study_name=study, storage=storage_url).trials_dataframe()
    study_file = run_dir / "optuna_study.csv"
    frame.to_csv(study_file, index=False)
    files.append(study_file)
    return files


def fmt(value: Any) -> str:
    """A table cell: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
