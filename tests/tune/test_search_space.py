"""The search's conditional space, its reference (the trials' own settings) and the fallback
rule that keeps the defaults unless a setting clearly beats them."""

import optuna
import pytest

from sept_ray.config import ConfigError, SeptConfig
from sept_ray.tune.search_choice import DEFAULTS_ROW, recommend
from sept_ray.tune.search_space import SEARCHED, default_settings, sample_settings


def drawn(n_trials=400, bank_size=10):
    """The settings (sampled and constants) of ``n_trials`` random draws of the space."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    out = []
    for _ in range(n_trials):
        trial = study.ask()
        constants = sample_settings(trial, bank_size)
        out.append({**trial.params, **constants})
        study.tell(trial, 0.0)
    return out


def test_the_conditional_space_never_samples_a_dead_parameter():
    for s in drawn():
        assert set(s) <= set(SEARCHED)
        intra, inter = s["sept.use_intra"], s["sept.use_inter"]
        assert intra or inter  # L_se is never zero
        assert ("sept.intra_margin" in s) == intra
        assert ("sept.inter_margin" in s) == inter
        assert ("sept.inter_const_margin" in s) == (inter and not s["sept.inter_margin"])
        margins = (intra and s["sept.intra_margin"]) or (inter and s["sept.inter_margin"])
        assert ("sept.margin_scale" in s) == bool(margins)
        assert 1 <= s["sept.n_neighbors"] <= 10 and 0.01 <= s["sept.lam"] <= 10


def test_every_branch_of_the_space_is_reached():
    settings = drawn()
    assert any(not s["sept.use_intra"] for s in settings)
    assert any(s["sept.use_intra"] and not s["sept.use_inter"] for s in settings)
    assert any("sept.inter_const_margin" in s for s in settings)
    assert any("sept.margin_scale" not in s for s in settings)


def test_the_reference_is_the_trials_own_settings_restricted_to_what_matters():
    assert default_settings(SeptConfig(enabled=True), 10) == {
        "sept.lam": 1.0,
        "sept.n_neighbors": 10,
        "sept.use_intra": True,
        "sept.intra_margin": True,
        "sept.use_inter": True,
        "sept.inter_margin": True,
        "sept.margin_scale": 1.0,
        "sept.neighbour_space": "learned",
    }
    constant = default_settings(SeptConfig(enabled=True, use_intra=False, inter_margin=False), 10)
    assert constant["sept.inter_const_margin"] == 1.0 and "sept.margin_scale" not in constant
    assert "sept.use_inter" not in constant  # implied by L_intra off: not a sampled parameter
    with pytest.raises(ConfigError, match="sept.n_neighbors = 10: outside the searched space"):
        default_settings(SeptConfig(enabled=True), 5)


def row(trial_id, h, spread):
    return {"trial_id": trial_id, "H": h, "spread_H": spread, "sept.lam": 0.5}


def test_the_best_setting_is_recommended_only_beyond_the_spread_across_partitions():
    clear = recommend([row("t2", 90.0, 1.0), row(DEFAULTS_ROW, 87.0, 0.5)])
    assert clear.which == "searched" and clear.row["trial_id"] == "t2" and clear.margin == 1.0
    within = recommend([row("t2", 88.0, 1.5), row(DEFAULTS_ROW, 87.0, 0.5)])
    assert within.which == "defaults" and "not more than the spread" in within.why
    worse = recommend([row(DEFAULTS_ROW, 88.0, 0.5), row("t2", 80.0, 0.5)])
    assert worse.which == "defaults" and worse.row["trial_id"] == DEFAULTS_ROW
    lost = recommend([row("t2", 80.0, 0.5)])
    assert lost.which == "searched" and "did not finish" in lost.why


def test_the_reference_without_sept_is_never_recommended():
    rows = [row("without-sept", 95.0, 0.1), row("t2", 88.0, 0.5), row(DEFAULTS_ROW, 87.0, 0.5)]
    choice = recommend(rows)
    assert choice.which == "searched" and choice.row["trial_id"] == "t2"
