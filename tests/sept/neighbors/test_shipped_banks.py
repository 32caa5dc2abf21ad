"""The banks shipped with the package: every class of the 11 paper datasets and of the built-in
world, >= 20 curated phrases each, passing the rules generated banks pass."""

from collections import Counter

import pytest

from sept_ray.data.synth.world import BUILTIN_DATASETS
from sept_ray.sept.bank import BankError, banks_dir, load_bank, read_bank, shipped_banks
from sept_ray.sept.neighbors.validate import bank_problems, class_key

PAPER_CLASSES = {  # docs/DATASETS.md: sorted class names as in the PALM CSVs
    "Beijing-Opera": ["bangu", "daluo", "naobo", "xiaoluo"],
    "CREMA-D": ["anger", "disgust", "fear", "happy", "neutral", "sad"],
    "ESC50": ["airplane", "breathing", "brushing teeth", "can opening", "car horn", "cat",
              "chainsaw", "chirping birds", "church bells", "clapping", "clock alarm",
              "clock tick", "coughing", "cow", "crackling fire", "crickets", "crow",
              "crying baby", "dog", "door wood creaks", "door wood knock", "drinking sipping",
              "engine", "fireworks", "footsteps", "frog", "glass breaking", "hand saw",
              "helicopter", "hen", "insects", "keyboard typing", "laughing", "mouse click", "pig",
              "pouring water", "rain", "rooster", "sea waves", "sheep", "siren", "sneezing",
              "snoring", "thunderstorm", "toilet flush", "train", "vacuum cleaner",
              "washing machine", "water drops", "wind"],
    "ESC50-Actions": ["breathing", "brushing teeth", "clapping", "coughing", "crying baby",
                      "drinking sipping", "footsteps", "laughing", "sneezing", "snoring"],
    "GT-Music-Genre": ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop",
                       "reggae", "rock"],
    "NS-Instruments": ["bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
                       "string", "vocal"],
    "RAVDESS": ["angry", "calm", "disgust", "fearful", "happy", "neutral", "sad", "surprised"],
    "SESA": ["casual", "explosion", "gunshot", "siren"],
    "TUT2017": ["beach", "bus", "cafe/restaurant", "car", "city_center", "forest_path",
                "grocery_store", "home", "library", "metro_station", "office", "park",
                "residential_area", "train", "tram"],
    "UrbanSound8K": ["air conditioner", "car horn", "children playing", "dog bark", "drilling",
                     "engine idling", "gun shot", "jackhammer", "siren", "street music"],
    "VocalSound": ["Cough", "Laughter", "Sigh", "Sneeze", "Sniff", "Throat clearing"],
}  # fmt: skip
WORLD_CLASSES = {name: sorted(spec.classes) for name, spec in BUILTIN_DATASETS.items()}


@pytest.mark.parametrize("dataset, classes", sorted({**PAPER_CLASSES, **WORLD_CLASSES}.items()))
def test_shipped_bank_is_curated_complete_and_valid(dataset, classes):
    bank = load_bank("builtin", dataset)
    assert bank.provenance["generator"] == "curated"
    assert sorted(bank.datasets[dataset]) == classes
    assert bank_problems(bank, dataset, classes, n_min=20) == []


@pytest.mark.parametrize("dataset", sorted(PAPER_CLASSES))
def test_no_paper_bank_phrase_stands_for_two_classes(dataset):
    # a curation rule of the 11 paper banks; the built-in world's bank keeps the version its
    # results were measured with, where e.g. "lute" is a neighbour of
    # both harp and plucked guitar
    bank = load_bank("builtin", dataset)
    counts = Counter(class_key(p) for ps in bank.datasets[dataset].values() for p in ps)
    assert [p for p, k in counts.items() if k > 1] == []


def test_each_dataset_is_shipped_once_and_paper_banks_are_one_file_each():
    shipped = shipped_banks()
    assert set(shipped) == set(PAPER_CLASSES) | set(WORLD_CLASSES)
    assert {shipped[d].name for d in PAPER_CLASSES} == {f"{d}.json" for d in PAPER_CLASSES}
    assert {shipped[d].name for d in WORLD_CLASSES} == {"builtin.json"}
    for path in banks_dir().glob("*.json"):  # each file holds the datasets that name it
        assert set(read_bank(path).datasets) == {d for d, p in shipped.items() if p == path}
    esc = load_bank("builtin", "ESC50")
    assert esc.neighbours("ESC50", ["dog"], 3) == [["dog barking", "puppy yelp", "growling dog"]]
    with pytest.raises(BankError, match="no shipped bank holds dataset 'MyData'"):
        load_bank("builtin", "MyData")
