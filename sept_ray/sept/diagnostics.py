"""What SEPT's hinges see: per-evaluation diagnostics of the class and neighbour geometry.

For a group of K classes with N neighbours each (``base``: the training classes, measured in every
training step of a SEPT trial from the step's own z and p and averaged over the epoch's steps, or,
without SEPT, at evaluation; ``new``: the unseen classes, at evaluation, without gradient, under the
learned context), z_i the class features under
the learned prompt, p_i^n the neighbours (in the trial's ``sept.neighbour_space``), d_ijn =
||z_i - p_j^n|| and m the pretrained margins (times ``sept.margin_scale``; whatever the ablation
switches, so every trial is measured against the same margins):

- ``intra`` = (1/K) sum_i (1/N) sum_n max(0, d_iin - m_iin)            (unweighted L_intra)
- ``inter`` = (1/K) sum_i 1/(K-1) sum_{j!=i} (1/N) sum_n max(0, m_ijn - d_ijn)   (L_inter)
- ``intra_active``: the fraction of the K*N intra hinges with d_iin > m_iin (a pull is on)
- ``inter_active``: the fraction of the K*(K-1)*N inter hinges with d_ijn < m_ijn (a push is on)
- ``intra_ratio``: the mean of d_iin / m_iin; ``inter_ratio``: the mean of d_ijn / m_ijn, j != i
- ``drift``: (1/K) sum_i cos(z_i, w_i), w_i the class's zero-shot (hand-template) feature.
With K = 1 the inter values are 0.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sept_ray.config import SeptConfig
from sept_ray.methods.base import PromptLearner, PromptSet
from sept_ray.sept.bank import NeighbourBank
from sept_ray.sept.expansion import SemanticExpansion, margin_templates, neighbour_inputs
from sept_ray.sept.margins import pairwise_distances

STATS = ("intra", "inter", "intra_active", "inter_active", "intra_ratio", "inter_ratio", "drift")


def hinge_stats(
    z: torch.Tensor, p: torch.Tensor, margins: torch.Tensor, zeroshot: torch.Tensor
) -> dict[str, float]:
    """The :data:`STATS` of z [K, D], p [K, N, D], margins [K, K, N] and the zero-shot class
    features [K, D] (all features unit length); see the module doc."""
    k = z.shape[0]
    dist = pairwise_distances(z, p)  # [K, K, N]
    eye = torch.eye(k, dtype=torch.bool, device=z.device)
    own_d, own_m = dist[eye], margins[eye]  # [K, N]
    stats = {
        "intra": float(torch.relu(own_d - own_m).mean()),
        "intra_active": float((own_d > own_m).float().mean()),
        "intra_ratio": float((own_d / own_m).mean()),
        "drift": float((z * zeroshot).sum(-1).mean()),
        "inter": 0.0,
        "inter_active": 0.0,
        "inter_ratio": 0.0,
    }
    if k > 1:
        other = ~eye
        other_d, other_m = dist[other], margins[other]  # [K*(K-1), N]
        stats["inter"] = float(torch.relu(other_m - other_d).mean())
        stats["inter_active"] = float((other_d < other_m).float().mean())
        stats["inter_ratio"] = float((other_d / other_m).mean())
    return stats


@dataclass
class GroupProbe:
    """What one group's diagnostics need, prepared once per trial: the class prompts, the
    neighbours (prompts to encode, or frozen features [K, N, D]), the scaled margins [K, K, N]
    and the zero-shot class features [K, D]."""

    name: str
    class_prompts: PromptSet
    neighbour_prompts: PromptSet | None
    frozen: torch.Tensor | None
    margins: torch.Tensor
    zeroshot: torch.Tensor
    seconds: float = 0.0  # spent preparing and measuring, in all

    @classmethod
    def build(
        cls,
        name: str,
        learner: PromptLearner,
        cfg: SeptConfig,
        bank: NeighbourBank,
        dataset: str,
        classes: Sequence[str],
        class_prompts: PromptSet,
        template: str,
        expansion: SemanticExpansion | None = None,
    ) -> GroupProbe:
        """A probe of ``classes`` of ``dataset`` with the first ``cfg.n_neighbors`` phrases of
        each; ``expansion`` (the trial's SEPT, over these same classes) lends its neighbours and
        margins instead of computing them again."""
        tic = time.perf_counter()
        backbone = learner.backbone
        zeroshot = backbone.encode_text([template.format(c) for c in classes])
        if expansion is not None:
            prompts, frozen, margins = (
                expansion.neighbour_prompts,
                expansion.frozen,
                expansion.margins,
            )
        else:
            neighbours = bank.neighbours(dataset, classes, cfg.n_neighbors)
            templates = margin_templates(cfg, template)
            prompts, frozen, margins = neighbour_inputs(
                learner, cfg, classes, neighbours, templates
            )
        scaled = margins * cfg.margin_scale
        built = time.perf_counter() - tic
        return cls(name, class_prompts, prompts, frozen, scaled, zeroshot, seconds=built)

    @torch.no_grad()
    def measure(self, learner: PromptLearner) -> dict[str, float]:
        """``{"diag_<group>_<stat>": value}`` under the learner's current prompt."""
        tic = time.perf_counter()
        z = learner.encode(self.class_prompts)
        k, n = self.margins.shape[0], self.margins.shape[2]
        p = self.frozen if self.frozen is not None else learner.encode(self.neighbour_prompts)
        return self.named(hinge_stats(z, p.reshape(k, n, -1), self.margins, self.zeroshot), tic)

    def measure_step(
        self, z: torch.Tensor, p: torch.Tensor, margins: torch.Tensor, scale: float
    ) -> dict[str, float]:
        """The same from a SEPT training step's z [K, D], p [K, n, D] and unscaled margins
        [K, K, n] (``scale``: ``sept.margin_scale``)."""
        tic = time.perf_counter()
        return self.named(hinge_stats(z, p, margins * scale, self.zeroshot), tic)

    def named(self, stats: dict[str, float], since: float) -> dict[str, float]:
        """``stats`` under their metric names; the time since ``since`` is added to ``seconds``."""
        self.seconds += time.perf_counter() - since
        return {f"diag_{self.name}_{key}": value for key, value in stats.items()}
