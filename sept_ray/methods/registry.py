"""The method registry: name -> PromptLearner subclass."""

from __future__ import annotations

import torch

from sept_ray.backbones.base import FrozenALM
from sept_ray.config import MethodConfig
from sept_ray.methods.base import PromptLearner
from sept_ray.registry import Registry

METHODS: Registry[type[PromptLearner]] = Registry("method")


def build_method(
    cfg: MethodConfig, backbone: FrozenALM, template: str, generator: torch.Generator
) -> PromptLearner:
    """The learner named ``cfg.name`` on ``backbone``, its parameters on the backbone's device."""
    learner = METHODS.get(cfg.name)(backbone, cfg, template, generator)
    return learner.to(backbone.device)
