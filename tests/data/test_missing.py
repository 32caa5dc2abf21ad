"""A missing dataset folder: the name probably meant, else how to get the dataset."""

import pytest

from sept_ray.data.manifest import ManifestError, dataset_dir
from sept_ray.data.missing import closest_name, missing_dataset_message


def test_close_names_case_first_then_spelling():
    names = ["SynthHome", "SynthNature", "ESC50", "ESC50-Actions"]
    assert closest_name("synthhome", names) == "SynthHome"
    assert closest_name("SynthHone", names) == "SynthHome"
    assert closest_name("ESC-50", names) == "ESC50"
    assert closest_name("Birdsong", names) is None
    assert closest_name("SynthHome", names) is None  # the name itself is not a suggestion


def test_a_folder_of_the_root_is_suggested_too(tmp_path):
    (tmp_path / "MyRecordings").mkdir()
    message = missing_dataset_message(tmp_path, "myrecordings")
    assert (
        message
        == f"{tmp_path}/myrecordings: dataset folder not found; did you mean 'MyRecordings'?"
    )


def test_each_kind_of_dataset_says_how_to_get_it(tmp_path):
    paper = missing_dataset_message(tmp_path, "UrbanSound8K")
    assert f"'sept data download UrbanSound8K --root {tmp_path}'" in paper
    assert f"'sept data import UrbanSound8K SRC_DIR {tmp_path}'" in paper
    builtin = missing_dataset_message(tmp_path, "SynthStreet")
    assert f"'sept data synth --out {tmp_path} --datasets SynthStreet'" in builtin
    other = missing_dataset_message(tmp_path, "FieldNotes2025")
    assert "PALM layout" in other and "--data-root" in other


def test_dataset_dir_raises_with_the_guidance(tmp_path):
    (tmp_path / "Tones").mkdir()
    assert dataset_dir(tmp_path, "Tones") == tmp_path / "Tones"
    with pytest.raises(ManifestError, match="Nope: dataset folder not found; write it in the PALM"):
        dataset_dir(tmp_path, "Nope")
