"""Write an :class:`ImportPlan` as a dataset folder in the PALM layout (docs/DATASETS.md).

``<out_root>/<name>/audios/...`` (the native files, hard-linked, copied or symlinked, never
re-encoded), ``train.csv``/``test.csv`` (columns ``path,classname``) and, for multi-fold sets,
``csv_files/train_{k}.csv``/``test_{k}.csv`` with fold 1 also as ``train.csv``/``test.csv``.
``palm_import.json`` records the source, the split notes, the skipped files and the warnings.

Before anything is written every clip's header is read: a missing native file is an error (the
distribution is incomplete), an unreadable or empty one is skipped with a warning. The folder is
built beside its final place and renamed into it only once its CSVs read back through the manifest
reader, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import soundfile

from sept_ray.data.catalog import DATASETS
from sept_ray.data.importers.plan import Fold, ImportPlan, Item, NativeLayoutError, Skipped
from sept_ray.data.manifest import check_files_exist, read_clips
from sept_ray.progress import progress

IMPORT_VERSION = 1
LINK_MODES = ("hardlink", "copy", "symlink")
RECORD = "palm_import.json"


class SkippedClipWarning(UserWarning):
    """Native files were left out of an import (unreadable, empty, known corrupt, unlabelled)."""


class CoverageWarning(UserWarning):
    """A fold's train or test split has no clips of some class (too few clips for the folds)."""


warnings.simplefilter("always", SkippedClipWarning)
warnings.simplefilter("always", CoverageWarning)


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote: the dataset folder, clip and fold counts, how files were placed."""

    folder: Path
    clips: int
    folds: int
    placed: dict[str, int]  # "hardlink"/"copy"/"symlink" -> number of files
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]


def probe(items: list[Item]) -> list[Skipped]:
    """Read every clip's header: the unreadable or empty ones, as :class:`Skipped`.

    A missing native file raises :class:`NativeLayoutError` (naming up to 5 of them).
    """
    missing = [item.source for item in items if not item.source.is_file()]
    if missing:
        listed = ", ".join(str(p) for p in missing[:5])
        raise NativeLayoutError(
            f"{len(missing)} file(s) named by the native metadata are missing (incomplete "
            f"download or unpacking?): {listed}{' ...' if len(missing) > 5 else ''}"
        )
    bad = []
    for item in progress(items, total=len(items), desc="reading headers", unit="clip"):
        try:
            info = soundfile.info(str(item.source))
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
            bad.append(Skipped(str(item.source), f"unreadable audio ({exc})"))
            continue
        if info.frames == 0:
            bad.append(Skipped(str(item.source), "audio file holds no samples"))
    return bad


def drop(plan: ImportPlan, skipped: list[Skipped]) -> ImportPlan:
    """``plan`` without the clips whose source is in ``skipped``, which join ``plan.skipped``."""
    gone = {s.path for s in skipped}
    folds = tuple(
        Fold(
            train=tuple(i for i in fold.train if str(i.source) not in gone),
            test=tuple(i for i in fold.test if str(i.source) not in gone),
        )
        for fold in plan.folds
    )
    return replace(plan, folds=folds, skipped=plan.skipped + tuple(skipped))


def validate(plan: ImportPlan) -> list[str]:
    """Errors (raised) for a plan that cannot be a PALM dataset; warnings (returned) for folds
    whose splits lack some class."""
    expected = DATASETS.get(plan.name).classes
    items = plan.items()
    sources: dict[str, Path] = {}
    for fold in plan.folds:
        for item in fold.train + fold.test:
            target = PurePosixPath(item.target)
            if target.is_absolute() or ".." in target.parts:
                raise NativeLayoutError(
                    f"{item.source}: target {item.target!r} would leave the dataset folder"
                )
            if sources.setdefault(item.target, item.source) != item.source:
                raise NativeLayoutError(
                    f"{item.source} and {sources[item.target]} would both be {item.target}"
                )
    found = {item.classname for item in items}
    unknown, absent = sorted(found - set(expected)), sorted(set(expected) - found)
    if unknown or absent:
        raise NativeLayoutError(
            f"{plan.source}: {plan.name} class names differ from PALM's: "
            f"unexpected {unknown or 'none'}, absent {absent or 'none'}"
        )
    notes = []
    for k, fold in enumerate(plan.folds, start=1):
        for split, clips in (("train", fold.train), ("test", fold.test)):
            if not clips:
                raise NativeLayoutError(f"{plan.source}: fold {k} {split} split has no clips")
            lacking = sorted(set(expected) - {item.classname for item in clips})
            if lacking:
                notes.append(f"fold {k} {split} has no clips of: {', '.join(lacking)}")
    return notes


def place(source: Path, target: Path, mode: str) -> str:
    """Put ``source`` at ``target`` as a hard link (falling back to a copy across filesystems),
    a copy, or a symlink to its absolute path. Returns how it was placed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode == "symlink":
        target.symlink_to(source.resolve())
        return "symlink"
    if mode == "hardlink":
        try:
            os.link(source, target)
            return "hardlink"
        except OSError:  # another filesystem, or links unsupported: copy instead
            pass
    shutil.copy2(source, target)
    return "copy"


def write_rows(path: Path, items: tuple[Item, ...]) -> None:
    """A ``path,classname`` CSV of ``items``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["path", "classname"])
        writer.writerows((item.target, item.classname) for item in items)


def csv_files(n_folds: int) -> list[tuple[str, str, int]]:
    """(train CSV, test CSV, fold) of a dataset with ``n_folds`` folds."""
    pairs = [("train.csv", "test.csv", 1)]
    if n_folds > 1:
        pairs += [
            (f"csv_files/train_{k}.csv", f"csv_files/test_{k}.csv", k)
            for k in range(1, n_folds + 1)
        ]
    return pairs


def check_destination(plan: ImportPlan, final: Path, force: bool) -> None:
    """Refuse to overwrite an existing folder without ``force``, or ever to replace the source."""
    source = plan.source.resolve()
    if source in final.resolve().parents:
        raise NativeLayoutError(
            f"{final} is inside the source {plan.source}: a later import would read it back as "
            "source clips; choose an OUT_ROOT outside SRC_DIR"
        )
    if not final.exists():
        return
    if not force:
        raise ValueError(f"{final} exists: pass --force to replace it")
    if source == final.resolve() or final.resolve() in source.parents:
        raise NativeLayoutError(f"{final} holds the source {plan.source}: choose another OUT_ROOT")


def write_palm(
    plan: ImportPlan, out_root: str | Path, mode: str = "hardlink", force: bool = False
) -> ImportResult:
    """Write ``plan`` as ``<out_root>/<plan.name>`` in the PALM layout; see the module docstring."""
    if mode not in LINK_MODES:
        raise ValueError(f"mode = {mode!r}: must be one of {', '.join(LINK_MODES)}")
    out_root = Path(out_root)
    final = out_root / plan.name
    check_destination(plan, final, force)
    validate(plan)  # fail fast, before reading every header
    plan = drop(plan, probe(plan.items()))
    coverage = validate(plan)
    if plan.skipped:
        listed = "\n  ".join(f"{s.path}: {s.reason}" for s in plan.skipped)
        warnings.warn(
            f"{plan.name}: {len(plan.skipped)} native file(s) left out:\n  {listed}",
            SkippedClipWarning,
            stacklevel=2,
        )
    for note in coverage:
        warnings.warn(f"{plan.name}: {note}", CoverageWarning, stacklevel=2)
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_root, prefix=f".{plan.name}.importing-"))
    try:
        items = plan.items()
        placed = Counter(
            place(item.source, tmp / item.target, mode)
            for item in progress(
                items, total=len(items), desc=f"importing {plan.name}", unit="clip"
            )
        )
        for train_csv, test_csv, k in csv_files(len(plan.folds)):
            write_rows(tmp / train_csv, plan.folds[k - 1].train)
            write_rows(tmp / test_csv, plan.folds[k - 1].test)
        for train_csv, test_csv, _ in csv_files(len(plan.folds)):
            for name in (train_csv, test_csv):
                check_files_exist(tmp, read_clips(tmp / name), tmp / name)
        record = {
            "dataset": plan.name,
            "import_version": IMPORT_VERSION,
            "source": str(plan.source.resolve()),
            "mode": mode,
            "placed": dict(placed),
            "clips": len(items),
            "folds": len(plan.folds),
            "notes": list(plan.notes),
            "warnings": coverage,
            "skipped": [{"path": s.path, "reason": s.reason} for s in plan.skipped],
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=1))
        replace_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ImportResult(
        folder=final,
        clips=len(items),
        folds=len(plan.folds),
        placed=dict(placed),
        skipped=plan.skipped,
        warnings=tuple(coverage),
    )


def replace_folder(new: Path, final: Path) -> None:
    """Move ``new`` to ``final``; an existing ``final`` is moved aside first and deleted only once
    ``new`` is in place (restored if the move fails), so a crash never leaves no dataset."""
    if not final.exists():
        new.rename(final)
        return
    old = final.with_name(f".{final.name}.replaced-{os.getpid()}")
    final.rename(old)
    try:
        new.rename(final)
    except BaseException:
        old.rename(final)
        raise
    shutil.rmtree(old)
