"""A search sweep's Optuna study rebuilt from its MLflow record, and its two figures: the
optimization history and the parameter importances (Optuna's matplotlib plots; importances by
Optuna's fANOVA evaluator, seeded).

The study is rebuilt from the parent run's ``search_space.json`` (the Optuna distributions) and
each trial run's params (the sampled settings) and final ``H`` (the objective); failed trials
enter as failed. Nothing is read from the sweep's own ``optuna.db``.
"""

from __future__ import annotations

import warnings
from typing import Any

from matplotlib.figure import Figure

from sept_ray.report.record import SweepRecord

SPACE_ARTIFACT = "search_space.json"


def rebuild_study(record: SweepRecord):
    """An in-memory ``optuna.Study`` (maximize H) holding the search's trials (not the reference
    without SEPT); None when the parent run has no search space."""
    import optuna
    from optuna.distributions import json_to_distribution

    space_json = record.artifact_json(record.parent_run_id, SPACE_ARTIFACT)
    if not space_json:
        return None
    space = {key: json_to_distribution(text) for key, text in space_json.items()}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for trial in record.trials:  # in trial-name order: Tune's trial ids count up
        if trial.params.get("sept.enabled") == "False":  # the reference: not Optuna's trial
            continue
        # a conditional space: each trial holds the parameters its switches made matter
        params = sampled_params(trial.params, space)
        if not params:
            continue
        state = optuna.trial.TrialState.COMPLETE if trial.finished else optuna.trial.TrialState.FAIL
        if trial.status == "KILLED":  # stopped early by the search's pruner
            state = optuna.trial.TrialState.PRUNED
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: space[k] for k in params},
                value=trial.metrics["H"] if trial.finished else None,
                state=state,
            )
        )
    return study


def sampled_params(params: dict[str, str], space: dict[str, Any]) -> dict[str, Any]:
    """The searched parameters a search trial's logged ``params`` drew, typed: a trial logs its
    whole config, so a parameter its switches made not matter (never sampled) is left out, as
    :func:`sept_ray.tune.search_space.sample_settings` leaves it; ``space``: {key: Optuna
    distribution} of the search."""
    from sept_ray.tune.search_space import that_matter

    values = {k: parse_param(params[k], d) for k, d in space.items() if k in params}
    if set(values) != set(space):  # not a search of this space's keys: keep what it logged
        return values
    bank_size = space["sept.n_neighbors"].high
    return {k: values[k] for k in that_matter(values, bank_size)}


def parse_param(text: str, distribution) -> Any:
    """A param logged as text back to the distribution's type."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return next(c for c in distribution.choices if str(c) == text)
    if isinstance(distribution, IntDistribution):
        return int(text)
    return float(text)


def search_figures(study) -> list[tuple[str, Figure | None, str]]:
    """(name, figure or None, caption or why there is none) for the history and importances."""
    from optuna.exceptions import ExperimentalWarning
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.visualization import matplotlib as optuna_plots

    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        history = optuna_plots.plot_optimization_history(study)
        out.append(
            (
                "optuna_history",
                history.figure,
                "Objective (mean val H over datasets) of each search trial and the best so far",
            )
        )
        complete = [t for t in study.trials if t.value is not None]
        if len(complete) < 2:
            out.append(("optuna_importances", None, "importances need two finished trials"))
        else:
            try:
                importances = optuna_plots.plot_param_importances(
                    study, evaluator=FanovaImportanceEvaluator(seed=0)
                )
            except (RuntimeError, ValueError) as exc:
                out.append(("optuna_importances", None, f"no importances: {exc}"))
            else:
                caption = "Parameter importances of the objective (Optuna's fANOVA, seed 0)"
                out.append(("optuna_importances", importances.figure, caption))
    return out
