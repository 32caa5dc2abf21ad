"""CoOp (Zhou et al., IJCV 2022): one shared learned context, ``[SOS][V]_1..[V]_M [CLASS].``"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sept_ray.methods.base import AudioBatch, PromptLearner, PromptSet
from sept_ray.methods.registry import METHODS


@METHODS.register("coop")
class CoOp(PromptLearner):
    """``n_ctx`` context vectors [M, W], init N(0, ctx_init_std), after the start token.

    CoCoOp, KgCoOp and DePT build on this prompt (they subclass it).
    """

    def init_parameters(self, generator: torch.Generator) -> None:
        init = torch.randn(self.cfg.n_ctx, self.backbone.ctx_width, generator=generator)
        self.ctx = nn.Parameter(init * self.cfg.ctx_init_std)

    def prompts(
        self,
        names: Sequence[str],
        owners: Sequence[str] | None = None,
        template: str | None = None,
    ) -> PromptSet:
        """``[SOS][V]_1..[V]_M <name>.``: the learned context stands in for any template."""
        return self._tokenized(names, [f"{n}." for n in names], self.cfg.n_ctx, owners)

    def raw_features(self, prompts: PromptSet, audio: AudioBatch | None = None) -> torch.Tensor:
        return self.text_raw(prompts, self.ctx)

    def context_vectors(self) -> torch.Tensor:
        """``ctx`` [M, W] (CoCoOp: without its per-clip meta-net bias)."""
        return self.ctx

    def text_raw(self, prompts: PromptSet, ctx: torch.Tensor) -> torch.Tensor:
        """Un-normalised text features [P, D] of ``prompts`` with context ``ctx`` [M, W]. A
        context shared by every row makes the start token and context a shared prefix, which a
        causal text tower runs once (``method.share_prefix``; exact)."""
        embeds = with_context(prompts.embeds, prompts, ctx)
        if ctx.dim() == 2 and self.cfg.share_prefix:
            prefix = prompts.batch.ctx_start + prompts.batch.n_ctx
            return self.backbone.shared_prefix_text_features(embeds, prompts.batch, prefix)
        return self.backbone.text_features(embeds, prompts.batch)


def with_context(embeds: torch.Tensor, prompts: PromptSet, ctx: torch.Tensor) -> torch.Tensor:
    """Token embeddings [N, L, W] with the context slots replaced by ``ctx``: [M, W] shared by
    every row, or [N, M, W] one context per row."""
    start, n = prompts.batch.ctx_start, prompts.batch.n_ctx
    rows = embeds.shape[0]
    per_row = ctx if ctx.dim() == 3 else ctx.unsqueeze(0).expand(rows, -1, -1)
    return torch.cat([embeds[:, :start], per_row, embeds[:, start + n :]], dim=1)
