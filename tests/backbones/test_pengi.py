import argparse
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from sept_ray.backbones.checkpoints import CACHE_ENV
from sept_ray.backbones.clip_vocab import offline_vocab_dir
from sept_ray.backbones.pengi import (
    DEFAULT_WEIGHTS,
    Pengi,
    load_pengi,
    load_pengi_weights,
    read_pengi_checkpoint,
)
from sept_ray.backbones.registry import build_backbone
from sept_ray.config import BackboneConfig, TrialConfig
from sept_ray.offline import OFFLINE_ENV
from sept_ray.train import run_trial

from conftest import write_bank, write_tone_dataset

REFERENCE = Path(__file__).parent / "data" / "pengi_text_reference.safetensors"


@pytest.fixture(scope="module")
def pengi():
    """``pengi-random`` through the registry (a trial in this process reuses it)."""
    return build_backbone(BackboneConfig(name="pengi-random", device="cpu"))


@pytest.fixture(scope="module")
def checkpoint(pengi, tmp_path_factory):
    """A full-size checkpoint in base.pth's layout: {"model": ...} with DataParallel's
    ``module.`` prefix, a caption_decoder key and the position_ids buffer older transformers saved."""
    state = {f"module.{k}": v for k, v in pengi.state_dict().items()}
    state["module.caption_decoder.gpt.transformer.wte.weight"] = torch.zeros(4, 3)
    state["module.caption_encoder.base.embeddings.position_ids"] = torch.arange(77)[None]
    path = tmp_path_factory.mktemp("pengi") / "base.pth"
    torch.save({"model": state, "epoch": 30}, path)
    return path, state


def test_shapes_and_constants(pengi):
    assert isinstance(pengi, Pengi) and pengi.name == "pengi-random"
    assert (pengi.sample_rate, pengi.clip_seconds, pengi.n_samples) == (44_100, 7.0, 308_700)
    assert (pengi.embed_dim, pengi.ctx_width, pengi.logit_scale) == (1024, 512, 100.0)
    audio = pengi.encode_audio(torch.randn(1, pengi.n_samples) * 0.1)
    assert audio.shape == (1, 1024)
    assert torch.allclose(audio.norm(dim=-1), torch.ones(1), atol=1e-5)
    text = pengi.encode_text(["This is a sound of dog.", "rain", "a church bell"])
    assert text.shape == (3, 1024)
    assert torch.allclose(text.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert pengi.preprocessing["audio"]["htsat"]["mel_bins"] == 64
    assert pengi.preprocessing["sample_rate"] == 44_100


def test_towers_frozen_and_gradient_reaches_only_the_context(pengi):
    pengi.train()
    assert not pengi.training and not pengi.caption_encoder.base.training
    assert not any(p.requires_grad for p in pengi.parameters())
    batch = pengi.tokenize(["dog."], n_ctx=2)
    embeds = pengi.token_embedding(batch.ids).detach().requires_grad_(True)
    pengi.encode_text_embeds(embeds, batch).sum().backward()
    assert embeds.grad[0, 1:3].abs().sum() > 0
    assert all(p.grad is None for p in pengi.parameters())


def test_text_matches_pengi_reference_on_the_same_seeded_weights(pengi):
    """The stored outputs were made once, outside this repository, by microsoft/Pengi@31d5e37's
    own code under transformers 4.28.1 (the version it pins): ``TextEncoder`` (models/pengi.py)
    holding pengi-random's text weights, fed by ``PengiWrapper.preprocess_text`` and
    ``_get_prompts_embeddings`` (wrapper.py) with the shipped offline vocabulary."""
    with safe_open(str(REFERENCE), framework="pt") as handle:
        meta = handle.metadata()
        ref = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    digest = hashlib.sha256()
    for key, tensor in sorted(pengi.caption_encoder.state_dict().items()):
        digest.update(f"caption_encoder.{key}".encode())
        digest.update(tensor.numpy().tobytes())
    assert digest.hexdigest() == meta["weights_sha256"], "pengi-random's text weights changed"
    prompts = json.loads(meta["prompts"])
    batch = pengi.tokenize(prompts)
    length = batch.ids.shape[1]
    assert torch.equal(batch.ids, ref["input_ids"][:, :length])  # Pengi pads to 40 tokens
    assert torch.equal(batch.mask, ref["attention_mask"][:, :length])
    assert (ref["attention_mask"][:, length:] == 0).all()
    with torch.no_grad():
        features = pengi.text_features(pengi.token_embedding(batch.ids), batch)
    assert (features - ref["features"]).abs().max() <= 1e-4


def test_checkpoint_round_trip(pengi, checkpoint):
    path, _ = checkpoint
    loaded = load_pengi(path, tokenizer=offline_vocab_dir())
    assert loaded.name == "pengi" and loaded.weights_id == pengi.weights_id
    wave = torch.randn(1, pengi.n_samples) * 0.1
    assert torch.equal(loaded.encode_audio(wave), pengi.encode_audio(wave))
    texts = ["This is a sound of dog.", "a church bell"]
    assert torch.equal(loaded.encode_text(texts), pengi.encode_text(texts))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("drop", r"missing keys \(1\): caption_encoder.projection.linear2.weight"),
        ("add", r"unexpected keys \(1\): audio_encoder.extra.weight"),
        ("reshape", r"caption_encoder.clip_text_projection.weight \(4, 4\) != \(512, 512\)"),
    ],
)
def test_key_mismatch_lists_the_keys(pengi, checkpoint, tmp_path, change, message):
    _, state = checkpoint
    state = dict(state)
    if change == "drop":
        del state["module.caption_encoder.projection.linear2.weight"]
    elif change == "add":
        state["module.audio_encoder.extra.weight"] = torch.zeros(1)
    else:
        state["module.caption_encoder.clip_text_projection.weight"] = torch.zeros(4, 4)
    path = tmp_path / "bad.pth"
    torch.save({"model": state}, path)
    before = pengi.weights_id
    with pytest.raises(ValueError, match=message) as info:
        load_pengi_weights(pengi, path)
    assert str(path) in str(info.value)
    assert before == pengi.weights_id


def test_checkpoint_with_pickled_objects_says_how_to_keep_the_weights(tmp_path):
    path = tmp_path / "base.pth"
    torch.save({"model": {"a": torch.zeros(1)}, "args": argparse.Namespace(lr=1e-4)}, path)
    with pytest.raises(ValueError, match=r"holds pickled objects.*re-save them once"):
        read_pengi_checkpoint(path)


def test_missing_weights_offline_say_what_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("SEPT_OFFLINE", "1")
    monkeypatch.setenv("SEPT_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"zenodo.org/records/8387083/files/base.pth"):
        build_backbone(BackboneConfig(name="pengi", device="cpu"))
    assert DEFAULT_WEIGHTS == "pengi-base"
    fake = tmp_path / "base.pth"
    fake.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"huggingface.co/openai/clip-vit-base-patch16"):
        load_pengi(fake)


def test_pengi_random_takes_no_weights():
    with pytest.raises(ValueError, match="pengi-random has seeded random weights"):
        build_backbone(BackboneConfig(name="pengi-random", weights="x.pth", device="cpu"))


def b2n_trial(root: Path, backbone: dict):
    write_tone_dataset(root, "Tones", ["alpha", "beta", "delta", "gamma"], 2, 1)
    cfg = TrialConfig.from_dict(
        {
            "data": {"name": "Tones", "root": str(root), "shots": 2},
            "backbone": {**backbone, "device": "cpu"},
            "method": {"name": "coop", "n_ctx": 4},
            "train": {"epochs": 1, "batch_size": 4, "seed": 0, "time_inference": False},
            "output_dir": str(root / "trial"),
            "cache_dir": str(root / "cache"),
        }
    )
    result = run_trial(cfg)
    assert [m.epoch for m in result.history] == [1]
    assert result.n_params == 4 * 512
    assert 0 <= result.base <= 100 and 0 <= result.new <= 100
    assert (result.output_dir / "prompt.safetensors").exists()
    return result


@pytest.mark.slow
def test_b2n_trial_runs_on_pengi_random(pengi, tmp_path):
    b2n_trial(tmp_path, {"name": "pengi-random"})


@pytest.mark.slow
def test_b2n_trial_runs_on_pengi_from_a_checkpoint_file(checkpoint, tmp_path, monkeypatch):
    """`pengi` as a user runs it offline: base.pth given as a path, the tokenizer files put where
    the registered `clip-vit-base-patch16-tokenizer` download would land (here the offline
    vocabulary stands in for CLIP's, which cannot be downloaded)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "weights"))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    shutil.copytree(offline_vocab_dir(), tmp_path / "weights" / "clip-vit-base-patch16-tokenizer")
    path, _ = checkpoint
    result = b2n_trial(tmp_path, {"name": "pengi", "weights": str(path)})
    assert result.config.backbone.name == "pengi"


@pytest.mark.slow
def test_the_shared_prefix_leaves_a_sept_trial_unchanged(pengi, tmp_path):
    """CoOp+SEPT on pengi-random with the start token and context run once per step for all
    class and neighbour prompts (the default), and with every prompt run whole: the same scores
    and the same learned context."""
    write_tone_dataset(tmp_path, "Tones", ["alpha", "beta", "delta", "gamma"], 2, 1)
    write_bank(tmp_path / "bank.json", ["Tones"], ["alpha", "beta", "delta", "gamma"])
    results = []
    for share in (True, False):
        cfg = TrialConfig.from_dict(
            {
                "data": {"name": "Tones", "root": str(tmp_path), "shots": 2},
                "backbone": {"name": "pengi-random", "device": "cpu"},
                "method": {"name": "coop", "n_ctx": 4, "share_prefix": share},
                "sept": {"enabled": True, "bank": str(tmp_path / "bank.json"), "n_neighbors": 3},
                "train": {"epochs": 2, "batch_size": 4, "seed": 0, "time_inference": False},
                "output_dir": str(tmp_path / f"trial-{share}"),
                "cache_dir": str(tmp_path / "cache"),
            }
        )
        result = run_trial(cfg)
        ctx = load_file(str(result.output_dir / "prompt.safetensors"))["ctx"]
        results.append(([(m.loss, m.base, m.new) for m in result.history], ctx))
    (shared, shared_ctx), (whole, whole_ctx) = results
    for (loss_a, *scores_a), (loss_b, *scores_b) in zip(shared, whole, strict=True):
        assert scores_a == scores_b and loss_a == pytest.approx(loss_b, rel=1e-5)
    assert (shared_ctx - whole_ctx).abs().max() <= 1e-5
