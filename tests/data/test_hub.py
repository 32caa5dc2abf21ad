import zipfile
from pathlib import Path

import pytest

from sept_ray.cli import main
from sept_ray.data.hub import DownloadError, download_dataset, unpack_archives
from sept_ray.data.manifest import load_split
from sept_ray.data.palm_classes import PALM_CLASSES

from conftest import write_tone_dataset


def zip_folder(folder: Path, archive: Path, prefix: str) -> Path:
    """Zip every file of ``folder`` under ``prefix`` (e.g. "VocalSound/", or "" for none)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as zf:
        if prefix:
            zf.writestr(prefix, "")  # the directory entry zip tools write
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


@pytest.fixture
def staged(tmp_path) -> Path:
    """A small VocalSound-named dataset in the PALM layout, to be zipped."""
    classes = list(PALM_CLASSES["VocalSound"])
    return write_tone_dataset(tmp_path / "stage", "VocalSound", classes, 2, 1, seconds=0.1)


def test_offline_error_says_what_to_download_and_where(tmp_path):
    with pytest.raises(DownloadError) as caught:
        download_dataset("SESA", tmp_path / "data", offline=True)
    message = str(caught.value)
    assert "https://huggingface.co/datasets/MahiA/SESA (51 MB)" in message
    assert f"into {tmp_path / 'data' / 'SESA'}" in message
    assert "sept data import SESA SRC_DIR" in message and "LocalEntryNotFoundError" in message


def test_offline_cli_reports_the_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEPT_OFFLINE", "1")
    assert main(["data", "download", "RAVDESS", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sept: error: dataset 'RAVDESS' could not be downloaded")
    assert "MahiA/RAVDESS (683 MB)" in err


def test_a_zip_in_the_folder_is_unpacked_checked_and_removed(tmp_path, staged):
    root = tmp_path / "data"
    zip_folder(staged, root / "VocalSound/VocalSound.zip", "VocalSound/")
    assert download_dataset("VocalSound", root, offline=True) == root / "VocalSound"
    assert not (root / "VocalSound/VocalSound.zip").exists()
    split = load_split(root, "VocalSound")
    assert split.classes == PALM_CLASSES["VocalSound"] and len(split.test) == 6
    assert (root / "VocalSound/audios/Cough/000.wav").read_bytes() == (
        staged / "audios/Cough/000.wav"
    ).read_bytes()
    assert (
        download_dataset("VocalSound", root, offline=True) == root / "VocalSound"
    )  # complete: kept


def test_unwrapped_and_doubly_wrapped_archives(tmp_path, staged):
    zip_folder(staged, tmp_path / "NS/parts.zip", "")
    assert unpack_archives(tmp_path / "NS") == [tmp_path / "NS/parts.zip"]
    assert (tmp_path / "NS/train.csv").is_file() and (tmp_path / "NS/audios/Sigh/001.wav").is_file()
    zip_folder(staged, tmp_path / "VS/VS.zip", "Audio-Datasets/VocalSound/")
    (tmp_path / "VS/README.md").write_text("hub card")
    unpack_archives(tmp_path / "VS")
    assert sorted(p.name for p in (tmp_path / "VS").iterdir()) == [
        "README.md",
        "audios",
        "test.csv",
        "train.csv",
    ]


def test_archive_members_may_not_leave_the_folder(tmp_path):
    archive = tmp_path / "SESA/evil.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/../../escaped.txt", "x")
        zf.writestr("b/ok.txt", "x")
    with pytest.raises(DownloadError, match="would leave"):
        unpack_archives(tmp_path / "SESA")
    assert not (tmp_path / "escaped.txt").exists()


def test_unpacked_data_with_wrong_classes_is_refused(tmp_path):
    write_tone_dataset(tmp_path / "stage", "SESA", ["casual", "gunshot"], 2, 1)
    zip_folder(tmp_path / "stage/SESA", tmp_path / "data/SESA/SESA.zip", "SESA/")
    with pytest.raises(ValueError, match="are not PALM's SESA classes"):
        download_dataset("SESA", tmp_path / "data", offline=True)


def test_unknown_dataset_lists_the_known(tmp_path):
    with pytest.raises(
        KeyError, match="unknown hub dataset 'Nope' \\(known: Beijing-Opera, CREMA-D"
    ):
        download_dataset("Nope", tmp_path)
