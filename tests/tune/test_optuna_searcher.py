"""The search's searcher: the reference trial first and outside Optuna's study; trials stopped
before their final report PRUNED; multi-objective values told as a pair."""

from functools import partial

import optuna

from sept_ray.tune.optuna_searcher import SearchWithReference
from sept_ray.tune.search_choice import REFERENCE
from sept_ray.tune.search_space import sample_settings


def searcher(metric="H", mode="max"):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = SearchWithReference(
        space=partial(sample_settings, bank_size=5),
        metric=metric,
        mode=mode,
        seed=0,
        reference=REFERENCE,
    )
    return search


def test_the_reference_comes_first_and_optuna_never_sees_it():
    search = searcher()
    assert search.suggest("t0") == REFERENCE
    sampled = search.suggest("t1")
    assert "sept.lam" in sampled and "sept.enabled" not in sampled
    search.on_trial_result("t0", {"H": 50.0, "training_iteration": 1})
    search.on_trial_complete("t0", {"H": 99.0, "final": 1})
    search.on_trial_complete("t1", {"H": 70.0, "final": 1})
    trials = search._ot_study.trials
    assert len(trials) == 1 and trials[0].value == 70.0


def test_a_trial_stopped_before_its_final_report_is_pruned():
    search = searcher()
    search.suggest("t0")
    for trial_id in ("t1", "t2"):
        search.suggest(trial_id)
    search.on_trial_complete("t1", {"H": 40.0, "final": 0})
    search.on_trial_complete("t2", {"H": 80.0, "final": 1})
    states = [t.state for t in search._ot_study.trials]
    assert states == [optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE]


def test_the_pareto_objective_tells_base_and_new():
    search = searcher(metric=["base", "new"], mode=["max", "max"])
    search.suggest("t0")
    search.suggest("t1")
    search.on_trial_complete("t1", {"base": 90.0, "new": 60.0, "H": 72.0, "final": 1})
    assert search._ot_study.trials[0].values == [90.0, 60.0]
