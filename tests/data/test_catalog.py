import json
from pathlib import Path

import pytest

from sept_ray.data.catalog import DATASETS
from sept_ray.data.palm_classes import PALM_CLASSES

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared/reference/classes.json"


def test_the_eleven_datasets_have_sorted_classes_and_base_halves():
    assert len(PALM_CLASSES) == 11
    for name, classes in PALM_CLASSES.items():
        info = DATASETS.get(name)
        assert info.classes == classes == tuple(sorted(classes))
        assert info.base_classes + info.new_classes == classes
        assert len(info.base_classes) == -(-len(classes) // 2)
    assert DATASETS.get("Beijing-Opera").base_classes == ("bangu", "daluo")
    assert DATASETS.get("VocalSound").base_classes == ("Cough", "Laughter", "Sigh")
    assert DATASETS.get("TUT2017").base_classes[-1] == "home"
    assert DATASETS.get("ESC50").base_classes[-1] == "footsteps"
    assert DATASETS.get("SynthHome").classes == tuple(sorted(DATASETS.get("SynthHome").classes))


@pytest.mark.skipif(not REFERENCE.is_file(), reason="../shared/reference is not present")
def test_matches_the_reference_class_lists():
    reference = json.loads(REFERENCE.read_text())
    assert set(reference) == set(PALM_CLASSES)
    for name, entry in reference.items():
        info = DATASETS.get(name)
        assert list(info.classes) == entry["classes"]
        assert info.folds == entry["folds"] and len(info.base_classes) == entry["n_base"]
