"""The built-in sound world: four downstream datasets and a captioned pretraining split.

Downstream datasets are written as real audio files in the PALM layout and read back through the
same loader as real data. Each has its own native format (sample rate, channels, WAV subtype),
clip-length range and acoustic condition (room, noise, hum, band limit). The pretraining split
(16 kHz, 2 s) that TinyALM's audio tower was trained on draws each clip's condition from a mild
one and the four datasets' own, and its captions paraphrase the class without naming it: zero-shot
is above chance but not perfect because the text tower links some class names to their
paraphrases better than others, not because a condition is unheard, so a context tuned on base
classes does not carry over to new ones. Every clip is a pure function of (dataset seed, class
index, clip index), so the world is identical on every machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile

from sept_ray.data.synth.effects import Condition
from sept_ray.data.synth.sounds import RECIPES
from sept_ray.progress import progress

WORLD_VERSION = 1
PRETRAIN_RATE = 16_000  # Hz, TinyALM's rate
PRETRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class SynthDataset:
    """One built-in dataset: its classes, split sizes, native file format and acoustic condition."""

    name: str
    classes: tuple[str, ...]
    template: str
    folds: int  # > 1: clips are dealt into folds; fold k tests on its clips, trains on the rest
    clips_per_class: int
    test_per_class: int  # single-fold datasets: the last clips of each class are the test split
    sample_rate: int  # Hz of the written files
    channels: int
    subtype: str  # soundfile subtype, e.g. PCM_16, PCM_24, FLOAT
    seconds: tuple[float, float]  # clip-length range
    condition: Condition
    seed: int


PRETRAIN_CONDITION = Condition(
    snr_db=(25.0, 45.0),
    noise_colors=("white", "pink"),
    rt60_s=(0.05, 0.4),
    wet=(0.0, 0.25),
    lowpass_hz=None,
    hum_db=None,
    gain_db=(-9.0, 0.0),
)
"""Mild, clean-ish recording conditions: one of the pretraining split's conditions, and the one
TinyALM's ``pretrain_condition_42way`` check uses."""

BUILTIN_DATASETS: dict[str, SynthDataset] = {
    spec.name: spec
    for spec in (
        SynthDataset(
            name="SynthInstruments",
            classes=(
                "bass drum",
                "church bell",
                "clarinet",
                "flute",
                "harp",
                "organ",
                "piano",
                "plucked guitar",
                "snare drum",
                "trumpet",
                "violin",
                "xylophone",
            ),
            template="This is a sound of {} being played.",
            folds=1,
            clips_per_class=48,
            test_per_class=24,
            sample_rate=32_000,
            channels=2,
            subtype="FLOAT",
            seconds=(2.0, 3.0),
            condition=Condition(
                snr_db=(12.0, 25.0),
                noise_colors=("pink",),
                rt60_s=(0.9, 1.8),
                wet=(0.35, 0.6),
                lowpass_hz=(3500.0, 6000.0),
                hum_db=None,
                gain_db=(-12.0, -2.0),
            ),
            seed=101,
        ),
        SynthDataset(
            name="SynthHome",
            classes=(
                "alarm clock",
                "clock tick",
                "door knock",
                "doorbell",
                "footsteps",
                "kettle whistle",
                "keyboard typing",
                "phone ringing",
                "vacuum cleaner",
                "water drops",
            ),
            template="This is a sound of {}.",
            folds=3,
            clips_per_class=36,
            test_per_class=0,
            sample_rate=16_000,
            channels=1,
            subtype="PCM_16",
            seconds=(1.0, 2.5),
            condition=Condition(
                snr_db=(8.0, 20.0),
                noise_colors=("brown", "pink"),
                rt60_s=(0.3, 0.8),
                wet=(0.2, 0.45),
                lowpass_hz=(3000.0, 5000.0),
                hum_db=(-32.0, -22.0),
                gain_db=(-15.0, -3.0),
            ),
            seed=202,
        ),
        SynthDataset(
            name="SynthNature",
            classes=(
                "bird chirping",
                "cow mooing",
                "crackling fire",
                "crickets",
                "dog barking",
                "frog croaking",
                "rain",
                "sea waves",
                "thunder",
                "wind",
            ),
            template="This is a characteristic sound of {}.",
            folds=1,
            clips_per_class=48,
            test_per_class=24,
            sample_rate=22_050,
            channels=1,
            subtype="PCM_24",
            seconds=(2.0, 4.0),
            condition=Condition(
                snr_db=(5.0, 15.0),
                noise_colors=("white", "brown"),
                rt60_s=(0.05, 0.25),
                wet=(0.0, 0.2),
                lowpass_hz=(3000.0, 7000.0),
                hum_db=None,
                gain_db=(-18.0, -1.0),
            ),
            seed=303,
        ),
        SynthDataset(
            name="SynthStreet",
            classes=(
                "bicycle bell",
                "car horn",
                "drilling",
                "engine idling",
                "gunshot",
                "helicopter",
                "jackhammer",
                "motorcycle",
                "siren",
                "train",
            ),
            template="This is a characteristic sound of {}.",
            folds=1,
            clips_per_class=48,
            test_per_class=24,
            sample_rate=44_100,
            channels=1,
            subtype="PCM_16",
            seconds=(1.5, 3.0),
            condition=Condition(
                snr_db=(5.0, 14.0),
                noise_colors=("brown",),
                rt60_s=(0.2, 0.6),
                wet=(0.1, 0.35),
                lowpass_hz=(2500.0, 4500.0),
                hum_db=None,
                gain_db=(-14.0, -2.0),
            ),
            seed=404,
        ),
    )
}

XD_PAIRS: tuple[tuple[str, str], ...] = (("SynthHome", "SynthStreet"),)
"""Source -> target pairs with different class sets, for cross-dataset runs."""

PRETRAIN_CONDITIONS: tuple[Condition, ...] = (
    PRETRAIN_CONDITION,
    *(spec.condition for spec in BUILTIN_DATASETS.values()),
)
"""The pretraining split's conditions, one drawn uniformly per clip: the mild one and every
downstream dataset's own, so no downstream condition is new to TinyALM's audio tower."""


def render_clip(
    class_name: str,
    rng: np.random.Generator,
    sample_rate: int,
    seconds: float,
    condition: Condition,
) -> tuple[np.ndarray, dict[str, str]]:
    """A clean clip of ``class_name`` under ``condition``: float32 [n_samples] and its attributes."""
    wave, attributes = RECIPES[class_name].render(rng, sample_rate, seconds)
    wave, recorded = condition.apply(wave, rng, sample_rate)
    return wave, {**attributes, **recorded}


# -- downstream datasets -------------------------------------------------------------------------


def clip_path(cls: str, index: int) -> str:
    """Path of a clip relative to its dataset folder."""
    slug = cls.replace(" ", "_")
    return f"audios/{slug}/{slug}-{index:03d}.wav"


def _write_clip(job: tuple[SynthDataset, int, int, str]) -> None:
    spec, class_index, clip_index, folder = job
    rng = np.random.default_rng([spec.seed, class_index, clip_index])
    seconds = float(rng.uniform(*spec.seconds))
    wave, _ = render_clip(spec.classes[class_index], rng, spec.sample_rate, seconds, spec.condition)
    if spec.channels == 2:  # a small inter-channel delay and level difference
        delay = int(rng.integers(1, 12))
        other = np.concatenate([np.zeros(delay, np.float32), wave[:-delay]]) * rng.uniform(0.7, 1.0)
        wave = np.stack([wave, other.astype(np.float32)], axis=1)
    path = Path(folder) / clip_path(spec.classes[class_index], clip_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, wave, spec.sample_rate, subtype=spec.subtype)


def split_rows(spec: SynthDataset) -> dict[str, list[tuple[str, str]]]:
    """CSV name -> (path, classname) rows: train/test, plus csv_files/{train,test}_k for folds."""
    rows: dict[str, list[tuple[str, str]]] = {}
    clips = [(clip_path(c, i), c, i) for c in spec.classes for i in range(spec.clips_per_class)]
    if spec.folds == 1:
        cut = spec.clips_per_class - spec.test_per_class
        rows["train.csv"] = [(p, c) for p, c, i in clips if i < cut]
        rows["test.csv"] = [(p, c) for p, c, i in clips if i >= cut]
        return rows
    for k in range(1, spec.folds + 1):
        rows[f"csv_files/train_{k}.csv"] = [(p, c) for p, c, i in clips if i % spec.folds != k - 1]
        rows[f"csv_files/test_{k}.csv"] = [(p, c) for p, c, i in clips if i % spec.folds == k - 1]
    rows["train.csv"], rows["test.csv"] = (
        rows["csv_files/train_1.csv"],
        rows["csv_files/test_1.csv"],
    )
    return rows


def stamp(spec: SynthDataset) -> dict:
    """What ``synth.json`` records: the world version and the full dataset spec."""
    return {"world_version": WORLD_VERSION, "dataset": json.loads(json.dumps(asdict(spec)))}


def is_current(folder: Path, spec: SynthDataset) -> bool:
    """Whether ``folder`` holds this exact version of ``spec``."""
    marker = folder / "synth.json"
    return marker.is_file() and json.loads(marker.read_text()) == stamp(spec)


def write_dataset(spec: SynthDataset, root: str | Path, workers: int | None = None) -> Path:
    """Render ``spec`` into ``<root>/<name>`` (built in a temp folder, then renamed into place)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{spec.name}."))
    try:
        jobs = [
            (spec, c, i, str(tmp))
            for c in range(len(spec.classes))
            for i in range(spec.clips_per_class)
        ]
        with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
            clips = pool.map(_write_clip, jobs, chunksize=16)
            list(progress(clips, total=len(jobs), desc=f"synthesizing {spec.name}", unit="clip"))
        for name, rows in split_rows(spec).items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = ["path,classname"] + [f"{p},{c}" for p, c in rows]
            path.write_text("\n".join(lines) + "\n")
        (tmp / "synth.json").write_text(json.dumps(stamp(spec), indent=1))
        final = root / spec.name
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_world(root: str | Path, names: Iterable[str], force: bool = False) -> list[Path]:
    """Write the named built-in datasets under ``root``; current ones are kept unless ``force``."""
    folders = []
    for name in names:
        if name not in BUILTIN_DATASETS:
            known = ", ".join(BUILTIN_DATASETS)
            raise KeyError(f"unknown built-in dataset {name!r} (known: {known})")
        spec = BUILTIN_DATASETS[name]
        folder = Path(root) / name
        if force or not is_current(folder, spec):
            print(f"synthesizing {name} into {folder}", flush=True)
            folder = write_dataset(spec, root)
        folders.append(folder)
    return folders


def ensure_world(root: str | Path, names: Sequence[str] | None = None) -> Path:
    """``root`` holding the current version of the named built-in datasets (all by default)."""
    write_world(root, names if names is not None else list(BUILTIN_DATASETS))
    return Path(root)


# -- the captioned pretraining split --------------------------------------------------------------

_PHRASES = {
    "pitch": {"low": ("low-pitched", "deep"), "high": ("high-pitched", "shrill")},
    "pace": {"fast": ("fast", "rapid"), "slow": ("slow", "unhurried")},
}
"""Attribute phrases a caption may add: the sound's own pitch and pace, never its recording
condition (room, distance, loudness), so no text describes a dataset's condition."""
_FRAMES = ("{}", "{}", "a recording of {}", "the sound of {}", "audio of {}")


def paraphrases(class_name: str) -> tuple[str, ...]:
    """The class's descriptions that use no word of its name (e.g. "a woody reed instrument
    playing" for "clarinet"): captions never name the class, so zero-shot rests on how the text
    tower links a dataset's class name to these paraphrases."""
    words = set(class_name.split())
    found = tuple(
        d for d in RECIPES[class_name].descriptions if not words & set(re.findall(r"[a-z]+", d))
    )
    if not found:
        raise ValueError(f"class {class_name!r}: every description uses a word of its name")
    return found


def caption(class_name: str, attributes: dict[str, str], rng: np.random.Generator) -> str:
    """A free-form caption: a name-free paraphrase of the class plus some of the clip's drawn
    pitch and pace attributes."""
    text = str(rng.choice(paraphrases(class_name)))
    extras = []
    for key, table in _PHRASES.items():
        options = table.get(attributes.get(key, ""), ())
        if options and rng.random() < 0.5:
            extras.append(str(rng.choice(options)))
    if extras:
        text = f"{text}, {', '.join(extras)}"
    return str(rng.choice(_FRAMES)).format(text)


def _pretraining_clip(job: tuple[int, int]) -> tuple[np.ndarray, str, int]:
    seed, index = job
    class_index = index % len(RECIPES)
    name = list(RECIPES)[class_index]
    rng = np.random.default_rng([seed, index])
    condition = PRETRAIN_CONDITIONS[int(rng.integers(len(PRETRAIN_CONDITIONS)))]
    wave, attributes = render_clip(name, rng, PRETRAIN_RATE, PRETRAIN_SECONDS, condition)
    return wave, caption(name, attributes, rng), class_index


def pretraining_set(
    n_clips: int, seed: int, workers: int | None = None
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``n_clips`` clips cycling over all 42 classes: (waves float32 [n, 32000] at 16 kHz,
    captions, class indices long [n]). Deterministic in (n_clips, seed)."""
    jobs = [(seed, i) for i in range(n_clips)]
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count()) as pool:
        clips = pool.map(_pretraining_clip, jobs, chunksize=32)
        results = list(
            progress(clips, total=n_clips, desc="synthesizing pretraining clips", unit="clip")
        )
    waves = np.stack([r[0] for r in results])
    return waves, [r[1] for r in results], np.array([r[2] for r in results])
