"""What a finished search recommends, and the files that say so.

:func:`search_rows` turns the finished trials into rows (the reference without SEPT, SEPT's
defaults, the sampled settings); :func:`recommend` applies the fallback rule; with the Pareto
objective the candidates are the settings on the front of validation (Base, New)
(:func:`pareto_front`); :func:`write_summary` writes ``search_trials.{csv,md}``,
``best_settings.json`` and Optuna's own table of the study.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sept_ray.report.table import Table, write_files
from sept_ray.tune.collect import Finished
from sept_ray.tune.search_space import SEARCHED

DEFAULTS_ROW = "defaults"  # the trial_id cell of the row of the trials' own settings
REFERENCE_ROW = "without-sept"  # the trial_id cell of the method without SEPT
REFERENCE = {"sept.enabled": False}  # the reference trial's overrides
OBJECTIVES = {
    "h": "mean over datasets, partitions and seeds of H on the val protocol (no test clip)",
    "pareto": "validation Base and New, each the mean over datasets, partitions and seeds "
    "(Optuna's multi-objective sampler; no test clip); candidates: the Pareto front",
}


def is_reference(config: dict[str, Any]) -> bool:
    """Whether a search trial's config is the reference (the method without SEPT)."""
    return config.get("sept.enabled") is False


def search_rows(finished: list[Finished], defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per finished search trial, best objective H first: its trial id (``defaults``
    for the trials' own settings, ``without-sept`` for the reference), the settings it drew
    (empty where the switches made one not matter), objective, spread over partitions and
    seeds, and per-dataset H."""
    rows = []
    for trial in finished:
        settings = {k: trial.config.get(k, "") for k in SEARCHED}
        is_defaults = all(trial.config.get(k) == v for k, v in defaults.items()) and all(
            trial.config.get(k, "") in ("", v) for k, v in settings.items() if k not in defaults
        )
        trial_id = DEFAULTS_ROW if is_defaults else trial.name
        if is_reference(trial.config):
            trial_id, settings = REFERENCE_ROW, {k: "" for k in SEARCHED}
        row = {"trial_id": trial_id, **settings}
        row.update({k: trial.metrics[k] for k in ("H", "spread_H", "base", "new")})
        row.update({k: v for k, v in trial.metrics.items() if k.startswith("H_")})
        rows.append(row)
    rows.sort(key=lambda r: -r["H"])
    return rows


def settings_of(row: dict[str, Any]) -> dict[str, Any]:
    """The searched settings a row drew (without the ones that did not matter)."""
    return {k: row[k] for k in SEARCHED if row.get(k, "") != ""}


def row_of(rows: list[dict[str, Any]], trial_id: str) -> dict[str, Any] | None:
    """The row of ``trial_id`` (e.g. ``defaults``, ``without-sept``), if it finished."""
    return next((r for r in rows if r["trial_id"] == trial_id), None)


def sampled_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of Optuna's trials: SEPT's defaults and the sampled settings (not the
    reference)."""
    return [r for r in rows if r["trial_id"] != REFERENCE_ROW]


def pareto_front(rows: list[dict[str, Any]]) -> list[str]:
    """The trial ids of the rows no other row dominates on (validation ``base``, ``new``):
    none has both at least as high and one higher. In the order of ``rows``."""

    def dominated(row: dict[str, Any]) -> bool:
        return any(
            o["base"] >= row["base"]
            and o["new"] >= row["new"]
            and (o["base"] > row["base"] or o["new"] > row["new"])
            for o in rows
        )

    return [r["trial_id"] for r in rows if not dominated(r)]


@dataclass(frozen=True)
class Recommendation:
    """``which`` settings the search recommends (``searched`` or ``defaults``), their ``row``
    and ``why``; ``margin``: what the best candidate had to beat the defaults by."""

    which: str
    row: dict[str, Any]
    why: str
    margin: float


def recommend(rows: list[dict[str, Any]], candidates: list[str] | None = None) -> Recommendation:
    """The fallback rule: the best sampled setting by objective H (``rows`` are best first;
    with ``candidates``, the best of the rows with those trial ids, e.g. the Pareto front) only
    if its H beats the defaults' by more than the spread across partitions and seeds (the
    larger of the two settings' ``spread_H``); otherwise the defaults, saying why. The
    reference without SEPT is never a candidate."""
    rows = sampled_rows(rows)
    defaults = next((r for r in rows if r["trial_id"] == DEFAULTS_ROW), None)
    sampled = [r for r in rows if r["trial_id"] != DEFAULTS_ROW]
    if candidates is not None:
        sampled = [r for r in sampled if r["trial_id"] in candidates]
    if defaults is None:
        if not sampled:
            raise ValueError("no setting of SEPT finished")
        return Recommendation("searched", sampled[0], "the defaults' trial did not finish", 0.0)
    if not sampled:
        why = "no sampled setting finished" if candidates is None else "no other on the front"
        return Recommendation("defaults", defaults, why, 0.0)
    best = sampled[0]
    margin = max(best["spread_H"], defaults["spread_H"])
    gain = best["H"] - defaults["H"]
    if gain > margin:
        why = (
            f"the best setting beats the defaults by {gain:.2f} H on validation, more than the "
            f"spread across partitions and seeds ({margin:.2f})"
        )
        return Recommendation("searched", best, why, margin)
    why = (
        f"the best setting's validation H is {gain:+.2f} against the defaults', not more than "
        f"the spread across partitions and seeds ({margin:.2f}): the defaults are kept"
    )
    return Recommendation("defaults", defaults, why, margin)


def scored(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row's objective, spread, validation Base/New, per-dataset H and settings (JSON)."""
    if row is None:
        return None
    per_dataset = {k[2:]: v for k, v in row.items() if k.startswith("H_")}
    return {"H": row["H"], "spread_H": row["spread_H"], "base": row["base"], "new": row["new"],
            "per_dataset_H": per_dataset, "settings": settings_of(row)}  # fmt: skip


def write_summary(
    run_dir: Path,
    rows: list[dict[str, Any]],
    choice: Recommendation,
    objective: str,
    extra: dict[str, Any],
    storage_url: str,
    study: str,
) -> list[Path]:
    """``search_trials.{csv,md}`` (every finished trial, best first), ``best_settings.json``
    (the ``objective`` in words, the recommendation and why, the best sampled setting beside
    the defaults and the reference without SEPT, and ``extra``: early stopping, the Pareto
    front) and
    ``optuna_study.csv`` (Optuna's own table of the stored study)."""
    import optuna

    header = list(rows[0])
    body = [[fmt(r.get(k)) for k in header] for r in rows]
    files = write_files(Table("search_trials", "Search trials", header, body), run_dir)

    sampled = [r for r in sampled_rows(rows) if r["trial_id"] != DEFAULTS_ROW]
    best_file = run_dir / "best_settings.json"
    summary = {
        "objective": OBJECTIVES[objective],
        "recommended": choice.which,
        "why": choice.why,
        "margin": choice.margin,
        "settings": settings_of(choice.row),
        "best_searched": scored(sampled[0] if sampled else None),
        "defaults": scored(row_of(rows, DEFAULTS_ROW)),
        "without_sept": scored(row_of(rows, REFERENCE_ROW)),
        **extra,
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
