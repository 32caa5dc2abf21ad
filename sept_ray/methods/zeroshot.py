"""Zero-shot: the dataset's hand-crafted template, no learned parameters (SPEC §4)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from sept_ray.methods.base import PromptLearner, PromptSet
from sept_ray.methods.registry import METHODS


@METHODS.register("zeroshot")
class ZeroShot(PromptLearner):
    """Prompts ``template.format(name)``; features are the frozen text tower's."""

    trainable = False

    def prompts(self, names: Sequence[str]) -> PromptSet:
        return self._tokenized(names, [self.template.format(n) for n in names], n_ctx=0)

    def encode(self, prompts: PromptSet, audio: torch.Tensor | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self.backbone.encode_text_embeds(prompts.embeds, prompts.batch)
