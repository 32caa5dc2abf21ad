import pytest
import torch

from sept_ray.backbones.clip_text import (
    ClipTextTower,
    causal_attention_mask,
    init_random_weights,
    vit_b16_text_config,
)
from sept_ray.backbones.clip_tokenizer import ClipPrompts, load_clip_tokenizer
from sept_ray.backbones.clip_vocab import offline_vocab_dir


@pytest.fixture(scope="module")
def prompts():
    return ClipPrompts(load_clip_tokenizer(offline_vocab_dir()))


@pytest.fixture(scope="module")
def tower(prompts):
    """Full-size ViT-B/16 text tower with seeded random weights."""
    model = ClipTextTower(vit_b16_text_config(eos_token_id=prompts.end_id))
    init_random_weights(model, seed=3)
    return model.eval()


TEXTS = ["This is a sound of dog.", "a church bell ringing far away", "x"]


def test_config_is_vit_b16_text_tower(tower):
    cfg = tower.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (512, 12, 8)
    assert (cfg.vocab_size, cfg.max_position_embeddings, cfg.intermediate_size) == (49408, 77, 2048)
    assert cfg.hidden_act == "quick_gelu"
    assert tower.clip_text_projection.weight.shape == (512, 512)
    assert tower.clip_text_projection.bias is None


def test_embeddings_path_equals_token_id_path(tower, prompts):
    """Our forward from token embeddings vs transformers' own CLIPTextModel.forward from ids."""
    batch = prompts(TEXTS, n_ctx=3)
    with torch.no_grad():
        reference = tower.base(input_ids=batch.ids, attention_mask=batch.mask)
        hidden = tower.hidden_states(tower.token_embedding(batch.ids), batch.mask)
        pooled = tower.pooled(tower.token_embedding(batch.ids), batch.mask, batch.pool_index)
    real = batch.mask.bool()
    assert (hidden - reference.last_hidden_state)[real].abs().max() <= 1e-5
    assert (pooled - reference.pooler_output).abs().max() <= 1e-5
    assert pooled.abs().max() > 0.1  # not a degenerate output


def test_causal_mask_is_active(tower, prompts):
    batch = prompts(["a dog barking loudly"])
    last = int(batch.pool_index[0])
    changed = batch.ids.clone()
    changed[0, last - 1] = prompts.placeholder_id  # a later token
    with torch.no_grad():
        before = tower.hidden_states(tower.token_embedding(batch.ids), batch.mask)
        after = tower.hidden_states(tower.token_embedding(changed), batch.mask)
        embeds = tower.token_embedding(batch.ids)
        positions = tower.base.embeddings.position_embedding.weight[: embeds.shape[1]]
        bidirectional = tower.base.final_layer_norm(
            tower.base.encoder(inputs_embeds=embeds + positions).last_hidden_state
        )
    assert torch.equal(before[0, : last - 1], after[0, : last - 1])  # earlier states unchanged
    assert (before[0, last - 1 :] - after[0, last - 1 :]).abs().max() > 1e-3  # later ones move
    # without the mask the first position would see the whole prompt
    assert (before[0, 0] - bidirectional[0, 0]).abs().max() > 1e-3


def test_causal_attention_mask_values():
    mask = torch.tensor([[1, 1, 0]])
    additive = causal_attention_mask(mask, torch.float32)
    blocked = torch.finfo(torch.float32).min
    expected = torch.tensor([[0, blocked, blocked], [0, 0, blocked], [0, 0, blocked]])
    assert additive.shape == (1, 1, 3, 3)
    assert torch.equal(additive[0, 0], expected)


def test_too_many_tokens_is_refused(tower):
    embeds = torch.zeros(1, 78, 512)
    with pytest.raises(ValueError, match="78 tokens exceed the 77 positions"):
        tower.hidden_states(embeds, torch.ones(1, 78, dtype=torch.long))


def test_random_weights_are_seeded_and_cover_every_parameter():
    small = vit_b16_text_config()
    small.num_hidden_layers, small.vocab_size = 1, 100
    first, second, other = ClipTextTower(small), ClipTextTower(small), ClipTextTower(small)
    init_random_weights(first, seed=5)
    init_random_weights(second, seed=5)
    init_random_weights(other, seed=6)
    a, b, c = first.state_dict(), second.state_dict(), other.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["clip_text_projection.weight"], c["clip_text_projection.weight"])
    assert (a["base.final_layer_norm.weight"] - 1).abs().max() <= 0.2
    first.extra = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(TypeError, match="no rule for parameters \\['extra'\\]"):
        init_random_weights(first, seed=5)


def test_the_shared_prefix_runs_once_with_the_same_features_and_gradients(tower, prompts):
    """CoOp's prompts share the start token and the context: running that prefix once and
    letting every row attend to its keys and values gives the full forward's features and the
    same gradient on the context (rows of different lengths: padding included)."""
    texts = [*TEXTS, "a dog", "the long low rumble of distant thunder over the hills"]
    batch = prompts(texts, n_ctx=4)
    prefix = batch.ctx_start + batch.n_ctx
    frozen = tower.token_embedding(batch.ids).detach()
    ctx = torch.randn(4, 512, generator=torch.Generator().manual_seed(0)) * 0.02
    results = []
    for shared in (0, prefix):
        leaf = ctx.clone().requires_grad_(True)
        embeds = torch.cat(
            [frozen[:, :1], leaf.expand(len(texts), -1, -1), frozen[:, prefix:]], dim=1
        )
        features = tower(embeds, batch.mask, batch.pool_index, shared_prefix=shared)
        (features * torch.linspace(-1, 1, features.shape[1])).sum().backward()
        results.append((features.detach(), leaf.grad))
    (full, full_grad), (once, once_grad) = results
    assert (full - once).abs().max() <= 1e-5 * full.abs().max()
    assert (full_grad - once_grad).abs().max() <= 1e-4 * full_grad.abs().max()
    assert full_grad.abs().max() > 0
