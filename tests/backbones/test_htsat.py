"""HTS-AT pieces on their own: front end, image folding, windows, the long-input path.

(The whole tower against the reference implementation: ``test_pengi_audio.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sept_ray.backbones.htsat import (
    HTSAT,
    HTSATConfig,
    relative_position_index,
    shifted_window_mask,
    window_partition,
    window_reverse,
)
from sept_ray.backbones.htsat_frontend import ConvSpectrogram, slaney_mel_filterbank
from sept_ray.backbones.pengi_audio import init_random_weights

SMALL = HTSATConfig(
    filterbank_rate=16_000, window_size=256, hop_size=64, mel_bins=16, fmax=8_000.0,
    spec_size=64, embed_dim=8, depths=(2, 2), num_heads=(1, 2), window=4,
    crop_frames=100, crop_hop=50,
)  # fmt: skip


@pytest.fixture(scope="module")
def small() -> HTSAT:
    model = HTSAT(SMALL).eval()
    init_random_weights(model, 0)
    return model


def test_conv_spectrogram_is_the_centred_hann_power_stft():
    wave = torch.from_numpy(np.random.default_rng(0).random((2, 5000), dtype=np.float32) - 0.5)
    ours = ConvSpectrogram(1024, 320)(wave)  # [2, 1, T, 513]
    stft = torch.stft(
        wave.double(), 1024, 320, window=torch.hann_window(1024, dtype=torch.float64),
        center=True, pad_mode="reflect", return_complex=True,
    )  # fmt: skip
    expected = stft.abs().pow(2).transpose(1, 2)[:, None].float()
    assert ours.shape == (2, 1, 5000 // 320 + 1, 513)
    assert (ours - expected).abs().max() <= 1e-3 * expected.abs().max()


def test_too_short_a_clip_names_the_limit():
    with pytest.raises(ValueError, match="too short"):
        ConvSpectrogram(1024, 320)(torch.zeros(1, 400))


def test_slaney_filterbank_shape_band_limits_and_unit_area():
    fb = slaney_mel_filterbank(32_000, 1024, 64, 50.0, 14_000.0).double()  # [513, 64]
    hz = torch.arange(513) * 32_000 / 1024
    assert fb.shape == (513, 64) and (fb >= 0).all()
    assert fb[hz <= 50].abs().sum() == 0 and fb[hz >= 14_000].abs().sum() == 0
    assert (fb.argmax(dim=0).diff() >= 0).all()  # centres rise with the band index
    # Slaney norm: each triangle has area 1 (up to sampling, coarse for the narrow low bands)
    area = fb[:, 24:].sum(dim=0) * (32_000 / 1024)
    assert torch.allclose(area, torch.ones_like(area), atol=0.02)


def test_to_image_folds_time_segments_along_frequency(small):
    frames, bins = SMALL.max_frames, SMALL.mel_bins  # 256, 16
    t = torch.arange(frames, dtype=torch.float32)
    mel = t[None, None, :, None].expand(1, 1, frames, bins) + 1000 * torch.arange(bins)
    image = small.to_image(mel)[0, 0]  # [64, 64]
    rows, cols = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    segment, band = rows // bins, rows % bins
    assert torch.equal(image, (segment * (frames // 4) + cols) + 1000 * band.float())


def test_to_image_stretches_short_inputs_keeping_the_end_frames(small):
    mel = torch.randn(1, 1, 100, SMALL.mel_bins)
    image = small.to_image(mel)[0, 0]
    assert torch.allclose(image[:16, 0], mel[0, 0, 0], atol=1e-5)
    assert torch.allclose(image[48:, -1], mel[0, 0, -1], atol=1e-5)
    with pytest.raises(ValueError, match="exceeds"):
        small.to_image(torch.zeros(1, 1, SMALL.max_frames + 1, SMALL.mel_bins))


def test_windows_round_trip_and_position_index():
    x = torch.randn(2, 8, 8, 3)
    windows = window_partition(x, 4)
    assert windows.shape == (8, 4, 4, 3)
    assert torch.equal(windows[1], x[0, :4, 4:])  # second window of the first image: top right
    assert torch.equal(window_reverse(windows, 4, 8, 8), x)
    assert relative_position_index(2).tolist() == [
        [4, 3, 1, 0],
        [5, 4, 2, 1],
        [7, 6, 4, 3],
        [8, 7, 5, 4],
    ]


def test_shifted_window_mask_separates_wrapped_regions():
    mask = shifted_window_mask(8, 4, 2)  # 4 windows of 16 tokens
    assert mask.shape == (4, 16, 16)
    assert set(mask.unique().tolist()) == {-100.0, 0.0}
    assert (mask[0] == 0).all()  # the top-left window holds one region only
    assert torch.equal(mask, mask.transpose(1, 2))
    # last window: 4 regions of 4 tokens each, so each token sees 4 of the 16
    assert ((mask[3] == 0).sum(dim=1) == 4).all()


def test_stages_shift_only_grids_larger_than_the_window():
    model = HTSAT(HTSATConfig())
    shifts = [[b.shift for b in stage.blocks] for stage in model.layers]
    assert shifts == [[0, 4], [0, 4], [0, 4, 0, 4, 0, 4], [0, 0]]
    assert model.layers[3].blocks[1].attn_mask is None


def test_long_input_averages_the_crops_of_each_clip(small):
    wave = torch.from_numpy(np.random.default_rng(1).random((2, 64 * 400), dtype=np.float32) - 0.5)
    with torch.no_grad():
        latent = small(wave)
        mel = small.log_mel(wave)  # 401 frames > 256: crops of 100 at 0, 50, ..., 250
        crops = [
            small.image_latent(small.to_image(mel[:, :, s : s + 100])) for s in range(0, 300, 50)
        ]
    assert mel.shape[2] == 401 and latent.shape == (2, 16)
    assert torch.allclose(latent, torch.stack(crops).mean(dim=0), atol=1e-5)
    assert not torch.allclose(latent[0], latent[1], atol=1e-3)


def test_config_errors_name_the_setting():
    with pytest.raises(ValueError, match="depths"):
        HTSATConfig(depths=(2, 2), num_heads=(1, 2, 4))
    with pytest.raises(ValueError, match="crop_frames"):
        HTSATConfig(crop_frames=2000)
