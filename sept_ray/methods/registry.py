"""The method registry: name -> PromptLearner subclass."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from sept_ray.backbones.base import FrozenALM
from sept_ray.config import MethodConfig
from sept_ray.methods.base import PromptLearner
from sept_ray.registry import Registry

METHODS: Registry[type[PromptLearner]] = Registry("method")


def build_method(
    cfg: MethodConfig,
    backbone: FrozenALM,
    template: str,
    train_classes: Sequence[str],
    generator: torch.Generator,
) -> PromptLearner:
    """The learner named ``cfg.name`` on ``backbone`` for ``train_classes``, on its device."""
    learner = METHODS.get(cfg.name)(backbone, cfg, template, train_classes, generator)
    return learner.to(backbone.device)
