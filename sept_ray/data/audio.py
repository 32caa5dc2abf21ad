"""Audio decoding: read any WAV/FLAC/OGG soundfile reads, mix to mono, resample, tile or crop.

Every error names the file. Samples are float32 in [-1, 1] (soundfile's scaling), at the backbone's
sample rate, exactly ``round(seconds * sample_rate)`` long.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

DECODER_VERSION = 1
"""Bump when decoding changes (mono mix, resampler settings, tiling, cropping): cached
embeddings made with another version are then not reused."""


def decoder_id() -> str:
    """Decoder version plus the soxr and libsndfile versions that shape decoded samples."""
    return f"v{DECODER_VERSION}-soxr{soxr.__version__}-{soundfile.__libsndfile_version__}"


class AudioError(ValueError):
    """An audio file is missing, unreadable, empty or holds non-finite samples."""


def read_mono(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` -> (float32 [n_samples] mono, sample rate in Hz); channels are averaged."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"{path}: unreadable audio ({exc})") from exc
    if data.shape[0] == 0:
        raise AudioError(f"{path}: audio file holds no samples")
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: audio holds NaN or infinite samples")
    wave = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return np.ascontiguousarray(wave, dtype=np.float32), int(rate)


def resample(wave: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """float32 [n] at ``rate_in`` Hz -> float32 [~n * rate_out / rate_in] at ``rate_out`` Hz (soxr HQ)."""
    if rate_in == rate_out:
        return wave
    return soxr.resample(wave, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


def fit_length(
    wave: np.ndarray,
    n_samples: int,
    crop: str = "center",
    rng: np.random.Generator | None = None,
    fill: str = "tile",
) -> np.ndarray:
    """Fill a short clip, or crop a long one, to exactly ``n_samples``.

    ``fill="tile"`` repeats the clip and cuts the last copy (Pengi, MS-CLAP); ``fill="repeatpad"``
    repeats whole copies only and pads the rest with zeros (LAION-CLAP). ``crop="center"`` is
    deterministic (evaluation); ``crop="random"`` draws the offset from ``rng``.
    """
    if len(wave) < n_samples:
        if fill == "tile":
            return np.tile(wave, -(-n_samples // len(wave)))[:n_samples]
        if fill == "repeatpad":
            whole = np.tile(wave, n_samples // len(wave))
            return np.pad(whole, (0, n_samples - len(whole))).astype(wave.dtype, copy=False)
        raise ValueError(f"fill = {fill!r}: must be 'tile' or 'repeatpad'")
    extra = len(wave) - n_samples
    if crop == "center":
        start = extra // 2
    elif crop == "random":
        if rng is None:
            raise ValueError("crop='random' needs a numpy Generator")
        start = int(rng.integers(0, extra + 1))
    else:
        raise ValueError(f"crop = {crop!r}: must be 'center' or 'random'")
    return wave[start : start + n_samples]


def load_clip(
    path: str | Path,
    sample_rate: int,
    seconds: float,
    crop: str = "center",
    rng: np.random.Generator | None = None,
    fill: str = "tile",
) -> np.ndarray:
    """Read, mix to mono, resample to ``sample_rate`` Hz, fit to ``seconds`` -> float32 [n_samples]
    (see :func:`fit_length` for ``crop`` and ``fill``)."""
    wave, rate = read_mono(path)
    wave = resample(wave, rate, sample_rate)
    if len(wave) == 0:
        raise AudioError(f"{path}: too short to resample to {sample_rate} Hz")
    return fit_length(wave, round(seconds * sample_rate), crop=crop, rng=rng, fill=fill)
