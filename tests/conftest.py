"""Shared fixtures: small datasets in the PALM layout written as real WAV files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "classname"])
        writer.writerows(rows)


def write_tone_dataset(
    root: Path,
    name: str,
    classes: list[str],
    train: int,
    test: int,
    folds: int = 1,
    rate: int = 16000,
    seconds: float = 0.5,
) -> Path:
    """Class k = a tone at 200·(k+1) Hz with a little noise; folds partition the clips."""
    folder = root / name
    rng = np.random.default_rng(0)
    per_class = train + test
    rows_by_clip = []
    t = np.arange(round(rate * seconds)) / rate
    for k, cls in enumerate(classes):
        for i in range(per_class):
            wave = 0.4 * np.sin(2 * np.pi * 200 * (k + 1) * t + rng.uniform(0, 6))
            wave += 0.01 * rng.standard_normal(len(t))
            rel = f"audios/{cls.replace(' ', '_')}/{i:03d}.wav"
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(folder / rel, wave.astype(np.float32), rate)
            rows_by_clip.append((rel, cls, i))
    if folds == 1:
        write_csv(folder / "train.csv", [(r, c) for r, c, i in rows_by_clip if i < train])
        write_csv(folder / "test.csv", [(r, c) for r, c, i in rows_by_clip if i >= train])
    else:
        for k in range(1, folds + 1):
            in_fold = [(r, c) for r, c, i in rows_by_clip if i % folds == k - 1]
            rest = [(r, c) for r, c, i in rows_by_clip if i % folds != k - 1]
            write_csv(folder / f"csv_files/train_{k}.csv", rest)
            write_csv(folder / f"csv_files/test_{k}.csv", in_fold)
        write_csv(folder / "train.csv", [(r, c) for r, c, i in rows_by_clip if i % folds != 0])
        write_csv(folder / "test.csv", [(r, c) for r, c, i in rows_by_clip if i % folds == 0])
    return folder


@pytest.fixture
def tone_root(tmp_path) -> Path:
    """``<root>/Tones`` (4 classes, 6 train + 3 test clips each, one fold)."""
    write_tone_dataset(tmp_path, "Tones", ["alpha", "beta", "delta", "gamma"], 6, 3)
    return tmp_path


@pytest.fixture(scope="session")
def small_weights(tmp_path_factory) -> Path:
    """A TinyALM weights file with a small, randomly initialised audio tower (seeded)."""
    import torch

    from sept_ray.backbones.tiny import TinyALM, minilm_path
    from sept_ray.backbones.tiny_audio import TinyAudioConfig

    torch.manual_seed(0)
    model = TinyALM(TinyAudioConfig(channels=(4, 8, 8, 16)), minilm_path(), logit_scale=30.0)
    path = tmp_path_factory.mktemp("weights") / "small.safetensors"
    model.save_audio_weights(path)
    return path


@pytest.fixture(scope="session")
def small_alm(small_weights):
    """The small TinyALM loaded back through the real loading code."""
    from sept_ray.backbones.tiny import load_tiny_alm

    return load_tiny_alm(small_weights)


def write_bank(path: Path, datasets: list[str], classes: list[str], per_class: int = 4) -> Path:
    """A neighbour bank with ``per_class`` phrases ("<class> tone <i>") for each class."""
    from sept_ray.sept.bank import NeighbourBank, save_bank

    phrases = {c: [f"{c} tone {i}" for i in range(per_class)] for c in classes}
    provenance = {"generator": "test", "model": "none", "prompt_version": "0", "date": "2026-11-26"}
    save_bank(NeighbourBank({d: phrases for d in datasets}, provenance, "test"), path)
    return path
