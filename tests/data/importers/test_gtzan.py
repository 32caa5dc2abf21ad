import json

import pytest
from native_layouts import assert_palm_dataset, make_gtzan

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.writer import SkippedClipWarning


def test_genres_split_and_the_corrupt_jazz_file_is_reported(tmp_path):
    make_gtzan(tmp_path / "src")
    with pytest.warns(SkippedClipWarning, match=r"jazz.00054.wav: known corrupt file"):
        result = import_dataset("GT-Music-Genre", tmp_path / "src", tmp_path / "out")
    assert result.clips == 50
    [split] = assert_palm_dataset(tmp_path / "out", "GT-Music-Genre", 1)
    assert len(split.test) == 10 and all(c.path.endswith(".00004.wav") for c in split.test)
    assert ("audios/jazz/jazz.00000.wav", "jazz") in {(c.path, c.classname) for c in split.train}
    record = json.loads((tmp_path / "out/GT-Music-Genre/palm_import.json").read_text())
    assert [s["path"].endswith("jazz.00054.wav") for s in record["skipped"]] == [True]


def test_another_unreadable_track_is_skipped_with_a_warning(tmp_path):
    src = make_gtzan(tmp_path / "src")
    (src / "genres_original/rock/rock.00002.wav").write_bytes(b"\x00" * 64)
    with pytest.warns(SkippedClipWarning, match=r"rock.00002.wav: unreadable audio"):
        result = import_dataset("GT-Music-Genre", src, tmp_path / "out")
    assert result.clips == 49 and len(result.skipped) == 2
