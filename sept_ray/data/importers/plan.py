"""What an importer returns: a dataset's clips with their PALM class names and folds.

An importer reads one official distribution in its native layout and returns an :class:`ImportPlan`
without touching any audio; :mod:`sept_ray.data.importers.writer` then places the files and writes
the PALM CSVs. The split helpers here make the folds that some distributions lack; each is
deterministic (a function of the file names and, for :func:`stratified_folds`, a seed), so an import
gives the same CSVs on every machine.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class NativeLayoutError(ValueError):
    """The source folder does not hold the expected native layout; the message names the file."""


@dataclass(frozen=True)
class Item:
    """One clip: its native file, its path in the PALM folder and its PALM class name."""

    source: Path
    target: str  # relative to the dataset folder, e.g. "audios/fold1/100032-3-0-0.wav"
    classname: str


@dataclass(frozen=True)
class Fold:
    """The train and test clips of one fold."""

    train: tuple[Item, ...]
    test: tuple[Item, ...]


@dataclass(frozen=True)
class Skipped:
    """A native file left out of the import, and why (always reported, never silent)."""

    path: str
    reason: str


@dataclass(frozen=True)
class ImportPlan:
    """A dataset ready to be written: ``folds[k-1]`` is fold k (one entry for single-split sets).

    ``notes`` say how the split was made (printed and recorded beside the CSVs); ``skipped`` lists
    the native files left out.
    """

    name: str
    source: Path
    folds: tuple[Fold, ...]
    notes: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    def items(self) -> list[Item]:
        """Every clip once (by target), in order of first appearance."""
        seen: dict[str, Item] = {}
        for fold in self.folds:
            for item in fold.train + fold.test:
                seen.setdefault(item.target, item)
        return list(seen.values())


def find_root(src: Path, marker: str, expected: str, depth: int = 3) -> Path:
    """The folder holding ``marker`` (a relative path): ``src`` itself or one of its subfolders up to
    ``depth`` levels down, so that the folder an archive unpacks to can be passed as it is.

    ``expected`` describes the distribution for the error raised when none or several match.
    """
    if (src / marker).exists():
        return src
    n_parts = len(Path(marker).parts)
    roots = set()
    for level in range(1, depth + 1):
        for hit in src.glob("/".join(["*"] * level + [marker])):
            roots.add(Path(*hit.parts[: len(hit.parts) - n_parts]))
    if not roots:
        raise NativeLayoutError(
            f"{src}: no {marker} in it or in its subfolders; expected {expected}"
        )
    if len(roots) > 1:
        listed = ", ".join(str(r) for r in sorted(roots))
        raise NativeLayoutError(f"{src}: {marker} found in several folders ({listed}); pass one")
    return roots.pop()


def match_files(
    src: Path, pattern: re.Pattern[str], suffixes: tuple[str, ...] = (".wav",)
) -> tuple[list[tuple[Path, re.Match[str]]], list[Skipped]]:
    """Audio files under ``src`` (recursively, sorted) whose name matches ``pattern``, and the audio
    files whose name does not (as :class:`Skipped`, to be reported)."""
    matched, other = [], []
    files = sorted(p for p in src.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
    for path in files:
        found = pattern.fullmatch(path.name)
        if found:
            matched.append((path, found))
        else:
            other.append(Skipped(str(path), f"file name does not match {pattern.pattern}"))
    return matched, other


def lookup(mapping: dict[str, str], key: str, where: Path | str) -> str:
    """``mapping[key]``; an unknown key raises naming the file and the known keys."""
    if key not in mapping:
        known = ", ".join(sorted(mapping))
        raise NativeLayoutError(f"{where}: unknown label {key!r} (known: {known})")
    return mapping[key]


def parse_fold(value: str, where: str) -> int:
    """A metadata row's fold number; anything but an integer is an error naming ``where``."""
    try:
        return int(value)
    except ValueError:
        raise NativeLayoutError(f"{where}: fold {value!r} is not an integer") from None


def folds_from_ids(pairs: Iterable[tuple[Item, int]], n_folds: int) -> tuple[Fold, ...]:
    """Official folds: fold k tests on the clips whose fold id is k and trains on all the others."""
    pairs = list(pairs)
    for item, fold in pairs:
        if not 1 <= fold <= n_folds:
            raise NativeLayoutError(f"{item.source}: fold {fold} is outside 1..{n_folds}")
    return tuple(
        Fold(
            train=tuple(item for item, fold in pairs if fold != k),
            test=tuple(item for item, fold in pairs if fold == k),
        )
        for k in range(1, n_folds + 1)
    )


def speaker_split(pairs: Iterable[tuple[Item, str]], every: int = 5) -> tuple[Fold, str]:
    """One speaker-disjoint fold: of the sorted speaker ids, those at positions 0, every, 2·every, …
    are test speakers (about 1/``every`` of them), the rest train. Returns the fold and a note
    naming the test speakers."""
    pairs = list(pairs)
    speakers = sorted({speaker for _, speaker in pairs})
    if len(speakers) < 2:
        raise NativeLayoutError(
            f"a speaker-disjoint split needs at least 2 speakers, found {speakers}"
        )
    test_speakers = set(speakers[::every])
    fold = Fold(
        train=tuple(item for item, s in pairs if s not in test_speakers),
        test=tuple(item for item, s in pairs if s in test_speakers),
    )
    note = (
        f"no official split: speaker-disjoint, test = speakers at positions 0, {every}, "
        f"{2 * every}, ... of the {len(speakers)} sorted speaker ids "
        f"({len(test_speakers)} speakers: {', '.join(sorted(test_speakers))}), "
        f"{len(fold.test)} of {len(pairs)} clips"
    )
    return fold, note


def stratified_folds(items: Iterable[Item], n_folds: int, seed: int) -> tuple[Fold, ...]:
    """``n_folds`` stratified folds: each class's clips (sorted by target, then shuffled by
    ``default_rng(seed)``) are dealt round-robin, continuing where the previous class stopped, so
    every class is spread evenly and the fold sizes differ by at most one."""
    by_class: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_class[item.classname].append(item)
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    dealt = 0
    for name in sorted(by_class):
        clips = sorted(by_class[name], key=lambda item: item.target)
        for index in rng.permutation(len(clips)):
            fold_of[clips[index].target] = dealt % n_folds + 1
            dealt += 1
    pairs = [(item, fold_of[item.target]) for name in sorted(by_class) for item in by_class[name]]
    return folds_from_ids(sorted(pairs, key=lambda p: p[0].target), n_folds)


def tail_split(items: Iterable[Item], fraction: float) -> Fold:
    """One fold: the last ceil(``fraction``·n) clips of each class (sorted by target) are test."""
    by_class: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_class[item.classname].append(item)
    train, test = [], []
    for name in sorted(by_class):
        clips = sorted(by_class[name], key=lambda item: item.target)
        cut = len(clips) - math.ceil(fraction * len(clips))
        train += clips[:cut]
        test += clips[cut:]
    return Fold(train=tuple(train), test=tuple(test))
