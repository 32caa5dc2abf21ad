"""RAVDESS (Zenodo 1188976), audio-only speech and song: the emotion code of each file name.

``Actor_<AA>/MM-VV-EE-II-SS-RR-AA.wav``: modality (03 = audio only), vocal channel (01 speech,
02 song), emotion (01 neutral ... 08 surprised), intensity, statement, repetition, actor. There is no
official split: actors are held out (:func:`speaker_split`, about 20 % of them).
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
    "RAVDESS (Zenodo 1188976: Audio_Speech_Actors_01-24.zip and/or Audio_Song_Actors_01-24.zip, "
    "unpacked): the folder holding the Actor_<AA>/ folders"
)
NAME = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.wav")
EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}


@register("RAVDESS", SOURCE)
def import_ravdess(src: Path) -> ImportPlan:
    matched, other = match_files(src, NAME)
    if not matched:
        raise NativeLayoutError(
            f"{src}: no RAVDESS audio files (MM-VV-EE-II-SS-RR-AA.wav); expected {SOURCE}"
        )
    pairs = []
    for path, found in matched:
        modality, _, emotion, *_, actor = found.groups()
        if modality != "03":
            raise NativeLayoutError(f"{path}: modality {modality}, expected 03 (audio only)")
        item = Item(path, f"audios/Actor_{actor}/{path.name}", lookup(EMOTIONS, emotion, path))
        pairs.append((item, actor))
    fold, note = speaker_split(pairs)
    return ImportPlan("RAVDESS", src, (fold,), notes=(note,), skipped=tuple(other))
