import pytest
import soundfile
from native_layouts import assert_palm_dataset, make_esc50, read_rows

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.plan import NativeLayoutError
from sept_ray.data.palm_classes import PALM_CLASSES


@pytest.fixture(scope="module")
def esc_src(tmp_path_factory):
    return make_esc50(tmp_path_factory.mktemp("src"))


def test_esc50_official_folds_and_class_names(tmp_path, esc_src):
    result = import_dataset("ESC50", esc_src.parent, tmp_path / "out")
    assert result.clips == 250 and result.folds == 5 and result.placed == {"hardlink": 250}
    splits = assert_palm_dataset(tmp_path / "out", "ESC50", 5)
    for k, split in enumerate(splits, start=1):
        assert len(split.test) == 50 and len(split.train) == 200
        assert all(c.path.startswith(f"audios/{k}-") for c in split.test)
    assert ("audios/1-100071-A-7.wav", "chirping birds") in read_rows(
        tmp_path / "out/ESC50/csv_files/test_1.csv"
    )
    placed = tmp_path / "out/ESC50/audios/1-100071-A-7.wav"
    assert placed.stat().st_ino == (esc_src / "audio/1-100071-A-7.wav").stat().st_ino
    assert soundfile.info(str(placed)).samplerate == 44100


def test_esc50_actions_keeps_the_human_non_speech_column(tmp_path, esc_src):
    result = import_dataset("ESC50-Actions", esc_src, tmp_path / "out")
    assert result.clips == 50
    splits = assert_palm_dataset(tmp_path / "out", "ESC50-Actions", 5)
    assert {c.classname for c in splits[0].train} == set(PALM_CLASSES["ESC50-Actions"])
    assert all(len(s.test) == 10 for s in splits)


def test_unknown_category_is_named(tmp_path, esc_src):
    (tmp_path / "src/meta").mkdir(parents=True)
    (tmp_path / "src/audio").symlink_to(esc_src / "audio")
    meta = (esc_src / "meta/esc50.csv").read_text().replace(",dog,", ",wolf,")
    (tmp_path / "src/meta/esc50.csv").write_text(meta)
    with pytest.raises(NativeLayoutError, match=r"esc50.csv:\d+: unknown category 'wolf'"):
        import_dataset("ESC50", tmp_path / "src", tmp_path / "out")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("1-100071-A-7.wav", "../../evil.wav", "'audios/../../evil.wav' would leave the dataset"),
        (
            ",1,7,chirping_birds",
            ",x,7,chirping_birds",
            r"esc50.csv:\d+: fold 'x' is not an integer",
        ),
    ],
)
def test_bad_metadata_rows_are_named_and_write_nothing(tmp_path, esc_src, old, new, message):
    (tmp_path / "src/meta").mkdir(parents=True)
    (tmp_path / "src/audio").symlink_to(esc_src / "audio")
    meta = (esc_src / "meta/esc50.csv").read_text()
    assert old in meta
    (tmp_path / "src/meta/esc50.csv").write_text(meta.replace(old, new, 1))
    with pytest.raises(NativeLayoutError, match=message):
        import_dataset("ESC50", tmp_path / "src", tmp_path / "out/a/b")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.wav").exists()


def test_missing_metadata_names_what_is_expected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NativeLayoutError, match="no meta/esc50.csv in it or in its subfolders"):
        import_dataset("ESC50", tmp_path / "empty", tmp_path / "out")
