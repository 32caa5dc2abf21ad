import json

import yaml

from sept_ray.cli import main


def test_list_commands(capsys):
    assert main(["list", "methods"]) == 0
    assert {"coop", "zeroshot"} <= set(capsys.readouterr().out.split())
    assert main(["list", "datasets"]) == 0
    listed = capsys.readouterr().out.split("\n")
    assert "SynthHome" in listed and "UrbanSound8K" in listed


def test_trial_command_runs_a_yaml_config(tmp_path, tone_root, small_weights, capsys):
    config = {
        "data": {"name": "Tones", "root": str(tone_root), "shots": 2},
        "backbone": {"weights": str(small_weights)},
        "method": {"n_ctx": 2},
        "train": {"epochs": 1, "batch_size": 4},
        "output_dir": str(tmp_path / "out"),
        "cache_dir": str(tmp_path / "cache"),
    }
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["trial", str(path), "--set", "train.seed=3"]) == 0
    out = capsys.readouterr().out
    assert "epoch   1" in out and "artifacts:" in out
    saved = yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())
    assert saved["train"]["seed"] == 3
    assert "H" in json.loads((tmp_path / "out" / "metrics.json").read_text())["final"]


def test_errors_are_reported_not_raised(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("sept:\n  lamda: 1\n")
    assert main(["trial", str(path)]) == 2
    assert "sept.lamda: unknown key" in capsys.readouterr().err


def test_data_synth_writes_a_dataset(tmp_path, capsys, monkeypatch):
    from dataclasses import replace

    from sept_ray.data.synth import world

    tiny = replace(
        world.BUILTIN_DATASETS["SynthNature"],
        classes=("rain", "wind"),
        clips_per_class=4,
        test_per_class=2,
    )
    monkeypatch.setitem(world.BUILTIN_DATASETS, "SynthNature", tiny)
    assert main(["data", "synth", "--out", str(tmp_path), "--datasets", "SynthNature"]) == 0
    assert (tmp_path / "SynthNature" / "train.csv").read_text().count("\n") == 5
    stamp = (tmp_path / "SynthNature" / "synth.json").stat().st_mtime_ns
    assert main(["data", "synth", "--out", str(tmp_path), "--datasets", "SynthNature"]) == 0
    assert (tmp_path / "SynthNature" / "synth.json").stat().st_mtime_ns == stamp  # kept: current
