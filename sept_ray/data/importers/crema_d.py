"""CREMA-D (github.com/CheyneyComputerScience/CREMA-D): the emotion code of each file name.

``AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav``, e.g. ``1001_DFA_ANG_XX.wav``; emotions ANG DIS
FEA HAP NEU SAD. There is no official split: actors are held out (:func:`speaker_split`, about 20 %
of the 91 actors).
"""

from __future__ import annotations

import re
from pathlib import Path

from sept_ray.data.importers.plan import (
    ImportPlan,
    Item,
    NativeLayoutError,
    lookup,
    match_files,
    speaker_split,
)
from sept_ray.data.importers.registry import register

SOURCE = (
    "CREMA-D (github.com/CheyneyComputerScience/CREMA-D, audio in Git LFS): the folder holding "
    "AudioWAV/ (or AudioWAV itself)"
)
NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})\.wav")
EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}


@register("CREMA-D", SOURCE)
def import_crema_d(src: Path) -> ImportPlan:
    matched, other = match_files(src, NAME)
    if not matched:
        raise NativeLayoutError(
            f"{src}: no CREMA-D audio files (1001_DFA_ANG_XX.wav); expected {SOURCE}"
        )
    pairs = [
        (Item(path, f"audios/{path.name}", lookup(EMOTIONS, found.group(3), path)), found.group(1))
        for path, found in matched
    ]
    fold, note = speaker_split(pairs)
    return ImportPlan("CREMA-D", src, (fold,), notes=(note,), skipped=tuple(other))
