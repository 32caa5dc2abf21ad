"""A trial's point survives Tune's config round trip (a plain mapping) and reads back typed."""

import json

from sept_ray.tune.point import POINT, TrialPoint, point_of, sampled_settings


def test_a_point_goes_through_json_and_back():
    point = TrialPoint("t", "coop", {"train": {"epochs": 3}, "output_dir": "/o"}, 2, ("plug",))
    config = json.loads(json.dumps({POINT: point.to_config(), "sept.lam": 0.3}))
    assert point_of(config) == point and point_of(config).epochs == 3
    assert sampled_settings(config) == {"sept.lam": 0.3}


def test_a_search_samples_steps_count_over_its_trainings():
    trial = {"train": {"epochs": 12}, "output_dir": "/o"}
    grid = TrialPoint("t", "coop", trial)
    sample = TrialPoint("s", "search", trial, sampled=True, datasets=("A", "B"), partitions=3)
    seeded = TrialPoint("s", "search", trial, sampled=True, datasets=("A",), seeds=(0, 1))
    config = json.loads(json.dumps({POINT: seeded.to_config()}))
    assert point_of(config).seeds == (0, 1)
    assert (grid.steps, sample.steps, seeded.steps) == (12, 2 * 3 * 13, 2 * 13)
