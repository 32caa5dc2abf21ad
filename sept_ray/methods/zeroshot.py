"""Zero-shot: the dataset's hand-crafted template, no learned parameters."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from sept_ray.methods.base import AudioBatch, PromptLearner, PromptSet
from sept_ray.methods.registry import METHODS


@METHODS.register("zeroshot")
class ZeroShot(PromptLearner):
    """Prompts ``template.format(name)``; features are the frozen text tower's."""

    trainable = False

    def prompts(
        self,
        names: Sequence[str],
        owners: Sequence[str] | None = None,
        template: str | None = None,
    ) -> PromptSet:
        prompts = PromptSet(names=tuple(names))
        template = template or self.template
        prompts.extras["features"] = self.backbone.encode_text([template.format(n) for n in names])
        return prompts

    def encode(self, prompts: PromptSet, audio: AudioBatch | None = None) -> torch.Tensor:
        return prompts.extras["features"]
