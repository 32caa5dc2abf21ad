import pytest
from native_layouts import assert_palm_dataset, make_nsynth

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.plan import NativeLayoutError


def test_families_are_the_classes_and_synth_lead_is_left_out(tmp_path):
    make_nsynth(tmp_path / "src")
    result = import_dataset("NS-Instruments", tmp_path / "src", tmp_path / "out")
    assert result.clips == 40 and result.folds == 1
    [split] = assert_palm_dataset(tmp_path / "out", "NS-Instruments", 1)
    assert len(split.train) == 20 and len(split.test) == 20
    assert all(c.path.startswith("audios/nsynth-test/") for c in split.test)
    assert all(c.path.startswith("audios/nsynth-train/") for c in split.train)
    assert "synth_lead" not in split.classes
    record = (tmp_path / "out/NS-Instruments/palm_import.json").read_text()
    assert "4 synth_lead notes left out" in record


def test_validation_split_stands_in_for_a_missing_train_split(tmp_path):
    make_nsynth(tmp_path / "src", splits=("nsynth-valid", "nsynth-test"))
    import_dataset("NS-Instruments", tmp_path / "src", tmp_path / "out")
    [split] = assert_palm_dataset(tmp_path / "out", "NS-Instruments", 1)
    assert all(c.path.startswith("audios/nsynth-valid/") for c in split.train)
    assert (
        "nsynth-train/ was not found"
        in (tmp_path / "out/NS-Instruments/palm_import.json").read_text()
    )


def test_without_a_train_split_the_error_says_what_is_expected(tmp_path):
    make_nsynth(tmp_path / "src", splits=("nsynth-test",))
    with pytest.raises(NativeLayoutError, match="neither nsynth-train/ nor nsynth-valid/"):
        import_dataset("NS-Instruments", tmp_path / "src", tmp_path / "out")
