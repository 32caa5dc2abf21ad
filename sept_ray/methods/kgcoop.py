"""KgCoOp (Yao et al., CVPR 2023): CoOp plus knowledge-guided regularisation.

L = CE + w * (1 - mean_i cos(w_i, w_i^hand)), w_i = the learned prompt's text feature of class i,
w_i^hand = the frozen text feature of the dataset's hand-crafted template for class i; w = 8.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from sept_ray.config import ConfigError
from sept_ray.methods.base import AudioBatch, PromptSet
from sept_ray.methods.coop import CoOp
from sept_ray.methods.registry import METHODS


@dataclass(frozen=True)
class KgCoOpOptions:
    w: float = field(default=8.0, metadata={"help": "weight of the knowledge-guided term"})

    def __post_init__(self) -> None:
        if self.w < 0:
            raise ConfigError(f"method.options.w = {self.w!r}: must be >= 0")


@METHODS.register("kgcoop")
class KgCoOp(CoOp):
    """CoOp's prompt; class prompts carry their hand-crafted features (``extras["hand"]``)."""

    Options = KgCoOpOptions

    def prompts(
        self,
        names: Sequence[str],
        owners: Sequence[str] | None = None,
        template: str | None = None,
    ) -> PromptSet:
        prompts = super().prompts(names, owners, template)
        if owners is None:  # class names: the term needs their hand-crafted features
            hand = [(template or self.template).format(n) for n in names]
            prompts.extras["hand"] = self.backbone.encode_text(hand)
        return prompts

    def own_losses(
        self,
        audio: AudioBatch,
        prompts: PromptSet,
        raw: torch.Tensor,
        features: torch.Tensor,
        labels: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        """``kg``: w * (1 - mean_i cos(w_i, w_i^hand))."""
        return {"kg": self.options.w * knowledge_gap(features, prompts.extras["hand"])}


def knowledge_gap(features: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
    """1 - mean_i cos(features_i, hand_i) for [P, D] and [P, D]."""
    return 1.0 - nn.functional.cosine_similarity(features, hand, dim=-1, eps=1e-7).mean()
