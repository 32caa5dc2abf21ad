import pytest
import soundfile
from native_layouts import RAVDESS_CODES, assert_palm_dataset, make_ravdess

from sept_ray.data.importers import import_dataset
from sept_ray.data.importers.writer import SkippedClipWarning


def test_emotion_codes_and_an_actor_disjoint_split(tmp_path):
    make_ravdess(tmp_path / "src")
    with pytest.warns(SkippedClipWarning, match="readme-tone.wav: file name does not match"):
        result = import_dataset("RAVDESS", tmp_path / "src", tmp_path / "out")
    assert result.clips == 27 and len(result.skipped) == 1
    [split] = assert_palm_dataset(tmp_path / "out", "RAVDESS", 1)
    assert {c.path.split("/")[1] for c in split.test} == {"Actor_01"}
    assert {c.path.split("/")[1] for c in split.train} == {"Actor_02", "Actor_03"}
    labels = {c.path.split("/")[2]: c.classname for c in split.train + split.test}
    for code, emotion in RAVDESS_CODES.items():
        assert labels[f"03-01-{code}-01-01-01-02.wav"] == emotion
    assert labels["03-02-03-02-02-01-03.wav"] == "happy"  # song clips are kept
    info = soundfile.info(str(tmp_path / "out/RAVDESS/audios/Actor_02/03-01-05-01-01-01-02.wav"))
    assert (info.samplerate, info.subtype) == (48000, "PCM_16")
