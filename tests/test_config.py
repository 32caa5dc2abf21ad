import pytest

from sept_ray.config import ConfigError, TrialConfig, flatten, unflatten


def test_defaults_follow_the_spec():
    cfg = TrialConfig()
    assert (cfg.train.lr, cfg.train.momentum, cfg.train.epochs, cfg.train.batch_size) == (
        0.0125,
        0.9,
        50,
        16,
    )
    assert (cfg.method.n_ctx, cfg.method.ctx_init_std) == (16, 0.02)
    assert (cfg.sept.n_neighbors, cfg.sept.lam, cfg.sept.inter_const_margin) == (10, 1.0, 1.0)
    assert len(cfg.sept.templates) == 6 and cfg.data.shots == 16


def test_round_trip_through_dict_and_yaml(tmp_path):
    cfg = TrialConfig.from_dict({"sept": {"enabled": True, "lam": 0.5}, "train": {"seed": 0}})
    assert TrialConfig.from_dict(cfg.to_dict()) == cfg
    path = tmp_path / "trial.yaml"
    path.write_text("sept:\n  enabled: true\n  lam: 0.5\ntrain:\n  seed: 0\n")
    assert TrialConfig.from_yaml(path) == cfg
    assert cfg.variant == "coop+sept"


def test_presets_apply_under_explicit_values():
    paper = TrialConfig.from_dict({}, preset="paper")
    assert (paper.train.epochs, paper.train.report_epoch) == (50, "min_train_loss")
    assert (paper.data.train_crop, paper.data.crop_views) == ("random", 8)
    demo = TrialConfig.from_dict({}, preset="demo")
    assert (demo.train.epochs, demo.train.report_epoch, demo.data.train_crop) == (
        12,
        "last",
        "center",
    )
    demo = TrialConfig.from_dict({"train": {"epochs": 3}}, preset="demo")
    assert demo.train.epochs == 3
    with pytest.raises(ConfigError, match="preset = 'fast'"):
        TrialConfig.from_dict({}, preset="fast")


def test_a_methods_own_learning_rate_applies_unless_train_lr_is_set():
    assert TrialConfig.from_dict({"method": {"name": "palm"}}).train.lr == 0.05
    assert TrialConfig.from_dict({"method": {"name": "palm"}}, preset="paper").train.lr == 0.05
    assert TrialConfig.from_dict({"method": {"name": "coop"}}).train.lr == 0.0125
    chosen = {"method": {"name": "palm"}, "train": {"lr": 0.0125}}
    assert TrialConfig.from_dict(chosen).train.lr == 0.0125  # set by the user, even to 0.0125
    palm = TrialConfig.from_dict({"method": {"name": "palm"}, "train": {"seed": 1}})
    assert TrialConfig.from_dict(palm.to_dict()) == palm  # the resolved value round-trips
    # an unregistered method keeps the global default; the trial names it in its error later
    assert TrialConfig.from_dict({"method": {"name": "nope"}}).train.lr == 0.0125


@pytest.mark.parametrize(
    "values, message",
    [
        ({"sept": {"lamda": 1.0}}, r"sept\.lamda: unknown key"),
        ({"optim": {}}, r"optim: unknown key"),
        ({"sept": {"lam": -0.1}}, r"sept\.lam = -0\.1"),
        ({"sept": {"n_neighbors": 0}}, r"sept\.n_neighbors = 0"),
        ({"train": {"epochs": "ten"}}, r"train\.epochs = 'ten': expected an integer"),
        ({"train": {"lr": True}}, r"train\.lr = True: expected a number"),
        ({"train": {"lr": "fast"}}, r"train\.lr = 'fast': expected a number"),
        ({"sept": {"enabled": "yes"}}, r"sept\.enabled = 'yes': expected true or false"),
        ({"data": {"fold": 0}}, r"data\.fold = 0"),
        ({"data": {"shots": 0}}, r"data\.shots = 0"),
        ({"data": {"train_crop": "left"}}, r"data\.train_crop = 'left'"),
        ({"sept": {"templates": ["no slot"]}}, r"sept\.templates = 'no slot'"),
        ({"backbone": {"device": "tpu"}}, r"backbone\.device = 'tpu'"),
        ({"train": {"report_epoch": "best"}}, r"train\.report_epoch = 'best'"),
        ({"train": {"diagnostics_every": -1}}, r"train\.diagnostics_every = -1"),
        ({"sept": {"neighbour_space": "pretrained"}}, r"sept\.neighbour_space = 'pretrained'"),
        ({"train": 5}, r"train = 5: expected a mapping"),
    ],
)
def test_bad_values_name_key_and_value(values, message):
    with pytest.raises(ConfigError, match=message):
        TrialConfig.from_dict(values)


def test_yaml_top_level_must_be_mapping(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        TrialConfig.from_yaml(path)


def test_invalid_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  epochs: 1\n  lr: !!python/name:os.system\n")
    with pytest.raises(
        ConfigError, match=r"bad\.yaml: invalid YAML at line 3, column 7: .*os\.system"
    ):
        TrialConfig.from_yaml(path)


def test_flatten_and_unflatten_are_inverse():
    nested = TrialConfig().to_dict()
    flat = flatten(nested)
    assert flat["sept.lam"] == 1.0 and flat["data.name"] == "SynthInstruments"
    assert unflatten(flat) == nested


def test_exponent_without_dot_reads_as_a_number():
    """PyYAML reads 1e-3 as a string; a float setting accepts it."""
    assert TrialConfig.from_dict({"train": {"lr": "1e-3"}}).train.lr == 0.001
