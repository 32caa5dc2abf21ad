"""Every method: generic behaviour from one table, then each method's defining property."""

import pytest
import torch

from sept_ray.backbones.base import FrozenALM
from sept_ray.config import ConfigError, MethodConfig, SeptConfig
from sept_ray.methods import METHODS, AudioBatch, build_method
from sept_ray.methods.kgcoop import knowledge_gap
from sept_ray.sept import SemanticExpansion
from sept_ray.sept.bank import NeighbourBank

TEMPLATE = "This is a sound of {}."
BASE = ["dog", "rain", "bell"]
PAPER_OPTIONS = {  # the paper's settings of methods with options (equal to their defaults)
    "cocoop": {"reduction": 16},
    "kgcoop": {"w": 8.0},
    "dept": {"head_weight": 0.7, "head_lr_mult": 6.5},
}
TRAINABLE = [  # every registered method with something to train, so a new one is tested too
    (name, PAPER_OPTIONS.get(name, {})) for name in METHODS.names() if METHODS.get(name).trainable
]


def make(name, alm, seed=0, classes=BASE, options=None, **kw):
    cfg = MethodConfig(name=name, options=options or {}, **kw)
    return build_method(cfg, alm, TEMPLATE, classes, torch.Generator().manual_seed(seed))


def audio_batch(n=6, seed=0, dim=384):
    g = torch.Generator().manual_seed(seed)
    return AudioBatch(torch.randn(n, dim, generator=g) * 3.0)


def loss_of(learner, audio, prompts, labels):
    out = learner(audio, prompts, labels)
    ce = torch.nn.functional.cross_entropy(out.logits, labels)
    return out.ce_weight * ce + sum(out.aux_losses.values(), torch.zeros(()))


# -- generic, one table ------------------------------------------------------------------------


@pytest.mark.parametrize("name,options", TRAINABLE)
def test_a_training_step_lowers_the_loss(small_alm, name, options):
    learner = make(name, small_alm, options=options, n_ctx=4)
    prompts, audio, labels = learner.prompts(BASE), audio_batch(), torch.tensor([0, 1, 2, 0, 1, 2])
    optimizer = torch.optim.SGD(learner.param_groups(0.05), lr=0.05, momentum=0.9)
    before = loss_of(learner, audio, prompts, labels).item()
    for _ in range(5):
        optimizer.zero_grad()
        loss_of(learner, audio, prompts, labels).backward()
        optimizer.step()
    assert loss_of(learner, audio, prompts, labels).item() < before


@pytest.mark.parametrize("name,options", TRAINABLE)
def test_gradients_reach_only_the_learner_and_towers_stay_frozen(small_alm, name, options):
    weights = small_alm.weights_id
    state = {k: v.clone() for k, v in small_alm.state_dict().items()}
    learner = make(name, small_alm, options=options, n_ctx=4)
    loss_of(
        learner, audio_batch(), learner.prompts(BASE), torch.tensor([0, 1, 2, 0, 1, 2])
    ).backward()
    for pname, parameter in learner.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, pname
    assert all(p.grad is None for p in small_alm.parameters())
    assert not small_alm.training and not small_alm.text.model.training
    assert all(torch.equal(v, state[k]) for k, v in small_alm.state_dict().items())
    assert small_alm.weights_id == weights


@pytest.mark.parametrize("space", ["learned", "frozen"])
@pytest.mark.parametrize("sample", [0, 1])
@pytest.mark.parametrize("name,options", TRAINABLE)
def test_sept_composes_with_every_method(small_alm, name, options, sample, space):
    """Every method with SEPT over all N neighbours, and over one drawn per class per step, in
    both neighbour readings."""
    learner = make(name, small_alm, options=options, n_ctx=4)
    phrases = {c: [f"{c} sound {i}" for i in range(3)] for c in BASE}
    bank = NeighbourBank(
        {"D": phrases}, {"generator": "g", "model": "m", "prompt_version": "1", "date": "d"}, "mem"
    )
    cfg = SeptConfig(enabled=True, n_neighbors=2, sample_neighbors=sample, neighbour_space=space)
    draws = torch.Generator().manual_seed(0)
    sept = SemanticExpansion.build(learner, cfg, bank, "D", BASE, TEMPLATE, draws)
    prompts, audio = learner.prompts(BASE), audio_batch()
    drawn = sept.draw()
    out = learner(audio, prompts, torch.tensor([0, 1, 2, 0, 1, 2]), extra=drawn.prompts)
    loss, parts = sept(out, prompts, audio, drawn)
    assert (drawn.frozen is not None) == (space == "frozen")
    assert torch.isfinite(loss) and parts["se"].item() >= 0
    learner.zero_grad()
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in learner.parameters())


@pytest.mark.parametrize("name,options", TRAINABLE)
def test_test_time_logits_shapes(small_alm, name, options):
    learner = make(name, small_alm, options=options, n_ctx=4)
    audio = audio_batch(5)
    seen = learner.predictor(learner.prompts(BASE), seen=True)(audio)
    unseen = learner.predictor(learner.prompts(["wind", "car horn"]), seen=False)(audio)
    assert seen.shape == (5, 3) and unseen.shape == (5, 2)


def test_zero_shot_equals_template_features(small_alm):
    learner = make("zeroshot", small_alm)
    expected = small_alm.encode_text([TEMPLATE.format(c) for c in BASE])
    assert torch.allclose(learner.encode(learner.prompts(BASE)), expected, atol=1e-6)
    assert not learner.trainable and learner.n_trainable() == 0


def test_registry_and_options_errors(small_alm):
    assert {"zeroshot", "coop", "cocoop", "kgcoop", "dept", "palm"} <= set(METHODS.names())
    with pytest.raises(KeyError, match="unknown method 'cooop'"):
        METHODS.get("cooop")
    with pytest.raises(ConfigError, match=r"method\.options\.weight: unknown key"):
        make("kgcoop", small_alm, options={"weight": 1.0})
    with pytest.raises(ConfigError, match=r"method\.options\.w = -1\.0"):
        make("kgcoop", small_alm, options={"w": -1.0})
    with pytest.raises(ConfigError, match=r"method\.options\.head_weight = 1\.5"):
        make("dept", small_alm, options={"head_weight": 1.5})


# -- CoOp ---------------------------------------------------------------------------------------


def test_coop_parameters_and_seeded_init(small_alm):
    learner = make("coop", small_alm, n_ctx=16)
    assert learner.ctx.shape == (16, 384) and learner.n_trainable() == 16 * 384
    assert 0.015 < learner.ctx.std().item() < 0.025
    assert torch.equal(learner.ctx, make("coop", small_alm, n_ctx=16).ctx)
    assert not torch.equal(learner.ctx, make("coop", small_alm, seed=1, n_ctx=16).ctx)
    assert list(learner.state_dict()) == ["ctx"]  # the backbone is not part of the learner


def test_coop_prompt_is_context_then_class(small_alm):
    """With the context set to the embeddings of real words, CoOp encodes exactly that text."""
    learner = make("coop", small_alm, n_ctx=4)
    words = small_alm.text.tokenizer("the sound of a", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        learner.ctx.copy_(small_alm.token_embedding(torch.tensor(words)))
        features = learner.encode(learner.prompts(["dog", "church bell"]))
    expected = small_alm.encode_text(["the sound of a dog.", "the sound of a church bell."])
    assert torch.allclose(features, expected, atol=1e-5)


# -- CoCoOp -------------------------------------------------------------------------------------


def test_cocoop_bias_reaches_every_context_vector_per_clip(small_alm):
    learner = make("cocoop", small_alm, n_ctx=4)
    prompts, audio = learner.prompts(BASE), audio_batch(3)
    per_clip = learner.per_clip_features(audio, prompts)  # [B, P, D]
    assert per_clip.shape == (3, 3, 384)
    assert not torch.allclose(per_clip[0], per_clip[1])  # text features differ per clip
    bias = learner.meta_net(audio.unit)  # [B, W]
    for b in range(3):
        shifted = learner.ctx + bias[b]  # the same bias on every one of the M vectors
        expected = torch.nn.functional.normalize(learner.text_raw(prompts, shifted), dim=-1)
        assert torch.allclose(per_clip[b], expected, atol=1e-5)
    logits = learner(audio, prompts).logits
    manual = small_alm.logit_scale * torch.einsum("bd,bpd->bp", audio.unit, per_clip)
    assert torch.allclose(logits, manual, atol=1e-4)
    shared = learner.encode(prompts, audio)  # SEPT's z: context + batch-mean bias
    mean_ctx = learner.ctx + bias.mean(dim=0)
    expected = torch.nn.functional.normalize(learner.text_raw(prompts, mean_ctx), dim=-1)
    assert torch.allclose(shared, expected, atol=1e-5)


def test_cocoop_meta_net_shape(small_alm):
    learner = make("cocoop", small_alm, n_ctx=4)
    dims = [(m.in_features, m.out_features) for m in learner.meta_net if hasattr(m, "in_features")]
    assert dims == [(384, 24), (24, 384)]


# -- KgCoOp -------------------------------------------------------------------------------------


def test_kgcoop_term_is_one_minus_mean_cosine_to_hand_features(small_alm):
    learner = make("kgcoop", small_alm, n_ctx=4, options={"w": 8.0})
    prompts, audio = learner.prompts(BASE), audio_batch()
    out = learner(audio, prompts)
    features = learner.encode(prompts)
    hand = small_alm.encode_text([TEMPLATE.format(c) for c in BASE])
    cos = torch.stack([torch.dot(features[i], hand[i]) for i in range(3)])
    assert out.aux_losses["kg"].item() == pytest.approx(8.0 * (1 - cos.mean().item()), abs=1e-5)


def test_kgcoop_term_vanishes_when_the_context_reproduces_the_template(small_alm):
    """'This is a sound of' + 'dog.' is the template itself: the term is 0."""
    words = small_alm.text.tokenizer("This is a sound of", add_special_tokens=False)["input_ids"]
    learner = make("kgcoop", small_alm, n_ctx=len(words))
    with torch.no_grad():
        learner.ctx.copy_(small_alm.token_embedding(torch.tensor(words)))
    prompts = learner.prompts(BASE)
    assert knowledge_gap(learner.encode(prompts), prompts.extras["hand"]).item() == pytest.approx(
        0.0, abs=1e-5
    )


# -- DePT ---------------------------------------------------------------------------------------


def test_dept_head_covers_base_classes_and_fuses_only_base_logits(small_alm):
    learner = make("dept", small_alm, n_ctx=4)
    assert learner.head.out_features == len(BASE)
    base, new = learner.prompts(BASE), learner.prompts(["wind", "car horn"])
    audio = audio_batch(4)
    with torch.no_grad():
        cosine = learner.scaled_cosine(audio, learner.encode(base))
        head = learner.head(learner.audio_scale(audio.raw))
        assert torch.allclose(
            learner.predictor(base, seen=True)(audio), 0.3 * cosine + 0.7 * head, atol=1e-4
        )
        new_cos = learner.scaled_cosine(audio, learner.encode(new))
        assert torch.allclose(learner.predictor(new, seen=False)(audio), new_cos, atol=1e-5)
    with pytest.raises(ValueError, match="head covers"):
        learner.predictor(new, seen=True)


def test_dept_loss_and_head_learning_rate(small_alm):
    learner = make("dept", small_alm, n_ctx=4)
    assert torch.equal(learner.text_scale.scale, torch.ones(384))
    assert torch.equal(learner.audio_scale.bias, torch.zeros(384))
    prompts, audio, labels = learner.prompts(BASE), audio_batch(4), torch.tensor([2, 0, 1, 1])
    out = learner(audio, prompts, labels)
    assert out.ce_weight == pytest.approx(0.3)
    raw = learner.text_raw(prompts, learner.ctx)
    inputs = torch.cat([learner.text_scale(raw[labels]), learner.audio_scale(audio.raw)])
    expected = 0.7 * torch.nn.functional.cross_entropy(
        learner.head(inputs), torch.cat([labels, labels])
    )
    assert out.aux_losses["head"].item() == pytest.approx(expected.item(), abs=1e-5)
    groups = learner.param_groups(0.01)
    assert groups[0]["params"] == [learner.ctx] and groups[0]["lr"] == 0.01
    assert groups[1]["lr"] == pytest.approx(0.065) and len(groups[1]["params"]) == 6


# -- PALM ---------------------------------------------------------------------------------------


def test_palm_mixing_weights_and_features(small_alm):
    learner = make("palm", small_alm)
    weights = learner.mixing_weights()
    assert weights.shape == (3,) and ((weights > 0) & (weights < 1)).all()
    prompts = learner.prompts(BASE + ["wind"])  # wind is not a training class
    features = learner.encode(prompts)
    frozen = small_alm.encode_text(BASE + ["wind"])
    mixed = (1 - weights[1]) * frozen[1] + weights[1] * learner.vectors[1]
    assert torch.allclose(features[1], torch.nn.functional.normalize(mixed, dim=0), atol=1e-5)
    assert torch.allclose(features[3], frozen[3], atol=1e-6)
    neighbour = learner.prompts(["drizzle"], owners=["rain"])  # mixed with rain's vector
    mixed = (1 - weights[1]) * small_alm.encode_text(["drizzle"])[0] + weights[1] * learner.vectors[
        1
    ]
    assert torch.allclose(
        learner.encode(neighbour)[0], torch.nn.functional.normalize(mixed, dim=0), atol=1e-5
    )


# -- parameter counts with Pengi's dimensions -----------------------------------------------------


class PengiShaped(FrozenALM):
    """A stand-in with Pengi's dimensions (context width 512, joint 1024) and no towers."""

    name = "pengi-shaped"
    sample_rate, clip_seconds, embed_dim, ctx_width, logit_scale = 44100, 7.0, 1024, 512, 100.0

    def __init__(self):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # gives the stand-in a device
        self.freeze()

    def audio_features(self, wave):
        raise NotImplementedError

    def tokenize(self, texts, n_ctx=0):
        raise NotImplementedError

    def token_embedding(self, ids):
        raise NotImplementedError

    def text_features(self, embeds, batch):
        raise NotImplementedError


@pytest.mark.parametrize("name,expected", [("coop", 8192), ("kgcoop", 8192), ("cocoop", 107_072)])
def test_parameter_counts_match_the_papers_efficiency_table(name, expected):
    assert make(name, PengiShaped(), n_ctx=16).n_trainable() == expected


def test_dept_and_palm_counts_follow_their_definitions():
    ten = [f"c{i}" for i in range(10)]
    assert (
        make("dept", PengiShaped(), classes=ten).n_trainable() == 8192 + 4 * 1024 + 1024 * 10 + 10
    )
    assert make("palm", PengiShaped(), classes=ten).n_trainable() == 10 * 1024 + 10


@pytest.mark.parametrize("name,options", TRAINABLE)
def test_neighbours_encoded_in_the_class_pass_are_the_separate_encoding(small_alm, name, options):
    """SEPT's neighbours passed as ``extra`` go through the text tower with the class prompts in
    one pass: the same class features, logits and losses, and neighbour features equal to their
    own ``encode`` (CoCoOp encodes them apart: None)."""
    learner = make(name, small_alm, options=options, n_ctx=4)
    prompts, audio = learner.prompts(BASE), audio_batch()
    phrases = [f"{c} sound {i}" for c in BASE for i in range(2)]
    extra = learner.prompts(phrases, owners=[c for c in BASE for _ in range(2)])
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    alone = learner(audio, prompts, labels)
    joint = learner(audio, prompts, labels, extra=extra)
    assert torch.allclose(joint.logits, alone.logits, atol=1e-5)
    assert alone.extra_features is None
    for key, value in alone.aux_losses.items():
        assert joint.aux_losses[key].item() == pytest.approx(value.item(), abs=1e-5)
    if name == "cocoop":
        assert joint.extra_features is None
    else:
        assert torch.allclose(joint.class_features, alone.class_features, atol=1e-5)
        assert torch.allclose(joint.extra_features, learner.encode(extra, audio), atol=1e-5)
