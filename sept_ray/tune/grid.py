"""Grids of trial configs: datasets x folds x seeds x variants (b2n), or x ablation rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sept_ray.config import ConfigError, TrialConfig, deep_merge
from sept_ray.data.manifest import count_folds, dataset_dir
from sept_ray.sept.ablation import ABLATION_ROWS

SEPT_SUFFIX = "+sept"


@dataclass(frozen=True)
class GridTrial:
    """One grid point: a unique name, its config, and the label its table row goes under
    (the method variant, e.g. ``coop+sept``, unless the study names rows otherwise)."""

    name: str
    config: TrialConfig
    label: str = ""

    @property
    def row(self) -> str:
        return self.label or self.config.variant


def parse_variant(variant: str) -> tuple[str, bool]:
    """``"coop+sept"`` -> ("coop", True); ``"coop"`` -> ("coop", False)."""
    if variant.endswith(SEPT_SUFFIX):
        return variant[: -len(SEPT_SUFFIX)], True
    return variant, False


def trial_name(cfg: TrialConfig, label: str = "") -> str:
    """``<dataset>-fold<k>-seed<s>-<label or variant>``: unique within a grid."""
    return f"{cfg.data.name}-fold{cfg.data.fold}-seed{cfg.train.seed}-{label or cfg.variant}"


def dataset_points(
    datasets: Sequence[str], data_root: str | Path, folds: Sequence[int] | None
) -> list[tuple[str, int]]:
    """(dataset, fold) pairs; ``folds=None`` takes all folds of each dataset. Requested folds a
    dataset lacks are an error naming the dataset."""
    points = []
    for dataset in datasets:
        available = count_folds(dataset_dir(data_root, dataset))
        chosen = list(folds) if folds else list(range(1, available + 1))
        absent = [k for k in chosen if k > available]
        if absent:
            raise ConfigError(f"folds = {absent}: dataset {dataset!r} has {available} fold(s)")
        points += [(dataset, fold) for fold in chosen]
    return points


def labelled_grid(
    rows: Sequence[tuple[str, dict[str, Any]]],
    datasets: Sequence[str],
    seeds: Sequence[int],
    data_root: str | Path,
    base: dict[str, Any] | None = None,
    preset: str | None = None,
    folds: Sequence[int] | None = None,
) -> list[GridTrial]:
    """Every (dataset, fold, seed, row); ``rows`` = (label, nested overrides) in table order.

    ``base`` holds nested overrides applied to every trial (e.g. ``{"sept": {"lam": 0.5}}``);
    a row's overrides win over ``base``.
    """
    trials = []
    for dataset, fold in dataset_points(datasets, data_root, folds):
        for seed in seeds:
            for label, overrides in rows:
                point = {
                    "data": {"name": dataset, "root": str(data_root), "fold": fold},
                    "train": {"seed": seed},
                }
                values = deep_merge(deep_merge(base or {}, overrides), point)
                cfg = TrialConfig.from_dict(values, preset=preset)
                trials.append(GridTrial(trial_name(cfg, label), cfg, label))
    return trials


def b2n_grid(
    datasets: Sequence[str],
    variants: Sequence[str],
    seeds: Sequence[int],
    data_root: str | Path,
    base: dict[str, Any] | None = None,
    preset: str | None = None,
    folds: Sequence[int] | None = None,
) -> list[GridTrial]:
    """Every (dataset, fold, seed, variant); a variant is a method name, ``+sept`` for SEPT."""
    rows = []
    for variant in variants:
        method, sept = parse_variant(variant)
        rows.append((variant, {"method": {"name": method}, "sept": {"enabled": sept}}))
    return labelled_grid(rows, datasets, seeds, data_root, base, preset, folds)


def ablation_grid(
    datasets: Sequence[str],
    seeds: Sequence[int],
    data_root: str | Path,
    base: dict[str, Any] | None = None,
    preset: str | None = None,
    folds: Sequence[int] | None = None,
    method: str = "coop",
) -> list[GridTrial]:
    """The seven ablation rows of ``method`` + SEPT on every (dataset, fold, seed)."""
    rows = [(row.label, {"method": {"name": method}, "sept": row.sept()}) for row in ABLATION_ROWS]
    return labelled_grid(rows, datasets, seeds, data_root, base, preset, folds)
