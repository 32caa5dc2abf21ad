"""Class names of the paper's 11 datasets, exactly as PALM's CSVs spell them (docs/DATASETS.md).

Each tuple is sorted (case-sensitive), so label ``i`` is ``classes[i]`` and the base classes are the
first ceil(K/2). The importers map each official distribution's labels onto these names.
"""

from __future__ import annotations

PALM_CLASSES: dict[str, tuple[str, ...]] = {
    "Beijing-Opera": ("bangu", "daluo", "naobo", "xiaoluo"),
    "CREMA-D": ("anger", "disgust", "fear", "happy", "neutral", "sad"),
    "ESC50": (
        "airplane", "breathing", "brushing teeth", "can opening", "car horn", "cat", "chainsaw",
        "chirping birds", "church bells", "clapping", "clock alarm", "clock tick", "coughing", "cow",
        "crackling fire", "crickets", "crow", "crying baby", "dog", "door wood creaks",
        "door wood knock", "drinking sipping", "engine", "fireworks", "footsteps", "frog",
        "glass breaking", "hand saw", "helicopter", "hen", "insects", "keyboard typing", "laughing",
        "mouse click", "pig", "pouring water", "rain", "rooster", "sea waves", "sheep", "siren",
        "sneezing", "snoring", "thunderstorm", "toilet flush", "train", "vacuum cleaner",
        "washing machine", "water drops", "wind",
    ),
    "ESC50-Actions": (
        "breathing", "brushing teeth", "clapping", "coughing", "crying baby", "drinking sipping",
        "footsteps", "laughing", "sneezing", "snoring",
    ),
    "GT-Music-Genre": (
        "blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock",
    ),
    "NS-Instruments": (
        "bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string", "vocal",
    ),
    "RAVDESS": ("angry", "calm", "disgust", "fearful", "happy", "neutral", "sad", "surprised"),
    "SESA": ("casual", "explosion", "gunshot", "siren"),
    "TUT2017": (
        "beach", "bus", "cafe/restaurant", "car", "city_center", "forest_path", "grocery_store",
        "home", "library", "metro_station", "office", "park", "residential_area", "train", "tram",
    ),
    "UrbanSound8K": (
        "air conditioner", "car horn", "children playing", "dog bark", "drilling", "engine idling",
        "gun shot", "jackhammer", "siren", "street music",
    ),
    "VocalSound": ("Cough", "Laughter", "Sigh", "Sneeze", "Sniff", "Throat clearing"),
}  # fmt: skip
