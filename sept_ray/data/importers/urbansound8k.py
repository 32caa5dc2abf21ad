"""UrbanSound8K from the official distribution: its 10 predefined folds (never reshuffled).

``metadata/UrbanSound8K.csv`` (columns ``slice_file_name,fsID,start,end,salience,fold,classID,class``)
and ``audio/fold<k>/<slice_file_name>``; the class ``dog_bark`` is the PALM class ``dog bark``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sept_ray.data.importers.plan import (
    ImportPlan,
    Item,
    NativeLayoutError,
    find_root,
    folds_from_ids,
    parse_fold,
)
from sept_ray.data.importers.registry import register

SOURCE = "UrbanSound8K (urbansounddataset.weebly.com, UrbanSound8K.tar.gz): the folder with metadata/ and audio/"
COLUMNS = ("slice_file_name", "fold", "class")


@register("UrbanSound8K", SOURCE)
def import_urbansound8k(src: Path) -> ImportPlan:
    root = find_root(src, "metadata/UrbanSound8K.csv", SOURCE)
    meta = root / "metadata/UrbanSound8K.csv"
    with open(meta, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise NativeLayoutError(f"{meta}: missing column(s) {', '.join(missing)}")
        pairs = []
        for row in reader:
            fold = parse_fold(row["fold"], f"{meta}:{reader.line_num}")
            name = row["slice_file_name"]
            item = Item(
                root / "audio" / f"fold{fold}" / name,
                f"audios/fold{fold}/{name}",
                row["class"].replace("_", " "),
            )
            pairs.append((item, fold))
    note = "official folds of metadata/UrbanSound8K.csv: fold k tests on audio/fold<k>"
    return ImportPlan("UrbanSound8K", root, folds_from_ids(pairs, 10), notes=(note,))
