import pytest

from sept_ray.config import ConfigError
from sept_ray.tune.cli import parse_overrides
from sept_ray.tune.grid import b2n_grid, parse_variant, variant_overrides, variants

from conftest import write_tone_dataset


def test_variants():
    assert variants(["zeroshot", "coop"], "both") == ["zeroshot", "coop", "coop+sept"]
    assert variants(["coop"], "on") == ["coop+sept"]
    assert parse_variant("coop+sept") == ("coop", True) and parse_variant("coop") == ("coop", False)
    assert variants(["zeroshot", "coop"], "on", ["learned", "frozen"]) == [
        "zeroshot",
        "coop+sept",
        "coop+sept-frozen",
    ]
    assert parse_variant("coop+sept-frozen") == ("coop", True)
    assert variant_overrides("coop+sept-frozen") == {
        "method": {"name": "coop"},
        "sept": {"enabled": True, "neighbour_space": "frozen"},
    }
    assert variant_overrides("coop+sept") == {"method": {"name": "coop"}, "sept": {"enabled": True}}
    with pytest.raises(ConfigError, match="variant 'coop\\+sept-odd': unknown SEPT reading"):
        variant_overrides("coop+sept-odd")


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


def test_place_trials_makes_paths_absolute(tmp_path, monkeypatch):
    """Ray Tune runs each trial in its own folder: relative paths must not reach a trial."""
    from sept_ray.tune.placement import place_trials
    from sept_ray.tune.sweep import SweepSpec

    write_tone_dataset(tmp_path, "One", ["a", "b"], 2, 1)
    (tmp_path / "bank.json").write_text("{}")
    (tmp_path / "w.safetensors").write_text("")
    monkeypatch.chdir(tmp_path)
    base = {"sept": {"bank": "bank.json"}, "backbone": {"weights": "w.safetensors"}}
    grid = b2n_grid(["One"], ["coop+sept"], [0], ".", base=base)
    (placed,) = place_trials(SweepSpec("x", grid, tmp_path / "res"), tmp_path / "res" / "run")
    cfg = placed.config
    assert cfg.sept.bank == str(tmp_path / "bank.json")
    assert cfg.backbone.weights == str(tmp_path / "w.safetensors")
    assert cfg.data.root == str(tmp_path)
    assert cfg.output_dir == str(tmp_path / "res" / "run" / "trials" / placed.name)
    assert cfg.cache_dir == str(tmp_path / "res" / "cache")
    hub = b2n_grid(["One"], ["coop"], [0], ".", base={"backbone": {"weights": "org/model"}})
    assert (
        place_trials(SweepSpec("x", hub, tmp_path), tmp_path)[0].config.backbone.weights
        == "org/model"
    )


def test_ablation_grid_has_the_papers_seven_rows(tmp_path):
    from sept_ray.sept.ablation import ABLATION_ROWS
    from sept_ray.tune.grid import ablation_grid

    write_tone_dataset(tmp_path, "One", ["a", "b"], 2, 1)
    grid = ablation_grid(["One"], [0], tmp_path)
    assert [t.row for t in grid] == [f"row{k}" for k in range(1, 8)]
    switches = [
        (
            t.config.sept.enabled,
            t.config.sept.use_intra,
            t.config.sept.intra_margin,
            t.config.sept.use_inter,
            t.config.sept.inter_margin,
        )
        for t in grid
    ]
    assert switches[0] == (False, False, False, False, False)  # row 1: plain CoOp
    assert switches[6] == (True, True, True, True, True)  # row 7: full SEPT
    assert switches[3] == (True, False, False, True, False)  # row 4: L_inter, constant margin
    assert len(ABLATION_ROWS) == 7 and grid[1].name == "One-fold1-seed0-row2"


def test_place_trials_keeps_labels(tmp_path):
    from sept_ray.tune.grid import ablation_grid
    from sept_ray.tune.placement import place_trials
    from sept_ray.tune.sweep import SweepSpec

    write_tone_dataset(tmp_path, "One", ["a", "b"], 2, 1)
    grid = ablation_grid(["One"], [0], tmp_path)
    placed = place_trials(SweepSpec("x", grid, tmp_path / "res"), tmp_path / "res" / "run")
    assert [t.row for t in placed] == [t.row for t in grid]


def test_all_methods_in_the_papers_order():
    from sept_ray.methods import METHODS
    from sept_ray.tune.grid import all_methods

    assert all_methods()[:5] == ["zeroshot", "coop", "cocoop", "kgcoop", "dept"]
    assert sorted(all_methods()) == METHODS.names()  # a newly registered method included
    assert variants(["all"], "both")[:3] == ["zeroshot", "coop", "coop+sept"]
    trainable = [m for m in METHODS.names() if METHODS.get(m).trainable]
    assert len(variants(["all"], "both")) == len(METHODS.names()) + len(trainable)


def test_xd_grid_and_its_cache_jobs(tmp_path):
    from sept_ray.tune.cache_fill import cache_jobs
    from sept_ray.tune.grid import parse_pair, xd_grid

    write_tone_dataset(tmp_path, "Tones", ["a", "b"], 2, 1)
    write_tone_dataset(tmp_path, "Other", ["c", "d"], 2, 1)
    grid = xd_grid([parse_pair("Tones:Other")], ["coop", "coop+sept"], [0, 1], tmp_path)
    assert [t.name for t in grid][:2] == [
        "Tones-to-Other-fold1-seed0-coop",
        "Tones-to-Other-fold1-seed0-coop+sept",
    ]
    assert {t.config.protocol.target for t in grid} == {"Other"}
    configs = [t.config for t in grid]
    configs = [c.__class__.from_dict({**c.to_dict(), "cache_dir": "/c"}) for c in configs]
    jobs = cache_jobs(configs)  # one entry per dataset, however many trials read it
    assert [(j.folder.rsplit("/", 1)[-1], j.views) for j in jobs] == [("Tones", 0), ("Other", 0)]
    with pytest.raises(ConfigError, match="SOURCE:TARGET"):
        parse_pair("Tones")
    with pytest.raises(ValueError, match="Missing: dataset folder not found"):
        xd_grid([("Tones", "Missing")], ["coop"], [0], tmp_path)


def test_a_plain_sept_variant_takes_the_sweeps_neighbour_space(tmp_path):
    write_tone_dataset(tmp_path, "Tones", ["a", "b"], 2, 1)
    names = ["coop+sept", "coop+sept-frozen"]
    trials = b2n_grid(["Tones"], names, [0], tmp_path)
    assert [t.config.sept.neighbour_space for t in trials] == ["learned", "frozen"]
    frozen = {"sept": {"neighbour_space": "frozen"}}
    trials = b2n_grid(["Tones"], names, [0], tmp_path, base=frozen)
    assert [t.config.sept.neighbour_space for t in trials] == ["frozen", "frozen"]
    assert [t.row for t in trials] == names
