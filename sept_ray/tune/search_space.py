"""The searched space of SEPT's settings: Optuna distributions, the conditional define-by-run
sampler (:func:`sample_settings`: no parameter is drawn where the switches make it not matter)
and the trials' own settings as a point of it (:func:`default_settings`, the search's first)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from sept_ray.config import NEIGHBOUR_SPACES, ConfigError, SeptConfig

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


def that_matter(values: dict[str, Any], bank_size: int) -> list[str]:
    """The searched keys that matter under the switches of ``values`` (every searched key):
    the ones :func:`sample_settings` asks for, given these values (an Optuna FixedTrial)."""
    import optuna

    fixed = optuna.trial.FixedTrial(values)
    with warnings.catch_warnings():  # a value out of range is the caller's to refuse
        warnings.simplefilter("ignore", UserWarning)
        sample_settings(fixed, bank_size)
    return [key for key in SEARCHED if key in fixed.params]


def default_settings(sept: SeptConfig, bank_size: int) -> dict[str, Any]:
    """The trials' own SEPT settings (SEPT's defaults, or what ``--set`` made them) as the
    searched parameters that matter under their switches (:func:`that_matter`): the search's
    first sample, its reference. A value outside the searched range is a ConfigError naming
    it."""
    values = {key: getattr(sept, key.removeprefix("sept.")) for key in SEARCHED}
    if not (values["sept.use_intra"] or values["sept.use_inter"]):
        raise ConfigError("the search's reference has both SE terms off: nothing to compare to")
    keys = that_matter(values, bank_size)
    space = optuna_distributions(bank_size)
    for key in keys:
        if not within(space[key], values[key]):
            raise ConfigError(f"{key} = {values[key]!r}: outside the searched space {space[key]}")
    return {key: values[key] for key in keys}


def write_space(run_dir: Path, bank_size: int) -> Path:
    """``search_space.json``: {dotted key: Optuna distribution JSON} of the searched space."""
    from optuna.distributions import distribution_to_json

    path = run_dir / "search_space.json"
    space = {k: distribution_to_json(d) for k, d in optuna_distributions(bank_size).items()}
    path.write_text(json.dumps(space, indent=1))
    return path
