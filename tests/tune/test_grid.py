import pytest

from sept_ray.config import ConfigError
from sept_ray.tune.cli import parse_overrides
from sept_ray.tune.grid import b2n_grid, parse_variant
from sweeps.b2n import variants

from conftest import write_tone_dataset


def test_variants():
    assert variants(["zeroshot", "coop"], "both") == ["zeroshot", "coop", "coop+sept"]
    assert variants(["coop"], "on") == ["coop+sept"]
    assert parse_variant("coop+sept") == ("coop", True) and parse_variant("coop") == ("coop", False)


def test_grid_covers_datasets_folds_seeds_variants(tmp_path):
    write_tone_dataset(tmp_path, "One", ["a", "b"], 2, 1)
    write_tone_dataset(tmp_path, "Three", ["a", "b"], 2, 1, folds=3)
    grid = b2n_grid(
        ["One", "Three"],
        ["coop", "coop+sept"],
        [0, 1],
        tmp_path,
        base={"sept": {"lam": 0.5}},
        preset="demo",
    )
    assert len(grid) == (1 + 3) * 2 * 2 and len({t.name for t in grid}) == len(grid)
    first = grid[0].config
    assert first.sept.lam == 0.5 and first.train.epochs == 12 and first.data.root == str(tmp_path)
    assert {t.config.data.fold for t in grid if t.config.data.name == "Three"} == {1, 2, 3}
    assert any(t.config.sept.enabled for t in grid) and grid[1].name == "One-fold1-seed0-coop+sept"
    with pytest.raises(ConfigError, match="dataset 'One' has 1 fold"):
        b2n_grid(["One"], ["coop"], [0], tmp_path, folds=[2])


def test_overrides_parse_yaml_scalars():
    assert parse_overrides(["sept.lam=0.5", "train.epochs=3", "sept.enabled=true"]) == {
        "sept": {"lam": 0.5, "enabled": True},
        "train": {"epochs": 3},
    }
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_overrides(["sept.lam"])
