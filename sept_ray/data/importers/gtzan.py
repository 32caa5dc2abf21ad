"""GT-Music-Genre from GTZAN: ``<genre>/<genre>.000NN.wav`` (Kaggle ``genres_original``) or ``.au``
(the original ``genres`` archive); the genre is the class.

``jazz.00054.wav`` of the Kaggle copy is corrupt and is skipped with a warning. There is no official
split: the last 20 % of each genre's tracks (by number, 00080-00099 of 100) are test, a contiguous
block that keeps most same-artist runs on one side.
"""

from __future__ import annotations

import re
from pathlib import Path

from sept_ray.data.catalog import DATASETS
from sept_ray.data.importers.plan import (
    ImportPlan,
    Item,
    NativeLayoutError,
    Skipped,
    match_files,
    tail_split,
)
from sept_ray.data.importers.registry import register

SOURCE = (
    "GTZAN (Kaggle andradaolteanu/gtzan-dataset-music-genre-classification, Data/genres_original; "
    "or the original genres.tar.gz): the folder holding the <genre>/ folders"
)
GENRES = DATASETS.get("GT-Music-Genre").classes
NAME = re.compile(rf"({'|'.join(GENRES)})\.(\d{{5}})\.(wav|au)")
KNOWN_CORRUPT = {"jazz.00054.wav": "known corrupt file of the Kaggle GTZAN copy"}
TEST_FRACTION = 0.2


@register("GT-Music-Genre", SOURCE)
def import_gtzan(src: Path) -> ImportPlan:
    matched, other = match_files(src, NAME, suffixes=(".wav", ".au"))
    if not matched:
        raise NativeLayoutError(f"{src}: no GTZAN tracks (<genre>.000NN.wav); expected {SOURCE}")
    items, skipped = [], list(other)
    for path, found in matched:
        if path.name in KNOWN_CORRUPT:
            skipped.append(Skipped(str(path), KNOWN_CORRUPT[path.name]))
            continue
        genre = found.group(1)
        items.append(Item(path, f"audios/{genre}/{path.name}", genre))
    note = "no official split: the last 20 % of each genre's tracks (by number) are test"
    return ImportPlan(
        "GT-Music-Genre",
        src,
        (tail_split(items, TEST_FRACTION),),
        notes=(note,),
        skipped=tuple(skipped),
    )
