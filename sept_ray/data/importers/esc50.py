"""ESC-50 and its human non-speech subset, ESC50-Actions, from the official distribution.

``meta/esc50.csv`` (columns ``filename,fold,target,category,...``) and ``audio/<filename>``; the
category ``chirping_birds`` is the PALM class ``chirping birds``. Both use the 5 official folds.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sept_ray.data.catalog import DATASETS
from sept_ray.data.importers.plan import (
    ImportPlan,
    Item,
    NativeLayoutError,
    find_root,
    folds_from_ids,
    parse_fold,
)
from sept_ray.data.importers.registry import register

SOURCE = "ESC-50 (github.com/karolpiczak/ESC-50, ESC-50-master.zip): the folder with meta/esc50.csv and audio/"
COLUMNS = ("filename", "fold", "category")


def read_meta(src: Path) -> tuple[Path, list[dict[str, str]]]:
    """The ESC-50 root under ``src`` and the rows of its ``meta/esc50.csv``."""
    root = find_root(src, "meta/esc50.csv", SOURCE)
    meta = root / "meta/esc50.csv"
    with open(meta, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise NativeLayoutError(f"{meta}: missing column(s) {', '.join(missing)}")
        return root, list(reader)


def esc_plan(name: str, src: Path) -> ImportPlan:
    """The clips of ``meta/esc50.csv`` whose category is a class of ``name``, in the official folds."""
    root, rows = read_meta(src)
    keep = set(DATASETS.get(name).classes)
    pairs = []
    for line, row in enumerate(rows, start=2):
        classname = row["category"].replace("_", " ")
        if classname not in keep:
            if name == "ESC50":
                raise NativeLayoutError(
                    f"{root / 'meta/esc50.csv'}:{line}: unknown category {row['category']!r}"
                )
            continue
        item = Item(root / "audio" / row["filename"], f"audios/{row['filename']}", classname)
        pairs.append((item, parse_fold(row["fold"], f"{root / 'meta/esc50.csv'}:{line}")))
    note = "official folds of meta/esc50.csv: fold k tests on the clips of ESC-50 fold k"
    if name != "ESC50":
        note += f"; only ESC-50's human non-speech categories ({len(keep)} of 50)"
    return ImportPlan(name, root, folds_from_ids(pairs, 5), notes=(note,))


@register("ESC50", SOURCE)
def import_esc50(src: Path) -> ImportPlan:
    return esc_plan("ESC50", src)


@register("ESC50-Actions", SOURCE)
def import_esc50_actions(src: Path) -> ImportPlan:
    return esc_plan("ESC50-Actions", src)
