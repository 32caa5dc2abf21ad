"""SESA, Sound Events for Surveillance Applications (Zenodo 3519845): its official train/test folders.

``train/`` (480 files) and ``test/`` (105 files); the class is the file name's leading word
(``casual``, ``gunshot``, ``explosion``, ``siren``; e.g. ``siren_012.wav``).
"""

from __future__ import annotations

import re
from pathlib import Path

from sept_ray.data.catalog import DATASETS
from sept_ray.data.importers.plan import Fold, ImportPlan, Item, NativeLayoutError, find_root
from sept_ray.data.importers.registry import register

SOURCE = "SESA (Zenodo 3519845, sesa.zip unpacked): the folder holding train/ and test/"
LABEL = re.compile(r"[A-Za-z]+")


def read_folder(folder: Path, split: str) -> tuple[Item, ...]:
    """The WAV files of ``folder`` labelled by their name's leading word."""
    classes = DATASETS.get("SESA").classes
    items = []
    for path in sorted(folder.glob("*.wav")):
        word = LABEL.match(path.stem)
        label = word.group(0).lower() if word else ""
        if label not in classes:
            raise NativeLayoutError(
                f"{path}: file name does not start with a class name ({', '.join(classes)})"
            )
        items.append(Item(path, f"audios/{split}/{path.name}", label))
    if not items:
        raise NativeLayoutError(f"{folder}: no .wav files; expected {SOURCE}")
    return tuple(items)


@register("SESA", SOURCE)
def import_sesa(src: Path) -> ImportPlan:
    root = find_root(src, "test", SOURCE)
    if not (root / "train").is_dir():
        raise NativeLayoutError(f"{root}: has test/ but no train/; expected {SOURCE}")
    fold = Fold(read_folder(root / "train", "train"), read_folder(root / "test", "test"))
    return ImportPlan("SESA", root, (fold,), notes=("official split: train/ and test/",))
