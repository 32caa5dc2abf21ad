import pytest
from native_layouts import assert_palm_dataset, make_crema_d

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.plan import NativeLayoutError


def test_emotion_codes_and_an_actor_disjoint_split(tmp_path):
    make_crema_d(tmp_path / "src")
    result = import_dataset("CREMA-D", tmp_path / "src", tmp_path / "out", mode="symlink")
    assert result.clips == 18 and result.placed == {"symlink": 18}
    [split] = assert_palm_dataset(tmp_path / "out", "CREMA-D", 1)
    assert {c.path[7:11] for c in split.test} == {"1001"}
    assert {c.path[7:11] for c in split.train} == {"1002", "1003"}
    assert ("audios/1002_IEO_DIS_XX.wav", "disgust") in {(c.path, c.classname) for c in split.train}
    assert (tmp_path / "out/CREMA-D/audios/1002_IEO_DIS_XX.wav").is_symlink()
    assert "speaker-disjoint" in (tmp_path / "out/CREMA-D/palm_import.json").read_text()


def test_unknown_emotion_code_is_named(tmp_path):
    src = make_crema_d(tmp_path / "src")
    (src / "AudioWAV/1001_IEO_ANG_XX.wav").rename(src / "AudioWAV/1001_IEO_BOR_XX.wav")
    with pytest.raises(NativeLayoutError, match="1001_IEO_BOR_XX.wav: unknown label 'BOR'"):
        import_dataset("CREMA-D", src, tmp_path / "out")
