import shutil
from pathlib import Path

import pytest

from sept_ray.cli import main
from sept_ray.data.check import check_dataset
from sept_ray.data.importers import import_dataset

from conftest import write_csv, write_tone_dataset

REAL = Path(__file__).resolve().parents[2].parent / "shared/realaudio/beijing_opera_small"


@pytest.fixture
def folds_root(tmp_path):
    """``Folds``: 3 classes, 3 folds, 6 clips per class (16 kHz mono PCM16, 0.2 s)."""
    write_tone_dataset(tmp_path, "Folds", ["alpha", "beta", "gamma"], 4, 2, folds=3, seconds=0.2)
    return tmp_path


def test_counts_formats_and_durations_of_a_clean_dataset(folds_root, capsys):
    report = check_dataset(folds_root / "Folds")
    assert report.problems == [] and report.classes == ["alpha", "beta", "gamma"]
    text = report.render()
    lines = text.splitlines()
    assert lines[0].startswith("Folds: ") and "(3 fold(s), 3 classes, 18 clips)" in lines[0]
    assert lines[1].split() == [
        "class",
        "fold",
        "1",
        "train/test",
        "fold",
        "2",
        "train/test",
        "fold",
        "3",
        "train/test",
    ]
    assert lines[2].split() == ["alpha", "4/2", "4/2", "4/2"]
    assert lines[5].split() == ["total", "12/6", "12/6", "12/6"]
    assert "sample rates: 16000 Hz (18)" in lines and "channels: 1 (18)" in lines
    assert "formats: WAV PCM_16 (18)" in lines
    assert "durations: min 0.20 s, median 0.20 s, max 0.20 s" in lines
    assert lines[-1] == "no problems"
    assert main(["data", "check", str(folds_root / "Folds")]) == 0
    assert capsys.readouterr().out.strip() == text


def test_missing_unreadable_empty_and_leaking_clips_are_listed(folds_root, capsys):
    import numpy as np
    import soundfile

    folder = folds_root / "Folds"
    (folder / "audios/alpha/000.wav").unlink()
    (folder / "audios/beta/001.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    soundfile.write(folder / "audios/gamma/002.wav", np.zeros(0, np.float32), 16000)
    shutil.copy(
        folder / "train.csv", folder / "csv_files/test_2.csv"
    )  # fold 2 tests on fold 1's train
    assert main(["data", "check", str(folder)]) == 1
    out = capsys.readouterr().out
    problems = out.split("problems (4):\n")[1].splitlines()
    assert problems[0] == "  fold 2: 6 clip(s) in both train and test, e.g. audios/alpha/002.wav"
    assert problems[1] == "  missing file: audios/alpha/000.wav"
    assert problems[2].startswith("  unreadable file: audios/beta/001.wav: Error opening")
    assert problems[3] == "  unreadable file: audios/gamma/002.wav: audio file holds no samples"
    assert "sample rates: 16000 Hz (15)" in out


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_decode_finds_non_finite_samples(tmp_path, bad):
    import numpy as np
    import soundfile

    write_tone_dataset(tmp_path, "Tones", ["a", "b"], 2, 1)
    soundfile.write(
        tmp_path / "Tones/audios/a/000.wav",
        np.array([0.1, bad, 0.2], np.float32),
        16000,
        subtype="FLOAT",
    )
    assert check_dataset(tmp_path / "Tones").problems == []
    assert check_dataset(tmp_path / "Tones", decode=True).problems == [
        f"unreadable file: audios/a/000.wav: {tmp_path}/Tones/audios/a/000.wav: audio holds NaN or infinite samples"
    ]


def test_class_coverage_and_registered_names(tmp_path):
    write_tone_dataset(tmp_path, "SESA", ["casual", "gunshot", "siren"], 2, 1)
    write_csv(tmp_path / "SESA/test.csv", [("audios/casual/002.wav", "casual")])
    assert check_dataset(tmp_path / "SESA").problems == [
        "fold 1 test: no clips of gunshot, siren",
        "classes differ from the registered SESA: unexpected none, absent ['explosion']",
    ]


def test_the_current_folder_is_checked_under_its_own_name(tmp_path, monkeypatch):
    write_tone_dataset(tmp_path, "SESA", ["casual", "gunshot", "siren"], 2, 1)
    monkeypatch.chdir(tmp_path / "SESA")
    assert check_dataset(".").problems == [
        "classes differ from the registered SESA: unexpected none, absent ['explosion']"
    ]


def test_absent_folder_and_malformed_csv(tmp_path):
    assert check_dataset(tmp_path / "Nope").problems == [
        f"{tmp_path}/Nope: dataset folder not found"
    ]
    (tmp_path / "Native").mkdir()  # an official distribution, not yet imported
    [problem] = check_dataset(tmp_path / "Native").problems
    assert "not a PALM-layout dataset" in problem and "sept data import" in problem
    write_tone_dataset(tmp_path, "Bad", ["a", "b"], 2, 1)
    (tmp_path / "Bad/test.csv").write_text("file,label\n")
    [problem] = check_dataset(tmp_path / "Bad").problems
    assert problem.endswith("test.csv: missing column(s) path, classname (found: file, label)")


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realaudio is not present")
def test_real_beijing_opera_clips(tmp_path, capsys):
    with pytest.warns(UserWarning):
        import_dataset("Beijing-Opera", REAL, tmp_path)
    assert main(["data", "check", str(tmp_path / "Beijing-Opera")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("(5 fold(s), 4 classes, 20 clips)")
    assert lines[2].split() == ["bangu", "2/1", "2/1", "2/1", "3/0", "3/0"]
    assert lines[6].split() == ["total", "16/4", "16/4", "16/4", "16/4", "16/4"]
    assert lines[7:11] == [
        "sample rates: 44100 Hz (20)",
        "channels: 1 (20)",
        "formats: WAV FLOAT (11), WAV PCM_16 (9)",
        "durations: min 0.29 s, median 1.73 s, max 2.00 s",
    ]
    assert lines[11:] == [
        "problems (3):",
        "  fold 1 test: no clips of xiaoluo",
        "  fold 4 test: no clips of bangu",
        "  fold 5 test: no clips of bangu",
    ]
