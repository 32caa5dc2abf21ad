"""Pengi's audio tower against numbers from the reference implementation.

``data/pengi_audio_reference.safetensors`` holds outputs of microsoft/Pengi @ 31d5e37
(``models/pengi.py`` ``AudioEncoder("HTSAT", 768, 1024, ...)`` in eval mode, torchlibrosa 0.1.0)
run OUTSIDE this repository: our :class:`PengiAudioEncoder` was given
``init_random_weights(seed=WEIGHTS_SEED)``, its state dict loaded into the reference with
``strict=True``, and the reference run on :func:`reference_waves`. Only the reference's outputs
are stored; this test rebuilds the same weights and inputs from the seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from sept_ray.backbones.htsat import HTSATConfig
from sept_ray.backbones.pengi_audio import (
    PengiAudioConfig,
    PengiAudioEncoder,
    init_random_weights,
    load_audio_encoder_weights,
)

REFERENCE = Path(__file__).parent / "data" / "pengi_audio_reference.safetensors"
WEIGHTS_SEED = 1234
SHORT_SEED, LONG_SEED = 1, 2  # 2 clips of 7 s; 1 clip of 12 s (the cropped long-input path)
TOLERANCE = 1e-4


def reference_waves(seconds: float, count: int, seed: int, rate: int = 44_100) -> torch.Tensor:
    """float32 [count, round(seconds·rate)]: six amplitude-modulated tones plus white noise per
    clip, peak below 1, from ``numpy.random.default_rng(seed)`` uniform draws only."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    clips = []
    for _ in range(count):
        freqs = 60.0 + 12_000.0 * rng.random(6)
        phases = 2 * np.pi * rng.random(6)
        amps = 0.02 + 0.1 * rng.random(6)
        tones = (amps[:, None] * np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None])).sum(0)
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * (0.3 + rng.random()) * t)
        noise = 0.02 * (2 * rng.random(len(t)) - 1)
        clips.append(tones * envelope + noise)
    return torch.from_numpy(np.stack(clips).astype(np.float32))


@pytest.fixture(scope="module")
def encoder() -> PengiAudioEncoder:
    model = PengiAudioEncoder().eval()
    init_random_weights(model, WEIGHTS_SEED)
    return model


@pytest.fixture(scope="module")
def reference() -> dict[str, torch.Tensor]:
    return load_file(str(REFERENCE))


def small_encoder(seed: int) -> PengiAudioEncoder:
    """A 2-stage, 8-wide HTS-AT (16 kHz filterbank, 16 mels, 64×64 image) with a 16-d projection."""
    htsat = HTSATConfig(
        filterbank_rate=16_000, window_size=256, hop_size=64, mel_bins=16, fmax=8_000.0,
        spec_size=64, embed_dim=8, depths=(2, 2), num_heads=(1, 2), window=4,
        crop_frames=100, crop_hop=50,
    )  # fmt: skip
    model = PengiAudioEncoder(PengiAudioConfig(htsat=htsat, d_proj=16)).eval()
    init_random_weights(model, seed)
    return model


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


def test_short_clips_match_the_reference(encoder, reference):
    wave = reference_waves(7.0, 2, SHORT_SEED)
    with torch.no_grad():
        logmel = encoder.htsat.log_mel(wave)  # [2, 1, 965, 64]
        latent = encoder.latent(wave)
        projected = encoder.projection(latent)
    assert logmel.shape == (2, 1, 308_700 // 320 + 1, 64)
    frames = torch.cat([logmel[:, 0, :8], logmel[:, 0, -8:]], dim=1)
    assert max_diff(frames, reference["short_logmel_edges"]) <= TOLERANCE
    assert latent.shape == (2, 768) and projected.shape == (2, 1024)
    assert max_diff(latent, reference["short_latent"]) <= TOLERANCE
    assert max_diff(projected, reference["short_projected"]) <= TOLERANCE
    # the two clips differ, so a batch-mixing bug or a constant output would show
    assert max_diff(latent[0], latent[1]) > 100 * TOLERANCE


def test_long_clip_uses_the_cropped_path_and_matches_the_reference(encoder, reference):
    wave = reference_waves(12.0, 1, LONG_SEED)  # 1654 frames > 1024: crops at 0, 344, 688
    with torch.no_grad():
        latent = encoder.latent(wave)
        projected = encoder.projection(latent)
    assert max_diff(latent, reference["long_latent"]) <= TOLERANCE
    assert max_diff(projected, reference["long_projected"]) <= TOLERANCE


def test_state_dict_keys_and_shapes_are_the_references(encoder):
    with safe_open(str(REFERENCE), "pt") as handle:
        expected = json.loads(handle.metadata()["state_dict_shapes"])
    ours = {key: list(value.shape) for key, value in encoder.state_dict().items()}
    assert ours == expected  # 204 keys: what base.pth's audio_encoder.* must hold
    assert sum(p.numel() for p in encoder.parameters()) == 33_162_199


def test_built_filterbank_is_torchlibrosas(encoder, reference):
    """The checkpoint overrides it, but a fresh model builds the same matrix as torchlibrosa."""
    mel_w = encoder.htsat.logmel_extractor.melW
    ours = torch.stack([mel_w.sum(0), mel_w.amax(0), mel_w.argmax(0).float()])
    assert torch.allclose(ours, reference["torchlibrosa_melW_summary"], rtol=1e-6, atol=0)


def test_eval_semantics_whatever_the_mode(encoder):
    """BatchNorm (running stats) and the projection (no dropout) are the only mode-dependent
    parts of the reference at inference; both behave as in eval even in train mode."""
    wave = reference_waves(1.0, 2, SHORT_SEED)
    latent = torch.from_numpy(np.random.default_rng(0).random((2, 768), dtype=np.float32))
    with torch.no_grad():
        expected = encoder.htsat.log_mel(wave), encoder.projection(latent)
        encoder.train()
        try:
            again = encoder.htsat.log_mel(wave), encoder.projection(latent)
        finally:
            encoder.eval()
    assert all(torch.equal(a, b) for a, b in zip(expected, again, strict=True))
    assert encoder.htsat.bn0.num_batches_tracked.item() == 0  # running stats untouched


def test_default_config_is_pengis():
    cfg = PengiAudioConfig()
    h = cfg.htsat
    assert (cfg.sample_rate, cfg.clip_seconds, cfg.d_proj) == (44_100, 7.0, 1024)
    assert (h.filterbank_rate, h.window_size, h.hop_size, h.mel_bins) == (32_000, 1024, 320, 64)
    assert (h.fmin, h.fmax, h.embed_dim, h.window, h.spec_size) == (50.0, 14_000.0, 96, 8, 256)
    assert h.depths == (2, 2, 6, 2) and h.num_heads == (4, 8, 16, 32) and h.num_features == 768


def test_seeded_weights_are_reproducible_and_seed_dependent():
    a, b, c = (
        small_encoder(3).state_dict(),
        small_encoder(3).state_dict(),
        small_encoder(4).state_dict(),
    )
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["projection.linear1.weight"], c["projection.linear1.weight"])
    # the fixed front end is left as built
    assert torch.equal(a["base.htsat.logmel_extractor.melW"], c["base.htsat.logmel_extractor.melW"])


def test_loads_prefixed_checkpoints_and_names_wrong_keys(tmp_path):
    source = small_encoder(7)
    state = {f"audio_encoder.{k}": v for k, v in source.state_dict().items()}
    state["caption_encoder.projection.linear1.weight"] = torch.zeros(3, 3)  # other towers: ignored
    plain, wrapped = tmp_path / "plain.pth", tmp_path / "wrapped.pth"
    torch.save({"model": state, "epoch": 3}, plain)
    torch.save({"model": {f"module.{k}": v for k, v in state.items()}}, wrapped)
    for path in (plain, wrapped):
        fresh = small_encoder(8)
        load_audio_encoder_weights(fresh, path)
        loaded = fresh.state_dict()
        assert all(torch.equal(v, loaded[k]) for k, v in source.state_dict().items())

    # a stale BatchNorm counter may be missing; the derived attention buffers may be absent
    lean = {k: v for k, v in state.items() if not k.endswith(("num_batches_tracked", "attn_mask"))}
    load_audio_encoder_weights(small_encoder(8), lean)

    broken = dict(state)
    del broken["audio_encoder.projection.linear1.weight"]
    broken["audio_encoder.projection.linear3.weight"] = torch.zeros(1)
    broken["audio_encoder.base.htsat.norm.weight"] = torch.ones(5)
    torch.save(broken, tmp_path / "broken.pth")
    target = small_encoder(8)
    before = target.state_dict()["base.htsat.norm.bias"].clone()
    with pytest.raises(ValueError) as error:
        load_audio_encoder_weights(target, tmp_path / "broken.pth")
    message = str(error.value)
    assert "broken.pth" in message and "PengiAudioEncoder" in message
    assert "missing keys (1): projection.linear1.weight" in message
    assert "unexpected keys (1): projection.linear3.weight" in message
    assert "base.htsat.norm.weight (5,) != (16,)" in message
    assert torch.equal(target.state_dict()["base.htsat.norm.bias"], before)  # nothing loaded

    with pytest.raises(ValueError, match="no key starts with 'audio_encoder.'"):
        load_audio_encoder_weights(small_encoder(8), {"x.weight": torch.zeros(1)})
