"""Grids of trial configs: datasets x folds x seeds x variants (b2n), or x ablation rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sept_ray.config import ConfigError, TrialConfig, deep_merge
from sept_ray.data.manifest import count_folds, dataset_dir
from sept_ray.protocols import protocol_of
from sept_ray.sept.ablation import ABLATION_ROWS

SEPT_SUFFIX = "+sept"
SPACE_SUFFIXES = {"learned": "", "frozen": "-frozen"}
"""``sept.neighbour_space`` -> what a variant's name adds after ``+sept`` (``coop+sept-frozen``)."""


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


PAPER_ORDER = ("zeroshot", "coop", "cocoop", "kgcoop", "dept", "palm")


def all_methods() -> list[str]:
    """Every registered method: the paper's order first, then any other, sorted."""
    from sept_ray.methods import METHODS

    names = METHODS.names()
    return [m for m in PAPER_ORDER if m in names] + [m for m in names if m not in PAPER_ORDER]


def variants(methods: Sequence[str], sept: str, spaces: Sequence[str] = ("learned",)) -> list[str]:
    """Method names -> table variants, e.g. coop -> coop, coop+sept (``all``: every method;
    ``sept``: both, on or off; a method with nothing to train never gets SEPT); one SEPT variant
    per neighbour reading in ``spaces`` (``frozen``: ``coop+sept-frozen``)."""
    from sept_ray.methods import METHODS

    if list(methods) == ["all"]:
        methods = all_methods()
    out = []
    for method in methods:
        if not METHODS.get(method).trainable:
            out.append(method)
            continue
        if sept in ("both", "off"):
            out.append(method)
        if sept in ("both", "on"):
            out += [f"{method}{SEPT_SUFFIX}{SPACE_SUFFIXES[space]}" for space in spaces]
    return out


def parse_variant(variant: str) -> tuple[str, bool]:
    """``"coop+sept"`` (or ``"coop+sept-frozen"``) -> ("coop", True); ``"coop"`` -> ("coop",
    False)."""
    method, sep, _ = variant.partition(SEPT_SUFFIX)
    return method, bool(sep)


def variant_overrides(variant: str) -> dict[str, Any]:
    """The nested overrides of a variant: its method, SEPT on or off, and for a ``-frozen``
    variant ``sept.neighbour_space = frozen`` (a plain ``+sept`` variant leaves the reading to the
    sweep's ``--set``)."""
    method, sept = parse_variant(variant)
    overrides: dict[str, Any] = {"method": {"name": method}, "sept": {"enabled": sept}}
    suffix = variant.partition(SEPT_SUFFIX)[2]
    spaces = {v: k for k, v in SPACE_SUFFIXES.items()}
    if suffix not in spaces:
        raise ConfigError(f"variant {variant!r}: unknown SEPT reading {suffix!r}")
    if suffix:
        overrides["sept"]["neighbour_space"] = spaces[suffix]
    return overrides


def table_dataset(cfg: TrialConfig) -> str:
    """The table's dataset cell: the dataset, or ``<source>-><target>`` for an xd trial."""
    return protocol_of(cfg).table_cell(cfg.data.name, cfg.protocol.target)


def trial_name(cfg: TrialConfig, label: str = "") -> str:
    """``<dataset>-fold<k>-seed<s>-<label or variant>`` (xd: ``<source>-to-<target>-...``):
    unique within a grid."""
    dataset = table_dataset(cfg).replace("->", "-to-")
    return f"{dataset}-fold{cfg.data.fold}-seed{cfg.train.seed}-{label or cfg.variant}"


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
    rows = [(variant, variant_overrides(variant)) for variant in variants]
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


def parse_pair(text: str) -> tuple[str, str]:
    """``"SOURCE:TARGET"`` -> (source, target), two different dataset names."""
    source, sep, target = text.partition(":")
    if not sep or not source or not target or source == target:
        raise ConfigError(f"pair {text!r}: expected SOURCE:TARGET with two different datasets")
    return source, target


def xd_grid(
    pairs: Sequence[tuple[str, str]],
    variants: Sequence[str],
    seeds: Sequence[int],
    data_root: str | Path,
    base: dict[str, Any] | None = None,
    preset: str | None = None,
    folds: Sequence[int] | None = None,
) -> list[GridTrial]:
    """Every (source fold, seed, variant) of each (source, target) pair, on the xd protocol."""
    trials = []
    for source, target in pairs:
        dataset_dir(data_root, target)  # a missing target is named before any trial runs
        pair_base = deep_merge(base or {}, {"protocol": {"name": "xd", "target": target}})
        trials += b2n_grid([source], variants, seeds, data_root, pair_base, preset, folds)
    return trials
