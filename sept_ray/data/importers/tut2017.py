"""TUT Acoustic Scenes 2017 (development set) from the official distribution: its 4-fold setup.

``evaluation_setup/fold<k>_train.txt`` and ``fold<k>_evaluate.txt`` list ``audio/<file>.wav<TAB>
<scene>`` per line; fold k trains on the first and tests on the second. The scene labels are the
PALM class names. PALM's logs suggest its folds 2-4 tested on the train lists; we follow the
official setup.
"""

from __future__ import annotations

from pathlib import Path

from sept_ray.data.importers.plan import Fold, ImportPlan, Item, NativeLayoutError, find_root
from sept_ray.data.importers.registry import register

SOURCE = (
    "TUT Acoustic Scenes 2017, development set (Zenodo 400515: the audio zips, meta and doc "
    "unpacked together): the folder TUT-acoustic-scenes-2017-development with audio/ and "
    "evaluation_setup/"
)
N_FOLDS = 4


def read_list(root: Path, path: Path) -> tuple[Item, ...]:
    """The ``<file><TAB><scene>`` lines of an evaluation_setup list, as items."""
    if not path.is_file():
        raise NativeLayoutError(f"{path}: fold list not found; expected {SOURCE}")
    items = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.strip().split("\t") if "\t" in line else line.split()
        if len(fields) < 2:
            raise NativeLayoutError(f"{path}:{line_no}: expected '<file>\\t<scene>', got {line!r}")
        rel, scene = fields[0], fields[1]
        items.append(Item(root / rel, f"audios/{Path(rel).name}", scene))
    return tuple(items)


@register("TUT2017", SOURCE)
def import_tut2017(src: Path) -> ImportPlan:
    root = find_root(src, "evaluation_setup/fold1_train.txt", SOURCE)
    setup = root / "evaluation_setup"
    folds = tuple(
        Fold(
            train=read_list(root, setup / f"fold{k}_train.txt"),
            test=read_list(root, setup / f"fold{k}_evaluate.txt"),
        )
        for k in range(1, N_FOLDS + 1)
    )
    note = (
        "official 4-fold setup: fold k trains on fold<k>_train.txt, tests on fold<k>_evaluate.txt"
    )
    return ImportPlan("TUT2017", root, folds, notes=(note,))
