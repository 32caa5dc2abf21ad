"""Procedural recipes for the 42 sound classes of the built-in sound world.

Every recipe is a pure function of a numpy ``Generator``: ``render(rng, sample_rate, seconds)``
returns a clean, dry clip (no noise, no room: those are conditions applied by ``effects.py``)
as float32 ``[round(sample_rate * seconds)]`` with its peak normalised to ``PEAK`` (0.9), so that
loudness is left entirely to the conditions. Within a class every clip draws its own pitch,
tempo, number and timing of events, durations and small timbre variations; events start at
random offsets. The attributes describe what was drawn: the class's pitch (or brightness, for
noise-like classes) and pace (event rate or modulation rate) parameters are drawn log-uniformly
in a class range, and the third of the range they fall in gives "low" / "medium" / "high" and
"slow" / "steady" / "fast".

Synthesis is vectorised: harmonic sounds use linearly interpolated wavetables driven by a
phase track (so many harmonics cost one table lookup), inharmonic ones a few decaying sine
modes, noise-like ones spectrally shaped Gaussian noise (one FFT per clip).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

PEAK = 0.9
"""Peak amplitude of every rendered clip."""

_TABLE = 1024
"""Samples in one period of a wavetable."""

_SCALE = (0, 2, 4, 5, 7, 9, 11)
"""Major scale, semitones above the tonic."""

_PENTATONIC = (0, 2, 4, 7, 9)
"""Major pentatonic scale, semitones above the tonic."""

Attributes = dict[str, str]
Clip = tuple[np.ndarray, Attributes]
Render = Callable[[np.random.Generator, int, float], Clip]


@dataclass(frozen=True)
class SoundRecipe:
    """One sound class of the built-in world.

    name: the class name, lower case. descriptions: short noun phrases a caption writer could use
    for a clip of the class. render(rng, sample_rate, seconds) -> (wave float32 [n_samples] with
    peak PEAK, attributes {"pitch": "low" | "medium" | "high", "pace": "slow" | "steady" | "fast"}).
    """

    name: str
    descriptions: tuple[str, ...]
    render: Render


# ---------------------------------------------------------------------------------------------
# Drawing parameters and labelling them


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A value drawn log-uniformly in [lo, hi] (lo, hi > 0)."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _third(x: float, lo: float, hi: float, names: tuple[str, str, str]) -> str:
    """The name of the third of the log range [lo, hi] that x falls in."""
    position = np.log(x / lo) / np.log(hi / lo)
    return names[int(np.clip(position * 3.0, 0, 2))]


def _attributes(
    pitch: float, pitch_range: tuple[float, float], pace: float, pace_range: tuple[float, float]
) -> Attributes:
    """Pitch and pace labels for a drawn pitch-like and rate-like parameter and their ranges."""
    return {
        "pitch": _third(pitch, *pitch_range, ("low", "medium", "high")),
        "pace": _third(pace, *pace_range, ("slow", "steady", "fast")),
    }


def _unit_rms(wave: np.ndarray) -> np.ndarray:
    """wave [n] scaled to unit RMS (unchanged if silent)."""
    rms = float(np.sqrt(np.mean(wave**2)))
    return wave / rms if rms > 0 else wave


def _cap(freq: float | np.ndarray, sample_rate: int) -> float | np.ndarray:
    """freq (Hz, scalar or array) held at or below 0.4 sample_rate, so that high-pitched classes
    stay audible and alias-free at low sample rates."""
    return np.minimum(freq, 0.4 * sample_rate)


def _finish(wave: np.ndarray) -> np.ndarray:
    """The clip without DC offset, peak normalised to PEAK: float32 [n_samples]."""
    wave = wave - wave.mean()
    peak = float(np.abs(wave).max())
    return (wave * (PEAK / peak if peak > 0 else 0.0)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Timing of events


def _n_samples(sample_rate: int, seconds: float) -> int:
    """Number of samples in a clip."""
    return int(round(sample_rate * seconds))


def _grid(
    rng: np.random.Generator, seconds: float, period: float, jitter: float = 0.02
) -> list[float]:
    """Onset times (s) of a regular pulse of the given period (s) starting at a random offset,
    each jittered by a normal fraction `jitter` of the period; at least one onset."""
    start = rng.uniform(0.0, min(period, 0.5 * seconds))
    times = np.arange(start, seconds, period)
    times = times + rng.normal(0.0, jitter * period, times.size)
    return [t for t in np.clip(times, 0.0, None) if t < seconds] or [start]


def _start(rng: np.random.Generator, seconds: float, latest: float) -> float:
    """A random start time (s): uniform up to `latest` s, and at most a quarter of the clip."""
    return rng.uniform(0.0, min(latest, 0.25 * seconds))


def _random_times(rng: np.random.Generator, seconds: float, rate: float) -> np.ndarray:
    """Sorted Poisson onset times (s) at `rate` per second over the clip; at least one."""
    count = max(1, int(rng.poisson(rate * seconds)))
    return np.sort(rng.uniform(0.0, seconds, count))


def _add(
    out: np.ndarray, event: np.ndarray, start_s: float, sample_rate: int, gain: float = 1.0
) -> None:
    """Add `event` (float32 [m]) into `out` (float32 [n]) from start_s (s), cut at both ends."""
    start = int(start_s * sample_rate)
    if start < 0:
        event, start = event[-start:], 0
    stop = min(out.size, start + event.size)
    if stop > start:
        out[start:stop] += gain * event[: stop - start]


def _spans(
    rng: np.random.Generator, n: int, sample_rate: int, note_s: float
) -> list[tuple[int, int]]:
    """Consecutive (start, stop) sample spans of a phrase starting at a random offset, each note
    lasting note_s * U(0.7, 1.3) seconds; the phrase may stop before the clip ends."""
    spans = []
    t = _start(rng, n / sample_rate, min(0.4, 0.5 * note_s))
    end = n / sample_rate * rng.uniform(0.85, 1.0)
    while t < end - 0.05 or not spans:
        length = note_s * rng.uniform(0.7, 1.3)
        spans.append((int(t * sample_rate), int(min(t + length, end) * sample_rate)))
        t += length
    return spans


def _walk(
    rng: np.random.Generator, count: int, tonic: float, scale: tuple[int, ...] = _SCALE
) -> np.ndarray:
    """Frequencies (Hz) [count] of a random melodic walk on `scale` around `tonic` (Hz)."""
    degrees = np.cumsum(rng.choice([-2, -1, -1, 1, 1, 2, 0], count)) + rng.integers(0, 3)
    degrees = np.clip(degrees, -len(scale), 2 * len(scale) - 1)
    octave, step = np.divmod(degrees, len(scale))
    semitones = 12 * octave + np.asarray(scale)[step]
    return tonic * 2.0 ** (semitones / 12.0)


# ---------------------------------------------------------------------------------------------
# Envelopes and controls


def _times(m: int, sample_rate: int) -> np.ndarray:
    """Time (s) of each of m samples: float32 [m]."""
    return np.arange(m, dtype=np.float32) / np.float32(sample_rate)


def _decay(m: int, sample_rate: int, t60: float, attack_s: float = 0.002) -> np.ndarray:
    """Exponential decay reaching -60 dB after t60 s, with a linear attack: float32 [m]."""
    t = _times(m, sample_rate)
    env = np.exp(t * np.float32(-6.9 / t60))
    return env * np.minimum(1.0, t / np.float32(max(attack_s, 1.0 / sample_rate)))


def _ramp_env(m: int, sample_rate: int, attack_s: float, release_s: float) -> np.ndarray:
    """Flat envelope with linear attack and release ramps (s): float32 [m]."""
    i = np.arange(m, dtype=np.float32)
    up = i / max(1.0, attack_s * sample_rate)
    down = (m - i) / max(1.0, release_s * sample_rate)
    return np.clip(np.minimum(up, down), 0.0, 1.0)


def _span_env(
    n: int, sample_rate: int, spans: list[tuple[int, int]], attack_s: float, release_s: float
) -> np.ndarray:
    """Envelope float32 [n] that is on, with ramps, during each (start, stop) span."""
    env = np.zeros(n, np.float32)
    for start, stop in spans:
        env[start:stop] = _ramp_env(stop - start, sample_rate, attack_s, release_s)
    return env


def _step_track(n: int, spans: list[tuple[int, int]], values: np.ndarray) -> np.ndarray:
    """Piecewise constant float64 [n]: values[i] from the start of span i, values[0] before."""
    track = np.full(n, float(values[0]))
    for (start, _), value in zip(spans, values, strict=True):
        track[start:] = value
    return track


def _smooth(track: np.ndarray, width: int) -> np.ndarray:
    """Moving average of `track` [n] over `width` samples (edges held): float64 [n]."""
    if width <= 1:
        return track
    padded = np.concatenate([np.full(width, track[0]), track, np.full(width, track[-1])])
    total = np.cumsum(padded)
    mean = (total[width:] - total[:-width]) / width
    return mean[width // 2 : width // 2 + track.size]


def _wander(rng: np.random.Generator, n: int, sample_rate: int, rate_hz: float) -> np.ndarray:
    """Slow random control signal float32 [n], about unit standard deviation, varying at about
    rate_hz (Hz): random points linearly interpolated."""
    count = int(np.ceil(n / sample_rate * rate_hz)) + 2
    points = rng.standard_normal(count)
    x = np.arange(n) * (rate_hz / sample_rate)
    return np.interp(x, np.arange(count), points).astype(np.float32)


def _pulses(phase_cycles: np.ndarray, duty: float, sharpness: float = 2.0) -> np.ndarray:
    """Periodic smooth pulses float32 [n] in [0, 1]: a raised-sine bump during the first `duty`
    fraction of each cycle of phase_cycles [n] (cycles), zero elsewhere."""
    frac = (phase_cycles - np.floor(phase_cycles)) / duty
    bump = np.sin(np.pi * np.minimum(frac, 1.0)).astype(np.float32)
    return bump**sharpness


# ---------------------------------------------------------------------------------------------
# Oscillators and noise


def _cycles(freq: np.ndarray | float, n: int, sample_rate: int) -> np.ndarray:
    """Accumulated phase (cycles) float64 [n], from zero, of an oscillator of frequency freq (Hz,
    scalar or [n])."""
    if np.isscalar(freq):
        return np.arange(n) * (float(freq) / sample_rate)
    return np.cumsum(freq) / sample_rate


def _table(amps: np.ndarray) -> np.ndarray:
    """One period of sum_k amps[k-1] sin(2 pi k x) as float32 [_TABLE + 1] (wrap sample added)."""
    spectrum = np.zeros(_TABLE // 2 + 1, complex)
    k = min(len(amps), _TABLE // 2 - 1)
    spectrum[1 : k + 1] = -0.5j * _TABLE * np.asarray(amps[:k])
    period = np.fft.irfft(spectrum, _TABLE)
    return np.append(period, period[0]).astype(np.float32)


def _lookup(tables: list[np.ndarray], cycles: np.ndarray) -> list[np.ndarray]:
    """Each wavetable (float32 [_TABLE + 1]) read at phase `cycles` [n] with linear
    interpolation: list of float32 [n]."""
    position = (cycles - np.floor(cycles)) * _TABLE
    index = position.astype(np.intp)
    frac = (position - index).astype(np.float32)
    return [table[index] + frac * (table[index + 1] - table[index]) for table in tables]


def _osc(amps: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Harmonic oscillator with harmonic amplitudes amps [K] at phase cycles [n]: float32 [n]."""
    return _lookup([_table(amps)], cycles)[0]


def _limit(amps: np.ndarray, f_max: float, sample_rate: int) -> np.ndarray:
    """amps [K] with the harmonics of f_max (Hz) above 0.45 sample_rate removed."""
    k = np.arange(1, len(amps) + 1)
    return np.where(k * f_max < 0.45 * sample_rate, amps, 0.0)


def _formants(freqs: np.ndarray, peaks: list[tuple[float, float, float]]) -> np.ndarray:
    """Spectral envelope at freqs (Hz): sum of resonances (centre Hz, bandwidth Hz, gain)."""
    return sum(g / np.sqrt(1.0 + ((freqs - fc) / (0.5 * bw)) ** 2) for fc, bw, g in peaks)


def _harmonics(
    f0: float,
    count: int,
    tilt: float,
    sample_rate: int,
    peaks: list[tuple[float, float, float]] | None = None,
) -> np.ndarray:
    """Harmonic amplitudes [count] of a source with spectral tilt k**-tilt, optionally shaped by
    formant `peaks` (see _formants), band limited for f0 (Hz)."""
    k = np.arange(1, count + 1)
    amps = k**-tilt
    if peaks:
        amps = amps * _formants(k * f0, peaks)
    return _limit(amps, f0, sample_rate)


def _band(freqs: np.ndarray, lo: float, hi: float, order: float = 2.0) -> np.ndarray:
    """Butterworth-like band-pass magnitude at freqs (Hz): high-pass at lo, low-pass at hi (Hz);
    lo = 0 means no high-pass, hi = inf no low-pass."""
    f = np.maximum(freqs, 1e-3)
    return 1.0 / np.sqrt((1.0 + (lo / f) ** (2 * order)) * (1.0 + (f / hi) ** (2 * order)))


def _noise(rng: np.random.Generator, n: int, sample_rate: int, gain: Callable) -> np.ndarray:
    """Gaussian noise float32 [n] of unit RMS whose magnitude spectrum follows gain(freqs_hz)."""
    m = n // 2 + 1
    spectrum = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    wave = np.fft.irfft(spectrum * gain(np.fft.rfftfreq(n, 1.0 / sample_rate)), n)
    return (wave / max(1e-12, float(np.sqrt(np.mean(wave**2))))).astype(np.float32)


def _filter(wave: np.ndarray, sample_rate: int, gain: Callable) -> np.ndarray:
    """wave [n] filtered (zero phase, circular) by the magnitude response gain(freqs_hz)."""
    freqs = np.fft.rfftfreq(wave.size, 1.0 / sample_rate)
    return np.fft.irfft(np.fft.rfft(wave) * gain(freqs), wave.size).astype(np.float32)


def _clicks(
    rng: np.random.Generator,
    n: int,
    sample_rate: int,
    times: np.ndarray,
    gains: np.ndarray,
    tau: float,
    gain: Callable,
) -> np.ndarray:
    """Sharp clicks float32 [n]: impulses of `gains` at `times` (s), each decaying exponentially
    with time constant tau (s), then filtered by the magnitude response gain(freqs_hz); one FFT.
    Each click has a random sign."""
    track = np.zeros(n)
    index = (np.asarray(times) * sample_rate).astype(int)
    keep = index < n
    signs = rng.choice([-1.0, 1.0], index.size)
    np.add.at(track, index[keep], (np.asarray(gains) * signs)[keep])
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    response = gain(freqs) / (1.0 + 2j * np.pi * freqs * tau)
    return np.fft.irfft(np.fft.rfft(track) * response, n).astype(np.float32)


def _modes(
    m: int, sample_rate: int, freqs: Sequence[float], amps: Sequence[float], t60s: Sequence[float]
) -> np.ndarray:
    """Sum of decaying sine modes (Hz, amplitude, T60 s) over m samples: float32 [m]; modes at or
    above 0.45 sample_rate are skipped."""
    t = _times(m, sample_rate)
    out = np.zeros(m, np.float32)
    for f, a, t60 in zip(freqs, amps, t60s, strict=True):
        if f < 0.45 * sample_rate:
            out += a * np.sin(np.float32(2 * np.pi * f) * t) * np.exp(t * np.float32(-6.9 / t60))
    return out


def _burst(rng: np.random.Generator, m: int, sample_rate: int, t60: float) -> np.ndarray:
    """White noise burst with an exponential decay of T60 t60 (s): float32 [m]."""
    return rng.standard_normal(m).astype(np.float32) * _decay(m, sample_rate, t60, 0.0005)


def _struck(
    f0: float, m: int, sample_rate: int, amps: np.ndarray, t60: float, beat_hz: float = 0.0
) -> np.ndarray:
    """A plucked or struck harmonic note of f0 (Hz), m samples: harmonics 1-2 decay with T60 t60
    (s), 3-6 twice and 7+ four times as fast, like a damped string; beat_hz > 0 adds the slow
    beating of two slightly detuned strings: float32 [m]."""
    amps = _limit(amps, f0, sample_rate)
    k = np.arange(1, len(amps) + 1)
    groups = [np.where(k <= 2, amps, 0.0), np.where((k > 2) & (k <= 6), amps, 0.0)]
    groups.append(np.where(k > 6, amps, 0.0))
    t = _times(m, sample_rate)
    waves = _lookup([_table(g) for g in groups], t * np.float32(f0))
    attack = np.minimum(np.float32(1.0), t * np.float32(500.0))
    rates = [np.float32(-6.9 * 2**i / t60) for i in range(3)]
    note = sum(w * np.exp(t * r) for w, r in zip(waves, rates, strict=True)) * attack
    if beat_hz > 0:
        note *= 1 + np.float32(0.3) * np.cos(np.float32(2 * np.pi * beat_hz) * t)
    return note


def _pluck_amps(rng: np.random.Generator, count: int, tilt: float) -> np.ndarray:
    """Harmonic amplitudes [count] of a string plucked at a random point: tilt k**-tilt with
    the comb notches of the pluck position."""
    k = np.arange(1, count + 1)
    position = rng.uniform(0.08, 0.3)
    return k**-tilt * np.abs(np.sin(np.pi * k * position)) / np.sin(np.pi * position)


# ---------------------------------------------------------------------------------------------
# Shared renderers


def _melody(
    rng: np.random.Generator,
    sample_rate: int,
    seconds: float,
    pitch_range: tuple[float, float],
    note_range: tuple[float, float],
    amps: Callable[[float], np.ndarray],
    attack_s: float,
    vibrato: tuple[float, float],
    breath: tuple[float, float, float],
    legato: bool,
) -> Clip:
    """A sustained melodic instrument: notes of a random walk around a drawn tonic, each note of
    drawn length, optional vibrato (depth as a frequency fraction, rate Hz) and breath noise
    (level relative to the tone, band lo Hz, hi Hz). amps(tonic) gives the harmonic amplitudes.
    Legato phrases have one envelope with a linear attack; otherwise every note is tongued: it
    has its own attack and sounds for 55-90% of its span. Pace: notes per second."""
    n = _n_samples(sample_rate, seconds)
    tonic = _log_uniform(rng, *pitch_range)
    note_s = _log_uniform(rng, *note_range)
    spans = _spans(rng, n, sample_rate, note_s)
    freqs = _walk(rng, len(spans), tonic)
    glide = int(rng.uniform(0.01, 0.04) * sample_rate)
    f = _smooth(_step_track(n, spans, freqs), glide)
    depth, rate = vibrato
    if depth > 0:
        t = _times(n, sample_rate)
        rate = rate * rng.uniform(0.85, 1.15)
        f = f * (1.0 + depth * rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * rate * t))
    base = amps(tonic)
    timbre = base * np.exp(rng.normal(0.0, 0.15, base.size))
    tone = _osc(_limit(timbre, float(f.max()), sample_rate), _cycles(f, n, sample_rate))
    attack_s *= rng.uniform(0.7, 1.4)
    if legato:
        env = _span_env(n, sample_rate, [(spans[0][0], spans[-1][1])], attack_s, 0.05)
    else:
        sounding = rng.uniform(0.55, 0.9)
        notes = [(a, a + int(sounding * (b - a))) for a, b in spans]
        env = _span_env(n, sample_rate, notes, attack_s, 0.03)
    level, lo, hi = breath
    noise = _noise(rng, n, sample_rate, lambda fr: _band(fr, lo, hi))
    wave = (_unit_rms(tone) + level * noise) * env
    return _finish(wave), _attributes(tonic, pitch_range, 1.0 / note_s, _inverse(note_range))


def _inverse(note_range: tuple[float, float]) -> tuple[float, float]:
    """The rate range (1/s) of a duration range (s)."""
    return 1.0 / note_range[1], 1.0 / note_range[0]


def _hits(
    rng: np.random.Generator,
    sample_rate: int,
    seconds: float,
    hit: np.ndarray,
    period: float,
    keep: float = 1.0,
    accent: float = 0.3,
) -> np.ndarray:
    """`hit` [m] repeated on a jittered regular grid of the given period (s), each hit kept with
    probability `keep` (at least one) and scaled by a random accent in [1 - accent, 1]."""
    out = np.zeros(_n_samples(sample_rate, seconds), np.float32)
    times = _grid(rng, seconds, period)
    kept = rng.uniform(size=len(times)) < keep
    kept[rng.integers(len(times))] = True
    for t, on in zip(times, kept, strict=True):
        if on:
            _add(out, hit, t, sample_rate, rng.uniform(1.0 - accent, 1.0))
    return out


# ---------------------------------------------------------------------------------------------
# Instruments


def _bass_drum(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Kick drum hits: a sine sweeping down to a low drawn pitch, with a click."""
    pitch_range, rate_range = (40.0, 85.0), (1.0, 5.0)
    f_end, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    m = int(rng.uniform(0.25, 0.6) * sample_rate)
    t = _times(m, sample_rate)
    sweep = f_end * (1 + rng.uniform(1.5, 3.5) * np.exp(-t / rng.uniform(0.015, 0.05)))
    body = np.sin(2 * np.pi * _cycles(sweep, m, sample_rate)).astype(np.float32)
    hit = body * _decay(m, sample_rate, m / sample_rate) + 0.3 * _burst(rng, m, sample_rate, 0.01)
    hit = _filter(hit, sample_rate, lambda f: _band(f, 0, 3000))
    wave = _hits(rng, sample_rate, seconds, hit, 1.0 / rate, keep=0.85)
    return _finish(wave), _attributes(f_end, pitch_range, rate, rate_range)


def _church_bell(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Tolls of a large bell: inharmonic partials (hum, prime, minor third, fifth, ...) with long
    decays, longer for the low partials."""
    pitch_range, rate_range = (130.0, 520.0), (0.5, 2.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    ratios = np.array([0.5, 1.0, 1.19, 1.5, 2.0, 2.52, 2.66, 3.01, 4.1, 5.4])
    ratios = ratios * np.exp(rng.normal(0.0, 0.008, ratios.size))
    amps = np.array([0.7, 1.0, 0.8, 0.4, 0.6, 0.35, 0.3, 0.25, 0.2, 0.12])
    amps = amps * rng.uniform(0.6, 1.4, ratios.size)
    t60 = rng.uniform(2.5, 5.0) * ratios**-0.6
    n = _n_samples(sample_rate, seconds)
    strike = _modes(n, sample_rate, f0 * ratios, amps, t60)
    beat = np.sin(2 * np.pi * rng.uniform(0.7, 2.5) * _times(n, sample_rate))
    strike = strike * (1 + 0.25 * beat) + 0.2 * _burst(rng, n, sample_rate, 0.02)
    wave = _hits(rng, sample_rate, seconds, strike, 1.0 / rate, accent=0.2)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _clarinet(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Woody, hollow reed notes in a low register: odd harmonics dominate and fade steeply above
    about 1.5 kHz, a little breath."""

    def amps(f0: float) -> np.ndarray:
        k = np.arange(1, 41)
        odd = np.where(k % 2 == 1, 1.0, 0.05) / k
        return odd * _band(k * f0, 0, 1500, 3)

    return _melody(
        rng,
        sample_rate,
        seconds,
        (147.0, 392.0),
        (0.2, 0.9),
        amps,
        0.04,
        (0.003, 5.0),
        (0.02, 1000.0, 3000.0),
        True,
    )


def _flute(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Breathy, almost pure notes with vibrato and air noise."""

    def amps(f0: float) -> np.ndarray:
        return np.array([1.0, 0.12, 0.04, 0.01])

    return _melody(
        rng,
        sample_rate,
        seconds,
        (330.0, 1320.0),
        (0.25, 1.0),
        amps,
        0.08,
        (0.008, 5.0),
        (0.06, 1500.0, 5000.0),
        False,
    )


def _violin(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Bowed string notes: bright sawtooth-like harmonics through body resonances, vibrato, slow
    attack."""
    body = [(280.0, 150.0, 0.5), (500.0, 300.0, 0.8), (2500.0, 1500.0, 1.0)]

    def amps(f0: float) -> np.ndarray:
        return _harmonics(f0, 40, 0.5, sample_rate, body)

    return _melody(
        rng,
        sample_rate,
        seconds,
        (196.0, 880.0),
        (0.3, 1.2),
        amps,
        0.15,
        (0.02, 6.0),
        (0.05, 3000.0, 7000.0),
        True,
    )


def _trumpet(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Brassy fanfare notes: many strong harmonics peaking around 1-1.5 kHz, crisp attack."""
    bell = [(1200.0, 1200.0, 1.0), (2200.0, 800.0, 0.5)]

    def amps(f0: float) -> np.ndarray:
        return _harmonics(f0, 40, 0.0, sample_rate, bell) * _band(np.arange(1, 41) * f0, 0, 3000, 3)

    return _melody(
        rng,
        sample_rate,
        seconds,
        (185.0, 700.0),
        (0.15, 0.7),
        amps,
        0.025,
        (0.0, 5.5),
        (0.02, 1000.0, 5000.0),
        False,
    )


def _organ(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Sustained organ chords changing legato: pipe-like drawbar harmonics from a sub-octave up,
    flat level, no decay, sometimes a tremulant."""
    pitch_range, chord_range = (98.0, 392.0), (0.5, 2.0)
    root, chord_s = _log_uniform(rng, *pitch_range), _log_uniform(rng, *chord_range)
    n = _n_samples(sample_rate, seconds)
    amps = np.zeros(16)  # harmonics of half the note frequency: 16', 8', 4', 2 2/3', 2', 1'
    amps[[0, 1, 3, 5, 7, 15]] = rng.uniform(0.1, 1.0, 6)
    amps[1] = 1.0
    spans = _spans(rng, n, sample_rate, chord_s)
    roots = _walk(rng, len(spans), root, _PENTATONIC)
    wave = np.zeros(n, np.float32)
    for interval in (0, 4 if rng.uniform() < 0.5 else 3, 7):
        f = 0.5 * _step_track(n, spans, roots * 2 ** (interval / 12))
        wave += _osc(_limit(amps, float(f.max()), sample_rate), _cycles(f, n, sample_rate))
    phrase = [(spans[0][0], spans[-1][1])]
    env = _span_env(n, sample_rate, phrase, rng.uniform(0.03, 0.1), 0.08)
    depth = rng.choice([0.0, rng.uniform(0.1, 0.25)])
    tremolo = 1 + depth * np.sin(2 * np.pi * rng.uniform(5.5, 7.0) * _times(n, sample_rate))
    return _finish(wave * env * tremolo), _attributes(
        root, pitch_range, 1.0 / chord_s, _inverse(chord_range)
    )


def _piano(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Piano playing: hammered melody notes over bass notes an octave or two below, beating
    slightly like detuned strings, a bright hammer attack decaying faster than the fundamental."""
    pitch_range, note_range = (110.0, 880.0), (0.15, 0.6)
    tonic, note_s = _log_uniform(rng, *pitch_range), _log_uniform(rng, *note_range)
    n = _n_samples(sample_rate, seconds)
    times = _grid(rng, seconds, note_s, 0.05)
    freqs = _walk(rng, len(times), tonic)
    amps = _pluck_amps(rng, 30, 0.8) * np.exp(-np.arange(30) / 15)
    bass_every = int(rng.integers(2, 5))
    wave = np.zeros(n, np.float32)
    for i, (t, f) in enumerate(zip(times, freqs, strict=True)):
        notes = [f, max(55.0, tonic / rng.choice([2, 4]))] if i % bass_every == 0 else [f]
        for g in notes:
            t60 = rng.uniform(1.0, 2.0) * (440.0 / g) ** 0.5
            m = min(n - int(t * sample_rate), int(t60 * sample_rate))
            note = _struck(g, m, sample_rate, amps, t60, rng.uniform(0.3, 2.0))
            note[: m // 4] += 0.1 * _burst(rng, m // 4, sample_rate, 0.005)
            _add(wave, note, t, sample_rate, rng.uniform(0.5, 1.0))
    return _finish(wave), _attributes(tonic, pitch_range, 1.0 / note_s, _inverse(note_range))


def _harp(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Harp arpeggios: mellow plucked notes with long ringing, spread over two octaves."""
    pitch_range, step_range = (130.0, 520.0), (0.07, 0.35)
    root, step = _log_uniform(rng, *pitch_range), _log_uniform(rng, *step_range)
    n = _n_samples(sample_rate, seconds)
    chord = np.array([0, 4, 7, 12, 16, 19, 24]) if rng.uniform() < 0.5 else np.arange(0, 25, 2)
    times = _grid(rng, seconds, step, 0.05)
    direction = rng.choice([1, -1])
    wave = np.zeros(n, np.float32)
    for i, t in enumerate(times):
        f = root * 2 ** (chord[::direction][i % chord.size] / 12)
        t60 = rng.uniform(1.2, 2.5) * (261.0 / f) ** 0.3
        m = min(n - int(t * sample_rate), int(t60 * sample_rate))
        note = _struck(f, m, sample_rate, _pluck_amps(rng, 8, 2.5), t60)
        _add(wave, note, t, sample_rate, rng.uniform(0.6, 1.0))
    return _finish(wave), _attributes(root, pitch_range, 1.0 / step, _inverse(step_range))


def _plucked_guitar(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Guitar strums (a chord swept across the strings) or picked single notes: bright plucked
    strings."""
    pitch_range, rate_range = (82.0, 330.0), (0.8, 5.0)
    root, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    shape = np.array([0, 7, 12, 16, 19, 24]) if rng.uniform() < 0.5 else np.array([0, 7, 12, 15])
    strum = rng.uniform() < 0.7
    body = [(rng.uniform(90, 120), 40.0, 1.0), (rng.uniform(190, 230), 80.0, 0.7)]
    body.append((rng.uniform(2000, 3000), 2000.0, 0.4))
    wave = np.zeros(n, np.float32)
    for t in _grid(rng, seconds, (2.0 if strum else 1.0) / rate, 0.05):
        strings = shape[:: rng.choice([1, -1])] if strum else rng.choice(shape, 1)
        gap = rng.uniform(0.008, 0.025)
        amps = _pluck_amps(rng, 30, 1.0) * _formants(np.arange(1, 31) * root, body)
        for j, semitones in enumerate(strings):
            onset = t + j * gap
            t60 = rng.uniform(0.4, 1.0)
            m = min(n - int(onset * sample_rate), int(t60 * sample_rate))
            if m > 0:
                note = _struck(root * 2 ** (semitones / 12), m, sample_rate, amps, t60)
                _add(wave, note, onset, sample_rate, rng.uniform(0.6, 1.0))
    return _finish(wave), _attributes(root, pitch_range, rate, rate_range)


def _snare_drum(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Snare hits or rolls: a bright rattle of noise over a short drum-head tone."""
    pitch_range, rate_range = (150.0, 300.0), (1.5, 12.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    m = int(0.3 * sample_rate)
    rattle = _filter(
        _burst(rng, m, sample_rate, rng.uniform(0.12, 0.3)),
        sample_rate,
        lambda f: _band(f, 1000, 9000, 1),
    )
    head = _modes(m, sample_rate, [f0, 1.6 * f0, 2.3 * f0], [1.0, 0.5, 0.3], [0.08, 0.05, 0.04])
    hit = rng.uniform(0.4, 1.0) * rattle / np.abs(rattle).max() + head / np.abs(head).max()
    wave = _hits(rng, sample_rate, seconds, hit, 1.0 / rate, keep=0.9, accent=0.5)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _xylophone(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Quick wooden mallet notes: a bright fundamental with a partial near 3.9x, short decay."""
    pitch_range, step_range = (523.0, 2093.0), (0.08, 0.35)
    tonic, step = _log_uniform(rng, *pitch_range), _log_uniform(rng, *step_range)
    n = _n_samples(sample_rate, seconds)
    times = _grid(rng, seconds, step, 0.04)
    freqs = _walk(rng, len(times), tonic, _PENTATONIC)
    wave = np.zeros(n, np.float32)
    m = int(0.5 * sample_rate)
    for t, f in zip(times, freqs, strict=True):
        t60 = rng.uniform(0.2, 0.5)
        note = _modes(
            m, sample_rate, [f, 3.93 * f, 9.2 * f], [1.0, 0.35, 0.1], [t60, t60 / 3, t60 / 6]
        )
        _add(wave, note, t, sample_rate, rng.uniform(0.6, 1.0))
    return _finish(wave), _attributes(tonic, pitch_range, 1.0 / step, _inverse(step_range))


# ---------------------------------------------------------------------------------------------
# Home


def _alarm_clock(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Electronic alarm: groups of fast square-wave beeps, repeated."""
    pitch_range, rate_range = (1500.0, 4000.0), (4.0, 12.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    hz = float(_cap(f0, sample_rate))
    n = _n_samples(sample_rate, seconds)
    per_group = int(rng.integers(2, 6))
    group_s = (per_group + rng.uniform(1.0, 3.0)) / rate
    beep_len = int(rng.uniform(0.4, 0.6) / rate * sample_rate)
    tone = _osc(
        _limit(np.array([1.0, 0, 1 / 3, 0, 1 / 5]), hz, sample_rate),
        _cycles(hz, beep_len, sample_rate),
    ) * _ramp_env(beep_len, sample_rate, 0.003, 0.003)
    wave = np.zeros(n, np.float32)
    for start in _grid(rng, seconds, group_s, 0.0):
        for i in range(per_group):
            _add(wave, tone, start + i / rate, sample_rate)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _clock_tick(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A mechanical clock: very regular short resonant clicks, alternating tick and tock."""
    pitch_range, rate_range = (1500.0, 5000.0), (1.0, 6.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    hz = float(_cap(f0, sample_rate))
    m = int(0.03 * sample_rate)
    ratios = np.array([1.0, 1.73, 2.9])
    decay = rng.uniform(0.01, 0.03)
    tick = _modes(m, sample_rate, hz * ratios, [1.0, 0.6, 0.4], [decay] * 3)
    tock = _modes(m, sample_rate, 0.8 * hz * ratios, [1.0, 0.6, 0.4], [decay] * 3)
    tick += 0.5 * _burst(rng, m, sample_rate, 0.002)
    n = _n_samples(sample_rate, seconds)
    wave = np.zeros(n, np.float32)
    for i, t in enumerate(_grid(rng, seconds, 1.0 / rate, 0.003)):
        _add(wave, tick if i % 2 == 0 else tock, t, sample_rate, 1.0 if i % 2 == 0 else 0.7)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _door_knock(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Knuckles on a wooden door: groups of dull low thuds."""
    pitch_range, rate_range = (80.0, 250.0), (3.0, 10.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    m = int(0.12 * sample_rate)
    thud = _modes(
        m,
        sample_rate,
        f0 * np.array([1.0, 2.3, 4.1, 6.7]),
        [1.0, 0.7, 0.4, 0.2],
        [0.06, 0.04, 0.03, 0.02],
    )
    click = _filter(_burst(rng, m, sample_rate, 0.008), sample_rate, lambda f: _band(f, 0, 3000))
    knock = thud / np.abs(thud).max() + 0.5 * click / np.abs(click).max()
    n = _n_samples(sample_rate, seconds)
    wave = np.zeros(n, np.float32)
    t = _start(rng, seconds, 0.4)
    while t < seconds:
        count = int(rng.integers(2, 6))
        for i in range(count):
            _add(
                wave,
                knock,
                t + i / rate * rng.uniform(0.9, 1.1),
                sample_rate,
                rng.uniform(0.6, 1.0),
            )
        t += count / rate + rng.uniform(0.4, 1.2)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _doorbell(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A two-tone chime: "ding" then a lower "dong", ringing out."""
    pitch_range, gap_range = (500.0, 1200.0), (0.25, 0.9)
    f_high, gap = _log_uniform(rng, *pitch_range), _log_uniform(rng, *gap_range)
    f_low = f_high * 2 ** (-rng.choice([3, 4, 5, 7]) / 12)
    n = _n_samples(sample_rate, seconds)
    t60 = rng.uniform(0.8, 2.0)
    ratios, amps = np.array([1.0, 2.0, 2.76, 5.4]), [1.0, 0.3, 0.25, 0.1]
    wave = np.zeros(n, np.float32)
    t = _start(rng, seconds, 0.3)
    while t < seconds:
        for i, f in enumerate((f_high, f_low)):
            chime = _modes(n, sample_rate, f * ratios, amps, [t60, t60 / 2, t60 / 3, t60 / 5])
            _add(wave, chime, t + i * gap, sample_rate)
        t += 2 * gap + rng.uniform(1.0, 2.0)
    return _finish(wave), _attributes(f_high, pitch_range, 1.0 / gap, _inverse(gap_range))


def _footsteps(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Walking or running steps: heel and toe scuffs with a low thump, alternating feet."""
    pitch_range, rate_range = (400.0, 2500.0), (1.3, 4.0)
    cutoff, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    env = np.zeros(n, np.float32)
    thump = np.zeros(n, np.float32)
    m = int(0.15 * sample_rate)
    body = _modes(m, sample_rate, [rng.uniform(60, 120)], [1.0], [0.06])
    heel, toe = _decay(m, sample_rate, 0.06, 0.003), _decay(m, sample_rate, 0.1, 0.01)
    for i, t in enumerate(_grid(rng, seconds, 1.0 / rate, 0.04)):
        level = rng.uniform(0.7, 1.0) * (1.0 if i % 2 == 0 else rng.uniform(0.6, 0.9))
        _add(env, heel, t, sample_rate, level)
        _add(env, toe, t + rng.uniform(0.03, 0.08), sample_rate, 0.6 * level)
        _add(thump, body, t, sample_rate, level)
    scuff = _filter(
        rng.standard_normal(n).astype(np.float32) * env,
        sample_rate,
        lambda f: _band(f, 80, cutoff, 1.5),
    )
    return _finish(scuff + 0.5 * thump), _attributes(cutoff, pitch_range, rate, rate_range)


def _keyboard_typing(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Typing on a keyboard: fast irregular plastic clicks, key-down and key-up, with an
    occasional deeper space bar."""
    pitch_range, rate_range = (1500.0, 5000.0), (5.0, 14.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    hz = float(_cap(f0, sample_rate))
    n = _n_samples(sample_rate, seconds)
    down = _random_times(rng, seconds, rate)
    up = down + rng.uniform(0.05, 0.12, down.size)
    gains = rng.uniform(0.5, 1.0, down.size)
    times, gains = np.concatenate([down, up]), np.concatenate([gains, 0.4 * gains])
    wave = _clicks(
        rng, n, sample_rate, times, gains, 0.003, lambda f: _band(f, 0.5 * hz, 1.5 * hz, 1.5)
    )
    wave /= np.abs(wave).max()
    m = int(0.01 * sample_rate)
    key = _modes(m, sample_rate, [hz, 1.5 * hz], [1.0, 0.5], [0.006, 0.004])
    for t, g in zip(times, gains, strict=True):
        _add(wave, key, t, sample_rate, 0.5 * g)
    space = down[rng.uniform(size=down.size) < 0.12]
    rattle = _modes(
        int(0.04 * sample_rate), sample_rate, [0.3 * hz, 0.45 * hz], [1.0, 0.6], [0.03, 0.02]
    )
    for t in space:
        _add(wave, rattle, t, sample_rate, 1.5)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _kettle_whistle(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A kettle coming to the boil: a breathy whistle rising in pitch and loudness."""
    pitch_range, rise_range = (1000.0, 3000.0), (0.3, 2.5)
    f_top, rise_s = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rise_range)
    n = _n_samples(sample_rate, seconds)
    t = _times(n, sample_rate) - _start(rng, seconds, 0.5)
    progress = np.clip(t / rise_s, 0.0, 1.0)
    f = f_top * (rng.uniform(0.55, 0.8) + (1 - 0.7) * progress)
    f = f * (1 + 0.01 * _wander(rng, n, sample_rate, 8.0))
    tone = np.sin(2 * np.pi * _cycles(f, n, sample_rate)).astype(np.float32)
    breath = 1.0 + 0.4 * _wander(rng, n, sample_rate, 40.0)
    hiss = _noise(rng, n, sample_rate, lambda fr: _band(fr, 2000, 7000, 1))
    level = np.clip(t / rng.uniform(0.1, 0.4), 0.0, 1.0) * (0.3 + 0.7 * progress)
    wave = level * (tone * breath + rng.uniform(0.02, 0.08) * hiss)
    return _finish(wave), _attributes(f_top, pitch_range, 1.0 / rise_s, _inverse(rise_range))


def _phone_ringing(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A telephone ring: a fast warble between two tones, in bursts with pauses."""
    pitch_range, rate_range = (600.0, 1600.0), (0.6, 2.0)
    f1, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    t = _times(n, sample_rate)
    warble = (np.sin(2 * np.pi * rng.uniform(12.0, 25.0) * t) > 0).astype(np.float32)
    f = f1 * (1 + rng.uniform(0.15, 0.35) * _smooth(warble.astype(float), 20))
    tone = _osc(
        _limit(np.array([1.0, 0.15, 0.3, 0.05, 0.1]), f1 * 1.4, sample_rate),
        _cycles(f, n, sample_rate),
    )
    gate = _cycles(rate, n, sample_rate) - rate * _start(rng, seconds, 0.5)
    ringing = (gate >= 0) & (gate - np.floor(gate) < rng.uniform(0.4, 0.7))
    env = _smooth(ringing.astype(float), int(0.005 * sample_rate))
    return _finish(tone * env), _attributes(f1, pitch_range, rate, rate_range)


def _vacuum_cleaner(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A vacuum cleaner: a loud airflow roar peaking in the mids with a high motor whine, pushed
    back and forth."""
    pitch_range, rate_range = (500.0, 1500.0), (0.3, 1.5)
    whine, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    centre = rng.uniform(1000.0, 2500.0)
    air = _noise(rng, n, sample_rate, lambda f: _band(f, 0.5 * centre, centre, 2))
    f = whine * (1 + 0.003 * _wander(rng, n, sample_rate, 2.0))
    amps = _limit(np.array([1.0, 0.6, 0.4, 0.3, 0.2]), whine, sample_rate)
    motor = _unit_rms(_osc(amps, _cycles(f, n, sample_rate)))
    phase = 2 * np.pi * rate * _times(n, sample_rate) + rng.uniform(0, 2 * np.pi)
    push = 1 + rng.uniform(0.1, 0.35) * np.sin(phase)
    wave = push * (air + rng.uniform(0.3, 0.7) * motor)
    return _finish(wave), _attributes(whine, pitch_range, rate, rate_range)


def _water_drops(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Water dripping: "plink" drops, each a short sine rising in pitch as its bubble rings."""
    pitch_range, rate_range = (500.0, 2000.0), (2.0, 10.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    wave = np.zeros(n, np.float32)
    m = int(0.08 * sample_rate)
    t = _times(m, sample_rate)
    for onset in _random_times(rng, seconds, rate):
        f = f0 * rng.uniform(0.7, 1.4)
        rise = 1 + rng.uniform(0.3, 1.0) * (1 - np.exp(-t / rng.uniform(0.005, 0.02)))
        sweep = _cap(f * rise, sample_rate)
        drop = np.sin(2 * np.pi * _cycles(sweep, m, sample_rate)).astype(np.float32)
        _add(
            wave,
            drop * _decay(m, sample_rate, rng.uniform(0.03, 0.08), 0.001),
            onset,
            sample_rate,
            rng.uniform(0.3, 1.0),
        )
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


# ---------------------------------------------------------------------------------------------
# Nature


def _bird_chirping(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Bird song: phrases of fast high whistled syllables, each phrase repeating its own sweep
    (up, down or arched, often warbled) with a faint second harmonic; some phrases are trills
    twice as fast."""
    pitch_range, rate_range = (2000.0, 5000.0), (4.0, 14.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    f0 = min(f0, 0.3 * sample_rate)
    n = _n_samples(sample_rate, seconds)
    wave = np.zeros(n, np.float32)
    t = _start(rng, seconds, 0.3)
    while t < seconds:
        speed = rate * rng.choice([1.0, 2.0])
        m = int(rng.uniform(0.3, 0.8) / speed * sample_rate)
        u = np.linspace(0.0, 1.0, m, dtype=np.float32)
        start, stop = f0 * rng.uniform(0.5, 1.6, 2)
        f = start + (stop - start) * u + rng.uniform(-0.4, 0.4) * f0 * np.sin(np.pi * u)
        warble = rng.choice([0.0, rng.uniform(0.03, 0.1)])
        f *= 1 + warble * np.sin(2 * np.pi * rng.uniform(30, 80) * u * m / sample_rate)
        f = np.minimum(f, 0.44 * sample_rate)
        amps = _limit(np.array([1.0, 0.15]), float(f.max()), sample_rate)
        chirp = _osc(amps, _cycles(f, m, sample_rate))
        chirp *= np.sin(np.pi * u) ** 2
        count = int(rng.integers(2, 8))
        for i in range(count):
            _add(wave, chirp, t + i / speed, sample_rate, rng.uniform(0.4, 1.0))
        t += count / speed + rng.uniform(0.1, 0.6)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _cow_mooing(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A cow's moo: a long, low, nasal harmonic call opening from "mmm" to "ooo", pitch rising
    then falling."""
    pitch_range, length_range = (70.0, 170.0), (0.7, 1.8)
    f0, length = _log_uniform(rng, *pitch_range), _log_uniform(rng, *length_range)
    n = _n_samples(sample_rate, seconds)
    m = min(n, int(length * sample_rate))
    u = np.linspace(0.0, 1.0, m)
    f = f0 * (1 + rng.uniform(0.1, 0.4) * np.sin(np.pi * u ** rng.uniform(0.6, 1.2)) - 0.15 * u**4)
    closed = _harmonics(f0, 60, 1.0, sample_rate, [(250.0, 150.0, 1.0), (900.0, 300.0, 0.1)])
    vowel = [(rng.uniform(500, 750), 200.0, 1.0), (rng.uniform(900, 1300), 250.0, 0.5)]
    opened = _harmonics(f0, 60, 0.8, sample_rate, vowel + [(2500.0, 400.0, 0.1)])
    closed, opened = (_limit(a, float(f.max()), sample_rate) for a in (closed, opened))
    hum, open_ = _lookup([_table(closed), _table(opened)], _cycles(f, m, sample_rate))
    mouth = np.clip(np.sin(np.pi * u) * 1.5, 0.0, 1.0).astype(np.float32)
    moo = (hum * (1 - mouth) + open_ * mouth) * _ramp_env(m, sample_rate, 0.15, 0.25)
    wave = np.zeros(n, np.float32)
    _add(wave, moo, rng.uniform(0.0, max(0.05, seconds - length)), sample_rate)
    return _finish(wave), _attributes(f0, pitch_range, 1.0 / length, _inverse(length_range))


def _crackling_fire(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A wood fire: sharp random crackles and pops over a soft low roar."""
    pitch_range, rate_range = (1500.0, 5000.0), (8.0, 40.0)
    centre, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    times = _random_times(rng, seconds, rate)
    gains = np.minimum(rng.pareto(3.0, times.size) + 0.3, 3.0)
    crackles = _clicks(
        rng, n, sample_rate, times, gains, 0.0005, lambda f: _band(f, centre / 4, 1.5 * centre, 1)
    )
    roar = _noise(rng, n, sample_rate, lambda f: _band(f, 30, 300, 2))
    roar *= 1 + 0.4 * _wander(rng, n, sample_rate, 3.0)
    wave = crackles / np.abs(crackles).max() + rng.uniform(0.02, 0.06) * roar
    return _finish(wave), _attributes(centre, pitch_range, rate, rate_range)


def _crickets(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Crickets: a high pure carrier pulsed into fast trilled chirps."""
    pitch_range, rate_range = (3000.0, 6000.0), (1.5, 6.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    hz = float(_cap(f0, sample_rate))
    n = _n_samples(sample_rate, seconds)
    pulse = _pulses(_cycles(rng.uniform(25.0, 60.0), n, sample_rate) + rng.uniform(), 0.5)
    chirp = _cycles(rate, n, sample_rate) - rng.uniform()
    gate = _pulses(chirp, rng.uniform(0.3, 0.7), 1.0)
    carrier = np.sin(2 * np.pi * _cycles(hz, n, sample_rate)).astype(np.float32)
    wave = carrier * pulse * gate
    if rng.uniform() < 0.5:
        other = _cycles(hz * rng.uniform(0.9, 1.1), n, sample_rate)
        gate2 = _pulses(chirp * rng.uniform(0.8, 1.2) + rng.uniform(), 0.5, 1.0)
        wave += rng.uniform(0.3, 0.7) * np.sin(2 * np.pi * other).astype(np.float32) * pulse * gate2
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _dog_barking(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Dog barks: short harsh harmonic bursts with a falling pitch and noisy edge."""
    pitch_range, rate_range = (250.0, 700.0), (1.5, 5.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    peaks = [(rng.uniform(600, 1000), 400.0, 1.0), (rng.uniform(1500, 2200), 600.0, 0.6)]
    table = _table(_limit(_harmonics(f0, 40, 0.6, sample_rate, peaks), 1.45 * f0, sample_rate))
    m = int(rng.uniform(0.1, 0.25) * sample_rate)
    u = np.linspace(0.0, 1.0, m)
    env = _decay(m, sample_rate, m / sample_rate, 0.008)
    noise_env = np.zeros(n, np.float32)
    wave = np.zeros(n, np.float32)
    t = _start(rng, seconds, 0.3)
    while t < seconds:
        for i in range(int(rng.integers(1, 4))):
            f = (
                f0
                * rng.uniform(0.9, 1.1)
                * (1 + 0.3 * np.sin(np.pi * np.minimum(u * 3, 1)) - 0.2 * u)
            )
            bark = _lookup([table], _cycles(f, m, sample_rate))[0] * env
            onset = t + i / rate * rng.uniform(0.9, 1.1)
            _add(wave, bark / np.abs(bark).max(), onset, sample_rate)
            _add(noise_env, env, onset, sample_rate)
        t += rng.integers(1, 4) / rate + rng.uniform(0.3, 0.8)
    noise = _noise(rng, n, sample_rate, lambda fr: _band(fr, 500, 3000, 1))
    wave += rng.uniform(0.15, 0.4) * noise * noise_env
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _frog_croaking(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Frog croaks: low nasal tones broken into rapid pulses, "ribbit"."""
    pitch_range, rate_range = (90.0, 300.0), (1.0, 4.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    peaks = [(rng.uniform(400, 900), 300.0, 1.0), (rng.uniform(1200, 2000), 400.0, 0.4)]
    tone = _osc(_harmonics(f0, 40, 0.5, sample_rate, peaks), _cycles(f0, n, sample_rate))
    pulse = _pulses(_cycles(rng.uniform(15.0, 40.0), n, sample_rate), rng.uniform(0.3, 0.6), 1.0)
    croak_s = rng.uniform(0.15, 0.5)
    on = min(0.8, croak_s * rate)
    gate = _pulses(_cycles(rate, n, sample_rate) - rng.uniform(), on, 0.2)
    return _finish(tone * pulse * gate), _attributes(f0, pitch_range, rate, rate_range)


def _rain(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Rainfall: a dense patter of tiny droplet clicks over a steady hiss."""
    pitch_range, rate_range = (1500.0, 5000.0), (150.0, 1000.0)
    centre, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    times = _random_times(rng, seconds, rate)
    patter = _clicks(
        rng,
        n,
        sample_rate,
        times,
        rng.uniform(0.0, 1.0, times.size) ** 3,
        rng.uniform(0.0005, 0.002),
        lambda f: _band(f, centre / 4, centre * 1.5, 1),
    )
    hiss = _noise(rng, n, sample_rate, lambda f: _band(f, 300, centre * 2, 1))
    wave = patter / np.sqrt(np.mean(patter**2)) + rng.uniform(0.3, 0.8) * hiss
    wave *= 1 + 0.1 * _wander(rng, n, sample_rate, 1.0)
    return _finish(wave), _attributes(centre, pitch_range, rate, rate_range)


def _sea_waves(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Waves on a shore: a low roar swelling and breaking into a washing hiss, slowly."""
    pitch_range, rate_range = (300.0, 1500.0), (0.15, 0.6)
    cutoff, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    phase = _cycles(rate, n, sample_rate) + rng.uniform()
    swell = (0.5 - 0.5 * np.cos(2 * np.pi * phase)).astype(np.float32) ** 2
    wash = (0.5 - 0.5 * np.cos(2 * np.pi * (phase - 0.2))).astype(np.float32) ** 4
    roar = _noise(rng, n, sample_rate, lambda f: _band(f, 40, cutoff, 1))
    hiss = _noise(rng, n, sample_rate, lambda f: _band(f, 1500, 6000, 1))
    wave = (0.05 + swell) * roar + rng.uniform(0.5, 1.0) * wash * hiss
    wave *= 1 + 0.2 * _wander(rng, n, sample_rate, 4.0)
    return _finish(wave), _attributes(cutoff, pitch_range, rate, rate_range)


def _thunder(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Thunder: an optional sharp crack then a deep irregular rumble dying away."""
    pitch_range, rate_range = (80.0, 400.0), (0.4, 2.0)
    cutoff, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    t = _times(n, sample_rate) - _start(rng, seconds, 0.6)
    attack = np.clip(t / rng.uniform(0.05, 0.3), 0.0, 1.0)
    env = attack * np.exp(-np.maximum(t, 0) * 6.9 * rate / 3)
    env *= np.abs(1 + 0.8 * _wander(rng, n, sample_rate, rng.uniform(3.0, 8.0)))
    rumble = _noise(rng, n, sample_rate, lambda f: _band(f, 20, cutoff, 1.5)) * env
    if rng.uniform() < 0.5:
        m = int(0.3 * sample_rate)
        crack = _filter(_burst(rng, m, sample_rate, 0.15), sample_rate, lambda f: _band(f, 0, 3000))
        _add(rumble, rng.uniform(0.5, 1.5) * crack, -float(t[0]), sample_rate)
    return _finish(rumble), _attributes(cutoff, pitch_range, rate, rate_range)


def _wind(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Wind: strongly gusting low noise with a howling whistle wandering in pitch."""
    pitch_range, rate_range = (300.0, 1200.0), (0.3, 2.0)
    centre, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    gust = np.exp(0.9 * _wander(rng, n, sample_rate, rate))
    body = _noise(rng, n, sample_rate, lambda f: _band(f, 30, centre, 2))
    f = centre * np.exp(0.25 * _wander(rng, n, sample_rate, rate))
    howl = np.sin(2 * np.pi * _cycles(f, n, sample_rate)).astype(np.float32)
    howl *= 1 + 0.5 * _wander(rng, n, sample_rate, 20.0)
    wave = gust * (body + rng.uniform(0.3, 0.8) * gust * howl)
    return _finish(wave), _attributes(centre, pitch_range, rate, rate_range)


# ---------------------------------------------------------------------------------------------
# Street


def _bicycle_bell(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A bicycle bell: bright metallic "ring ring" strikes or a fast trill."""
    pitch_range, rate_range = (2000.0, 4500.0), (3.0, 18.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    hz = float(_cap(f0, sample_rate))
    m = int(0.6 * sample_rate)
    t60 = rng.uniform(0.4, 0.9)
    ding = _modes(
        m,
        sample_rate,
        hz * np.array([1.0, 1.012, 1.6, 2.3, 2.9]),
        [1.0, 0.8, 0.4, 0.3, 0.2],
        [t60, t60, t60 / 2, t60 / 3, t60 / 4],
    )
    n = _n_samples(sample_rate, seconds)
    wave = np.zeros(n, np.float32)
    t = _start(rng, seconds, 0.3)
    while t < seconds:
        count = int(rng.integers(2, 8))
        for i in range(count):
            _add(wave, ding, t + i / rate, sample_rate, rng.uniform(0.6, 1.0))
        t += count / rate + rng.uniform(0.3, 1.0)
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _car_horn(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A car horn: two loud buzzy detuned tones a third apart, in honks."""
    pitch_range, length_range = (300.0, 520.0), (0.15, 1.2)
    f1, length = _log_uniform(rng, *pitch_range), _log_uniform(rng, *length_range)
    n = _n_samples(sample_rate, seconds)
    f2 = f1 * 2 ** (rng.choice([3, 4]) / 12) * rng.uniform(0.99, 1.01)
    amps = _harmonics(f2, 30, 0.7, sample_rate, [(2500.0, 1500.0, 1.0), (400.0, 400.0, 0.6)])
    tone = _osc(amps, _cycles(f1, n, sample_rate)) + _osc(amps, _cycles(f2, n, sample_rate))
    spans, t = [], _start(rng, seconds, 0.3)
    while t < seconds:
        stop = t + length * rng.uniform(0.8, 1.2)
        spans.append((int(t * sample_rate), int(min(stop, seconds) * sample_rate)))
        t = stop + rng.uniform(0.08, 0.4)
    env = _span_env(n, sample_rate, spans, 0.01, 0.02)
    return _finish(tone * env), _attributes(f1, pitch_range, 1.0 / length, _inverse(length_range))


def _drilling(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A power drill: a high motor whine that spins up and down with each trigger pull, with
    grinding noise."""
    pitch_range, length_range = (250.0, 700.0), (0.3, 1.5)
    f0, length = _log_uniform(rng, *pitch_range), _log_uniform(rng, *length_range)
    n = _n_samples(sample_rate, seconds)
    spans, t = [], _start(rng, seconds, 0.3)
    while t < seconds:
        stop = t + length * rng.uniform(0.8, 1.2)
        spans.append((int(t * sample_rate), int(min(stop, seconds) * sample_rate)))
        t = stop + rng.uniform(0.1, 0.4)
    trigger = _span_env(n, sample_rate, spans, 0.0, 0.0).astype(float)
    speed = _smooth(trigger, int(rng.uniform(0.08, 0.2) * sample_rate))
    f = f0 * (0.05 + 0.95 * speed) * (1 + 0.01 * _wander(rng, n, sample_rate, 10.0))
    amps = _limit(np.array([1.0, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15]), f0, sample_rate)
    whine = _osc(amps, _cycles(f, n, sample_rate))
    grind = _noise(rng, n, sample_rate, lambda fr: _band(fr, 2000, 7000, 1))
    wave = speed * (whine + rng.uniform(0.2, 0.5) * grind)
    return _finish(wave), _attributes(f0, pitch_range, 1.0 / length, _inverse(length_range))


def _engine(
    rng: np.random.Generator, n: int, sample_rate: int, f: np.ndarray, peaks: list, tilt: float
) -> np.ndarray:
    """Engine firing pulses at frequency track f [n] (Hz) with cycle-to-cycle jitter, shaped by
    exhaust resonances `peaks` (see _formants): float32 [n]."""
    f = f * (1 + 0.03 * _wander(rng, n, sample_rate, float(f.mean())))
    amps = _harmonics(float(f.mean()), 120, tilt, sample_rate, peaks)
    return _osc(_limit(amps, float(f.max()), sample_rate), _cycles(f, n, sample_rate))


def _engine_idling(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """An idling engine: a steady low rumbling buzz of firing pulses with valve clatter."""
    pitch_range, rate_range = (18.0, 45.0), (0.3, 3.0)
    firing, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    lope = 1 + 0.04 * np.sin(2 * np.pi * rate * _times(n, sample_rate))
    peaks = [(rng.uniform(80, 200), 150.0, 1.0), (rng.uniform(400, 800), 300.0, 0.3)]
    wave = _engine(rng, n, sample_rate, firing * lope, peaks, 0.0)
    clatter = _noise(rng, n, sample_rate, lambda f: _band(f, 1500, 5000, 1))
    tick = _pulses(_cycles(2 * firing, n, sample_rate), 0.2, 2.0)
    wave = wave + rng.uniform(0.05, 0.2) * np.abs(wave).max() * clatter * tick
    return _finish(wave), _attributes(firing, pitch_range, rate, rate_range)


def _motorcycle(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A motorcycle: a loud raspy engine revving up and down."""
    pitch_range, rate_range = (35.0, 80.0), (0.5, 2.5)
    base, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    rev = _pulses(_cycles(rate, n, sample_rate) + rng.uniform(), rng.uniform(0.5, 0.9), 1.0)
    f = base * (1 + rng.uniform(0.5, 1.5) * rev.astype(float))
    peaks = [(rng.uniform(150, 400), 300.0, 1.0), (rng.uniform(900, 1600), 700.0, 0.5)]
    engine = _unit_rms(_engine(rng, n, sample_rate, f, peaks, 0.3))
    rasp = _noise(rng, n, sample_rate, lambda fr: _band(fr, 500, 4000, 1))
    wave = (0.5 + 0.5 * rev) * (engine + rng.uniform(0.05, 0.15) * rasp)
    return _finish(wave), _attributes(base, pitch_range, rate, rate_range)


def _gunshot(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """Gunshots: an instant blast, a low boom and a decaying noisy tail."""
    pitch_range, rate_range = (800.0, 4000.0), (1.0, 6.0)
    cutoff, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    m = int(rng.uniform(0.3, 0.7) * sample_rate)
    tail = _filter(
        _burst(rng, m, sample_rate, m / sample_rate), sample_rate, lambda f: _band(f, 0, cutoff, 1)
    )
    blast = _burst(rng, m, sample_rate, 0.01)
    boom = _modes(m, sample_rate, [rng.uniform(50, 100)], [1.0], [0.15])
    shot = tail / np.abs(tail).max() + 1.5 * blast / np.abs(blast).max() + 0.7 * boom
    wave = _hits(rng, sample_rate, seconds, shot, 1.0 / rate, keep=0.6)
    return _finish(wave), _attributes(cutoff, pitch_range, rate, rate_range)


def _helicopter(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A helicopter: rhythmic blade chopping of broadband noise, a tail rotor and turbine whine."""
    pitch_range, rate_range = (200.0, 1000.0), (10.0, 25.0)
    centre, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    blade = _cycles(rate * (1 + 0.02 * _wander(rng, n, sample_rate, 0.5)), n, sample_rate)
    chop = _pulses(blade, rng.uniform(0.2, 0.4), 2.0)
    slap = _noise(rng, n, sample_rate, lambda f: _band(f, 40, centre, 1.5))
    tail = _pulses(blade * rng.uniform(4.0, 6.0), 0.5, 1.0)
    hiss = _noise(rng, n, sample_rate, lambda f: _band(f, 1000, 5000, 1))
    whine_hz = _cap(rng.uniform(2000, 4000), sample_rate)
    whine = np.sin(2 * np.pi * _cycles(whine_hz, n, sample_rate)).astype(np.float32)
    wave = slap * (0.15 + chop) + 0.3 * hiss * tail + rng.uniform(0.02, 0.08) * whine
    return _finish(wave), _attributes(centre, pitch_range, rate, rate_range)


def _jackhammer(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A jackhammer: bursts of very fast, hard metallic blows."""
    pitch_range, rate_range = (800.0, 3000.0), (12.0, 30.0)
    f0, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    m = int(0.04 * sample_rate)
    blow = _modes(
        m, sample_rate, f0 * np.array([1.0, 1.47, 2.09]), [1.0, 0.7, 0.5], [0.02, 0.015, 0.01]
    ) + 0.7 * _burst(rng, m, sample_rate, 0.01)
    blow += _modes(m, sample_rate, [rng.uniform(70, 120)], [1.5], [0.04])
    times, t = [], _start(rng, seconds, 0.3)
    while t < seconds:
        stop = t + rng.uniform(0.4, 1.5)
        times.extend(np.arange(t, min(stop, seconds), 1.0 / rate))
        t = stop + rng.uniform(0.15, 0.5)
    wave = np.zeros(n, np.float32)
    for onset in times:
        _add(wave, blow, onset + rng.normal(0, 0.002), sample_rate, rng.uniform(0.8, 1.0))
    return _finish(wave), _attributes(f0, pitch_range, rate, rate_range)


def _siren(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """An emergency siren: a loud tone wailing up and down, yelping, or alternating hi-lo."""
    pitch_range, rate_range = (550.0, 1300.0), (0.3, 6.0)
    centre, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    cycle = _cycles(rate, n, sample_rate) + rng.uniform()
    frac = cycle - np.floor(cycle)
    if rng.uniform() < 0.3:
        shape = (frac < 0.5).astype(float)
    else:
        shape = 0.5 - 0.5 * np.cos(2 * np.pi * frac)
    f = centre * 2 ** (rng.uniform(0.4, 0.8) * (shape - 0.5))
    amps = _limit(np.array([1.0, 0.25, 0.35, 0.1, 0.15]), float(f.max()), sample_rate)
    return _finish(_osc(amps, _cycles(f, n, sample_rate))), _attributes(
        centre, pitch_range, rate, rate_range
    )


def _train(rng: np.random.Generator, sample_rate: int, seconds: float) -> Clip:
    """A passing train: heavy rumble with rhythmic "clickety-clack" wheel clatter over the rail
    joints, sometimes a wheel squeal."""
    pitch_range, rate_range = (120.0, 600.0), (1.0, 4.0)
    cutoff, rate = _log_uniform(rng, *pitch_range), _log_uniform(rng, *rate_range)
    n = _n_samples(sample_rate, seconds)
    rumble = _noise(rng, n, sample_rate, lambda f: _band(f, 25, cutoff, 1.5))
    m = int(0.06 * sample_rate)
    clack = _filter(
        _burst(rng, m, sample_rate, 0.04), sample_rate, lambda f: _band(f, 200, 4000, 1)
    )
    clack += _modes(m, sample_rate, [rng.uniform(150, 400)], [1.0], [0.05])
    clack /= np.abs(clack).max()
    clatter = np.zeros(n, np.float32)
    gap = rng.uniform(0.08, 0.2) / rate
    for t in _grid(rng, seconds, 1.0 / rate, 0.01):
        for dt in (0.0, gap):
            _add(clatter, clack, t + dt, sample_rate, rng.uniform(0.7, 1.0))
    wave = rng.uniform(0.3, 0.6) * rumble + clatter
    if rng.uniform() < 0.3:
        f = _cap(rng.uniform(2000, 4000), sample_rate) * (
            1 + 0.02 * _wander(rng, n, sample_rate, 1.0)
        )
        wave += 0.2 * np.sin(2 * np.pi * _cycles(f, n, sample_rate)).astype(np.float32)
    return _finish(wave), _attributes(cutoff, pitch_range, rate, rate_range)


# ---------------------------------------------------------------------------------------------
# The catalogue


def _recipe(name: str, render: Render, *descriptions: str) -> SoundRecipe:
    """A SoundRecipe from its name, renderer and descriptions."""
    return SoundRecipe(name, tuple(descriptions), render)


RECIPES: dict[str, SoundRecipe] = {
    r.name: r
    for r in (
        _recipe(
            "bass drum",
            _bass_drum,
            "a bass drum thumping",
            "kick drum beats",
            "a booming bass drum",
            "a deep drum being struck",
            "low thuds from a big drum",
            "a pounding beat",
            "a deep boom on every beat",
            "heavy low percussion hits",
            "a thudding kick",
        ),
        _recipe(
            "church bell",
            _church_bell,
            "a church bell ringing",
            "church bells tolling",
            "a large bell tolling",
            "bells ringing out from a tower",
            "deep resonant bell strikes",
            "a heavy bell chiming slowly",
            "a booming metallic toll",
            "a cathedral peal",
            "long ringing chimes from a steeple",
        ),
        _recipe(
            "clarinet",
            _clarinet,
            "a clarinet playing",
            "a clarinet melody",
            "notes on a clarinet",
            "a woody reed instrument playing",
            "a mellow woodwind tune",
            "a hollow reedy melody",
            "a single-reed wind instrument",
            "a soft woodwind line",
        ),
        _recipe(
            "flute",
            _flute,
            "a flute playing",
            "a flute melody",
            "notes on a flute",
            "a breathy flute tune",
            "an airy woodwind melody",
            "a pure whistling wind instrument",
            "a soft high piped tune",
            "a gentle airy melody",
        ),
        _recipe(
            "harp",
            _harp,
            "a harp playing",
            "harp arpeggios",
            "a harp being plucked",
            "strings rippling in a glissando",
            "gentle plucked strings ringing",
            "a shimmering cascade of plucked notes",
            "soft ringing strings rolling upward",
            "a concert harp strummed",
        ),
        _recipe(
            "organ",
            _organ,
            "an organ playing",
            "organ chords",
            "a church organ",
            "sustained chords on a keyboard instrument",
            "a droning held chord",
            "steady pipe-like tones",
            "an electric organ holding notes",
            "a full sustained tone from pipes",
        ),
        _recipe(
            "piano",
            _piano,
            "a piano playing",
            "piano notes",
            "a melody on the piano",
            "keys being struck on a grand piano",
            "hammered strings playing a tune",
            "a keyboard melody with decaying notes",
            "an upright being played",
            "notes ringing from struck strings",
        ),
        _recipe(
            "plucked guitar",
            _plucked_guitar,
            "a plucked guitar",
            "a guitar being strummed",
            "acoustic guitar chords",
            "someone playing the guitar",
            "strummed strings",
            "fingerpicked strings",
            "a six-string acoustic playing chords",
            "twangy picked notes",
        ),
        _recipe(
            "snare drum",
            _snare_drum,
            "a snare drum",
            "snare drum hits",
            "a snare roll",
            "a crisp drum rattling",
            "sharp rattling drum strikes",
            "a marching drum beat",
            "snappy percussion hits",
            "a drummer playing a tight crack",
        ),
        _recipe(
            "trumpet",
            _trumpet,
            "a trumpet playing",
            "a trumpet fanfare",
            "notes on a trumpet",
            "a bright brass instrument",
            "a blaring horn melody",
            "brassy notes",
            "a brass fanfare",
            "a cornet playing a tune",
        ),
        _recipe(
            "violin",
            _violin,
            "a violin playing",
            "a violin melody",
            "a bowed violin",
            "a bowed string instrument",
            "a fiddle playing",
            "singing strings with vibrato",
            "a soaring string melody",
            "a bow drawn across strings",
        ),
        _recipe(
            "xylophone",
            _xylophone,
            "a xylophone playing",
            "xylophone notes",
            "a melody on the xylophone",
            "wooden bars struck with mallets",
            "a bright tinkling mallet tune",
            "quick plinking percussion notes",
            "a marimba-like melody",
            "a glockenspiel-like tune",
        ),
        _recipe(
            "alarm clock",
            _alarm_clock,
            "an alarm clock beeping",
            "an alarm clock going off",
            "a digital alarm",
            "insistent electronic beeping",
            "a wake-up alarm",
            "rapid high beeps",
            "a beeping timer",
            "repeated shrill electronic tones",
        ),
        _recipe(
            "clock tick",
            _clock_tick,
            "a clock ticking",
            "the tick of a clock",
            "a ticking clock",
            "tick-tock",
            "a regular mechanical ticking",
            "a pendulum clock marking seconds",
            "steady tiny clicks",
            "a wristwatch ticking away",
        ),
        _recipe(
            "door knock",
            _door_knock,
            "a knock on the door",
            "knocking on a door",
            "door knocks",
            "someone rapping on wood",
            "knuckles tapping on a wooden door",
            "a few dull thuds on wood",
            "someone knocking to be let in",
            "sharp raps on a door",
        ),
        _recipe(
            "doorbell",
            _doorbell,
            "a doorbell ringing",
            "a doorbell chime",
            "a ding-dong doorbell",
            "a two-tone chime",
            "ding-dong at the front door",
            "a chime at the entrance",
            "a pleasant bell announcing a visitor",
            "a house chime ringing",
        ),
        _recipe(
            "footsteps",
            _footsteps,
            "footsteps",
            "footsteps on a floor",
            "someone's footsteps approaching",
            "a person walking",
            "shoes stepping on a hard floor",
            "someone running past",
            "steady walking paces",
            "feet treading along",
        ),
        _recipe(
            "keyboard typing",
            _keyboard_typing,
            "keyboard typing",
            "typing on a keyboard",
            "someone typing on a computer keyboard",
            "fast tapping on keys",
            "clicking keys",
            "a person typing quickly",
            "clattering keystrokes",
            "fingers tapping at a computer",
        ),
        _recipe(
            "kettle whistle",
            _kettle_whistle,
            "a kettle whistling",
            "a whistling kettle",
            "a kettle coming to the boil",
            "a teapot whistling on the stove",
            "a shrill rising whistle",
            "steam whistling from a pot",
            "a high whistle getting louder",
            "boiling water whistling",
        ),
        _recipe(
            "phone ringing",
            _phone_ringing,
            "a phone ringing",
            "a telephone ringing",
            "a ringing phone",
            "an incoming call",
            "a landline ringtone",
            "a warbling ring tone",
            "a trilling electronic ring",
            "someone's cell going off",
        ),
        _recipe(
            "vacuum cleaner",
            _vacuum_cleaner,
            "a vacuum cleaner running",
            "a vacuum cleaner",
            "someone vacuuming",
            "a hoover running",
            "a loud whirring household appliance",
            "a roaring suction motor",
            "a noisy cleaning machine whining",
            "carpet being hoovered",
        ),
        _recipe(
            "water drops",
            _water_drops,
            "water drops",
            "water dripping",
            "drops of water falling",
            "a leaky tap",
            "plinking drips",
            "droplets falling into a sink",
            "a slow drip",
            "liquid plopping drip by drip",
        ),
        _recipe(
            "bird chirping",
            _bird_chirping,
            "a bird chirping",
            "birds chirping",
            "a bird singing",
            "birdsong",
            "tweeting in the trees",
            "a songbird whistling",
            "high twittering calls",
            "a sparrow's cheerful song",
        ),
        _recipe(
            "cow mooing",
            _cow_mooing,
            "a cow mooing",
            "a cow lowing",
            "the moo of a cow",
            "cattle calling",
            "a long low moo",
            "a bovine call in a field",
            "a farm animal bellowing",
            "a low drawn-out animal call",
        ),
        _recipe(
            "crackling fire",
            _crackling_fire,
            "a crackling fire",
            "fire crackling",
            "a crackling campfire",
            "logs burning in a fireplace",
            "popping and snapping embers",
            "a bonfire burning",
            "wood hissing and popping as it burns",
            "the crackle of flames",
        ),
        _recipe(
            "crickets",
            _crickets,
            "crickets chirping",
            "crickets",
            "a cricket chirping at night",
            "insects trilling",
            "a high pulsing insect call",
            "night insects singing",
            "chirring in the grass",
            "a grasshopper's trill",
        ),
        _recipe(
            "dog barking",
            _dog_barking,
            "a dog barking",
            "dogs barking",
            "a barking dog",
            "a dog's bark",
            "woof woof",
            "a hound yapping",
            "a puppy yelping",
            "an angry canine calling out",
        ),
        _recipe(
            "frog croaking",
            _frog_croaking,
            "a frog croaking",
            "frogs croaking",
            "the croak of a frog",
            "ribbit",
            "a toad calling",
            "a pond at night with croaks",
            "a low rattling amphibian call",
            "bullfrogs calling",
        ),
        _recipe(
            "rain",
            _rain,
            "rain",
            "rain falling",
            "heavy rain",
            "a rain shower",
            "a downpour",
            "water pattering on a roof",
            "a steady drizzle",
            "drops pelting the ground",
        ),
        _recipe(
            "sea waves",
            _sea_waves,
            "sea waves",
            "waves crashing",
            "ocean waves on a beach",
            "the sea washing on the shore",
            "surf rolling in",
            "breakers crashing",
            "water surging and receding",
            "a roaring surf",
        ),
        _recipe(
            "thunder",
            _thunder,
            "thunder",
            "a thunderclap",
            "rolling thunder",
            "thunder rumbling",
            "a storm rumbling in the distance",
            "a loud crack from the sky",
            "a deep rumble overhead",
            "a lightning strike boom",
        ),
        _recipe(
            "wind",
            _wind,
            "wind blowing",
            "strong wind",
            "the wind howling",
            "a windy day",
            "air gusting",
            "a gale whistling",
            "a breeze rushing past",
            "a blustery storm",
        ),
        _recipe(
            "bicycle bell",
            _bicycle_bell,
            "a bicycle bell",
            "a bicycle bell ringing",
            "a bike bell",
            "a cyclist's bell",
            "ring-ring of a small bell",
            "a bright metallic ding",
            "a little thumb bell on handlebars",
            "a tinny bell rung twice",
        ),
        _recipe(
            "car horn",
            _car_horn,
            "a car horn",
            "a car horn honking",
            "a honking car horn",
            "a vehicle honking",
            "a beep from a car",
            "a driver sounding the horn",
            "a loud honk in traffic",
            "a blaring auto horn",
        ),
        _recipe(
            "drilling",
            _drilling,
            "a drill",
            "drilling",
            "an electric drill running",
            "a power drill",
            "a whining power tool",
            "someone boring a hole",
            "a high-pitched motor whirring",
            "a cordless screwdriver spinning",
        ),
        _recipe(
            "engine idling",
            _engine_idling,
            "an engine idling",
            "an idling car engine",
            "a car engine running",
            "a motor ticking over",
            "a parked vehicle rumbling",
            "a truck motor running",
            "a steady low mechanical rumble",
            "a diesel chugging at rest",
        ),
        _recipe(
            "gunshot",
            _gunshot,
            "a gunshot",
            "gunshots",
            "a gun firing",
            "a shot being fired",
            "a loud bang",
            "a rifle shot",
            "sharp explosive bangs",
            "a pistol going off",
        ),
        _recipe(
            "helicopter",
            _helicopter,
            "a helicopter",
            "a helicopter flying",
            "a helicopter overhead",
            "chopper blades",
            "rotor blades chopping the air",
            "an aircraft hovering",
            "a rhythmic whirring chop",
            "a chopper passing by",
        ),
        _recipe(
            "jackhammer",
            _jackhammer,
            "a jackhammer",
            "a jackhammer pounding",
            "a pneumatic drill",
            "a road drill breaking concrete",
            "rapid hammering of a machine",
            "construction hammering",
            "a machine pounding pavement",
            "a rattling pneumatic hammer",
        ),
        _recipe(
            "motorcycle",
            _motorcycle,
            "a motorcycle",
            "a motorcycle revving",
            "a motorbike engine",
            "a motorbike accelerating",
            "a revving bike",
            "a loud two-wheeler engine",
            "an engine revving up and down",
            "a scooter buzzing past",
        ),
        _recipe(
            "siren",
            _siren,
            "a siren",
            "a police siren",
            "an ambulance siren",
            "a wailing siren",
            "an emergency vehicle",
            "a fire engine wailing",
            "a rising and falling alarm tone",
            "a warning wail",
        ),
        _recipe(
            "train",
            _train,
            "a train",
            "a train passing",
            "a train on the tracks",
            "a railway train",
            "wheels clattering over rails",
            "clickety-clack",
            "a locomotive rumbling by",
            "a subway car rolling",
        ),
    )
}
"""The 42 classes of the built-in world, keyed by name."""
