"""Beijing Opera Percussion Instrument Dataset (Zenodo 1285212): a flat folder of
``<freesound id>__ajaysm__<instrument>-<NN>.wav``; the instrument is the class.

There are no official folds: 5 stratified folds are dealt with seed 0 (:func:`stratified_folds`),
as PALM and HEAR use 5-fold cross-validation.
"""

from __future__ import annotations

import re
from pathlib import Path

from sept_ray.data.catalog import DATASETS
from sept_ray.data.importers.plan import (
    ImportPlan,
    Item,
    NativeLayoutError,
    lookup,
    match_files,
    stratified_folds,
)
from sept_ray.data.importers.registry import register

SOURCE = (
    "Beijing Opera Percussion (Zenodo 1285212, beijing_opera_percussion_instrument_1.0.zip "
    "unpacked): the folder holding the <id>__ajaysm__<instrument>-<NN>.wav files"
)
NAME = re.compile(r"(\d+)__ajaysm__([a-z]+)-(\d+)\.wav")
N_FOLDS = 5
SEED = 0


@register("Beijing-Opera", SOURCE)
def import_beijing_opera(src: Path) -> ImportPlan:
    matched, other = match_files(src, NAME)
    if not matched:
        raise NativeLayoutError(
            f"{src}: no <id>__ajaysm__<instrument>-<NN>.wav files; expected {SOURCE}"
        )
    instruments = {name: name for name in DATASETS.get("Beijing-Opera").classes}
    items = [
        Item(path, f"audios/{path.name}", lookup(instruments, found.group(2), path))
        for path, found in matched
    ]
    note = f"no official folds: {N_FOLDS} stratified folds dealt with seed {SEED}"
    return ImportPlan(
        "Beijing-Opera",
        src,
        stratified_folds(items, N_FOLDS, SEED),
        notes=(note,),
        skipped=tuple(other),
    )
