"""CoOp (Zhou et al., IJCV 2022): one shared learned context, ``[SOS][V]_1..[V]_M [CLASS].``"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sept_ray.backbones.base import FrozenALM
from sept_ray.config import MethodConfig
from sept_ray.methods.base import PromptLearner, PromptSet
from sept_ray.methods.registry import METHODS


@METHODS.register("coop")
class CoOp(PromptLearner):
    """``n_ctx`` context vectors [M, W], init N(0, ctx_init_std), after the start token."""

    def __init__(
        self, backbone: FrozenALM, cfg: MethodConfig, template: str, generator: torch.Generator
    ) -> None:
        super().__init__(backbone, cfg, template, generator)
        init = torch.randn(cfg.n_ctx, backbone.ctx_width, generator=generator) * cfg.ctx_init_std
        self.ctx = nn.Parameter(init)

    def prompts(self, names: Sequence[str]) -> PromptSet:
        return self._tokenized(names, [f"{n}." for n in names], n_ctx=self.cfg.n_ctx)

    def encode(self, prompts: PromptSet, audio: torch.Tensor | None = None) -> torch.Tensor:
        return self.backbone.encode_text_embeds(self.with_context(prompts, self.ctx), prompts.batch)

    @staticmethod
    def with_context(prompts: PromptSet, ctx: torch.Tensor) -> torch.Tensor:
        """Token embeddings [P, L, W] with the context slots replaced by ``ctx`` [M, W]."""
        start, n = prompts.batch.ctx_start, prompts.batch.n_ctx
        embeds = prompts.embeds
        shared = ctx.unsqueeze(0).expand(embeds.shape[0], -1, -1)
        return torch.cat([embeds[:, :start], shared, embeds[:, start + n :]], dim=1)
