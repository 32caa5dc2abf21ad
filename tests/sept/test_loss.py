"""L_se against a direct loop-by-loop evaluation of the formulas of docs/METHOD.md."""

import itertools

import pytest
import torch

from sept_ray.config import SeptConfig
from sept_ray.sept.loss import se_loss
from sept_ray.sept.margins import pairwise_distances


def reference_loss(z, p, m, cfg: SeptConfig) -> float:
    """Scalar loops over i, j, n exactly as the paper writes them."""
    k, n = p.shape[0], p.shape[1]
    total = 0.0
    for i in range(k):
        intra = 0.0
        if cfg.use_intra:
            for t in range(n):
                margin = m[i, i, t].item() if cfg.intra_margin else cfg.intra_const_margin
                intra += max(0.0, torch.linalg.norm(z[i] - p[i, t]).item() - margin)
            intra /= n
        inter = 0.0
        if cfg.use_inter and k > 1:
            for j in range(k):
                if j == i:
                    continue
                pair = 0.0
                for t in range(n):
                    margin = m[i, j, t].item() if cfg.inter_margin else cfg.inter_const_margin
                    pair += max(0.0, margin - torch.linalg.norm(z[i] - p[j, t]).item())
                inter += pair / n
            inter /= k - 1
        total += intra + inter
    return total / k


def random_inputs(k=5, n=4, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.nn.functional.normalize(torch.randn(k, d, generator=g), dim=-1)
    p = torch.nn.functional.normalize(torch.randn(k, n, d, generator=g), dim=-1)
    m = torch.rand(k, k, n, generator=g) * 1.6  # spans distances, so some hinges are active
    return z, p, m


SWITCHES = list(itertools.product([True, False], repeat=4))


@pytest.mark.parametrize("use_intra,intra_margin,use_inter,inter_margin", SWITCHES)
def test_matches_loops_for_every_switch(use_intra, intra_margin, use_inter, inter_margin):
    cfg = SeptConfig(
        use_intra=use_intra,
        intra_margin=intra_margin,
        use_inter=use_inter,
        inter_margin=inter_margin,
        intra_const_margin=0.1,
        inter_const_margin=1.2,
    )
    z, p, m = random_inputs()
    loss, parts = se_loss(z, p, m, cfg)
    assert loss.item() == pytest.approx(reference_loss(z, p, m, cfg), abs=1e-5)
    assert (parts["intra"] + parts["inter"]).item() == pytest.approx(loss.item(), abs=1e-6)
    if not use_intra:
        assert parts["intra"].item() == 0.0
    if not use_inter:
        assert parts["inter"].item() == 0.0


def test_all_switches_off_gives_zero():
    cfg = SeptConfig(use_intra=False, use_inter=False)
    z, p, m = random_inputs()
    assert se_loss(z, p, m, cfg)[0].item() == 0.0


def test_intra_without_margin_pulls_fully():
    """With constant margin 0, intra is the mean distance to own neighbours."""
    cfg = SeptConfig(use_inter=False, intra_margin=False, intra_const_margin=0.0)
    z, p, m = random_inputs()
    expected = torch.stack([torch.linalg.norm(z[i] - p[i], dim=-1).mean() for i in range(5)]).mean()
    assert se_loss(z, p, m, cfg)[0].item() == pytest.approx(expected.item(), abs=1e-6)


def test_margins_bound_the_hinges():
    """Margins at the true distances make both hinges zero; larger inter margins activate inter."""
    z, p, _ = random_inputs()
    exact = pairwise_distances(z, p)
    cfg = SeptConfig()
    assert se_loss(z, p, exact, cfg)[0].item() == pytest.approx(0.0, abs=1e-5)
    loss, parts = se_loss(z, p, exact + 0.5, cfg)
    assert parts["intra"].item() == 0.0
    assert parts["inter"].item() == pytest.approx(0.5, abs=1e-5)


def test_single_class_has_no_inter_term():
    z, p, m = random_inputs(k=1)
    loss, parts = se_loss(z, p, m, SeptConfig())
    assert parts["inter"].item() == 0.0
    assert loss.item() == pytest.approx(reference_loss(z, p, m, SeptConfig()), abs=1e-6)


def test_gradients_reach_z_and_p_and_stay_finite_at_zero_distance():
    z, p, m = random_inputs()
    p = p.clone()
    p[0, 0] = z[0]  # a zero distance must not give NaN gradients
    z.requires_grad_(True)
    p.requires_grad_(True)
    loss, _ = se_loss(z, p, m, SeptConfig(intra_margin=False))
    loss.backward()
    assert torch.isfinite(z.grad).all() and torch.isfinite(p.grad).all()
    assert z.grad.abs().sum() > 0 and p.grad.abs().sum() > 0


def test_pairwise_distances_match_norms():
    z, p, _ = random_inputs(k=3, n=2, d=5)
    d = pairwise_distances(z, p)
    for i, j, t in itertools.product(range(3), range(3), range(2)):
        assert d[i, j, t].item() == pytest.approx(
            torch.linalg.norm(z[i] - p[j, t]).item(), abs=1e-5
        )


def test_margin_scale_multiplies_the_pretrained_margins():
    z, p, m = random_inputs()
    scaled = SeptConfig(margin_scale=1.7)
    loss, _ = se_loss(z, p, m, scaled)
    assert loss.item() == pytest.approx(reference_loss(z, p, m * 1.7, SeptConfig()), rel=1e-5)
    constants = SeptConfig(margin_scale=1.7, intra_margin=False, inter_margin=False)
    unscaled = SeptConfig(intra_margin=False, inter_margin=False)
    assert se_loss(z, p, m, constants)[0].item() == pytest.approx(
        se_loss(z, p, m, unscaled)[0].item()
    )  # the constant margins are not scaled
