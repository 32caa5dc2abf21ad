"""SEPT's hinge diagnostics against a loop-by-loop recount, and the frozen neighbour reading."""

import pytest
import torch

from sept_ray.config import MethodConfig, SeptConfig
from sept_ray.methods import AudioBatch, build_method
from sept_ray.sept import NeighbourBank, SemanticExpansion
from sept_ray.sept.diagnostics import STATS, GroupProbe, hinge_stats

BANK = NeighbourBank(
    {"D": {"dog": ["puppy", "wolf", "hound"], "rain": ["drizzle", "storm", "shower"]}},
    {"generator": "g", "model": "m", "prompt_version": "1", "date": "d"},
    "mem",
)


def unit(*shape: int, seed: int) -> torch.Tensor:
    return torch.nn.functional.normalize(
        torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1
    )


def recount(z, p, margins, zeroshot) -> dict[str, float]:
    """Every statistic by explicit loops over classes, other classes and neighbours."""
    k, n = p.shape[0], p.shape[1]
    intra, intra_on, intra_ratio = [], [], []
    inter, inter_on, inter_ratio = [], [], []
    for i in range(k):
        for m in range(n):
            d = torch.linalg.norm(z[i] - p[i, m]).item()
            intra.append(max(0.0, d - margins[i, i, m].item()))
            intra_on.append(d > margins[i, i, m].item())
            intra_ratio.append(d / margins[i, i, m].item())
        for j in range(k):
            if j == i:
                continue
            for m in range(n):
                d = torch.linalg.norm(z[i] - p[j, m]).item()
                inter.append(max(0.0, margins[i, j, m].item() - d))
                inter_on.append(d < margins[i, j, m].item())
                inter_ratio.append(d / margins[i, j, m].item())
    mean = lambda values: sum(values) / len(values) if values else 0.0  # noqa: E731
    drift = mean([torch.dot(z[i], zeroshot[i]).item() for i in range(k)])
    return {
        "intra": mean(intra),
        "inter": mean(inter),
        "intra_active": mean([float(v) for v in intra_on]),
        "inter_active": mean([float(v) for v in inter_on]),
        "intra_ratio": mean(intra_ratio),
        "inter_ratio": mean(inter_ratio),
        "drift": drift,
    }


@pytest.mark.parametrize("k,n,seed", [(5, 4, 0), (3, 7, 1), (1, 3, 2)])
def test_hinge_stats_equal_a_loop_recount_on_random_tensors(k, n, seed):
    z, p, zeroshot = (
        unit(k, 16, seed=seed),
        unit(k, n, 16, seed=seed + 10),
        unit(k, 16, seed=seed + 20),
    )
    # margins around the typical distance of random unit vectors (~1.41): some hinges on, some off
    margins = 1.2 + 0.4 * torch.rand(k, k, n, generator=torch.Generator().manual_seed(seed + 30))
    got = hinge_stats(z, p, margins, zeroshot)
    want = recount(z, p, margins, zeroshot)
    assert set(got) == set(STATS)
    for key in STATS:
        assert got[key] == pytest.approx(want[key], abs=1e-5), key
    assert 0 < got["intra_active"] < 1 or k == 1


def learner_and_cfg(small_alm, space: str):
    learner = build_method(
        MethodConfig(n_ctx=2), small_alm, "A {}.", ["dog", "rain"], torch.Generator().manual_seed(0)
    )
    cfg = SeptConfig(enabled=True, n_neighbors=2, lam=0.5, neighbour_space=space)
    return learner, cfg


def test_frozen_neighbours_are_the_template_averaged_embeddings_and_get_no_gradient(small_alm):
    learner, cfg = learner_and_cfg(small_alm, "frozen")
    sept = SemanticExpansion.build(learner, cfg, BANK, "D", ["dog", "rain"], "A {}.")
    assert sept.neighbour_prompts is None and sept.frozen.shape == (2, 2, 384)
    for i, row in enumerate([["puppy", "wolf"], ["drizzle", "storm"]]):
        for m, phrase in enumerate(row):
            per_t = small_alm.encode_text([t.format(phrase) for t in sept.templates])  # [T, D]
            want = torch.nn.functional.normalize(per_t.mean(0), dim=0)
            assert torch.allclose(sept.frozen[i, m], want, atol=1e-5)
    assert not sept.frozen.requires_grad
    prompts = learner.prompts(["dog", "rain"])
    audio = AudioBatch(torch.randn(4, 384))
    out = learner(audio, prompts, extra=sept.draw().prompts)
    assert out.extra_features is None  # nothing but the class prompts went through the tower
    loss, parts = sept(out, prompts, audio)
    assert torch.equal(parts["p"], sept.frozen)
    loss.backward()
    assert sept.frozen.grad is None
    assert learner.ctx.grad is not None and learner.ctx.grad.abs().sum() > 0  # through z alone
    out = learner(audio, prompts)
    out.class_features = out.class_features.detach()
    assert not sept(out, prompts, audio)[0].requires_grad  # z detached: nothing left to train


def test_frozen_sampled_neighbours_gather_their_rows(small_alm):
    learner, cfg = learner_and_cfg(small_alm, "frozen")
    cfg = SeptConfig(enabled=True, n_neighbors=3, sample_neighbors=1, neighbour_space="frozen")
    sept = SemanticExpansion.build(
        learner, cfg, BANK, "D", ["dog", "rain"], "A {}.", torch.Generator().manual_seed(3)
    )
    drawn = sept.draw()
    assert drawn.prompts is None and drawn.frozen.shape == (2, 1, 384)
    for i in range(2):
        picked = [m for m in range(3) if torch.equal(sept.frozen[i, m], drawn.frozen[i, 0])]
        assert len(picked) == 1
        assert torch.equal(drawn.margins[:, i, 0], sept.margins[:, i, picked[0]])


@pytest.mark.parametrize("space", ["learned", "frozen"])
def test_a_probe_measures_what_hinge_stats_gives_for_its_features(small_alm, space):
    learner, cfg = learner_and_cfg(small_alm, space)
    prompts = learner.prompts(["dog", "rain"])
    probe = GroupProbe.build("new", learner, cfg, BANK, "D", ["dog", "rain"], prompts, "A {}.")
    measured = probe.measure(learner)
    z = learner.encode(prompts).detach()
    if space == "frozen":
        p = probe.frozen
    else:
        p = learner.encode(probe.neighbour_prompts).detach().view(2, 2, -1)
    zeroshot = small_alm.encode_text(["A dog.", "A rain."])
    want = hinge_stats(z, p, probe.margins, zeroshot)
    assert measured == pytest.approx({f"diag_new_{k}": v for k, v in want.items()}, abs=1e-6)
    assert probe.seconds > 0
    scaled = GroupProbe.build(
        "new",
        learner,
        SeptConfig(n_neighbors=2, margin_scale=2.0, neighbour_space=space),
        BANK,
        "D",
        ["dog", "rain"],
        prompts,
        "A {}.",
    )
    assert torch.allclose(scaled.margins, 2 * probe.margins)


def test_a_template_space_is_computed_once_per_process_and_input(small_alm):
    from sept_ray.sept.margins import computed_space, template_space

    args = (small_alm, ["dog", "rain"], [["puppy", "wolf"], ["drizzle", "storm"]], ["A {}."])
    first = template_space(*args)
    assert template_space(*args) is first
    other = template_space(*args[:3], ["The sound of {}."])
    assert other is not first and not torch.equal(other.margins, first.margins)
    fresh = computed_space(*args)
    assert torch.equal(fresh.margins, first.margins) and torch.equal(fresh.phrases, first.phrases)
