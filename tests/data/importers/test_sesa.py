import soundfile
from native_layouts import assert_palm_dataset, make_sesa

from sept_ray.data.importers import import_dataset


def test_official_train_and_test_folders(tmp_path):
    make_sesa(tmp_path / "src")
    result = import_dataset("SESA", tmp_path / "src", tmp_path / "out")
    assert result.clips == 16
    [split] = assert_palm_dataset(tmp_path / "out", "SESA", 1)
    assert len(split.train) == 12 and len(split.test) == 4
    assert all(c.path.startswith("audios/test/") for c in split.test)
    assert ("audios/train/gunshot_002.wav", "gunshot") in {
        (c.path, c.classname) for c in split.train
    }
    subtypes = {
        soundfile.info(str(p)).subtype for p in (tmp_path / "out/SESA/audios").rglob("*.wav")
    }
    assert subtypes == {"PCM_U8", "PCM_16"}
