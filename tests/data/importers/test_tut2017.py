import pytest
import soundfile
from native_layouts import assert_palm_dataset, make_tut2017, read_rows

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.plan import NativeLayoutError


def test_official_four_fold_setup(tmp_path):
    src = make_tut2017(tmp_path / "src")
    result = import_dataset("TUT2017", tmp_path / "src", tmp_path / "out")
    assert result.clips == 60 and result.folds == 4
    splits = assert_palm_dataset(tmp_path / "out", "TUT2017", 4)
    for k, split in enumerate(splits, start=1):
        evaluate = (src / f"evaluation_setup/fold{k}_evaluate.txt").read_text().split("\n")
        expected = {
            ("audios/" + line.split("\t")[0][6:], line.split("\t")[1]) for line in evaluate if line
        }
        assert {(c.path, c.classname) for c in split.test} == expected
        assert len(split.train) == 45
    rows = read_rows(tmp_path / "out/TUT2017/test.csv")
    assert ("audios/c000_0_10.wav", "cafe/restaurant") in rows
    info = soundfile.info(str(tmp_path / "out/TUT2017/audios/c000_0_10.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (44100, 2, "PCM_24")


def test_missing_fold_list_is_named(tmp_path):
    src = make_tut2017(tmp_path / "src")
    (src / "evaluation_setup/fold3_evaluate.txt").unlink()
    with pytest.raises(NativeLayoutError, match="fold3_evaluate.txt: fold list not found"):
        import_dataset("TUT2017", src, tmp_path / "out")
