"""CoCoOp (Zhou et al., CVPR 2022): CoOp's context plus an audio-conditioned bias per clip.

meta_net = Linear(D, D / r) -> ReLU -> Linear(D / r, W) on the normalised audio embedding; its
output is added to every context vector, so each clip gets its own text features. Per-clip
features of a batch are computed in one batched text-tower pass over B x P prompts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from sept_ray.config import ConfigError
from sept_ray.methods.base import AudioBatch, MethodOutput, PromptSet, seeded
from sept_ray.methods.coop import CoOp, with_context
from sept_ray.methods.registry import METHODS

MAX_PROMPTS_PER_PASS = 2048  # clips x prompts per text-tower pass at test time


@dataclass(frozen=True)
class CoCoOpOptions:
    reduction: int = field(default=16, metadata={"help": "meta-net hidden width = D / reduction"})

    def __post_init__(self) -> None:
        if self.reduction < 1:
            raise ConfigError(f"method.options.reduction = {self.reduction!r}: must be >= 1")


@METHODS.register("cocoop")
class CoCoOp(CoOp):
    """Instance-conditioned context: ctx [M, W] + meta_net(audio) [B, 1, W] (see module doc).

    ``encode`` (SEPT's z and p, and the audio-free case) uses the shared context plus the
    batch-mean bias [ours]; without audio, the context alone. :meth:`context_vectors` is that
    shared context alone (the bias depends on each clip).
    """

    Options = CoCoOpOptions

    def init_parameters(self, generator: torch.Generator) -> None:
        super().init_parameters(generator)
        dim, hidden = self.backbone.embed_dim, self.backbone.embed_dim // self.options.reduction
        with seeded(generator):
            self.meta_net = nn.Sequential(
                nn.Linear(dim, hidden),
                nn.ReLU(inplace=True),
                nn.Linear(hidden, self.backbone.ctx_width),
            )

    def raw_features(self, prompts: PromptSet, audio: AudioBatch | None = None) -> torch.Tensor:
        ctx = self.ctx if audio is None else self.ctx + self.meta_net(audio.unit).mean(dim=0)
        return self.text_raw(prompts, ctx)

    def per_clip_features(self, audio: AudioBatch, prompts: PromptSet) -> torch.Tensor:
        """Normalised text features [B, P, D]: prompt p under clip b's context, one pass."""
        b, p = len(audio), len(prompts)
        ctx = self.ctx.unsqueeze(0) + self.meta_net(audio.unit).unsqueeze(1)  # [B, M, W]
        embeds = prompts.embeds.repeat(b, 1, 1)  # [B*P, L, W], clip-major
        per_row = ctx.repeat_interleave(p, dim=0)  # [B*P, M, W]
        batch = prompts.batch.repeat(b)
        raw = self.backbone.text_features(with_context(embeds, prompts, per_row), batch)
        return nn.functional.normalize(raw, dim=-1).view(b, p, -1)

    def forward(
        self,
        audio: AudioBatch,
        prompts: PromptSet,
        labels: torch.Tensor | None = None,
        extra: PromptSet | None = None,
    ) -> MethodOutput:
        """Per-clip logits; ``extra`` is not encoded here (SEPT encodes it with the batch-mean
        context shift, a pass of its own)."""
        return MethodOutput(self.scaled_cosine(audio, self.per_clip_features(audio, prompts)))

    def predictor(self, prompts: PromptSet, seen: bool) -> Callable[[AudioBatch], torch.Tensor]:
        """Nothing to cache: the text features depend on each clip. Clips go in chunks."""
        step = max(1, MAX_PROMPTS_PER_PASS // len(prompts))

        def logits(audio: AudioBatch) -> torch.Tensor:
            with torch.no_grad():
                parts = [
                    self.scaled_cosine(chunk, self.per_clip_features(chunk, prompts))
                    for chunk in (audio[i : i + step] for i in range(0, len(audio), step))
                ]
            return torch.cat(parts)

        return logits
