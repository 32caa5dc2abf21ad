"""The backbone registry and a per-process cache of built backbones."""

from __future__ import annotations

from collections.abc import Callable

import torch

from sept_ray.config import BackboneConfig
from sept_ray.registry import Registry

BACKBONES: Registry[Callable[[BackboneConfig], object]] = Registry("backbone")

_BUILT: dict[tuple[str, str, str], object] = {}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; anything else as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def build_backbone(cfg: BackboneConfig):
    """The FrozenALM named by ``cfg``, built once per process (a reused Ray worker keeps it)."""
    device = resolve_device(cfg.device)
    key = (cfg.name, cfg.weights, str(device))
    if key not in _BUILT:
        factory = BACKBONES.get(cfg.name)
        _BUILT[key] = factory(cfg).to(device)
    return _BUILT[key]


def release_backbones() -> None:
    """Drop the built backbones of this process and return their CUDA memory (a sweep's driver
    calls this after filling the embedding cache, so it holds no GPU memory while trials run)."""
    _BUILT.clear()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
