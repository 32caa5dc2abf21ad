"""The contract every prompt learner (method) follows; the trainer and SEPT use only this.

Shapes: B clips, P prompts, L tokens, W token width, D joint width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from sept_ray.backbones.base import FrozenALM, TokenBatch
from sept_ray.config import MethodConfig


@dataclass
class PromptSet:
    """Prompt inputs for a list of names (class names or neighbour phrases), tokenized once.

    ``embeds``: the frozen token embeddings [P, L, W] of ``batch`` (context slots hold placeholders).
    """

    names: tuple[str, ...]
    batch: TokenBatch
    embeds: torch.Tensor

    def __len__(self) -> int:
        return len(self.names)


@dataclass
class MethodOutput:
    """What a learner's forward returns.

    ``logits``: [B, P]; ``class_features``: [P, D] L2-normalised text features shared by the batch
    (SEPT's z); ``aux_losses``: the method's own loss terms, each a scalar, added to the CE loss.
    """

    logits: torch.Tensor
    class_features: torch.Tensor
    aux_losses: dict[str, torch.Tensor] = field(default_factory=dict)


class PromptLearner(nn.Module):
    """Base prompt learner: text features for names, logits = scale * cosine.

    Subclasses set ``trainable`` and implement :meth:`prompts` and :meth:`encode`; a method with
    per-clip text features (CoCoOp) also overrides :meth:`forward`.
    """

    trainable: ClassVar[bool] = True

    def __init__(
        self, backbone: FrozenALM, cfg: MethodConfig, template: str, generator: torch.Generator
    ) -> None:
        super().__init__()
        # Kept out of the module tree: the frozen backbone is not part of the learner's state.
        self.__dict__["backbone"] = backbone
        self.cfg = cfg
        self.template = template

    def prompts(self, names: Sequence[str]) -> PromptSet:
        """Tokenize ``names`` the way this method builds its prompts."""
        raise NotImplementedError

    def encode(self, prompts: PromptSet, audio: torch.Tensor | None = None) -> torch.Tensor:
        """L2-normalised text features [P, D] of ``prompts`` under the learned prompt.

        ``audio`` [B, D] is the batch, for methods whose prompt depends on it; the result is
        shared by the batch (SEPT encodes class names and neighbours through this).
        """
        raise NotImplementedError

    def forward(self, audio: torch.Tensor, prompts: PromptSet) -> MethodOutput:
        """Audio embeddings [B, D] against ``prompts`` -> logits [B, P] and class features [P, D]."""
        features = self.encode(prompts, audio)
        logits = self.backbone.logit_scale * audio @ features.t()
        return MethodOutput(logits=logits, class_features=features)

    def predict(self, audio: torch.Tensor, prompts: PromptSet, seen: bool) -> torch.Tensor:
        """Test-time logits [B, P]; ``seen`` says whether ``prompts`` are the training classes
        (a method with a head for the training classes, such as DePT, uses it only then)."""
        return self.forward(audio, prompts).logits

    def _tokenized(self, names: Sequence[str], texts: Sequence[str], n_ctx: int) -> PromptSet:
        batch = self.backbone.tokenize(texts, n_ctx=n_ctx).to(self.backbone.device)
        with torch.no_grad():
            embeds = self.backbone.token_embedding(batch.ids)
        return PromptSet(names=tuple(names), batch=batch, embeds=embeds)
