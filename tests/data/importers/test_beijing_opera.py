from pathlib import Path

import pytest
import soundfile
from native_layouts import assert_palm_dataset, make_beijing_opera

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.writer import CoverageWarning
from sept_ray.data.manifest import ManifestError, load_split

REAL = Path(__file__).resolve().parents[3].parent / "shared/realaudio/beijing_opera_small"


def csv_texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.rglob("*.csv"))}


def test_five_stratified_deterministic_folds(tmp_path):
    make_beijing_opera(tmp_path / "src")
    result = import_dataset("Beijing-Opera", tmp_path / "src", tmp_path / "a")
    assert result.clips == 20 and result.folds == 5 and not result.warnings
    splits = assert_palm_dataset(tmp_path / "a", "Beijing-Opera", 5)
    for split in splits:  # 5 clips per class over 5 folds: one test clip of each class per fold
        assert sorted(c.classname for c in split.test) == list(split.classes)
    tests = [c.path for split in splits for c in split.test]
    assert len(set(tests)) == 20  # every clip is tested exactly once
    import_dataset("Beijing-Opera", tmp_path / "src", tmp_path / "b")
    assert csv_texts(tmp_path / "a/Beijing-Opera") == csv_texts(tmp_path / "b/Beijing-Opera")


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realaudio is not present")
def test_real_clips_in_their_native_flat_layout(tmp_path):
    """20 real clips (bangu 3, daluo 8, naobo 5, xiaoluo 4): too few for some class in some folds,
    which the import reports; the complete folds read back."""
    with pytest.warns(CoverageWarning) as caught:
        result = import_dataset("Beijing-Opera", REAL, tmp_path / "out")
    assert result.clips == 20 and result.folds == 5 and not result.skipped
    assert sorted(str(w.message) for w in caught) == [
        "Beijing-Opera: fold 1 test has no clips of: xiaoluo",
        "Beijing-Opera: fold 4 test has no clips of: bangu",
        "Beijing-Opera: fold 5 test has no clips of: bangu",
    ]
    for fold in (2, 3):
        split = load_split(tmp_path / "out", "Beijing-Opera", fold)
        assert split.classes == ("bangu", "daluo", "naobo", "xiaoluo")
        assert len(split.train) == 16 and len(split.test) == 4
    with pytest.raises(ManifestError, match="no clips: xiaoluo"):
        load_split(tmp_path / "out", "Beijing-Opera", 1)
    placed = sorted((tmp_path / "out/Beijing-Opera/audios").glob("*.wav"))
    assert [p.name for p in placed] == sorted(p.name for p in REAL.glob("*.wav"))
    for path in placed:
        assert path.read_bytes() == (REAL / path.name).read_bytes()
    assert {soundfile.info(str(p)).subtype for p in placed} == {"FLOAT", "PCM_16"}
