"""Dataset manifests in the PALM layout (docs/DATASETS.md).

``<root>/<Name>/train.csv`` and ``test.csv`` with columns ``path,classname`` (``path`` relative to the
dataset folder); multi-fold datasets add ``csv_files/train_{k}.csv`` and ``test_{k}.csv`` (k from 1),
which take precedence over ``train.csv``/``test.csv`` (PALM's scripts copy fold k onto those).
Classes are the sorted unique class names (case-sensitive sort), and labels index that list.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

REQUIRED_COLUMNS = ("path", "classname")


class ManifestError(ValueError):
    """A dataset folder or CSV is malformed; the message names the file (and row)."""


@dataclass(frozen=True)
class Clip:
    """One labelled clip: ``path`` relative to the dataset folder."""

    path: str
    classname: str


@dataclass(frozen=True)
class DatasetSplit:
    """The train and test clips of one fold, and the dataset's sorted class names."""

    name: str
    root: Path
    fold: int
    classes: tuple[str, ...]
    train: tuple[Clip, ...]
    test: tuple[Clip, ...]


def dataset_dir(root: str | Path, name: str) -> Path:
    """``<root>/<name>``, which must exist; the error says which name was probably meant, or how
    to get the dataset."""
    folder = Path(root) / name
    if not folder.is_dir():
        # imported here: the catalog it reads imports this module
        from sept_ray.data.missing import missing_dataset_message

        raise ManifestError(missing_dataset_message(root, name))
    return folder


def count_folds(folder: Path) -> int:
    """Number of folds: the k of ``csv_files/train_{k}.csv`` (1..n), or 1 without ``csv_files``."""
    csv_dir = folder / "csv_files"
    if not csv_dir.is_dir():
        return 1
    folds = sorted(
        int(m.group(1))
        for p in csv_dir.iterdir()
        if (m := re.fullmatch(r"train_(\d+)\.csv", p.name))
    )
    if not folds:
        return 1
    if folds != list(range(1, len(folds) + 1)):
        raise ManifestError(f"{csv_dir}: fold files must be numbered 1..n, found {folds}")
    return len(folds)


def split_files(folder: Path, fold: int) -> tuple[Path, Path]:
    """The (train, test) CSVs of ``fold``; an absent fold is an error naming what exists."""
    n_folds = count_folds(folder)
    if fold > n_folds:
        raise ManifestError(f"{folder}: fold {fold} requested, the dataset has {n_folds}")
    if (folder / "csv_files/train_1.csv").is_file():
        return folder / f"csv_files/train_{fold}.csv", folder / f"csv_files/test_{fold}.csv"
    return folder / "train.csv", folder / "test.csv"


def read_clips(csv_path: Path) -> tuple[Clip, ...]:
    """Rows of a ``path,classname`` CSV; a missing column or an empty field names the row."""
    if not csv_path.is_file():
        raise ManifestError(f"{csv_path}: CSV file not found")
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:  # tolerates a BOM
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ManifestError(
                f"{csv_path}: missing column(s) {', '.join(missing)} (found: {', '.join(columns)})"
            )
        clips = []
        for line, row in enumerate(reader, start=2):
            path, name = (row.get("path") or "").strip(), (row.get("classname") or "").strip()
            if not path or not name:
                raise ManifestError(f"{csv_path}:{line}: empty path or classname")
            clips.append(Clip(path=path, classname=name))
    if not clips:
        raise ManifestError(f"{csv_path}: no rows")
    return tuple(clips)


def check_files_exist(folder: Path, clips: tuple[Clip, ...], csv_path: Path) -> None:
    """Every clip's file exists; the first missing one is named with its CSV."""
    for clip in clips:
        if not (folder / clip.path).is_file():
            raise ManifestError(
                f"{csv_path}: row {clip.path!r} -> file {folder / clip.path} not found"
            )


def load_split(root: str | Path, name: str, fold: int = 1) -> DatasetSplit:
    """Read fold ``fold`` of dataset ``name`` and check it: files exist, every class has clips."""
    folder = dataset_dir(root, name)
    train_csv, test_csv = split_files(folder, fold)
    train, test = read_clips(train_csv), read_clips(test_csv)
    for clips, csv_path in ((train, train_csv), (test, test_csv)):
        check_files_exist(folder, clips, csv_path)
    classes = tuple(sorted({c.classname for c in train} | {c.classname for c in test}))
    for clips, csv_path in ((train, train_csv), (test, test_csv)):
        present = {c.classname for c in clips}
        absent = [c for c in classes if c not in present]
        if absent:
            raise ManifestError(f"{csv_path}: class(es) with no clips: {', '.join(absent)}")
    return DatasetSplit(name=name, root=folder, fold=fold, classes=classes, train=train, test=test)


def all_clip_paths(folder: Path) -> list[str]:
    """Sorted relative paths of every clip named by any CSV of the dataset (all folds, both splits)."""
    csvs = [folder / "train.csv", folder / "test.csv"]
    if (folder / "csv_files").is_dir():
        csvs += sorted((folder / "csv_files").glob("*.csv"))
    paths = {clip.path for csv_path in csvs if csv_path.is_file() for clip in read_clips(csv_path)}
    if not paths:
        raise ManifestError(f"{folder}: no train.csv, test.csv or csv_files/*.csv")
    return sorted(paths)


def manifest_hash(folder: Path, paths: list[str] | None = None) -> str:
    """sha256 over every CSV's bytes and every listed clip's bytes: changes when any of them does."""
    digest = hashlib.sha256()
    csvs = sorted(folder.glob("*.csv")) + sorted((folder / "csv_files").glob("*.csv"))
    for csv_path in csvs:
        digest.update(csv_path.relative_to(folder).as_posix().encode())
        digest.update(hashlib.sha256(csv_path.read_bytes()).digest())
    for rel in paths if paths is not None else all_clip_paths(folder):
        digest.update(rel.encode())
        digest.update(_file_digest(folder / rel))
    return digest.hexdigest()


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
