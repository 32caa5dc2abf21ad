"""NS-Instruments from NSynth (Magenta): the instrument family of each note, 10 PALM classes.

``nsynth-{train,valid,test}/examples.json`` maps each note id to its attributes, among them
``instrument_family_str``; the audio is ``nsynth-<split>/audio/<note id>.wav`` (4 s, 16 kHz). Test is
the official test split; train is ``nsynth-train``, or ``nsynth-valid`` when the 22 GB train archive
was not downloaded (said in the notes). The family ``synth_lead`` is not a PALM class and is left out.
"""

from __future__ import annotations

import json
from pathlib import Path

from sept_ray.data.catalog import DATASETS
from sept_ray.data.importers.plan import Fold, ImportPlan, Item, NativeLayoutError, find_root
from sept_ray.data.importers.registry import register

SOURCE = (
    "NSynth (magenta.tensorflow.org/datasets/nsynth, the json/wav archives nsynth-test.jsonwav.tar.gz "
    "and nsynth-train or nsynth-valid): the folder holding the unpacked nsynth-<split>/ folders"
)
NOT_IN_PALM = ("synth_lead",)


def read_split(folder: Path) -> tuple[list[Item], int]:
    """The notes of one NSynth split folder as items, and how many were left out (synth_lead)."""
    examples = folder / "examples.json"
    with open(examples, encoding="utf-8") as handle:
        notes = json.load(handle)
    classes, items, left_out = set(DATASETS.get("NS-Instruments").classes), [], 0
    for note_id, attrs in sorted(notes.items()):
        family = attrs.get("instrument_family_str")
        if family in NOT_IN_PALM:
            left_out += 1
            continue
        if family not in classes:
            raise NativeLayoutError(
                f"{examples}: note {note_id!r} has instrument family {family!r}"
            )
        items.append(
            Item(folder / "audio" / f"{note_id}.wav", f"audios/{folder.name}/{note_id}.wav", family)
        )
    return items, left_out


@register("NS-Instruments", SOURCE)
def import_nsynth(src: Path) -> ImportPlan:
    root = find_root(src, "nsynth-test/examples.json", SOURCE)
    train_name = next(
        (n for n in ("nsynth-train", "nsynth-valid") if (root / n / "examples.json").is_file()),
        None,
    )
    if train_name is None:
        raise NativeLayoutError(
            f"{root}: neither nsynth-train/ nor nsynth-valid/ holds examples.json; expected {SOURCE}"
        )
    test, test_out = read_split(root / "nsynth-test")
    train, train_out = read_split(root / train_name)
    notes = [
        f"train = {train_name}, test = nsynth-test (official split); "
        f"{train_out + test_out} synth_lead notes left out (not a PALM class)"
    ]
    if train_name == "nsynth-valid":
        notes.append(
            "nsynth-train/ was not found: the official validation split is the train split"
        )
    return ImportPlan(
        "NS-Instruments", root, (Fold(tuple(train), tuple(test)),), notes=tuple(notes)
    )
