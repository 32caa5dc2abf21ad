"""Bad audio content stops a sweep while it fills the embedding cache: after Ray starts, before
any run folder, MLflow record or cache entry exists, with an error naming the clip and the fault.

Only decoding finds these faults (a header can look fine), and a sweep decodes a dataset once,
in the Ray task that embeds it (``sept_ray.tune.cache_fill``).
"""

from pathlib import Path

import numpy as np
import pytest
import soundfile

from sept_ray.tune import SweepSpec, b2n_grid, run_sweep

from conftest import write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]
CLIP = "audios/beta/001.wav"  # a training clip of fold 1


def corrupt_bytes(path: Path) -> None:
    path.write_bytes(b"this is not audio\x00\xff" * 64)


def zero_frames(path: Path) -> None:
    soundfile.write(path, np.zeros(0, np.float32), 16000)


def nan_samples(path: Path) -> None:
    wave = np.full(8000, 0.1, np.float32)
    wave[4000] = np.nan
    soundfile.write(path, wave, 16000, subtype="FLOAT")


def inf_samples(path: Path) -> None:
    wave = np.full(8000, 0.1, np.float32)
    wave[4000] = np.inf
    soundfile.write(path, wave, 16000, subtype="FLOAT")


FAULTS = [
    (corrupt_bytes, r"unreadable audio \(Error opening .*Format not recognised"),
    (zero_frames, r"audio file holds no samples"),
    (nan_samples, r"audio holds NaN or infinite samples"),
    (inf_samples, r"audio holds NaN or infinite samples"),
]


@pytest.fixture(scope="module")
def ray_started():
    """One local Ray (1 CPU) for every sweep of this module; shut down after them."""
    import ray

    from sept_ray.tune.local_ray import init_ray

    init_ray(num_cpus=1)
    yield
    ray.shutdown()


@pytest.mark.parametrize(("spoil", "problem"), FAULTS, ids=[f.__name__ for f, _ in FAULTS])
def test_bad_audio_stops_the_sweep_naming_the_clip(
    ray_started, small_weights, tmp_path, spoil, problem
):
    """The cache-fill task's AudioError reaches the caller naming the dataset, backbone, clip and
    fault; the sweep made no run folder, no MLflow store and no cache entry (nor a temp file)."""
    folder = write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 2, 1)
    spoil(folder / CLIP)
    base = {
        "backbone": {"weights": str(small_weights), "device": "cpu"},
        "data": {"shots": 2},
        "train": {"epochs": 1},
    }
    trials = b2n_grid(["Tones"], ["coop"], [0], tmp_path / "data", base=base)
    results = tmp_path / "results"
    spec = SweepSpec("bad-audio", trials, results, num_cpus=1)
    with pytest.raises(
        RuntimeError,
        match=rf"^embedding cache: Tones on tiny-alm: AudioError\(.*/Tones/{CLIP}: {problem}",
    ):
        run_sweep(spec)
    left = sorted(p.relative_to(results).as_posix() for p in results.rglob("*"))
    assert not (results / "bad-audio").exists()  # no run folder
    assert not (results / "mlflow.db").exists()  # no MLflow store, so no run
    assert {p.split("/")[0] for p in left} == {"cache"}, left  # nor anything else
    assert [p for p in left if p.endswith(".npz")] == [], left  # no entry, no temp file
