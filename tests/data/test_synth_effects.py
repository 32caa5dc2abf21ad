"""Acoustic conditions: levels, spectra, decay, lengths, clip guard and drawn attributes."""

import numpy as np
import pytest

from sept_ray.data.synth.effects import (
    NOISE_COLORS,
    Condition,
    add_hum,
    add_noise,
    clip_guard,
    coloured_noise,
    lowpass,
    peak_normalise,
    reverberate,
    set_gain_db,
)

RATE = 16000


def tone(freq=440.0, amplitude=0.1, n=RATE):
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(n) / RATE)).astype(np.float32)


def power(wave):
    return float(np.mean(np.square(wave, dtype=np.float64)))


def db(ratio):
    return 10 * np.log10(ratio)


@pytest.mark.parametrize("color", NOISE_COLORS)
@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0])
def test_noise_is_added_at_the_requested_snr(color, snr_db):
    clean = tone()
    noisy = add_noise(clean, np.random.default_rng(0), snr_db, color, RATE)
    assert abs(db(power(clean) / power(noisy - clean)) - snr_db) < 1.0


def test_noise_colours_have_their_spectral_slopes():
    freqs = np.fft.rfftfreq(2**16, 1 / RATE)
    octaves = [(125 * 2**k, 250 * 2**k) for k in range(5)]  # 125 Hz .. 4 kHz
    for color, slope in [("white", 0.0), ("pink", -3.0), ("brown", -6.0)]:
        noise = coloured_noise(np.random.default_rng(1), 2**16, color, RATE)
        spectrum = np.abs(np.fft.rfft(noise)) ** 2
        density = [db(spectrum[(freqs >= a) & (freqs < b)].mean()) for a, b in octaves]
        assert np.polyfit(np.arange(5), density, 1)[0] == pytest.approx(slope, abs=1.0), color
        assert noise.dtype == np.float32 and power(noise) == pytest.approx(1.0, rel=1e-3)


def test_unknown_noise_colour_is_refused():
    with pytest.raises(ValueError, match="blue"):
        add_noise(tone(), np.random.default_rng(0), 10.0, "blue")


def test_hum_has_the_requested_level_and_frequency():
    clean = tone(1000.0)
    hummed = add_hum(clean, np.random.default_rng(0), 50.0, -20.0, RATE)
    hum = hummed - clean
    assert abs(db(power(hum) / power(clean)) - -20.0) < 0.5
    spectrum = np.abs(np.fft.rfft(hum)) ** 2
    freqs = np.fft.rfftfreq(hum.size, 1 / RATE)
    assert freqs[spectrum.argmax()] in (50.0, 100.0, 150.0, 200.0)
    assert spectrum[freqs > 250].sum() < 1e-3 * spectrum.sum()


def test_lowpass_removes_energy_above_the_cutoff():
    noise = coloured_noise(np.random.default_rng(0), RATE, "white", RATE) * np.float32(0.2)
    for cutoff in (500.0, 2000.0, 5000.0):
        filtered = lowpass(noise, cutoff, RATE)
        spectrum = np.abs(np.fft.rfft(filtered)) ** 2
        freqs = np.fft.rfftfreq(filtered.size, 1 / RATE)
        assert spectrum[freqs > 1.1 * cutoff].sum() < 0.01 * spectrum.sum()
        kept = np.abs(np.fft.rfft(noise)) ** 2
        passband = freqs < 0.9 * cutoff
        assert spectrum[passband].sum() == pytest.approx(kept[passband].sum(), rel=0.05)
    assert np.array_equal(lowpass(noise, 9000.0, RATE), noise)


def tail_energy(wave, after):
    return float(np.sum(wave[after:].astype(np.float64) ** 2))


def test_reverb_lengthens_the_decay():
    click = np.zeros(RATE, np.float32)
    click[1600] = 0.9
    after = 1600 + int(0.05 * RATE)
    assert tail_energy(click, after) == 0.0
    short = reverberate(click, np.random.default_rng(0), 0.3, RATE, 0.5)
    long = reverberate(click, np.random.default_rng(0), 1.2, RATE, 0.5)
    assert tail_energy(short, after) > 0.0
    assert tail_energy(long, after) > 2 * tail_energy(short, after)
    late = 1600 + int(0.6 * RATE)
    assert tail_energy(long, late) > 100 * tail_energy(short, late)
    assert np.array_equal(reverberate(click, np.random.default_rng(0), 1.0, RATE, 0.0), click)


@pytest.mark.parametrize("rt60", [0.3, 0.8, 1.5])
def test_reverb_decays_at_about_the_requested_rt60(rt60):
    click = np.zeros(3 * RATE, np.float32)
    click[0] = 0.9
    response = reverberate(click, np.random.default_rng(1), rt60, RATE, 1.0).astype(np.float64)
    remaining = np.cumsum(response[::-1] ** 2)[::-1]
    decay_db = db(remaining / remaining[0] + 1e-30)
    t20 = (np.argmax(decay_db < -25) - np.argmax(decay_db < -5)) / RATE
    assert 3 * t20 == pytest.approx(rt60, rel=0.25)


def test_every_effect_keeps_length_dtype_and_input():
    wave = tone(n=12345)
    original = wave.copy()
    rng = np.random.default_rng(0)
    outputs = [
        add_noise(wave, rng, 10.0, "pink", RATE),
        add_hum(wave, rng, 60.0, -10.0, RATE),
        reverberate(wave, rng, 0.8, RATE, 0.4),
        lowpass(wave, 3000.0, RATE),
        set_gain_db(wave, -6.0),
        peak_normalise(wave, 0.5),
        clip_guard(wave),
    ]
    for out in outputs:
        assert out.dtype == np.float32 and out.shape == wave.shape
        assert np.isfinite(out).all()
    assert np.array_equal(wave, original)


def test_clip_guard_holds():
    loud = tone(amplitude=0.9)
    rng = np.random.default_rng(0)
    guarded = [
        set_gain_db(loud, 20.0),
        add_noise(loud, rng, -10.0, "white", RATE),
        add_hum(loud, rng, 50.0, 10.0, RATE),
        reverberate(loud, rng, 1.5, RATE, 1.0),
        lowpass(np.sign(loud), 1000.0, RATE),
        clip_guard(loud * 3),
    ]
    for out in guarded:
        assert np.abs(out).max() <= 1.0
    assert np.abs(set_gain_db(loud, 20.0)).max() == pytest.approx(1.0)


def test_gain_and_peak_normalise():
    wave = tone(amplitude=0.5)
    assert np.abs(set_gain_db(wave, -6.0)).max() == pytest.approx(0.5 * 10 ** (-6 / 20), rel=1e-4)
    assert np.abs(peak_normalise(wave, 0.25)).max() == pytest.approx(0.25, rel=1e-4)
    silent = np.zeros(100, np.float32)
    assert np.array_equal(peak_normalise(silent, 0.9), silent)
    assert np.array_equal(add_noise(silent, np.random.default_rng(0), 10.0), silent)


def test_condition_applies_and_describes_what_it_drew():
    condition = Condition(lowpass_hz=(2000.0, 8000.0), hum_db=(-30.0, -20.0))
    wave = tone(amplitude=0.9, n=2 * RATE)
    seen = {"room": set(), "loudness": set(), "distance": set()}
    for seed in range(40):
        out, attributes = condition.apply(wave, np.random.default_rng(seed), RATE)
        assert out.dtype == np.float32 and out.shape == wave.shape
        assert np.abs(out).max() <= 1.0
        assert set(attributes) == set(seen)
        for key, value in attributes.items():
            seen[key].add(value)
    assert seen == {
        "room": {"dry", "echoing"},
        "loudness": {"loud", "quiet", ""},
        "distance": {"close", "distant"},
    }
    again, _ = condition.apply(wave, np.random.default_rng(3), RATE)
    assert np.array_equal(again, condition.apply(wave, np.random.default_rng(3), RATE)[0])


def test_condition_labels_follow_the_drawn_values():
    wave = tone(amplitude=0.9)
    rng = np.random.default_rng(0)
    plain = Condition(snr_db=None, wet=None, gain_db=(0.0, 0.0))
    out, attributes = plain.apply(wave, rng, RATE)
    assert attributes == {"room": "dry", "loudness": "loud", "distance": "close"}
    assert np.array_equal(out, wave)
    far = Condition(wet=(0.8, 0.8), rt60_s=(1.0, 1.0), lowpass_hz=(2000, 2000), gain_db=(-30, -30))
    _, attributes = far.apply(wave, rng, RATE)
    assert attributes == {"room": "echoing", "loudness": "quiet", "distance": "distant"}
    middle = Condition(snr_db=(20.0, 20.0), wet=(0.1, 0.1), gain_db=(-12.0, -12.0))
    _, attributes = middle.apply(wave, rng, RATE)
    assert attributes == {"room": "dry", "loudness": "", "distance": "close"}


@pytest.mark.parametrize(
    "bad",
    [
        {"noise_colors": ("blue",)},
        {"snr_db": (30.0, 10.0)},
        {"wet": (0.5, 1.5)},
        {"rt60_s": (0.0, 1.0)},
    ],
)
def test_condition_refuses_bad_ranges(bad):
    with pytest.raises(ValueError):
        Condition(**bad)
