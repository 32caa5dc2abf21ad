"""SEPT margins from the frozen text space (docs/METHOD.md, "The SE loss").

m[i, j, n] = (1/T) sum_t || g(tmpl_t(class_i)) - g(tmpl_t(neighbour_j^n)) ||_2, with g the frozen
text tower (L2-normalised, no learned context); j = i gives the intra margins. The same pass gives
each phrase's frozen embedding in the T templates (averaged, then L2-normalised): SEPT's
neighbours under ``sept.neighbour_space = frozen``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sept_ray.backbones.base import FrozenALM


@dataclass(frozen=True)
class TemplateSpace:
    """``margins`` [K, K, N] and the frozen template-averaged phrase features ``phrases``
    [K, N, D] (unit length) of K classes with N neighbours each."""

    margins: torch.Tensor
    phrases: torch.Tensor


_SPACES: dict[tuple, TemplateSpace] = {}
"""Template spaces computed in this process: a sweep's worker runs many trials of one dataset
(SEPT, and the diagnostics' probes, ask for the same classes, phrases and templates), and each is
a pure function of the frozen backbone's weights and its inputs. Callers never modify them."""


def template_space(
    backbone: FrozenALM,
    classes: Sequence[str],
    neighbours: Sequence[Sequence[str]],
    templates: Sequence[str],
) -> TemplateSpace:
    """Margins and frozen phrase features of K classes with N neighbours, over the T templates
    (computed once per process for each backbone and input)."""
    key = (
        backbone.weights_id,
        str(backbone.device),
        tuple(classes),
        tuple(tuple(row) for row in neighbours),
        tuple(templates),
    )
    if key not in _SPACES:
        _SPACES[key] = computed_space(backbone, classes, neighbours, templates)
    return _SPACES[key]


@torch.no_grad()
def computed_space(
    backbone: FrozenALM,
    classes: Sequence[str],
    neighbours: Sequence[Sequence[str]],
    templates: Sequence[str],
) -> TemplateSpace:
    """:func:`template_space`, computed."""
    k, n = len(classes), len(neighbours[0]) if neighbours else 0
    if len(neighbours) != k or any(len(row) != n for row in neighbours):
        raise ValueError("neighbours must be K lists of N phrases")
    flat = [phrase for row in neighbours for phrase in row]
    total = torch.zeros(k, k, n, device=backbone.device)
    phrase_sum = torch.zeros(k * n, backbone.embed_dim, device=backbone.device)
    for template in templates:
        anchors = backbone.encode_text([template.format(c) for c in classes])  # [K, D]
        phrases = backbone.encode_text([template.format(p) for p in flat])  # [K*N, D]
        total += pairwise_distances(anchors, phrases.view(k, n, -1))
        phrase_sum += phrases
    mean = torch.nn.functional.normalize(phrase_sum, dim=-1).view(k, n, -1)
    return TemplateSpace(total / len(templates), mean)


def pretrained_margins(
    backbone: FrozenALM,
    classes: Sequence[str],
    neighbours: Sequence[Sequence[str]],
    templates: Sequence[str],
) -> torch.Tensor:
    """Margins [K, K, N] for K classes with N neighbours each, averaged over the T templates."""
    return template_space(backbone, classes, neighbours, templates).margins


def pairwise_distances(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """||z_i - p_j^n||_2 for z [K, D] and p [K', N, D] -> [K, K', N] (differentiable, NaN-free)."""
    k2, n, d = p.shape
    flat = p.reshape(k2 * n, d)
    squared = (z * z).sum(-1, keepdim=True) + (flat * flat).sum(-1) - 2.0 * z @ flat.t()
    return squared.clamp(min=1e-12).sqrt().view(z.shape[0], k2, n)
