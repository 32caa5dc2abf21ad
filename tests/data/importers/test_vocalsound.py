import pytest
from native_layouts import assert_palm_dataset, make_vocalsound

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.writer import SkippedClipWarning


def test_official_split_from_the_datafiles(tmp_path):
    make_vocalsound(tmp_path / "src")
    with pytest.warns(SkippedClipWarning, match=r"f0001_1_cough.wav: not listed in datafiles"):
        result = import_dataset("VocalSound", tmp_path / "src", tmp_path / "out")
    assert result.clips == 24
    [split] = assert_palm_dataset(tmp_path / "out", "VocalSound", 1)
    assert {c.path[7:12] for c in split.test} == {"f0003"}
    assert {c.path[7:12] for c in split.train} == {"f0001", "m0002", "f0004"}
    assert ("audios/f0004_0_throatclearing.wav", "Throat clearing") in {
        (c.path, c.classname) for c in split.train
    }


def test_without_datafiles_speakers_are_held_out(tmp_path):
    make_vocalsound(tmp_path / "src", datafiles=False)
    result = import_dataset("VocalSound", tmp_path / "src", tmp_path / "out")
    assert result.clips == 25 and not result.skipped
    [split] = assert_palm_dataset(tmp_path / "out", "VocalSound", 1)
    assert {c.path[7:12] for c in split.test} == {"f0001"}  # first of the sorted speaker ids
    assert (
        "datafiles/{tr,val,te}.json not found"
        in (tmp_path / "out/VocalSound/palm_import.json").read_text()
    )
