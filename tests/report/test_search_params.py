"""A search trial logs its whole config; the report keeps only what its switches let it draw."""

from sept_ray.report.search_plots import sampled_params
from sept_ray.tune.search_space import optuna_distributions, that_matter


def logged(**changed):
    params = {
        "sept.lam": "0.17", "sept.n_neighbors": "2", "sept.use_intra": "False",
        "sept.intra_margin": "True", "sept.use_inter": "True", "sept.inter_margin": "False",
        "sept.inter_const_margin": "1.876", "sept.margin_scale": "1.0",
        "sept.neighbour_space": "learned", "train.epochs": "12",
    }  # fmt: skip
    return {**params, **changed}


def test_parameters_the_switches_made_not_matter_are_left_out():
    space = optuna_distributions(22)
    drawn = sampled_params(logged(), space)
    assert set(drawn) == {  # L_intra off: L_inter is on by construction, not drawn
        "sept.lam",
        "sept.n_neighbors",
        "sept.use_intra",
        "sept.inter_margin",
        "sept.inter_const_margin",
        "sept.neighbour_space",
    }
    assert drawn["sept.n_neighbors"] == 2 and drawn["sept.use_intra"] is False
    both = sampled_params(logged(**{"sept.use_intra": "True", "sept.inter_margin": "True"}), space)
    assert "sept.margin_scale" in both and "sept.inter_const_margin" not in both
    assert that_matter({k: v for k, v in both.items()} | {"sept.margin_scale": 1.0}, 22) == list(
        both
    )
