"""Optuna search of SEPT's settings on a validation objective that never sees test data.

Each search trial scores one setting on the ``val`` protocol (:mod:`sept_ray.protocols`) of every
dataset with enough base classes, on R partitions of each dataset's base classes into pseudo-base
and pseudo-new (``--partitions``, default 3: every base class is pseudo-new in one): the objective
is the mean H over datasets and partitions, on held-out training clips; ``spread_H`` is the std
over partitions. The space is conditional (:func:`sample_settings`, define-by-run): λ (log scale),
N (an integer up to the bank's size) and the neighbour reading, then only the switches, margins
and scales that can matter. The first trial scores the trials' own settings (SEPT's defaults) as
the reference: the search recommends its best setting only if it beats them by more than the
spread across partitions (:func:`recommend`), else the defaults, and says why. ``OptunaSearch``
(seeded, its study stored in the run folder's ``optuna.db``) behind a concurrency limit proposes
the settings. The parent MLflow run gets the study summary (every trial's settings and objective)
and ``best_settings.json``.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from sept_ray.config import NEIGHBOUR_SPACES, ConfigError, SeptConfig
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


def optuna_distributions(bank_size: int) -> dict[str, Any]:
    """Every searched parameter's Optuna distribution, N in [1, bank_size] (what
    :func:`sample_settings` draws from, and what a report rebuilds the study from:
    ``search_space.json`` on the search's parent run)."""
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


def suggest(trial, name: str, distribution) -> Any:
    """``trial``'s value of ``name`` drawn from an Optuna ``distribution``."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high)
    return trial.suggest_float(name, distribution.low, distribution.high, log=distribution.log)


def sample_settings(trial, bank_size: int) -> dict[str, Any]:
    """The conditional search space, define-by-run (Optuna's ``trial`` API): λ, N and the
    neighbour reading always; then only what can matter under the switches drawn. At least one
    SE term is on (with both off L_se is zero: plain CoOp, which the search need not find);
    a term's margin switch only when the term is on; the inter constant only when the inter
    margin is off; the margin scale only when a pretrained margin is used. Returns the
    constants the switches imply (``sept.use_inter`` = True when only L_intra was drawn off)."""
    space = optuna_distributions(bank_size)

    def pick(key: str) -> Any:
        return suggest(trial, key, space[key])

    for key in ("sept.lam", "sept.n_neighbors", "sept.neighbour_space"):
        pick(key)
    constants: dict[str, Any] = {}
    use_intra = pick("sept.use_intra")
    use_inter = pick("sept.use_inter") if use_intra else True
    if not use_intra:
        constants["sept.use_inter"] = True
    intra_margin = pick("sept.intra_margin") if use_intra else False
    inter_margin = pick("sept.inter_margin") if use_inter else False
    if use_inter and not inter_margin:
        pick("sept.inter_const_margin")
    if intra_margin or inter_margin:
        pick("sept.margin_scale")
    return constants


def within(distribution, value: Any) -> bool:
    """Whether an Optuna ``distribution`` can draw ``value``."""
    if hasattr(distribution, "choices"):
        return value in distribution.choices
    return distribution.low <= value <= distribution.high


def default_settings(sept: SeptConfig, bank_size: int) -> dict[str, Any]:
    """The trials' own SEPT settings (SEPT's defaults, or what ``--set`` made them) as the
    searched parameters that matter under their switches (the ones :func:`sample_settings`
    asks for, given these values): the search's first sample, its reference. A value outside
    the searched range is a ConfigError naming it."""
    import optuna

    values = {key: getattr(sept, key.removeprefix("sept.")) for key in SEARCHED}
    if not (values["sept.use_intra"] or values["sept.use_inter"]):
        raise ConfigError("the search's reference has both SE terms off: nothing to compare to")
    fixed = optuna.trial.FixedTrial(values)
    with warnings.catch_warnings():  # a value out of range is refused below, naming it
        warnings.simplefilter("ignore", UserWarning)
        sample_settings(fixed, bank_size)
    space = optuna_distributions(bank_size)
    for key, value in fixed.params.items():
        if not within(space[key], value):
            raise ConfigError(f"{key} = {value!r}: outside the searched space {space[key]}")
    return {key: values[key] for key in SEARCHED if key in fixed.params}


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
    """The search's recommendation (``recommended``: ``searched`` or ``defaults``, ``why``, its
    ``settings``), its best sampled settings, every trial's settings and objective, and where
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
    files: list[Path]
    wall_seconds: float


def pruner(epochs: int, steps: int):
    """The early stopping of poor settings: Tune's ASHA on per-epoch validation H, at the steps
    of a sample's trainings (``epoch`` counts on across them). Its first rung is the end of a
    sample's first training (``epochs``), each next one twice as far, up to ``steps`` (a
    sample's last step); at each rung a setting goes on only if its H is at least the median of
    those that reached the rung before it."""
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(
        time_attr="epoch",
        metric="H",
        mode="max",
        max_t=steps,
        grace_period=epochs,
        reduction_factor=PRUNE_FACTOR,
    )


PRUNE_FACTOR = 2  # ASHA's reduction factor: half of the settings at a rung go on


def run_search(
    spec: SweepSpec,
    num_samples: int,
    seed: int,
    partitions: int = 1,
    resume: Path | None = None,
    prune: bool = True,
) -> SearchResult:
    """Search SEPT's settings over ``spec.trials`` (one val-protocol trial per dataset, sharing
    every setting but the dataset): ``num_samples`` settings, the first the trials' own
    (:func:`default_settings`), ``spec.max_concurrent`` at once, each scored on ``partitions``
    partitions of every dataset's base classes, poor ones stopped early with ``prune``
    (:func:`pruner`); then :func:`recommend`."""
    import optuna
    from mlflow.tracking import MlflowClient
    from ray import tune
    from ray.tune.search import ConcurrencyLimiter

    from sept_ray.tune.optuna_searcher import PrunedAwareOptunaSearch

    started = time.monotonic()
    with running(spec, resume) as session:
        first = session.trials[0]
        size = bank_size(session.trials)
        defaults = default_settings(first.config.sept, size)
        storage_url = f"sqlite:///{session.run_dir / 'optuna.db'}"
        client = MlflowClient(session.uri)
        client.log_artifact(session.parent_id, str(write_space(session.run_dir, size)))
        searcher = PrunedAwareOptunaSearch(
            space=partial(sample_settings, bank_size=size),
            metric="H",
            mode="max",
            points_to_evaluate=[defaults],
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
            partitions=partitions,
        )
        steps = len(point.datasets) * partitions * (first.config.train.epochs + 1)
        scheduler = pruner(first.config.train.epochs, steps) if prune else None
        tuner = make_tuner(
            session,
            {POINT: point.to_config()},
            tune.TuneConfig(
                search_alg=limited,
                scheduler=scheduler,
                num_samples=num_samples,
                reuse_actors=True,
            ),
            num_samples,
        )
        print(
            f"searching {num_samples} settings of {len(SEARCHED)} SEPT options (the first: the "
            f"trials' own) on {', '.join(point.datasets)} (val protocol, {partitions} "
            f"partition(s) of the base classes; N up to {size}; "
            f"{'poor settings stopped early' if prune else 'no early stopping'}); "
            f"MLflow: {session.uri} (experiment {spec.experiment!r})",
            flush=True,
        )
        grid = tuner.fit()
        collected = collect(grid)
        failed = collected.failed
        if not collected.finished:
            raise RuntimeError(f"no search trial finished: {failed[:3]}")
        rows = search_rows(collected.finished, defaults)
        choice = recommend(rows)
        saved = compute_saved(grid, steps, collected.stopped)
        files = write_summary(session.run_dir, rows, choice, saved, storage_url, spec.experiment)
        for path in files:
            client.log_artifact(session.parent_id, str(path))
        client.log_metric(session.parent_id, "best_val_H", rows[0]["H"])
    best = next(r for r in rows if r["trial_id"] != DEFAULTS_ROW) if len(rows) > 1 else rows[0]
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
        files=files,
        wall_seconds=time.monotonic() - started,
    )


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


DEFAULTS_ROW = "defaults"  # the trial_id cell of the row of the trials' own settings


def search_rows(finished: list[Finished], defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per finished search trial, best objective first: its trial id (``defaults`` for
    the trials' own settings), the settings it drew (empty where the switches made one not
    matter), objective, spread over partitions and per-dataset H."""
    rows = []
    for trial in finished:
        settings = {k: trial.config.get(k, "") for k in SEARCHED}
        is_defaults = all(trial.config.get(k) == v for k, v in defaults.items()) and all(
            trial.config.get(k, "") in ("", v) for k, v in settings.items() if k not in defaults
        )
        row = {"trial_id": DEFAULTS_ROW if is_defaults else trial.name, **settings}
        row.update({k: trial.metrics[k] for k in ("H", "spread_H", "base", "new")})
        row.update({k: v for k, v in trial.metrics.items() if k.startswith("H_")})
        rows.append(row)
    rows.sort(key=lambda r: -r["H"])
    return rows


def settings_of(row: dict[str, Any]) -> dict[str, Any]:
    """The searched settings a row drew (without the ones that did not matter)."""
    return {k: row[k] for k in SEARCHED if row.get(k, "") != ""}


@dataclass(frozen=True)
class Recommendation:
    """``which`` settings the search recommends (``searched`` or ``defaults``), their ``row``
    and ``why``; ``margin``: what the best setting had to beat the defaults by."""

    which: str
    row: dict[str, Any]
    why: str
    margin: float


def recommend(rows: list[dict[str, Any]]) -> Recommendation:
    """The fallback rule: the best sampled setting (``rows`` are best first) only if its
    objective beats the defaults' by more than the spread across partitions (the larger of the
    two settings' ``spread_H``); otherwise the defaults, saying why."""
    defaults = next((r for r in rows if r["trial_id"] == DEFAULTS_ROW), None)
    sampled = [r for r in rows if r["trial_id"] != DEFAULTS_ROW]
    if defaults is None:
        return Recommendation("searched", rows[0], "the defaults' trial did not finish", 0.0)
    if not sampled:
        return Recommendation("defaults", defaults, "no sampled setting finished", 0.0)
    best = sampled[0]
    margin = max(best["spread_H"], defaults["spread_H"])
    gain = best["H"] - defaults["H"]
    if gain > margin:
        why = (
            f"the best setting beats the defaults by {gain:.2f} H on validation, more than the "
            f"spread across partitions ({margin:.2f})"
        )
        return Recommendation("searched", best, why, margin)
    why = (
        f"the best setting's validation H is {gain:+.2f} against the defaults', not more than "
        f"the spread across partitions ({margin:.2f}): the defaults are kept"
    )
    return Recommendation("defaults", defaults, why, margin)


def write_summary(
    run_dir: Path,
    rows: list[dict[str, Any]],
    choice: Recommendation,
    pruned: dict[str, Any],
    storage_url: str,
    study: str,
) -> list[Path]:
    """``search_trials.{csv,md}`` (every finished trial, best first), ``best_settings.json``
    (the recommendation, why, and the best sampled setting beside the defaults) and
    ``optuna_study.csv`` (Optuna's own table of the stored study)."""
    import optuna

    header = list(rows[0])
    body = [[fmt(r.get(k)) for k in header] for r in rows]
    files = write_files(Table("search_trials", "Search trials", header, body), run_dir)

    def scored(row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        per_dataset = {k[2:]: v for k, v in row.items() if k.startswith("H_")}
        return {"H": row["H"], "spread_H": row["spread_H"], "per_dataset_H": per_dataset,
                "settings": settings_of(row)}  # fmt: skip

    sampled = [r for r in rows if r["trial_id"] != DEFAULTS_ROW]
    defaults = [r for r in rows if r["trial_id"] == DEFAULTS_ROW]
    best_file = run_dir / "best_settings.json"
    summary = {
        "objective": "mean over datasets and partitions of H on the val protocol (no test clip)",
        "recommended": choice.which,
        "why": choice.why,
        "margin": choice.margin,
        "settings": settings_of(choice.row),
        "best_searched": scored(sampled[0] if sampled else None),
        "defaults": scored(defaults[0] if defaults else None),
        "early_stopping": pruned,
    }
    best_file.write_text(json.dumps(summary, indent=1))
    files.append(best_file)
    frame = optuna.load_study(study_name=study, storage=storage_url).trials_dataframe()
    study_file = run_dir / "optuna_study.csv"
    frame.to_csv(study_file, index=False)
    files.append(study_file)
    return files


def fmt(value: Any) -> str:
    """A table cell: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
