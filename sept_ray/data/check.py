"""``sept data check``: what a PALM-layout dataset folder holds, and what is wrong with it.

Counts per class and fold (train/test), the audio formats (sample rates, channels, subtypes) and
durations (min/median/max) from each file's header, and the problems: malformed or absent CSVs,
missing files, unreadable or empty files, a class absent from a split, a clip in both splits of a
fold, and class names that differ from the registered ones (:mod:`sept_ray.data.catalog`).
``decode=True`` also decodes every clip (NaN/inf samples, truncated data), which is slower.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import soundfile

from sept_ray.data.audio import AudioError, read_mono
from sept_ray.data.catalog import DATASETS
from sept_ray.data.manifest import Clip, ManifestError, count_folds, read_clips, split_files
from sept_ray.progress import progress


@dataclass
class AudioStats:
    """Header facts of the readable clips: counters of rate (Hz), channels and format, and the
    durations in seconds."""

    rates: Counter = field(default_factory=Counter)
    channels: Counter = field(default_factory=Counter)
    formats: Counter = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)


@dataclass
class CheckReport:
    """The result of :func:`check_dataset`; ``problems`` empty means the dataset is usable."""

    folder: Path
    folds: list[tuple[tuple[Clip, ...], tuple[Clip, ...]]] = field(default_factory=list)
    audio: AudioStats = field(default_factory=AudioStats)
    missing: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return sorted({c.classname for train, test in self.folds for c in train + test})

    @property
    def problems(self) -> list[str]:
        """Every problem found, one line each."""
        return (
            self.errors
            + [f"missing file: {p}" for p in self.missing]
            + [f"unreadable file: {p}: {why}" for p, why in self.unreadable]
        )

    def render(self) -> str:
        """The report as text: counts, audio formats, then the problems (or "no problems")."""
        unique = {c.path for train, test in self.folds for c in train + test}
        lines = [
            f"{self.folder.name}: {self.folder} ({len(self.folds)} fold(s), "
            f"{len(self.classes)} classes, {len(unique)} clips)"
        ]
        if self.folds:
            lines += self._count_table()
        audio = self.audio
        if audio.durations:
            lines += [
                "sample rates: " + _counted(audio.rates, " Hz"),
                "channels: " + _counted(audio.channels),
                "formats: " + _counted(audio.formats),
                f"durations: min {min(audio.durations):.2f} s, median "
                f"{statistics.median(audio.durations):.2f} s, max {max(audio.durations):.2f} s",
            ]
        problems = self.problems
        lines.append(f"problems ({len(problems)}):" if problems else "no problems")
        lines += [f"  {p}" for p in problems]
        return "\n".join(lines)

    def _count_table(self) -> list[str]:
        """Per class, ``train/test`` clips of each fold, with a total row."""
        width = max(len(c) for c in [*self.classes, "class", "total"])
        header = "class".ljust(width) + "".join(
            f"  {f'fold {k} train/test':>19}" for k in range(1, len(self.folds) + 1)
        )
        rows = [header]
        for name in [*self.classes, "total"]:
            cells = []
            for train, test in self.folds:
                n_train = sum(1 for c in train if name in ("total", c.classname))
                n_test = sum(1 for c in test if name in ("total", c.classname))
                cells.append(f"  {f'{n_train}/{n_test}':>19}")
            rows.append(name.ljust(width) + "".join(cells))
        return rows


def _counted(counter: Counter, unit: str = "") -> str:
    return ", ".join(f"{value}{unit} ({n})" for value, n in sorted(counter.items()))


def read_folds(report: CheckReport) -> None:
    """Fill ``report.folds`` from the CSVs; malformed ones become errors."""
    try:
        n_folds = count_folds(report.folder)
        for fold in range(1, n_folds + 1):
            train_csv, test_csv = split_files(report.folder, fold)
            report.folds.append((read_clips(train_csv), read_clips(test_csv)))
    except ManifestError as exc:
        report.errors.append(str(exc))


def check_splits(report: CheckReport) -> None:
    """Class coverage of every split, leaks between a fold's splits, and the registered classes."""
    classes = set(report.classes)
    for k, (train, test) in enumerate(report.folds, start=1):
        for split, clips in (("train", train), ("test", test)):
            lacking = sorted(classes - {c.classname for c in clips})
            if lacking:
                report.errors.append(f"fold {k} {split}: no clips of {', '.join(lacking)}")
        both = sorted({c.path for c in train} & {c.path for c in test})
        if both:
            report.errors.append(
                f"fold {k}: {len(both)} clip(s) in both train and test, e.g. {both[0]}"
            )
    name = report.folder.name
    expected = set(DATASETS.get(name).classes) if name in DATASETS else set()
    if expected and report.folds and classes != expected:
        report.errors.append(
            f"classes differ from the registered {name}: unexpected "
            f"{sorted(classes - expected) or 'none'}, absent {sorted(expected - classes) or 'none'}"
        )


def check_audio(report: CheckReport, decode: bool) -> None:
    """Header (and with ``decode``, samples) of every clip named by any CSV."""
    paths = sorted({c.path for train, test in report.folds for c in train + test})
    for rel in progress(
        paths, total=len(paths), desc=f"checking {report.folder.name}", unit="clip"
    ):
        path = report.folder / rel
        if not path.is_file():
            report.missing.append(rel)
            continue
        try:
            info = soundfile.info(str(path))
            if info.frames == 0:
                raise AudioError("audio file holds no samples")
            if decode:
                read_mono(path)
        except (soundfile.LibsndfileError, RuntimeError, TypeError, AudioError) as exc:
            report.unreadable.append((rel, str(exc)))
            continue
        report.audio.rates[info.samplerate] += 1
        report.audio.channels[info.channels] += 1
        report.audio.formats[f"{info.format} {info.subtype}"] += 1
        report.audio.durations.append(info.frames / info.samplerate)


def check_dataset(folder: str | Path, decode: bool = False) -> CheckReport:
    """Check the PALM-layout dataset at ``folder``; see the module docstring."""
    report = CheckReport(folder=Path(folder).resolve())  # "." -> its name
    if not report.folder.is_dir():
        report.errors.append(f"{report.folder}: dataset folder not found")
        return report
    if not (report.folder / "train.csv").is_file() and not (report.folder / "csv_files").is_dir():
        report.errors.append(
            f"{report.folder}: not a PALM-layout dataset (no train.csv or csv_files/); an official "
            "distribution must be imported first: sept data import NAME SRC_DIR OUT_ROOT"
        )
        return report
    read_folds(report)
    check_splits(report)
    check_audio(report, decode)
    return report
