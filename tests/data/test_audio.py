from pathlib import Path

import numpy as np
import pytest
import soundfile

from sept_ray.data.audio import AudioError, fit_length, load_clip, read_mono, resample

REAL = Path(__file__).resolve().parents[3] / "shared" / "realaudio" / "beijing_opera_small"


def tone(rate, seconds, freq=440.0):
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT", "DOUBLE"])
def test_reads_wav_variants(tmp_path, subtype):
    path = tmp_path / f"{subtype}.wav"
    soundfile.write(path, tone(22050, 0.5), 22050, subtype=subtype)
    wave, rate = read_mono(path)
    assert rate == 22050 and wave.dtype == np.float32 and wave.shape == (11025,)
    assert np.abs(wave - tone(22050, 0.5)).max() < 1e-3


def test_stereo_is_averaged(tmp_path):
    left, right = tone(16000, 0.1, 300), tone(16000, 0.1, 500)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], axis=1), 16000)
    wave, _ = read_mono(path)
    assert np.abs(wave - (left + right) / 2).max() < 1e-4


def test_resample_keeps_frequency():
    out = resample(tone(44100, 1.0, 1000.0), 44100, 16000)
    assert len(out) == 16000
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) - 1000) <= 1


def test_fit_length_tiles_and_crops():
    short = np.arange(3, dtype=np.float32)
    assert fit_length(short, 7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    long = np.arange(10, dtype=np.float32)
    assert fit_length(long, 4).tolist() == [3, 4, 5, 6]
    rng = np.random.default_rng(0)
    crops = {tuple(fit_length(long, 4, "random", rng)) for _ in range(30)}
    assert len(crops) > 1 and all(len(c) == 4 for c in crops)
    with pytest.raises(ValueError, match="Generator"):
        fit_length(long, 4, "random")


def test_repeatpad_repeats_whole_copies_then_zeros():
    short = np.arange(1, 4, dtype=np.float32)
    padded = fit_length(short, 8, fill="repeatpad")
    assert padded.tolist() == [1, 2, 3, 1, 2, 3, 0, 0] and padded.dtype == np.float32
    assert fit_length(short, 2, fill="repeatpad").tolist() == [1, 2]  # long clips: cropped
    with pytest.raises(ValueError, match="fill = 'loop'"):
        fit_length(short, 8, fill="loop")


def test_load_clip_resamples_and_fits(tmp_path):
    path = tmp_path / "a.wav"
    soundfile.write(path, tone(44100, 0.7), 44100, subtype="FLOAT")
    clip = load_clip(path, 16000, 2.0)
    assert clip.shape == (32000,) and clip.dtype == np.float32


def test_errors_name_the_file(tmp_path):
    with pytest.raises(AudioError, match="missing.wav: audio file not found"):
        read_mono(tmp_path / "missing.wav")
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(AudioError, match="corrupt.wav: unreadable audio"):
        read_mono(bad)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav: audio file holds no samples"):
        read_mono(empty)
    nan = tmp_path / "nan.wav"
    soundfile.write(nan, np.array([0.1, np.nan, 0.2], np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: audio holds NaN"):
        read_mono(nan)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realaudio is not present")
def test_real_beijing_opera_clips_decode():
    """Real 44.1 kHz clips, some stored as 32-bit float WAV, all decode and fit to 2 s at 16 kHz."""
    files = sorted(REAL.glob("*.wav"))
    assert len(files) == 20
    subtypes = {soundfile.info(str(f)).subtype for f in files}
    assert "FLOAT" in subtypes
    for path in files:
        clip = load_clip(path, 16000, 2.0)
        assert clip.shape == (32000,) and np.isfinite(clip).all() and np.abs(clip).max() > 1e-3
