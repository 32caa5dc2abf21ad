import pytest
import torch
from safetensors.torch import load_file, save_file

from sept_ray.backbones.tiny import load_tiny_alm


def test_towers_frozen_and_in_eval_mode(small_alm):
    small_alm.train()
    assert not small_alm.training and not small_alm.text.model.training
    assert not small_alm.audio.blocks[0][1].training  # BatchNorm stays in eval
    assert not any(p.requires_grad for p in small_alm.parameters())


def test_encode_audio_shape_and_norm(small_alm):
    wave = torch.randn(3, small_alm.n_samples) * 0.1
    emb = small_alm.encode_audio(wave)
    assert emb.shape == (3, 384)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.equal(emb, small_alm.encode_audio(wave))  # deterministic: eval mode


def test_text_embeddings_match_sentence_transformers_pooling(small_alm):
    """Mean pooling + L2 of MiniLM, computed independently through the token-id path."""
    texts = ["a dog barking", "rain falling on a roof"]
    tok = small_alm.text.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = small_alm.text.model(**tok).last_hidden_state
    mask = tok["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    assert torch.allclose(small_alm.encode_text(texts), expected, atol=1e-5)


def test_context_slots_follow_the_start_token(small_alm):
    batch = small_alm.tokenize(["dog.", "a church bell."], n_ctx=3)
    tok = small_alm.text.tokenizer
    assert (batch.ids[:, 0] == tok.cls_token_id).all()
    assert batch.ctx_start == 1 and batch.n_ctx == 3
    assert batch.mask.sum(1).tolist() == [1 + 3 + 2 + 1, 1 + 3 + 4 + 1]
    assert (batch.ids[0, batch.pool_index[0]] == tok.sep_token_id).item()


def test_gradient_reaches_only_the_input_embeddings(small_alm):
    batch = small_alm.tokenize(["dog."], n_ctx=2)
    embeds = small_alm.token_embedding(batch.ids).detach().requires_grad_(True)
    small_alm.encode_text_embeds(embeds, batch).sum().backward()
    assert embeds.grad is not None and embeds.grad[0, 1:3].abs().sum() > 0
    assert all(p.grad is None for p in small_alm.parameters())


def test_weights_round_trip(small_alm, small_weights):
    again = load_tiny_alm(small_weights)
    assert again.weights_id == small_alm.weights_id
    assert again.logit_scale == 30.0


def test_key_mismatch_lists_keys(small_weights, tmp_path):
    from safetensors import safe_open

    with safe_open(str(small_weights), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(small_weights))
    tensors.pop("audio.head.0.weight")
    tensors["audio.extra"] = torch.zeros(1)
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata=metadata)
    with pytest.raises(ValueError, match=r"missing \['head.0.weight'\], unexpected \['extra'\]"):
        load_tiny_alm(bad)


def test_wrong_text_tower_is_refused(small_weights, tmp_path):
    from safetensors import safe_open

    with safe_open(str(small_weights), framework="pt") as handle:
        metadata = dict(handle.metadata())
    metadata["text_weights_id"] = "0" * 16
    bad = tmp_path / "other.safetensors"
    save_file(load_file(str(small_weights)), str(bad), metadata=metadata)
    with pytest.raises(ValueError, match="aligned to text weights 0000"):
        load_tiny_alm(bad)


def test_missing_or_foreign_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        load_tiny_alm(tmp_path / "nothing.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(1)}, str(foreign))
    with pytest.raises(ValueError, match="not a TinyALM weights file"):
        load_tiny_alm(foreign)
