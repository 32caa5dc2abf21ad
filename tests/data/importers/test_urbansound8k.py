import soundfile
from native_layouts import assert_palm_dataset, make_urbansound8k

from sept_ray.data.importers import import_dataset


def test_ten_official_folds_keep_each_file_format(tmp_path):
    src = make_urbansound8k(tmp_path / "src")
    result = import_dataset("UrbanSound8K", tmp_path / "src", tmp_path / "out", mode="copy")
    assert result.clips == 100 and result.folds == 10 and result.placed == {"copy": 100}
    splits = assert_palm_dataset(tmp_path / "out", "UrbanSound8K", 10)
    for k, split in enumerate(splits, start=1):
        assert {c.path.split("/")[1] for c in split.test} == {f"fold{k}"}
        assert len(split.test) == 10 and len(split.train) == 90
    assert "dog bark" in splits[0].classes
    for rel in ("fold3/3003-3-0-3.wav", "fold4/2004-2-0-4.wav"):
        native, placed = src / "audio" / rel, tmp_path / "out/UrbanSound8K/audios" / rel
        assert placed.read_bytes() == native.read_bytes()
        assert placed.stat().st_ino != native.stat().st_ino  # a copy, not a link
    subtypes = {
        soundfile.info(str(p)).subtype for p in (tmp_path / "out/UrbanSound8K").rglob("*.wav")
    }
    assert subtypes == {"PCM_16", "PCM_24", "PCM_U8", "FLOAT"}
