import json

import pytest
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


def touch_command(marker) -> str:
    """A YAML value that, were it loaded by an unsafe loader, would run ``touch marker``."""
    return f'!!python/object/apply:os.system ["touch {marker}"]'


def test_the_touch_payload_is_live(tmp_path):
    """Control for the tests below: an unsafe loader does run the payload."""
    marker = tmp_path / "MARKER"
    yaml.unsafe_load(f"hook: {touch_command(marker)}")
    assert marker.exists()


def one_error_line(err: str) -> str:
    """The single line a failed command printed to stderr (no traceback, nothing else)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "train:\n  epochs: 1\nhook: {touch}\n",
            "at line 3, column 7: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
        (
            "train: [1\nsept: 2\n",
            "at line 2, column 5: expected ',' or ']', but got ':' (while parsing a flow sequence)",
        ),
    ],
    ids=["python-tag", "malformed"],
)
def test_a_yaml_config_that_is_not_plain_yaml_is_refused_naming_the_file(
    tmp_path, capsys, text, problem
):
    """`sept trial` exits 2 with one line naming the file, the line and the YAML problem; a
    python tag is refused, not run (the marker its command would touch does not appear)."""
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.yaml"
    path.write_text(text.format(touch=touch_command(marker)))
    assert main(["trial", str(path)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line == f"sept: error: {path}: invalid YAML {problem}"
    assert not marker.exists()


def test_a_set_override_that_is_not_plain_yaml_is_refused_naming_it(tmp_path, capsys):
    marker = tmp_path / "MARKER"
    path = tmp_path / "trial.yaml"
    path.write_text("train:\n  epochs: 1\n")
    item = f"sept.lam={touch_command(marker)}"
    assert main(["trial", str(path), "--set", item]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"sept: error: --set {item!r}: invalid YAML at line 1, column 1: ")
    assert "python/object/apply:os.system" in line
    assert not marker.exists()


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
