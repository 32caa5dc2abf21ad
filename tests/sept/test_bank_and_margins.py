import json

import pytest
import torch

from sept_ray.config import ConfigError, MethodConfig, SeptConfig
from sept_ray.methods import AudioBatch, build_method
from sept_ray.sept import BankError, SemanticExpansion, load_bank, pretrained_margins, se_loss
from sept_ray.sept.bank import NeighbourBank, save_bank

BUILTIN_DATASETS = {"SynthInstruments", "SynthHome", "SynthNature", "SynthStreet"}


def test_builtin_bank_covers_every_class_with_20_phrases():
    from sept_ray.data.synth.world import BUILTIN_DATASETS as WORLD

    bank = load_bank("builtin", "SynthHome")
    assert set(bank.datasets) == BUILTIN_DATASETS
    assert bank.provenance["generator"] == "curated"
    for name, spec in WORLD.items():
        assert set(bank.datasets[name]) == set(spec.classes)
        for cls, phrases in bank.datasets[name].items():
            assert len(phrases) >= 20, cls
            normal = [" ".join(p.lower().split()) for p in phrases]
            assert len(set(normal)) == len(normal) and cls not in normal
            others = set(spec.classes) - {cls}
            assert not others & set(normal), cls


def test_neighbours_first_n_in_class_order():
    bank = load_bank("builtin", "SynthHome")
    rows = bank.neighbours("SynthHome", ["doorbell", "clock tick"], 3)
    assert rows == [
        bank.datasets["SynthHome"]["doorbell"][:3],
        bank.datasets["SynthHome"]["clock tick"][:3],
    ]


def test_bank_errors_name_the_culprit(tmp_path):
    bank = NeighbourBank(
        {"D": {"a": ["x", "y"]}},
        {"generator": "g", "model": "m", "prompt_version": "1", "date": "d"},
        "mem",
    )
    with pytest.raises(BankError, match="lacks class\\(es\\) \\['b'\\]"):
        bank.neighbours("D", ["a", "b"], 1)
    with pytest.raises(BankError, match="needs 3 phrases per class; 'a' has 2"):
        bank.neighbours("D", ["a"], 3)
    with pytest.raises(BankError, match="no dataset 'E'"):
        bank.neighbours("E", ["a"], 1)
    path = tmp_path / "bank.json"
    save_bank(bank, path)
    again = load_bank(path)
    assert again.datasets == bank.datasets and again.content_hash == bank.content_hash
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(BankError, match="bank.json: format must be"):
        load_bank(path)
    path.write_text("{not json")
    with pytest.raises(BankError, match="bank.json: not valid JSON"):
        load_bank(path)


def test_margins_equal_template_averaged_distances(small_alm):
    classes, neighbours = ["dog", "rain"], [["puppy", "wolf"], ["drizzle", "storm"]]
    templates = ["A {}.", "The sound of {}."]
    m = pretrained_margins(small_alm, classes, neighbours, templates)
    assert m.shape == (2, 2, 2)
    for i, j, n in [(0, 0, 0), (0, 1, 1), (1, 0, 1)]:
        per_t = [
            torch.linalg.norm(
                small_alm.encode_text([t.format(classes[i])])[0]
                - small_alm.encode_text([t.format(neighbours[j][n])])[0]
            )
            for t in templates
        ]
        assert m[i, j, n].item() == pytest.approx(torch.stack(per_t).mean().item(), abs=1e-5)


def test_expansion_trains_the_prompt_through_neighbours(small_alm):
    learner = build_method(
        MethodConfig(n_ctx=2), small_alm, "A {}.", ["dog", "rain"], torch.Generator().manual_seed(0)
    )
    bank = NeighbourBank(
        {"D": {"dog": ["puppy", "wolf", "hound"], "rain": ["drizzle", "storm", "shower"]}},
        {"generator": "g", "model": "m", "prompt_version": "1", "date": "d"},
        "mem",
    )
    cfg = SeptConfig(enabled=True, n_neighbors=2, lam=0.5)
    sept = SemanticExpansion.build(learner, cfg, bank, "D", ["dog", "rain"], "A {}.")
    repeated = SemanticExpansion.build(learner, cfg, bank, "D", ["dog", "rain"], "Audio of {}.")
    assert repeated.templates.count("Audio of {}.") == 2  # 6 generic + the dataset's own
    assert sept.neighbours == [["puppy", "wolf"], ["drizzle", "storm"]]
    assert len(sept.templates) == 7 and sept.templates[-1] == "A {}."
    assert sept.margins.shape == (2, 2, 2)
    prompts = learner.prompts(["dog", "rain"])
    audio = AudioBatch(torch.randn(4, 384))
    out = learner(audio, prompts)
    loss, parts = sept(out, prompts, audio)
    assert loss.item() == pytest.approx(0.5 * parts["se"].item())
    z = out.class_features
    direct, _ = se_loss(z, learner.encode(sept.neighbour_prompts).view(2, 2, -1), sept.margins, cfg)
    assert loss.item() == pytest.approx(0.5 * direct.item(), abs=1e-6)
    out.class_features = z.detach()
    learner.zero_grad()
    sept(out, prompts, audio)[0].backward()  # only p carries the gradient now
    assert learner.ctx.grad is not None and learner.ctx.grad.abs().sum() > 0


def sampling_setup(small_alm, sample, seed=0):
    learner = build_method(
        MethodConfig(n_ctx=2), small_alm, "A {}.", ["dog", "rain"], torch.Generator().manual_seed(0)
    )
    bank = NeighbourBank(
        {"D": {"dog": ["puppy", "wolf", "hound"], "rain": ["drizzle", "storm", "downpour"]}},
        {"generator": "g", "model": "m", "prompt_version": "1", "date": "d"},
        "mem",
    )
    cfg = SeptConfig(enabled=True, n_neighbors=3, sample_neighbors=sample)
    generator = torch.Generator().manual_seed(seed)
    sept = SemanticExpansion.build(learner, cfg, bank, "D", ["dog", "rain"], "A {}.", generator)
    prompts = learner.prompts(["dog", "rain"])
    audio = AudioBatch(torch.randn(4, 384, generator=torch.Generator().manual_seed(1)))
    return learner, sept, prompts, audio


def test_sampling_every_neighbour_is_the_exact_loss(small_alm):
    learner, exact, prompts, audio = sampling_setup(small_alm, 0)
    _, sampled, _, _ = sampling_setup(small_alm, 3)  # all 3, in a random order
    out = learner(audio, prompts)
    assert sampled(out, prompts, audio)[0].item() == pytest.approx(
        exact(out, prompts, audio)[0].item(), abs=1e-6
    )


def test_sampled_neighbours_give_an_unbiased_estimate(small_alm):
    """One neighbour per class per step: each draw is one of 3 x 3 equally likely subsets, so the
    mean over draws tends to the exact L_se (here within 2% after 900 draws), while draws differ."""
    learner, exact, prompts, audio = sampling_setup(small_alm, 0)
    _, sampled, _, _ = sampling_setup(small_alm, 1)
    with torch.no_grad():
        out = learner(audio, prompts)
        target = exact(out, prompts, audio)[0].item()
        draws = [sampled(out, prompts, audio)[0].item() for _ in range(900)]
    assert len({round(d, 6) for d in draws}) > 1
    assert sum(draws) / len(draws) == pytest.approx(target, rel=0.02)


def test_sample_neighbors_is_checked():
    with pytest.raises(ConfigError, match="sept.sample_neighbors"):
        SeptConfig(n_neighbors=3, sample_neighbors=4)
