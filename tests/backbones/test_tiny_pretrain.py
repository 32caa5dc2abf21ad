import json

import torch

from sept_ray.backbones.tiny import load_tiny_alm, shipped_weights
from sept_ray.backbones.tiny_audio import TinyAudioConfig
from sept_ray.backbones.tiny_pretrain import (
    PretrainConfig,
    augment,
    contrastive_loss,
    pretrain_tiny_alm,
)


def test_contrastive_loss_treats_equal_captions_as_positives():
    audio = torch.nn.functional.normalize(torch.eye(3, 4), dim=-1)
    text = audio.clone()
    distinct = contrastive_loss(audio, text, torch.tensor([0, 1, 2]), torch.tensor(50.0))
    assert distinct.item() < 1e-6
    shared = contrastive_loss(audio, text, torch.tensor([0, 0, 2]), torch.tensor(50.0))
    assert shared.item() > 0.5  # half the target mass sits on a non-matching column


def test_augment_keeps_shape_and_content():
    mel = torch.randn(4, 1, 64, 101)
    out = augment(mel, torch.Generator().manual_seed(0))
    assert out.shape == mel.shape
    assert torch.allclose(out.sum(dim=(1, 2, 3)).abs() > 0, torch.ones(4, dtype=torch.bool))


def test_short_pretraining_writes_loadable_weights_and_report(tmp_path):
    cfg = PretrainConfig(
        clips=84,
        epochs=2,
        batch_size=42,
        check_clips_per_class=1,
        audio=TinyAudioConfig(channels=(4, 8, 8, 8)),
    )
    out = tmp_path / "tiny.safetensors"
    report = pretrain_tiny_alm(cfg, out)
    model = load_tiny_alm(out)
    assert model.audio.cfg.channels == (4, 8, 8, 8)
    assert report["loss_per_epoch"][1] < report["loss_per_epoch"][0]
    assert set(report["zero_shot_accuracy"]) == {
        "pretrain_condition_42way",
        "SynthInstruments",
        "SynthHome",
        "SynthNature",
        "SynthStreet",
    }
    assert json.loads(out.with_suffix(".json").read_text())["logit_scale"] == model.logit_scale
    assert not torch.equal(model.audio.mel_std, torch.ones(64))  # standardisation was fitted


def test_shipped_weights_and_their_report():
    model = load_tiny_alm()
    report = json.loads(shipped_weights().with_suffix(".json").read_text())
    assert report["logit_scale"] == model.logit_scale
    assert sum(p.numel() for p in model.audio.parameters()) < 1_000_000
    assert shipped_weights().stat().st_size < 5_000_000
