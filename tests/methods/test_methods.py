import pytest
import torch

from sept_ray.config import MethodConfig
from sept_ray.methods import METHODS, build_method
from sept_ray.methods.coop import CoOp

TEMPLATE = "This is a sound of {}."


def make(name, alm, seed=0, **kw):
    return build_method(
        MethodConfig(name=name, **kw), alm, TEMPLATE, torch.Generator().manual_seed(seed)
    )


def test_zero_shot_equals_template_features(small_alm):
    learner = make("zeroshot", small_alm)
    prompts = learner.prompts(["dog", "rain"])
    expected = small_alm.encode_text([TEMPLATE.format("dog"), TEMPLATE.format("rain")])
    assert torch.allclose(learner.encode(prompts), expected, atol=1e-6)
    assert not learner.trainable and len(list(learner.parameters())) == 0


def test_coop_parameters_and_init(small_alm):
    learner = make("coop", small_alm, n_ctx=16)
    assert learner.ctx.shape == (16, 384)
    assert sum(p.numel() for p in learner.parameters()) == 16 * 384
    assert 0.015 < learner.ctx.std().item() < 0.025
    assert torch.equal(learner.ctx, make("coop", small_alm, n_ctx=16).ctx)  # seeded
    assert not torch.equal(learner.ctx, make("coop", small_alm, seed=1, n_ctx=16).ctx)


def test_coop_prompt_is_context_then_class(small_alm):
    """Encoding with the context set to the embeddings of real words equals encoding that text."""
    learner = make("coop", small_alm, n_ctx=4)
    words = small_alm.text.tokenizer("the sound of a", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        learner.ctx.copy_(small_alm.token_embedding(torch.tensor(words)))
        features = learner.encode(learner.prompts(["dog", "church bell"]))
    expected = small_alm.encode_text(["the sound of a dog.", "the sound of a church bell."])
    assert torch.allclose(features, expected, atol=1e-5)


def test_forward_logits_and_gradient(small_alm):
    learner = make("coop", small_alm, n_ctx=2)
    prompts = learner.prompts(["dog", "rain", "bell"])
    audio = torch.nn.functional.normalize(torch.randn(5, 384), dim=-1)
    out = learner(audio, prompts)
    assert out.logits.shape == (5, 3) and out.class_features.shape == (3, 384)
    cosine = audio @ out.class_features.t()
    assert torch.allclose(out.logits, small_alm.logit_scale * cosine, atol=1e-5)
    out.logits.sum().backward()
    assert learner.ctx.grad is not None and learner.ctx.grad.abs().sum() > 0
    assert out.aux_losses == {}


def test_learner_state_excludes_the_backbone(small_alm):
    assert list(make("coop", small_alm).state_dict()) == ["ctx"]


def test_unknown_method():
    with pytest.raises(KeyError, match="unknown method 'cooop'"):
        METHODS.get("cooop")


def test_registered_class():
    assert METHODS.get("coop") is CoOp
