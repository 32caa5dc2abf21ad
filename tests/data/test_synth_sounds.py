"""The procedural sound classes: valid, deterministic, varied and acoustically distinct."""

import numpy as np
import pytest

from sept_ray.data.synth.sounds import PEAK, RECIPES

CLASSES = [
    *("bass drum", "church bell", "clarinet", "flute", "harp", "organ", "piano"),
    *("plucked guitar", "snare drum", "trumpet", "violin", "xylophone"),
    *("alarm clock", "clock tick", "door knock", "doorbell", "footsteps", "keyboard typing"),
    *("kettle whistle", "phone ringing", "vacuum cleaner", "water drops"),
    *("bird chirping", "cow mooing", "crackling fire", "crickets", "dog barking"),
    *("frog croaking", "rain", "sea waves", "thunder", "wind"),
    *("bicycle bell", "car horn", "drilling", "engine idling", "gunshot", "helicopter"),
    *("jackhammer", "motorcycle", "siren", "train"),
]
PITCHES, PACES = {"low", "medium", "high"}, {"slow", "steady", "fast"}


def render(name, seed, rate=16000, seconds=2.0):
    return RECIPES[name].render(np.random.default_rng(seed), rate, seconds)


def test_catalogue_has_the_42_classes_in_order():
    assert list(RECIPES) == CLASSES
    assert all(recipe.name == name for name, recipe in RECIPES.items())


@pytest.mark.parametrize("name", CLASSES)
def test_render_gives_a_valid_clip(name):
    for seed in range(4):
        wave, attributes = render(name, seed)
        assert wave.dtype == np.float32 and wave.shape == (32000,)
        assert np.isfinite(wave).all()
        assert np.sqrt(np.mean(wave**2)) > 1e-3
        assert np.abs(wave).max() == pytest.approx(PEAK, abs=1e-4)
        assert set(attributes) == {"pitch", "pace"}
        assert attributes["pitch"] in PITCHES and attributes["pace"] in PACES


@pytest.mark.parametrize(("rate", "seconds"), [(8000, 1.0), (22050, 0.5), (44100, 0.3)])
def test_other_rates_and_lengths(rate, seconds):
    for name in CLASSES:
        wave, _ = render(name, 3, rate, seconds)
        assert wave.dtype == np.float32 and wave.shape == (round(rate * seconds),), name
        assert np.isfinite(wave).all() and np.abs(wave).max() <= 1.0, name
        assert np.sqrt(np.mean(wave**2)) > 1e-3, name


@pytest.mark.parametrize("name", CLASSES)
def test_same_seed_same_clip_other_seed_other_clip(name):
    first, first_attributes = render(name, 7)
    again, again_attributes = render(name, 7)
    other, _ = render(name, 8)
    assert np.array_equal(first, again) and first_attributes == again_attributes
    assert not np.allclose(first, other, atol=1e-3)


def test_attributes_take_every_value():
    drawn = [render(name, 100 * i + seed)[1] for i, name in enumerate(CLASSES) for seed in range(3)]
    assert {a["pitch"] for a in drawn} == PITCHES
    assert {a["pace"] for a in drawn} == PACES


def test_descriptions_are_many_and_unique():
    everything = []
    for recipe in RECIPES.values():
        assert len(recipe.descriptions) >= 8, recipe.name
        assert len(set(recipe.descriptions)) == len(recipe.descriptions), recipe.name
        assert all(text and text == text.strip() for text in recipe.descriptions)
        everything.extend(recipe.descriptions)
    assert len(set(everything)) == len(everything)


def features(wave, rate=16000, frame=512, hop=256, bands=40):
    """Long-term log power in `bands` log-spaced bands (relative to the loudest, floored at
    -80 dB) and temporal statistics of the frame energy: spread, mean rise and fall, 10-90%
    range, spectral flux, envelope modulation in four rate bands, and spectral flatness."""
    count = (wave.size - frame) // hop + 1
    frames = wave[np.arange(frame)[None] + hop * np.arange(count)[:, None]] * np.hanning(frame)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1 / rate)
    band = np.clip(np.searchsorted(np.geomspace(50, rate / 2, bands + 1), freqs) - 1, 0, bands - 1)
    band_power = np.stack([power[:, band == b].sum(1) for b in range(bands)], 1) + 1e-10
    spectrum = np.log10(band_power.mean(0))
    spectrum = np.maximum(spectrum - spectrum.max(), -8.0)
    energy = np.log10(power.sum(1) + 1e-10)
    rise = np.diff(energy)
    level = np.sqrt(power.sum(1))
    level = level / (level.mean() + 1e-12)
    modulation = np.abs(np.fft.rfft(level - level.mean())) / level.size
    mod_freqs = np.fft.rfftfreq(level.size, hop / rate)
    mod_bands = [(0.5, 3), (3, 8), (8, 16), (16, 31)]
    mods = [
        np.log10(modulation[(mod_freqs >= a) & (mod_freqs < b)].mean() + 1e-4) for a, b in mod_bands
    ]
    loud = power[energy > energy.max() - 3] + 1e-12
    flatness = (np.log(loud).mean(1) - np.log(loud.mean(1))).mean()
    temporal = [
        energy.std(),
        np.maximum(rise, 0).mean(),
        np.maximum(-rise, 0).mean(),
        np.percentile(energy, 90) - np.percentile(energy, 10),
        np.abs(np.diff(np.log10(band_power), axis=0)).mean(),
        *mods,
        flatness,
    ]
    return spectrum, np.array(temporal)


def test_classes_are_acoustically_distinct():
    """Nearest class centroid on simple features, 8 training and 4 held-out clips per class;
    the spectral and temporal blocks are standardised and weighted equally."""
    blocks = [
        [features(render(name, 1000 * i + s)[0]) for s in range(12)]
        for i, name in enumerate(CLASSES)
    ]
    standardised = []
    for part in range(2):
        block = np.array([[clip[part] for clip in row] for row in blocks])
        train = block[:, :8].reshape(-1, block.shape[-1])
        scale = (train.std(0) + 1e-8) * np.sqrt(block.shape[-1])
        standardised.append((block - train.mean(0)) / scale)
    x = np.concatenate(standardised, -1)
    centroids = x[:, :8].mean(1)
    distances = ((x[:, 8:, None, :] - centroids[None, None]) ** 2).sum(-1)
    accuracy = (distances.argmin(-1) == np.arange(len(CLASSES))[:, None]).mean()
    assert accuracy >= 0.8, f"nearest-centroid accuracy {accuracy:.3f}"
