"""A sweep's trials made ready for Ray Tune, and checked before Ray starts.

Ray Tune runs each trial in a folder of its own, so nothing relative may reach a trial:
:func:`resolved_trials` makes data, weights and bank paths absolute and points every trial at the
sweep's shared embedding cache; :func:`with_output_dirs` then gives each trial its folder under
the run folder (:func:`place_trials` does both). :func:`check_trials` fails fast on any bad trial.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

from sept_ray.config import ConfigError
from sept_ray.tune.grid import GridTrial


def absolute(path: str) -> str:
    """``path`` made absolute against the driver's working folder (trials run in their own)."""
    return str(Path(path).expanduser().resolve()) if path else path


def absolute_if_local(path: str) -> str:
    """Like :func:`absolute` for a path that exists here; anything else (a hub id, a missing
    file whose check will name it) is left as given."""
    return absolute(path) if path and Path(path).expanduser().exists() else path


def resolved_trials(spec) -> list[GridTrial]:
    """``spec.trials`` (names must be unique) with absolute data, weights and bank paths and the
    cache folder ``<spec.results_dir>/cache`` where a trial names none."""
    names = [t.name for t in spec.trials]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"trial names must be unique; repeated: {duplicates}")
    resolved = []
    for trial in spec.trials:
        cfg = trial.config
        bank = cfg.sept.bank if cfg.sept.bank == "builtin" else absolute_if_local(cfg.sept.bank)
        cfg = replace(
            cfg,
            cache_dir=absolute(cfg.cache_dir or str(spec.results_dir / "cache")),
            data=replace(cfg.data, root=absolute(cfg.data.root)),
            backbone=replace(cfg.backbone, weights=absolute_if_local(cfg.backbone.weights)),
            sept=replace(cfg.sept, bank=bank),
        )
        resolved.append(GridTrial(trial.name, cfg, trial.label))
    return resolved


def with_output_dirs(trials: list[GridTrial], run_dir: Path) -> list[GridTrial]:
    """Each trial with its absolute output folder, ``<run_dir>/trials/<name>`` unless it names one."""
    placed = []
    for trial in trials:
        out = absolute(trial.config.output_dir or str(run_dir / "trials" / trial.name))
        placed.append(GridTrial(trial.name, replace(trial.config, output_dir=out), trial.label))
    return placed


def place_trials(spec, run_dir: Path) -> list[GridTrial]:
    """:func:`resolved_trials` of ``spec`` with their output folders under ``run_dir``."""
    return with_output_dirs(resolved_trials(spec), run_dir)


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
