"""Tiny replicas of each official distribution's native layout, as real audio files in that
dataset's own format (sample rate, channels, bit depth), for the importer tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import soundfile

from sept_ray.data.palm_classes import PALM_CLASSES


def write_wav(
    path: Path, rate: int, channels: int = 1, subtype: str = "PCM_16", seconds: float = 0.1
) -> Path:
    """A short tone (a different pitch per file name) at ``rate`` Hz, ``channels``, ``subtype``."""
    n = round(rate * seconds)
    freq = 200 + sum(path.name.encode()) % 800
    wave = 0.3 * np.sin(2 * np.pi * freq * np.arange(n) / rate).astype(np.float32)
    data = np.stack([wave] * channels, axis=1) if channels > 1 else wave
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, data, rate, subtype=subtype)
    return path


def write_table(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def make_esc50(root: Path) -> Path:
    """``ESC-50-master/`` with one clip per category and fold (250 clips, 44.1 kHz mono PCM16)."""
    base = root / "ESC-50-master"
    rows = []
    for target, classname in enumerate(PALM_CLASSES["ESC50"]):
        category = classname.replace(" ", "_")
        for fold in range(1, 6):
            name = f"{fold}-{100000 + 10 * target + fold}-A-{target}.wav"
            write_wav(base / "audio" / name, 44100)
            rows.append([name, fold, target, category, False, f"{100000 + target}", "A"])
    header = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    write_table(base / "meta/esc50.csv", header, rows)
    return base


def make_urbansound8k(root: Path) -> Path:
    """``UrbanSound8K/`` with one clip per class and fold; formats vary as in the real set."""
    base = root / "UrbanSound8K"
    formats = [
        (44100, 2, "PCM_16"),
        (48000, 1, "PCM_24"),
        (22050, 1, "PCM_U8"),
        (96000, 2, "FLOAT"),
    ]
    rows = []
    for class_id, classname in enumerate(PALM_CLASSES["UrbanSound8K"]):
        for fold in range(1, 11):
            fs_id = 1000 * class_id + fold
            name = f"{fs_id}-{class_id}-0-{fold}.wav"
            rate, channels, subtype = formats[(class_id + fold) % len(formats)]
            write_wav(base / f"audio/fold{fold}" / name, rate, channels, subtype)
            rows.append([name, fs_id, 0.0, 0.1, 1, fold, class_id, classname.replace(" ", "_")])
    header = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]
    write_table(base / "metadata/UrbanSound8K.csv", header, rows)
    return base


def make_tut2017(root: Path) -> Path:
    """``TUT-acoustic-scenes-2017-development/``: 4 segments per scene (44.1 kHz, 24-bit, stereo);
    segment j is evaluated in fold j+1 and trained on in the others."""
    base = root / "TUT-acoustic-scenes-2017-development"
    by_fold: dict[int, list[str]] = {k: [] for k in range(1, 5)}
    meta = []
    for s, scene in enumerate(PALM_CLASSES["TUT2017"]):
        for j in range(4):
            rel = f"audio/{chr(97 + s)}{j:03d}_0_10.wav"
            write_wav(base / rel, 44100, channels=2, subtype="PCM_24")
            by_fold[j + 1].append(f"{rel}\t{scene}")
            meta.append(f"{rel}\t{scene}\t{chr(97 + s)}{j:03d}")
    setup = base / "evaluation_setup"
    setup.mkdir(parents=True)
    for k in range(1, 5):
        train = [line for f, lines in by_fold.items() if f != k for line in lines]
        (setup / f"fold{k}_train.txt").write_text("\n".join(train) + "\n")
        (setup / f"fold{k}_evaluate.txt").write_text("\n".join(by_fold[k]) + "\n")
        (setup / f"fold{k}_test.txt").write_text(
            "\n".join(line.split("\t")[0] for line in by_fold[k]) + "\n"
        )
    (base / "meta.txt").write_text("\n".join(meta) + "\n")
    return base


NSYNTH_FAMILIES = [*PALM_CLASSES["NS-Instruments"], "synth_lead"]


def make_nsynth(root: Path, splits: tuple[str, ...] = ("nsynth-train", "nsynth-test")) -> Path:
    """``nsynth/nsynth-<split>/`` with 2 notes per family (incl. synth_lead), 16 kHz mono PCM16."""
    base = root / "nsynth"
    for split in splits:
        examples = {}
        for f, family in enumerate(NSYNTH_FAMILIES):
            for i in range(2):
                pitch = 40 + i + (10 if split == "nsynth-test" else 0)
                note = f"{family}_acoustic_{f:03d}-{pitch:03d}-100"
                write_wav(base / split / "audio" / f"{note}.wav", 16000)
                examples[note] = {
                    "note_str": note,
                    "instrument_family": f,
                    "instrument_family_str": family,
                    "instrument_source_str": "acoustic",
                    "pitch": pitch,
                    "velocity": 100,
                    "sample_rate": 16000,
                    "qualities": [0] * 10,
                }
        (base / split / "examples.json").write_text(json.dumps(examples))
    return base


RAVDESS_CODES = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
"""The emotion codes of the RAVDESS README."""


def make_ravdess(root: Path) -> Path:
    """``Actor_01..03/`` with one speech clip per emotion and one song clip (48 kHz 16-bit mono),
    plus a stray WAV whose name is not a RAVDESS code."""
    base = root / "ravdess"
    for actor in ("01", "02", "03"):
        for code in RAVDESS_CODES:
            write_wav(base / f"Actor_{actor}" / f"03-01-{code}-01-01-01-{actor}.wav", 48000)
        write_wav(base / f"Actor_{actor}" / f"03-02-03-02-02-01-{actor}.wav", 48000)
    write_wav(base / "Actor_01" / "readme-tone.wav", 48000)
    return base


def make_crema_d(root: Path) -> Path:
    """``CREMA-D/AudioWAV/`` with actors 1001-1003 × 6 emotions (16 kHz mono PCM16)."""
    base = root / "CREMA-D"
    for actor in (1001, 1002, 1003):
        for code in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"):
            write_wav(base / "AudioWAV" / f"{actor}_IEO_{code}_XX.wav", 16000)
    return base


def make_sesa(root: Path) -> Path:
    """``SESA/train`` (3 per class) and ``SESA/test`` (1 per class), 16 kHz mono, 8- and 16-bit."""
    base = root / "SESA"
    for split, n in (("train", 3), ("test", 1)):
        for c, label in enumerate(("casual", "gunshot", "explosion", "siren")):
            for i in range(n):
                subtype = "PCM_U8" if (c + i) % 2 else "PCM_16"
                write_wav(base / split / f"{label}_{i:03d}.wav", 16000, subtype=subtype)
    return base


def make_gtzan(root: Path) -> Path:
    """``Data/genres_original/<genre>/<genre>.0000N.wav``: 5 tracks per genre (22.05 kHz mono
    PCM16) plus the corrupt ``jazz.00054.wav`` of the Kaggle copy."""
    base = root / "Data" / "genres_original"
    for genre in PALM_CLASSES["GT-Music-Genre"]:
        for i in range(5):
            write_wav(base / genre / f"{genre}.{i:05d}.wav", 22050)
    (base / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVE not audio")
    return root / "Data"


VOCAL_LABELS = ["cough", "laughter", "sigh", "sneeze", "sniff", "throatclearing"]


def make_vocalsound(root: Path, datafiles: bool = True) -> Path:
    """``data/audio_16k/<speaker>_0_<label>.wav`` for speakers f0001, m0002, f0003, f0004
    (16 kHz mono PCM16) and AST datafiles: f0001+f0004 train, m0002 val, f0003 test; one extra
    recording (f0001 session 1) is in no datafile."""
    base = root / "data"
    wav = {}
    for speaker in ("f0001", "m0002", "f0003", "f0004"):
        wav[speaker] = [
            write_wav(base / "audio_16k" / f"{speaker}_0_{label}.wav", 16000).name
            for label in VOCAL_LABELS
        ]
    write_wav(base / "audio_16k" / "f0001_1_cough.wav", 16000)
    if datafiles:

        def datafile(name: str, speakers: list[str]) -> None:
            entries = [
                {"wav": f"/data/sls/scratch/vocalsound/audio_16k/{n}", "labels": "/m/01b_21"}
                for s in speakers
                for n in wav[s]
            ]
            (base / "datafiles").mkdir(parents=True, exist_ok=True)
            (base / "datafiles" / f"{name}.json").write_text(json.dumps({"data": entries}))

        datafile("tr", ["f0001", "f0004"])
        datafile("val", ["m0002"])
        datafile("te", ["f0003"])
    return base


def make_beijing_opera(root: Path, per_class: int = 5) -> Path:
    """A flat folder of ``<id>__ajaysm__<instrument>-<NN>.wav`` (44.1 kHz mono, PCM16 and float)."""
    base = root / "beijing_opera"
    for c, instrument in enumerate(PALM_CLASSES["Beijing-Opera"]):
        for i in range(per_class):
            subtype = "FLOAT" if i % 2 else "PCM_16"
            name = f"{222000 + 10 * c + i}__ajaysm__{instrument}-{i + 1:02d}.wav"
            write_wav(base / name, 44100, subtype=subtype)
    return base


def read_rows(path: Path) -> list[tuple[str, str]]:
    with open(path, newline="") as handle:
        return [(row["path"], row["classname"]) for row in csv.DictReader(handle)]


def assert_palm_dataset(out_root: Path, name: str, n_folds: int):
    """The import reads back through the manifest reader: ``n_folds`` folds, each with exactly
    PALM's classes in both splits, every file present and decodable, fold 1 = train/test.csv.
    Returns the splits."""
    from sept_ray.data.audio import read_mono
    from sept_ray.data.manifest import count_folds, load_split

    folder = out_root / name
    assert count_folds(folder) == n_folds
    splits = [load_split(out_root, name, k) for k in range(1, n_folds + 1)]
    for split in splits:
        assert split.classes == PALM_CLASSES[name]
        assert {c.path for c in split.train}.isdisjoint({c.path for c in split.test})
    if n_folds > 1:
        assert read_rows(folder / "train.csv") == read_rows(folder / "csv_files/train_1.csv")
        assert read_rows(folder / "test.csv") == read_rows(folder / "csv_files/test_1.csv")
    first = splits[0].test[0]
    wave, rate = read_mono(folder / first.path)
    assert rate > 0 and len(wave) > 0
    return splits
