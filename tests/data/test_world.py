import json
import re

import numpy as np
import pytest
import soundfile

from sept_ray.data.catalog import DATASETS, dataset_template
from sept_ray.data.manifest import count_folds, load_split
from sept_ray.data.synth import world
from sept_ray.data.synth.sounds import RECIPES
from sept_ray.data.synth.world import BUILTIN_DATASETS, XD_PAIRS, split_rows


def test_world_has_40_plus_classes_in_3_plus_datasets():
    classes = {c for spec in BUILTIN_DATASETS.values() for c in spec.classes}
    assert len(classes) >= 40 and classes <= set(RECIPES)
    assert len(BUILTIN_DATASETS) >= 3
    assert any(spec.folds > 1 for spec in BUILTIN_DATASETS.values())
    for spec in BUILTIN_DATASETS.values():
        assert list(spec.classes) == sorted(spec.classes)
        assert spec.name in DATASETS and dataset_template(spec.name) == spec.template
    for source, target in XD_PAIRS:
        assert set(BUILTIN_DATASETS[source].classes).isdisjoint(BUILTIN_DATASETS[target].classes)


@pytest.mark.parametrize("name", list(BUILTIN_DATASETS))
def test_split_sizes_leave_16_shots(name):
    spec = BUILTIN_DATASETS[name]
    rows = split_rows(spec)
    train = rows["csv_files/train_1.csv" if spec.folds > 1 else "train.csv"]
    for cls in spec.classes:
        assert sum(c == cls for _, c in train) >= 16


def small(spec, **changes):
    from dataclasses import replace

    return replace(spec, clips_per_class=6, test_per_class=2, **changes)


def test_written_dataset_reads_back_through_the_loader(tmp_path):
    spec = small(BUILTIN_DATASETS["SynthInstruments"], classes=("church bell", "flute", "violin"))
    folder = world.write_dataset(spec, tmp_path, workers=1)
    split = load_split(tmp_path, spec.name)
    assert split.classes == spec.classes and len(split.train) == 12 and len(split.test) == 6
    info = soundfile.info(str(folder / split.train[0].path))
    assert (info.samplerate, info.channels, info.subtype) == (32000, 2, "FLOAT")
    assert 2.0 <= info.duration <= 3.0
    assert world.is_current(folder, spec) and not world.is_current(folder, small(spec, seed=1))
    assert not list(tmp_path.glob(".*"))  # the temp folder was renamed into place


def test_folds_partition_the_clips(tmp_path):
    spec = small(BUILTIN_DATASETS["SynthHome"], classes=("doorbell", "footsteps"))
    world.write_dataset(spec, tmp_path, workers=1)
    assert count_folds(tmp_path / spec.name) == 3
    tests = [{c.path for c in load_split(tmp_path, spec.name, k).test} for k in (1, 2, 3)]
    assert sum(len(t) for t in tests) == 12 and len(set().union(*tests)) == 12


def test_clips_are_deterministic(tmp_path):
    spec = small(BUILTIN_DATASETS["SynthNature"], classes=("rain", "thunder"))
    a = world.write_dataset(spec, tmp_path / "a", workers=1)
    b = world.write_dataset(spec, tmp_path / "b", workers=2)
    rel = "audios/rain/rain-003.wav"
    assert np.array_equal(soundfile.read(a / rel)[0], soundfile.read(b / rel)[0])
    assert json.loads((a / "synth.json").read_text())["world_version"] == world.WORLD_VERSION


def test_pretraining_set_and_captions():
    waves, captions, labels = world.pretraining_set(84, seed=0, workers=1)
    assert waves.shape == (84, 32000) and waves.dtype == np.float32
    assert labels.tolist() == [i % 42 for i in range(84)]
    assert all(c and not c.startswith("This is") for c in captions)  # never a downstream template
    again = world.pretraining_set(84, seed=0, workers=2)
    assert np.array_equal(again[0], waves) and again[1] == captions
    assert len(set(captions)) > 60


def test_captions_never_name_the_class_nor_describe_the_recording():
    _, captions, labels = world.pretraining_set(84, seed=0, workers=1)
    names = list(RECIPES)
    sound_phrases = {"low-pitched", "deep", "high-pitched", "shrill", "fast", "rapid", "slow"}
    sound_phrases.add("unhurried")
    for text, label in zip(captions, labels, strict=True):
        assert not set(re.findall(r"[a-z]+", text)) & set(names[label].split()), text
        body = re.sub(r"^(a recording of|the sound of|audio of) ", "", text)
        paraphrase = max(
            (p for p in world.paraphrases(names[label]) if body.startswith(p)), key=len
        )
        extras = body[len(paraphrase) :].removeprefix(", ")
        assert set(filter(None, extras.split(", "))) <= sound_phrases, text


def test_paraphrases_avoid_the_class_name():
    assert "a woody reed instrument playing" in world.paraphrases("clarinet")
    assert "a clarinet playing" not in world.paraphrases("clarinet")
    assert all(world.paraphrases(name) for name in RECIPES)


def test_pretraining_draws_every_downstream_condition():
    conditions = set(world.PRETRAIN_CONDITIONS)
    assert world.PRETRAIN_CONDITION in conditions
    assert all(spec.condition in conditions for spec in BUILTIN_DATASETS.values())


def test_unknown_builtin_dataset(tmp_path):
    with pytest.raises(KeyError, match="unknown built-in dataset 'Nope'"):
        world.write_world(tmp_path, ["Nope"])
