"""LAION-CLAP on a tiny ClapModel saved to a folder and loaded as a user would (by its path)."""

import json

import numpy as np
import pytest
import soundfile
import torch
from safetensors.torch import load_file, save_file

from sept_ray.backbones.checkpoints import CACHE_ENV
from sept_ray.backbones.laion_clap import MAX_TOKENS, LaionClap, load_laion_clap, model_source
from sept_ray.backbones.registry import build_backbone, release_backbones
from sept_ray.config import BackboneConfig, TrialConfig
from sept_ray.data.audio import load_clip
from sept_ray.offline import OFFLINE_ENV
from sept_ray.train import run_trial

from conftest import write_tone_dataset

TEXTS = ["a dog barks", "rain on a tin roof at night", "the cat"]
CORPUS = ["a dog barks loudly", "rain on a tin roof at night", "the cat meows", "birds sing"] * 5


def tiny_roberta_tokenizer(folder):
    """A byte-level BPE (vocabulary of 300) trained here, wrapped as a RobertaTokenizer."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    bpe = ByteLevelBPETokenizer()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe.train_from_iterator(CORPUS, vocab_size=300, min_frequency=1, special_tokens=specials)
    bpe.save_model(str(folder))
    vocab = json.loads((folder / "vocab.json").read_text())
    merges = [tuple(line.split()) for line in (folder / "merges.txt").read_text().splitlines()[1:]]
    return RobertaTokenizer(vocab=vocab, merges=merges)


def save_tiny_clap(folder, fusion=False, seed=0):
    """A tiny ClapModel + processor (tokenizer, feature extractor) saved as a model folder."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor

    folder.mkdir(parents=True)
    tokenizer = tiny_roberta_tokenizer(folder)
    config = ClapConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=MAX_TOKENS + 3,
            projection_dim=16,
        ),
        audio_config=dict(
            depths=[1, 1],
            num_attention_heads=[1, 2],
            patch_embeds_hidden_size=16,
            hidden_size=32,
            projection_dim=16,
            num_classes=10,
            enable_fusion=fusion,
            fusion_type="aff_2d" if fusion else None,
        ),
        projection_dim=16,
        logit_scale_init_value=20.0,
    )
    torch.manual_seed(seed)
    model = ClapModel(config).eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so a wrong load would show
        model.audio_model.audio_encoder.batch_norm.running_mean.uniform_(-5, 5)
        model.audio_model.audio_encoder.batch_norm.running_var.uniform_(1, 4)
    model.save_pretrained(folder)
    extractor = ClapFeatureExtractor(truncation="fusion" if fusion else "rand_trunc")
    ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def clap_dir(tmp_path_factory):
    return save_tiny_clap(tmp_path_factory.mktemp("clap") / "tiny-clap")


@pytest.fixture(scope="module")
def reference(clap_dir):
    """The same folder loaded straight through transformers, independently of our loader."""
    from transformers import AutoTokenizer, ClapModel, ClapProcessor

    return (
        ClapModel.from_pretrained(clap_dir).eval(),
        AutoTokenizer.from_pretrained(clap_dir),
        ClapProcessor.from_pretrained(clap_dir),
    )


@pytest.fixture(scope="module")
def clap(clap_dir):
    model = build_backbone(BackboneConfig(name="laion-clap", weights=str(clap_dir), device="cpu"))
    yield model
    release_backbones()


def test_attributes_and_frozen(clap, reference):
    ref_model = reference[0]
    assert isinstance(clap, LaionClap)
    assert (clap.sample_rate, clap.clip_seconds, clap.n_samples) == (48000, 10.0, 480000)
    assert (clap.embed_dim, clap.ctx_width) == (16, 32)
    assert clap.logit_scale == pytest.approx(20.0, rel=1e-5)
    assert clap.logit_scale == pytest.approx(float(ref_model.logit_scale_a.detach().exp()))
    assert not any(p.requires_grad for p in clap.parameters())
    clap.train()
    assert not any(m.training for m in clap.modules())
    assert clap.preprocessing["front_end"]["truncation"] == "rand_trunc"


def test_text_features_equal_get_text_features(clap, reference):
    ref_model, ref_tok, _ = reference
    batch = clap.tokenize(TEXTS)
    expected = ref_tok(TEXTS, padding=True, return_tensors="pt")
    assert torch.equal(batch.ids, expected["input_ids"])
    assert torch.equal(batch.mask, expected["attention_mask"])
    ours = clap.encode_text_embeds(clap.token_embedding(batch.ids), batch)
    with torch.no_grad():
        ref = ref_model.get_text_features(**expected).pooler_output
    assert (ours - ref).abs().max().item() <= 1e-5
    assert torch.allclose(clap.encode_text(TEXTS), ref, atol=1e-5)


def test_context_slots_are_plain_token_positions(clap, reference):
    """Context vectors equal to some tokens' embeddings give those tokens' text features."""
    ref_model, ref_tok, _ = reference
    batch = clap.tokenize(TEXTS, n_ctx=3)
    assert batch.ctx_start == 1 and (batch.ids[:, 1:4] == clap.placeholder).all()
    words = torch.tensor(ref_tok("sing loudly now", add_special_tokens=False)["input_ids"][:3])
    ids = batch.ids.clone()
    ids[:, 1:4] = words
    embeds = clap.token_embedding(batch.ids)
    ctx = clap.token_embedding(words).clone().requires_grad_(True)
    embeds = torch.cat([embeds[:, :1], ctx.expand(len(TEXTS), -1, -1), embeds[:, 4:]], dim=1)
    ours = clap.encode_text_embeds(embeds, batch)
    with torch.no_grad():
        ref = ref_model.get_text_features(input_ids=ids, attention_mask=batch.mask).pooler_output
    assert (ours - ref).abs().max().item() <= 1e-5
    ours.sum().backward()
    assert ctx.grad is not None and ctx.grad.abs().sum() > 0


def test_long_prompts_are_cut_to_77_tokens(clap):
    batch = clap.tokenize(["dog " * 200], n_ctx=4)
    assert batch.ids.shape == (1, MAX_TOKENS) and batch.ids[0, -1] == clap.tokenizer.sep_token_id


def test_vocabulary_is_the_roberta_table_read_without_byte_markers(clap):
    vocab = clap.vocabulary()
    tok = clap.tokenizer
    assert vocab.table.shape == (len(tok), 32)
    assert torch.equal(vocab.table, clap.token_embedding(torch.arange(len(tok))))
    ids = tok(" dog barks", add_special_tokens=False)["input_ids"]
    assert "Ġ" in "".join(tok.convert_ids_to_tokens(ids))
    assert "".join(vocab.decode(ids)) == "dogbarks"
    assert not any("Ġ" in w or w != w.strip() for w in vocab.decode(ids))
    assert {tok.cls_token_id, tok.sep_token_id, tok.pad_token_id} <= vocab.special_ids


def test_audio_features_equal_get_audio_features(clap, reference):
    ref_model, _, processor = reference
    rng = np.random.default_rng(0)
    waves = (0.3 * rng.standard_normal((2, 480000))).astype(np.float32)
    inputs = processor(audio=list(waves), sampling_rate=48000, return_tensors="pt")
    with torch.no_grad():
        ref = ref_model.get_audio_features(**inputs).pooler_output
    ours = clap.encode_audio(torch.from_numpy(waves))
    assert (ours - ref).abs().max().item() <= 1e-5
    # a short clip is repeat-padded exactly as the extractor does it
    short = waves[0, :62000]
    inputs = processor(audio=[short], sampling_rate=48000, padding="repeatpad", return_tensors="pt")
    with torch.no_grad():
        ref_short = ref_model.get_audio_features(**inputs).pooler_output
    assert (clap.encode_audio(torch.from_numpy(short)[None]) - ref_short).abs().max() <= 1e-5
    # a long clip is centre-cropped, every time the same
    long = (0.3 * rng.standard_normal((1, 500000))).astype(np.float32)
    centre = long[:, 10000:490000]
    first, second = (clap.encode_audio(torch.from_numpy(long)) for _ in range(2))
    assert torch.equal(first, second)
    assert torch.allclose(first, clap.encode_audio(torch.from_numpy(centre)), atol=1e-6)


def test_a_short_file_is_filled_as_laion_fills_it(clap, reference, tmp_path):
    """Decoded through the data layer (as the embedding cache does), a 1.3-s clip gets the features
    the extractor's repeatpad gives the raw clip; tiling it instead would not."""
    ref_model, _, processor = reference
    short = (0.3 * np.random.default_rng(3).standard_normal(62400)).astype(np.float32)
    soundfile.write(tmp_path / "short.wav", short, 48000, subtype="FLOAT")
    assert clap.short_clip_fill == "repeatpad"
    assert clap.preprocessing["short_clip_fill"] == "repeatpad"
    decoded = load_clip(tmp_path / "short.wav", 48000, 10.0, fill=clap.short_clip_fill)
    inputs = processor(audio=[short], sampling_rate=48000, padding="repeatpad", return_tensors="pt")
    with torch.no_grad():
        ref = ref_model.get_audio_features(**inputs).pooler_output
    assert (clap.encode_audio(torch.from_numpy(decoded)[None]) - ref).abs().max() <= 1e-5
    tiled = load_clip(tmp_path / "short.wav", 48000, 10.0)
    assert (clap.encode_audio(torch.from_numpy(tiled)[None]) - ref).abs().max() > 1e-3


def test_fusion_model_is_deterministic_and_uses_global_mel(tmp_path):
    folder = save_tiny_clap(tmp_path / "fused", fusion=True, seed=1)
    from transformers import ClapModel, ClapProcessor

    clap = load_laion_clap(str(folder))
    assert clap.fusion and clap.preprocessing["front_end"]["truncation"] == "fusion"
    waves = (0.3 * np.random.default_rng(1).standard_normal((3, 480000))).astype(np.float32)
    ours = clap.encode_audio(torch.from_numpy(waves))
    assert torch.equal(ours, clap.encode_audio(torch.from_numpy(waves)))
    inputs = ClapProcessor.from_pretrained(folder)(
        audio=list(waves), sampling_rate=48000, return_tensors="pt"
    )
    assert inputs["input_features"].shape[1] == 4 and inputs["is_longer"].any()  # its random pick
    ref_model = ClapModel.from_pretrained(folder).eval()
    with torch.no_grad():
        ref = ref_model.get_audio_features(
            input_features=inputs["input_features"], is_longer=torch.zeros(3, 1, dtype=torch.bool)
        ).pooler_output
    assert (ours - ref).abs().max().item() <= 1e-5


def test_weights_that_do_not_fit_are_an_error(tmp_path):
    folder = save_tiny_clap(tmp_path / "broken")
    tensors = load_file(str(folder / "model.safetensors"))
    del tensors["text_projection.linear1.weight"]
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ValueError, match=r"missing keys \['text_projection.linear1.weight'\]"):
        load_laion_clap(str(folder))


def test_model_source(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    assert model_source("laion/larger_clap_general") == "laion/larger_clap_general"  # hub id
    assert model_source(str(tmp_path)) == str(tmp_path)
    with pytest.raises(FileNotFoundError) as error:
        model_source("laion-clap-htsat-unfused")
    message = str(error.value)
    assert "https://huggingface.co/laion/clap-htsat-unfused" in message
    assert str(tmp_path / "cache" / "laion-clap-htsat-unfused") in message
    with pytest.raises(ValueError, match="belong to backbone 'msclap-2023'"):
        model_source("msclap-2023")
    (tmp_path / "cache" / "laion-clap-htsat-unfused").mkdir(parents=True)  # a local copy
    assert model_source("laion-clap-htsat-unfused") == str(
        tmp_path / "cache" / "laion-clap-htsat-unfused"
    )


def test_b2n_trial_runs_on_laion_clap(tmp_path, clap_dir):
    write_tone_dataset(tmp_path, "Tones", ["alpha", "beta", "delta", "gamma"], 2, 1)  # 12 clips
    cfg = TrialConfig.from_dict(
        {
            "data": {"name": "Tones", "root": str(tmp_path), "shots": 2},
            "backbone": {"name": "laion-clap", "weights": str(clap_dir), "device": "cpu"},
            "method": {"name": "coop", "n_ctx": 2},
            "train": {"epochs": 1, "batch_size": 4, "seed": 0, "time_inference": False},
            "output_dir": str(tmp_path / "trial"),
            "cache_dir": str(tmp_path / "cache"),
        }
    )
    result = run_trial(cfg)
    assert [m.epoch for m in result.history] == [1]
    assert result.n_params == 2 * 32
    assert 0 <= result.base <= 100 and 0 <= result.new <= 100
    assert (result.output_dir / "prompt.safetensors").is_file()
    assert list((tmp_path / "cache").rglob("*.npz"))  # audio embeddings cached under laion-clap
