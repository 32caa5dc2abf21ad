"""Each bad input stops a sweep at its start with an error naming the culprit, before Ray's work,
any embedding, any MLflow record or any run folder: nothing is left behind."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow_server import free_port

from sept_ray.config import ConfigError
from sept_ray.sept.bank import BankError
from sweeps import b2n

from conftest import write_bank, write_tone_dataset

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["alpha", "beta", "delta", "gamma"]


def rewrite_csv(path: Path, keep_row, columns=("path", "classname")) -> None:
    """Rewrite a fold CSV keeping the rows ``keep_row`` accepts and only ``columns``."""
    rows = list(csv.DictReader(path.open()))
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([[row[c] for c in columns] for row in rows if keep_row(row)])


def no_column(folder: Path) -> None:
    rewrite_csv(folder / "train.csv", lambda row: True, columns=("path",))


def missing_file(folder: Path) -> None:
    with (folder / "train.csv").open("a", newline="") as handle:
        csv.writer(handle).writerow(["audios/alpha/999.wav", "alpha"])


def class_without_clips(folder: Path) -> None:
    rewrite_csv(folder / "train.csv", lambda row: row["classname"] != "gamma")


@pytest.fixture
def world(tmp_path, small_weights):
    folder = write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 2, 1)
    write_bank(tmp_path / "bank.json", ["Tones"], CLASSES, per_class=3)
    argv = [
        "--data-root", str(tmp_path / "data"), "--datasets", "Tones",
        "--results", str(tmp_path / "results"), "--experiment", "bad",
        "--methods", "coop", "--seeds", "0", "--num-cpus", "1",
        "--weights", str(small_weights),
        "--set", "data.shots=2", "train.epochs=1", "backbone.device=cpu",
        f"sept.bank={tmp_path / 'bank.json'}", "sept.n_neighbors=2",
    ]  # fmt: skip
    return folder, argv, tmp_path / "results"


def assert_nothing_left(results: Path) -> None:
    """No embedding, no MLflow store, no run folder."""
    left = (
        sorted(p.relative_to(results).as_posix() for p in results.rglob("*"))
        if results.exists()
        else []
    )
    assert not [p for p in left if p.startswith(("cache", "bad", "mlflow"))], left


DATA_FAULTS = [
    (no_column, ConfigError, r"Tones/train.csv.*classname"),
    (missing_file, ConfigError, r"audios/alpha/999.wav"),
    (class_without_clips, ConfigError, r"Tones/train.csv: class\(es\) with no clips: gamma"),
]


@pytest.mark.parametrize(
    ("spoil", "error", "pattern"), DATA_FAULTS, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_bad_dataset_is_named_and_leaves_nothing(world, spoil, error, pattern):
    folder, argv, results = world
    spoil(folder)
    with pytest.raises(error, match=pattern):
        b2n.main(argv)
    assert_nothing_left(results)


SETTING_FAULTS = [
    (["--methods", "nosuch"], KeyError, r"unknown method 'nosuch'"),
    (["--set", "sept.lam=-1"], ConfigError, r"sept.lam = -1"),
    (["--set", "sept.n_neighbors=0"], ConfigError, r"sept.n_neighbors = 0"),
    (["--set", "sept.n_neighbors=5"], BankError, r"needs 5 phrases per class; 'alpha' has 3"),
    (
        ["--set", "data.shots=4", "data.short_classes=error"],
        ConfigError,
        r"data.shots = 4: Tones fold 1 has classes with fewer training clips \('alpha' has 2",
    ),
    (["--set", "data.short_classes=maybe"], ConfigError, r"data.short_classes = 'maybe'"),
    (
        ["--set", "sept.lam=[0.5"],
        ConfigError,
        r"--set 'sept.lam=\[0.5': invalid YAML at line 1, column 5: expected ',' or '\]'",
    ),
    (
        ["--mlflow-uri", "http://u:s3cret@127.0.0.1:5000"],
        ConfigError,
        r"--mlflow-uri http://127.0.0.1:5000: holds a password.*MLFLOW_TRACKING_PASSWORD",
    ),
]


@pytest.mark.parametrize(("extra", "error", "pattern"), SETTING_FAULTS, ids=lambda v: str(v)[:40])
def test_a_bad_setting_is_named_and_leaves_nothing(world, extra, error, pattern):
    _, argv, results = world
    with pytest.raises(error, match=pattern) as caught:
        b2n.main([*argv, *extra])
    assert "s3cret" not in str(caught.value)
    assert_nothing_left(results)


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("tones", r"data/tones: dataset folder not found; did you mean 'Tones'\?"),
        ("Synthhome", r"data/Synthhome: dataset folder not found; did you mean 'SynthHome'\?"),
        (
            "ESC50",
            r"ESC50: dataset folder not found; get it with 'sept data download ESC50 --root ",
        ),
    ],
)
def test_a_missing_dataset_says_what_was_meant_or_how_to_get_it(world, name, pattern):
    _, argv, results = world
    with pytest.raises(ValueError, match=pattern):
        b2n.main([*argv, "--datasets", name])
    assert_nothing_left(results)


def test_an_unreachable_mlflow_server_fails_before_any_work(world):
    _, argv, results = world
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match=f"--mlflow-uri {uri}: no MLflow server answers"):
        b2n.main([*argv, "--mlflow-uri", uri])
    assert_nothing_left(results)  # the check came before the embedding cache was filled


def script_error(argv: list[str]) -> str:
    """Run ``sweeps/b2n.py argv``; it must exit 2 with no traceback: its last stderr line."""
    done = subprocess.run(
        [sys.executable, "sweeps/b2n.py", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return [line for line in done.stderr.splitlines() if line.strip()][-1]


def test_the_script_prints_one_line_naming_the_culprit(world):
    _, argv, results = world
    uri = f"http://127.0.0.1:{free_port()}"
    line = script_error([*argv, "--mlflow-uri", uri])
    assert line.startswith(f"b2n: error: --mlflow-uri {uri}: no MLflow server answers")
    assert_nothing_left(results)


def test_a_clip_that_fails_in_the_cache_fill_is_one_line_too(capsys):
    from sept_ray.studies.script import script_main
    from sept_ray.tune.cache_fill import CacheFillError

    def bad_audio() -> int:
        raise CacheFillError("embedding cache: Tones on tiny-alm: AudioError('x.wav: no samples')")

    with pytest.raises(SystemExit) as ended:
        script_main("b2n", bad_audio)
    assert ended.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "b2n: error: embedding cache: Tones on tiny-alm: AudioError('x.wav: no samples')"
    ]


def test_a_set_value_with_a_python_tag_is_refused_not_run(world, tmp_path):
    """A ``--set`` value that an unsafe YAML loader would run (``touch MARKER``): the script
    exits 2 with one line naming the override and the YAML problem, and the marker never appears."""
    _, argv, results = world
    marker = tmp_path / "MARKER"
    item = f'sept.lam=!!python/object/apply:os.system ["touch {marker}"]'
    line = script_error([*argv, "--set", item])
    assert line.startswith(f"b2n: error: --set {item!r}: invalid YAML at line 1, column 1: ")
    assert "could not determine a constructor for the tag" in line
    assert not marker.exists()
    assert_nothing_left(results)
