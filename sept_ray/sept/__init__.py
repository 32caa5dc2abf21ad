"""SEPT: neighbour banks, pretrained-space margins and the Semantic Expansion loss.

Names are imported on first use, so the bank tools (``sept neighbors ...``) start without torch.
"""

from importlib import import_module

_HOMES = {
    "BankError": "sept_ray.sept.bank",
    "NeighbourBank": "sept_ray.sept.bank",
    "load_bank": "sept_ray.sept.bank",
    "SemanticExpansion": "sept_ray.sept.expansion",
    "se_loss": "sept_ray.sept.loss",
    "pretrained_margins": "sept_ray.sept.margins",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'sept_ray.sept' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
