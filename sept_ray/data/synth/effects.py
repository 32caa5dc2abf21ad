"""Acoustic conditions for the built-in sound world: background noise, mains hum, room
reverberation, distance low-pass, gain, and a clip guard.

Every function takes and returns a float32 wave [n_samples] with amplitude in [-1, 1], keeps its
length, leaves its input untouched, and draws randomness only from the numpy Generator it is
given. Outputs pass through `clip_guard`, which scales a wave down (never clips it) when its
peak exceeds 1, so signal-to-noise ratios and relative levels survive the guard.
"""

from dataclasses import dataclass

import numpy as np

NOISE_COLORS = ("white", "pink", "brown")
"""Noise colours: flat, -3 dB per octave, -6 dB per octave power spectra."""

NOISE_FLOOR_HZ = 20.0
"""Pink and brown noise spectra are held flat below this frequency (Hz)."""

HUM_HARMONICS = (1.0, 0.5, 0.3, 0.2)
"""Mean relative amplitudes of the first mains-hum harmonics."""

ECHO_RT60_S, ECHO_WET = 0.4, 0.2
"""A clip is labelled "echoing" when reverberated with at least this RT60 (s) and wet share."""

DISTANT_HZ, DISTANT_WET = 4000.0, 0.5
"""A clip is labelled "distant" when low-passed at or below DISTANT_HZ or at least this wet."""

LOUD_DB, QUIET_DB = -6.0, -18.0
"""A clip is labelled "loud" at a gain of at least LOUD_DB, "quiet" at most QUIET_DB (dB)."""


def clip_guard(wave: np.ndarray) -> np.ndarray:
    """wave [n] scaled down, if needed, so that its peak is at most 1: float32 [n]."""
    peak = float(np.abs(wave).max(initial=0.0))
    return (wave / peak if peak > 1.0 else wave).astype(np.float32)


def peak_normalise(wave: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """wave [n] scaled so its peak amplitude is `peak` (silent waves are returned unchanged):
    float32 [n]."""
    current = float(np.abs(wave).max(initial=0.0))
    return clip_guard(wave * (peak / current) if current > 0 else wave)


def set_gain_db(wave: np.ndarray, gain_db: float) -> np.ndarray:
    """wave [n] multiplied by a gain of gain_db (dB), then clip guarded: float32 [n]."""
    return clip_guard(wave * 10.0 ** (gain_db / 20.0))


def _rms(wave: np.ndarray) -> float:
    """Root mean square amplitude of wave [n]."""
    return float(np.sqrt(np.mean(np.square(wave, dtype=np.float64))))


def coloured_noise(
    rng: np.random.Generator, n: int, color: str, sample_rate: int = 16000
) -> np.ndarray:
    """Gaussian noise of unit RMS, float32 [n]: "white" (flat), "pink" (power ~ 1/f) or "brown"
    (power ~ 1/f^2); coloured noise is drawn as a random spectrum, flat below NOISE_FLOOR_HZ,
    without DC."""
    if color not in NOISE_COLORS:
        raise ValueError(f"unknown noise color {color!r}; expected one of {NOISE_COLORS}")
    if color == "white":
        noise = rng.standard_normal(n)
    else:
        m = n // 2 + 1
        spectrum = rng.standard_normal(m) + 1j * rng.standard_normal(m)
        freqs = np.maximum(np.fft.rfftfreq(n, 1.0 / sample_rate), NOISE_FLOOR_HZ)
        spectrum *= freqs ** (-0.5 if color == "pink" else -1.0)
        spectrum[0] = 0.0
        noise = np.fft.irfft(spectrum, n)
    return (noise / max(_rms(noise), 1e-12)).astype(np.float32)


def add_noise(
    wave: np.ndarray,
    rng: np.random.Generator,
    snr_db: float,
    color: str = "white",
    sample_rate: int = 16000,
) -> np.ndarray:
    """wave [n] plus coloured noise at a signal-to-noise power ratio of snr_db (dB) measured
    against the wave's mean power; a silent wave is returned unchanged. float32 [n]."""
    noise = coloured_noise(rng, wave.size, color, sample_rate)
    return clip_guard(wave + _rms(wave) * 10.0 ** (-snr_db / 20.0) * noise)


def add_hum(
    wave: np.ndarray,
    rng: np.random.Generator,
    freq_hz: float,
    level_db: float,
    sample_rate: int = 16000,
) -> np.ndarray:
    """wave [n] plus mains hum: a tone of freq_hz (Hz, e.g. 50 or 60) with a few harmonics of
    random phases and amplitudes around HUM_HARMONICS, its RMS level_db (dB) relative to the
    wave's RMS (to full scale for a silent wave). float32 [n]."""
    t = np.arange(wave.size, dtype=np.float32) / np.float32(sample_rate)
    hum = np.zeros(wave.size, np.float32)
    for k, amp in enumerate(HUM_HARMONICS, start=1):
        if k * freq_hz < 0.5 * sample_rate:
            phase = np.float32(rng.uniform(0.0, 2 * np.pi))
            level = np.float32(amp * rng.uniform(0.5, 1.5))
            hum += level * np.sin(np.float32(2 * np.pi * k * freq_hz) * t + phase)
    reference = _rms(wave) or 1.0
    scale = reference * 10.0 ** (level_db / 20.0) / max(_rms(hum), 1e-12)
    return clip_guard(wave + scale * hum)


def _fft_size(n: int) -> int:
    """The smallest 5-smooth length 2^a 3^b 5^c >= n, a fast FFT size."""
    best = 1 << max(0, int(n - 1).bit_length())
    five = 1
    while five < best:
        three = five
        while three < best:
            size = three
            while size < n:
                size *= 2
            best = min(best, size)
            three *= 3
        five *= 5
    return best


def impulse_response(rng: np.random.Generator, rt60_s: float, sample_rate: int) -> np.ndarray:
    """Synthetic room impulse response, float64 [about rt60_s * sample_rate], unit energy:
    a short random pre-delay then exponentially decaying Gaussian noise reaching -60 dB after
    rt60_s (s) below 2 kHz and twice as fast above it (air and wall absorption)."""
    delay = int(rng.uniform(0.003, 0.02) * sample_rate)
    length = max(1, int(rt60_s * sample_rate))
    size = _fft_size(length)
    spectrum = rng.standard_normal(size // 2 + 1) + 1j * rng.standard_normal(size // 2 + 1)
    low_band = np.fft.rfftfreq(size, 1.0 / sample_rate) < 2000.0
    low = np.fft.irfft(spectrum * low_band, size)[:length]
    high = np.fft.irfft(spectrum * ~low_band, size)[:length]
    decay = np.exp(-6.9 * np.arange(length) / (rt60_s * sample_rate))
    tail = low * decay + high * decay**2
    ir = np.concatenate([np.zeros(delay), tail])
    return ir / max(float(np.sqrt(np.sum(ir**2))), 1e-12)


def reverberate(
    wave: np.ndarray, rng: np.random.Generator, rt60_s: float, sample_rate: int, wet: float
) -> np.ndarray:
    """wave [n] in a synthetic room: (1 - wet) * dry + wet * (dry convolved, by FFT, with an
    `impulse_response` of rt60_s seconds), trimmed to n samples. wet in [0, 1]. float32 [n]."""
    ir = impulse_response(rng, rt60_s, sample_rate)
    size = _fft_size(wave.size + ir.size - 1)
    spectrum = np.fft.rfft(wave.astype(np.float64), size) * np.fft.rfft(ir, size)
    wet_wave = np.fft.irfft(spectrum, size)[: wave.size]
    return clip_guard((1.0 - wet) * wave + wet * wet_wave)


def lowpass(wave: np.ndarray, cutoff_hz: float, sample_rate: int) -> np.ndarray:
    """wave [n] low-passed at cutoff_hz (Hz): zero-phase FFT filter passing everything below
    cutoff_hz and nothing above 1.1 * cutoff_hz, with a raised-cosine taper between; zero-padded
    by 40 periods of the cutoff (the filter's ringing) to avoid wrap-around. A cutoff at or above
    Nyquist returns the wave unchanged. float32 [n]."""
    if cutoff_hz >= 0.5 * sample_rate:
        return clip_guard(wave)
    size = _fft_size(wave.size + min(wave.size, int(40 * sample_rate / cutoff_hz)))
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
    position = np.clip((freqs - cutoff_hz) / (0.1 * cutoff_hz), 0.0, 1.0)
    gain = 0.5 + 0.5 * np.cos(np.pi * position)
    spectrum = np.fft.rfft(wave.astype(np.float64), size) * gain
    return clip_guard(np.fft.irfft(spectrum, size)[: wave.size])


def _check_range(name: str, bounds: tuple[float, float] | None) -> None:
    """Raise ValueError unless bounds is None or a (lo, hi) pair with lo <= hi."""
    if bounds is not None and not (len(bounds) == 2 and bounds[0] <= bounds[1]):
        raise ValueError(f"{name} must be a (lo, hi) pair with lo <= hi, got {bounds!r}")


@dataclass(frozen=True)
class Condition:
    """Ranges from which `apply` draws one acoustic condition per clip, uniformly in each (lo, hi).

    snr_db: background noise SNR (dB), None for no noise; noise_colors: colours drawn from;
    rt60_s: reverberation time (s); wet: reverberant share in [0, 1], None for a dry room;
    lowpass_hz: distance low-pass cutoff (Hz), None for no filter; hum_db: mains hum level
    relative to the signal (dB), None for no hum, at a frequency drawn from hum_freqs_hz;
    gain_db: overall gain (dB).
    """

    snr_db: tuple[float, float] | None = (10.0, 40.0)
    noise_colors: tuple[str, ...] = NOISE_COLORS
    rt60_s: tuple[float, float] = (0.2, 1.5)
    wet: tuple[float, float] | None = (0.0, 0.6)
    lowpass_hz: tuple[float, float] | None = None
    hum_db: tuple[float, float] | None = None
    hum_freqs_hz: tuple[float, ...] = (50.0, 60.0)
    gain_db: tuple[float, float] = (-24.0, 0.0)

    def __post_init__(self) -> None:
        for name in ("snr_db", "rt60_s", "wet", "lowpass_hz", "hum_db", "gain_db"):
            _check_range(name, getattr(self, name))
        if not self.noise_colors or not set(self.noise_colors) <= set(NOISE_COLORS):
            raise ValueError(f"noise_colors must be drawn from {NOISE_COLORS}")
        if self.wet is not None and not 0.0 <= self.wet[0] <= self.wet[1] <= 1.0:
            raise ValueError("wet must lie in [0, 1]")
        if self.rt60_s[0] <= 0 or not self.hum_freqs_hz:
            raise ValueError("rt60_s must be positive and hum_freqs_hz non-empty")

    def apply(
        self, wave: np.ndarray, rng: np.random.Generator, sample_rate: int
    ) -> tuple[np.ndarray, dict[str, str]]:
        """Draw a condition and apply it to wave (float32 [n], in [-1, 1]): reverberation,
        low-pass, gain, hum, noise, in that order. Returns the float32 [n] result and attributes
        {"room": "dry" | "echoing", "loudness": "loud" | "quiet" | "", "distance": "close" |
        "distant"} describing what was drawn (thresholds: ECHO_*, DISTANT_*, LOUD_DB, QUIET_DB).
        """
        out = clip_guard(wave)
        wet = rt60 = cutoff = None
        if self.wet is not None:
            wet, rt60 = rng.uniform(*self.wet), rng.uniform(*self.rt60_s)
            out = reverberate(out, rng, rt60, sample_rate, wet)
        if self.lowpass_hz is not None:
            cutoff = rng.uniform(*self.lowpass_hz)
            out = lowpass(out, cutoff, sample_rate)
        gain = rng.uniform(*self.gain_db)
        out = set_gain_db(out, gain)
        if self.hum_db is not None:
            freq = self.hum_freqs_hz[rng.integers(len(self.hum_freqs_hz))]
            out = add_hum(out, rng, freq, rng.uniform(*self.hum_db), sample_rate)
        if self.snr_db is not None:
            color = self.noise_colors[rng.integers(len(self.noise_colors))]
            out = add_noise(out, rng, rng.uniform(*self.snr_db), color, sample_rate)
        return out, _labels(wet, rt60, cutoff, gain)


def _labels(
    wet: float | None, rt60: float | None, cutoff: float | None, gain_db: float
) -> dict[str, str]:
    """Room, loudness and distance labels of a drawn condition (None: stage not applied)."""
    echoing = wet is not None and wet >= ECHO_WET and rt60 >= ECHO_RT60_S
    distant = (cutoff is not None and cutoff <= DISTANT_HZ) or (
        wet is not None and wet >= DISTANT_WET
    )
    loudness = "loud" if gain_db >= LOUD_DB else "quiet" if gain_db <= QUIET_DB else ""
    return {
        "room": "echoing" if echoing else "dry",
        "loudness": loudness,
        "distance": "distant" if distant else "close",
    }
