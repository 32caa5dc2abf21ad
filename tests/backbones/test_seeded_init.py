"""The one seeded initialiser: rules in order, fixed parameters kept, draws reproducible in
either precision, and a parameter no rule covers is an error naming it."""

import numpy as np
import pytest
import torch
from torch import nn

from sept_ray.backbones.seeded_init import dense, embedding, norm, seeded_uniform

RULES = [
    (nn.Embedding, embedding),
    (nn.Linear, dense(lambda m: m.in_features)),
    (nn.LayerNorm, norm),
]


def tower():
    return nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 3), nn.LayerNorm(3))


def test_draws_follow_module_order_and_the_rules_bounds():
    model = tower()
    seeded_uniform(model, 7, RULES)
    rng = np.random.default_rng(7)
    first = (-0.02 * 3**0.5 + 0.04 * 3**0.5 * rng.random((5, 4))).astype(np.float32)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), first)
    assert model[1].weight.abs().max() <= (3 / 4) ** 0.5 and model[1].bias.abs().max() <= 0.1
    assert model[2].weight.min() >= 0.8 and model[2].weight.max() <= 1.2


def test_precision_changes_the_numbers_and_each_is_reproducible():
    a, b, c = tower(), tower(), tower()
    seeded_uniform(a, 3, RULES)
    seeded_uniform(b, 3, RULES)
    seeded_uniform(c, 3, RULES, float32_draws=True)
    assert torch.equal(a[1].weight, b[1].weight) and not torch.equal(a[1].weight, c[1].weight)


def test_fixed_parameters_keep_their_values_and_uncovered_ones_are_named():
    model = tower()
    kept = model[2].weight.detach().clone()
    seeded_uniform(model, 1, RULES[:2], fixed={id(model[2].weight), id(model[2].bias)})
    assert torch.equal(model[2].weight, kept)
    model.extra = nn.Parameter(torch.zeros(2))
    with pytest.raises(TypeError, match=r"mine: no rule for parameters \['extra'\]"):
        seeded_uniform(model, 1, RULES, name="mine")
