"""Grids of trial configs: datasets x variants x seeds x folds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sept_ray.config import ConfigError, TrialConfig, deep_merge
from sept_ray.data.manifest import count_folds, dataset_dir

SEPT_SUFFIX = "+sept"


@dataclass(frozen=True)
class GridTrial:
    """One grid point: a unique name and its config."""

    name: str
    config: TrialConfig


def parse_variant(variant: str) -> tuple[str, bool]:
    """``"coop+sept"`` -> ("coop", True); ``"coop"`` -> ("coop", False)."""
    if variant.endswith(SEPT_SUFFIX):
        return variant[: -len(SEPT_SUFFIX)], True
    return variant, False


def trial_name(cfg: TrialConfig) -> str:
    """``<dataset>-fold<k>-seed<s>-<variant>``: unique within a b2n grid."""
    return f"{cfg.data.name}-fold{cfg.data.fold}-seed{cfg.train.seed}-{cfg.variant}"


def b2n_grid(
    datasets: Sequence[str],
    variants: Sequence[str],
    seeds: Sequence[int],
    data_root: str | Path,
    base: dict[str, Any] | None = None,
    preset: str | None = None,
    folds: Sequence[int] | None = None,
) -> list[GridTrial]:
    """Every (dataset, fold, seed, variant); ``folds=None`` takes all folds of each dataset.

    ``base`` holds nested overrides applied to every trial (e.g. ``{"sept": {"lam": 0.5}}``).
    Requested folds a dataset lacks are an error naming the dataset.
    """
    trials = []
    for dataset in datasets:
        available = count_folds(dataset_dir(data_root, dataset))
        chosen = list(folds) if folds else list(range(1, available + 1))
        absent = [k for k in chosen if k > available]
        if absent:
            raise ConfigError(f"folds = {absent}: dataset {dataset!r} has {available} fold(s)")
        for fold in chosen:
            for seed in seeds:
                for variant in variants:
                    method, sept = parse_variant(variant)
                    values = deep_merge(
                        base or {},
                        {
                            "data": {"name": dataset, "root": str(data_root), "fold": fold},
                            "method": {"name": method},
                            "sept": {"enabled": sept},
                            "train": {"seed": seed},
                        },
                    )
                    cfg = TrialConfig.from_dict(values, preset=preset)
                    trials.append(GridTrial(trial_name(cfg), cfg))
    return trials
