"""Frozen audio-language models behind the :class:`FrozenALM` interface, one file per backbone."""

from sept_ray.backbones import (
    laion_clap,  # noqa: F401  (registers "laion-clap")
    msclap,  # noqa: F401  (registers "msclap-2023")
    pengi,  # noqa: F401  (registers "pengi", "pengi-random")
    tiny,  # noqa: F401  (registers "tiny-alm")
)
from sept_ray.backbones.base import FrozenALM, TokenBatch, Vocabulary
from sept_ray.backbones.registry import BACKBONES, build_backbone

__all__ = ["BACKBONES", "FrozenALM", "TokenBatch", "Vocabulary", "build_backbone"]
