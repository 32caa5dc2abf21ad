"""SEPT: neighbour banks, pretrained-space margins and the Semantic Expansion loss."""

from sept_ray.sept.bank import BankError, NeighbourBank, load_bank
from sept_ray.sept.expansion import SemanticExpansion
from sept_ray.sept.loss import se_loss
from sept_ray.sept.margins import pretrained_margins

__all__ = [
    "BankError",
    "NeighbourBank",
    "SemanticExpansion",
    "load_bank",
    "pretrained_margins",
    "se_loss",
]
