"""DePT (Zhang et al., CVPR 2024) on CoOp: a channel-adjusted transfer head for the base classes.

Head: per-channel scale (init 1) and bias (init 0) for text and for audio features, then
Linear(D, n_base), all on the un-normalised features. Training loss:
(1 - a) * CE(cosine logits) + a * CE(head([text[labels]; audio]), [labels; labels]), a = 0.7.
Test: base logits = (1 - a) * cosine + a * head(audio); new logits = cosine only.
The head and channel scales learn at 6.5 x the prompt's learning rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from sept_ray.config import ConfigError
from sept_ray.methods.base import AudioBatch, PromptSet, seeded
from sept_ray.methods.coop import CoOp
from sept_ray.methods.registry import METHODS


@dataclass(frozen=True)
class DePTOptions:
    head_weight: float = field(
        default=0.7, metadata={"help": "a: the head's share of loss and logits"}
    )
    head_lr_mult: float = field(default=6.5, metadata={"help": "head learning rate / prompt's"})

    def __post_init__(self) -> None:
        if not 0.0 <= self.head_weight <= 1.0:
            raise ConfigError(
                f"method.options.head_weight = {self.head_weight!r}: must be in [0, 1]"
            )
        if self.head_lr_mult <= 0:
            raise ConfigError(f"method.options.head_lr_mult = {self.head_lr_mult!r}: must be > 0")


class ChannelScale(nn.Module):
    """x * scale + bias per channel: [N, D] -> [N, D]; scale init 1, bias init 0."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.bias


@METHODS.register("dept")
class DePT(CoOp):
    """CoOp + the transfer head over ``train_classes`` (see the module docstring)."""

    Options = DePTOptions

    def init_parameters(self, generator: torch.Generator) -> None:
        super().init_parameters(generator)
        dim = self.backbone.embed_dim
        self.text_scale = ChannelScale(dim)
        self.audio_scale = ChannelScale(dim)
        with seeded(generator):
            self.head = nn.Linear(dim, len(self.train_classes))

    def _check_seen(self, prompts: PromptSet) -> None:
        if prompts.names != self.train_classes:
            raise ValueError(
                f"DePT's head covers {list(self.train_classes)}, not {list(prompts.names)}"
            )

    @property
    def ce_weight(self) -> float:
        """1 - a: the cosine logits' share of the loss."""
        return 1.0 - self.options.head_weight

    def own_losses(
        self,
        audio: AudioBatch,
        prompts: PromptSet,
        raw: torch.Tensor,
        features: torch.Tensor,
        labels: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        """``head``: a * CE(head([text[labels]; audio]), [labels; labels]) (with labels)."""
        if labels is None:
            return {}
        self._check_seen(prompts)
        inputs = torch.cat([self.text_scale(raw[labels]), self.audio_scale(audio.raw)])
        targets = torch.cat([labels, labels])
        head_ce = nn.functional.cross_entropy(self.head(inputs), targets)
        return {"head": self.options.head_weight * head_ce}

    def predictor(self, prompts: PromptSet, seen: bool) -> Callable[[AudioBatch], torch.Tensor]:
        with torch.no_grad():
            features = self.encode(prompts)
        if not seen:
            return lambda audio: self.scaled_cosine(audio, features)
        self._check_seen(prompts)
        a = self.options.head_weight

        def fused(audio: AudioBatch) -> torch.Tensor:
            head = self.head(self.audio_scale(audio.raw))
            return (1.0 - a) * self.scaled_cosine(audio, features) + a * head

        return fused

    def param_groups(self, lr: float) -> list[dict]:
        head = [
            *self.text_scale.parameters(),
            *self.audio_scale.parameters(),
            *self.head.parameters(),
        ]
        return [
            {"params": [self.ctx], "lr": lr},
            {"params": head, "lr": lr * self.options.head_lr_mult},
        ]
