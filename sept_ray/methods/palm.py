"""PALM (Hanif et al., 2024): learned vectors in the joint space mixed into frozen text features.

For class i with frozen feature t_i = f_t("<class name>") (normalised, no template, as PALM's
code): feature_i = normalise((1 - s_i) * t_i + s_i * v_i), s_i = sigmoid(lambda_i); v_i [D] init
N(0, ctx_init_std), lambda_i init U(0, 1). Only training classes have (v_i, lambda_i); any other
class keeps its frozen feature (its mixing weight is 0).
With SEPT [ours]: a neighbour phrase of class i is mixed with class i's own v_i and lambda_i,
p_i^n = normalise((1 - s_i) * f_t(phrase) + s_i * v_i): the neighbours go through their class's
learned "prompt", so L_se trains v and lambda through both z and p.
PALM's own scripts train it at lr 0.05 (``train_defaults``; the global default is 0.0125).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sept_ray.methods.base import AudioBatch, PromptLearner, PromptSet
from sept_ray.methods.registry import METHODS


@METHODS.register("palm")
class PALM(PromptLearner):
    """Per-class joint-space vectors ``vectors`` [K, D] and mixing logits ``lambdas`` [K]; no
    context vectors (``vectors`` live in the joint space, not among the token embeddings)."""

    train_defaults = {"lr": 0.05}

    def init_parameters(self, generator: torch.Generator) -> None:
        k, d = len(self.train_classes), self.backbone.embed_dim
        self.vectors = nn.Parameter(torch.randn(k, d, generator=generator) * self.cfg.ctx_init_std)
        self.lambdas = nn.Parameter(torch.rand(k, generator=generator))

    def prompts(
        self,
        names: Sequence[str],
        owners: Sequence[str] | None = None,
        template: str | None = None,
    ) -> PromptSet:
        """Frozen features of the bare names (PALM uses no template) and each owner's index."""
        owners = tuple(owners) if owners is not None else tuple(names)
        prompts = PromptSet(names=tuple(names), owners=owners)
        prompts.extras["frozen"] = self.backbone.encode_text(list(names))
        index = [self.train_classes.index(o) if o in self.train_classes else -1 for o in owners]
        prompts.extras["owner"] = torch.tensor(index, device=prompts.extras["frozen"].device)
        return prompts

    def mixing_weights(self) -> torch.Tensor:
        """sigmoid(lambda): [K], each in (0, 1)."""
        return torch.sigmoid(self.lambdas)

    def raw_features(self, prompts: PromptSet, audio: AudioBatch | None = None) -> torch.Tensor:
        frozen, owner = prompts.extras["frozen"], prompts.extras["owner"]
        index = torch.where(owner >= 0, owner, len(self.train_classes))  # -1 -> a zero row
        weights = torch.cat([self.mixing_weights(), self.lambdas.new_zeros(1)])[index]  # [P]
        vectors = torch.cat([self.vectors, self.vectors.new_zeros(1, self.vectors.shape[1])])[index]
        return (1.0 - weights.unsqueeze(-1)) * frozen + weights.unsqueeze(-1) * vectors  # [P, D]
