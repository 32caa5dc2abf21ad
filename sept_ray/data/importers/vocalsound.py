"""VocalSound (github.com/YuanGongND/vocalsound): ``audio_16k/<speaker>_<session>_<label>.wav``.

The label is the file name's last word (``throatclearing`` is the PALM class ``Throat clearing``).
The official speaker-disjoint split is read from ``datafiles/{tr,val,te}.json`` (AST style,
``{"data": [{"wav": ".../f0003_0_cough.wav", ...}]}``, matched by file name): test = te, train =
tr + val (the protocol has no validation step). Without ``datafiles/``, speakers are held out
(:func:`speaker_split`). ``audio_44k/`` is used only when ``audio_16k/`` is absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sept_ray.data.importers.plan import (
    Fold,
    ImportPlan,
    Item,
    NativeLayoutError,
    Skipped,
    find_root,
    lookup,
    match_files,
    speaker_split,
)
from sept_ray.data.importers.registry import register

SOURCE = (
    "VocalSound (vs_release_16k.zip or vs_release_44k.zip, unpacked): the folder holding "
    "audio_16k/ (or audio_44k/) and datafiles/"
)
NAME = re.compile(r"([fm]\d{4})_(\d+)_([a-z]+)\.wav")
LABELS = {
    "cough": "Cough",
    "laughter": "Laughter",
    "sigh": "Sigh",
    "sneeze": "Sneeze",
    "sniff": "Sniff",
    "throatclearing": "Throat clearing",
}


def listed_names(path: Path) -> set[str]:
    """File names of the ``wav`` entries of an AST-style datafile."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["data"]
        return {Path(entry["wav"]).name for entry in entries}
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise NativeLayoutError(
            f"{path}: not an AST datafile ({{'data': [{{'wav': ...}}]}}): {exc}"
        ) from exc


def official_fold(items: list[Item], datafiles: Path) -> tuple[Fold, list[Skipped]]:
    """The te / tr+val split of ``datafiles``; clips in none of them are returned as skipped."""
    test = listed_names(datafiles / "te.json")
    train = listed_names(datafiles / "tr.json") | listed_names(datafiles / "val.json")
    unlisted = [
        Skipped(str(i.source), "not listed in datafiles/{tr,val,te}.json")
        for i in items
        if i.source.name not in test | train
    ]
    fold = Fold(
        train=tuple(i for i in items if i.source.name in train),
        test=tuple(i for i in items if i.source.name in test),
    )
    return fold, unlisted


@register("VocalSound", SOURCE)
def import_vocalsound(src: Path) -> ImportPlan:
    try:
        root, audio = find_root(src, "audio_16k", SOURCE), "audio_16k"
    except NativeLayoutError:
        root, audio = find_root(src, "audio_44k", SOURCE), "audio_44k"
    matched, other = match_files(root / audio, NAME)
    if not matched:
        raise NativeLayoutError(f"{root / audio}: no <speaker>_<session>_<label>.wav files")
    pairs = [
        (Item(path, f"audios/{path.name}", lookup(LABELS, found.group(3), path)), found.group(1))
        for path, found in matched
    ]
    items = [item for item, _ in pairs]
    datafiles = root / "datafiles"
    if all((datafiles / f"{n}.json").is_file() for n in ("tr", "val", "te")):
        fold, unlisted = official_fold(items, datafiles)
        note = f"official speaker-disjoint split of datafiles/: test = te.json, train = tr.json + val.json ({audio})"
        return ImportPlan(
            "VocalSound", root, (fold,), notes=(note,), skipped=tuple(other + unlisted)
        )
    fold, note = speaker_split(pairs)
    note = f"datafiles/{{tr,val,te}}.json not found; {note} ({audio})"
    return ImportPlan("VocalSound", root, (fold,), notes=(note,), skipped=tuple(other))
