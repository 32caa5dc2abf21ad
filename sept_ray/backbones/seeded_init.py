"""One seeded initialiser for the random weights of the reference-checked towers (Pengi's audio
and CLIP text towers, MS-CLAP's GPT-2 text tower): their checks against reference code run on
these weights, and the reference outputs stored in the tests were computed from them, so the
numbers drawn must never change.

Draws are uniform from ``numpy.random.default_rng(seed)`` (PCG64: the same numbers on every
platform and library version, whatever torch's RNG), module by module in ``modules()`` order,
each module's tensors in the order its rule draws them. A tower lists its rules, (module
types, rule) pairs tried in order; a parameter that no rule drew (and that is not ``fixed``)
raises ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np
import torch
from torch import nn

Draw = Callable[[torch.Tensor, float, float], None]
Rule = Callable[[nn.Module, Draw], None]


def embedding(module: nn.Module, draw: Draw) -> None:
    """Embeddings ±0.02·sqrt(3) (std 0.02)."""
    draw(module.weight, -0.02 * 3**0.5, 0.02 * 3**0.5)


def dense(fan_in: Callable[[nn.Module], int]) -> Rule:
    """Weights ±sqrt(3 / fan_in) (unit variance for unit-variance inputs), biases ±0.1."""

    def rule(module: nn.Module, draw: Draw) -> None:
        bound = (3.0 / fan_in(module)) ** 0.5
        draw(module.weight, -bound, bound)
        if module.bias is not None:
            draw(module.bias, -0.1, 0.1)

    return rule


def norm(module: nn.Module, draw: Draw) -> None:
    """LayerNorm or BatchNorm scales 1 ± 0.2 and shifts ±0.1."""
    draw(module.weight, 0.8, 1.2)
    draw(module.bias, -0.1, 0.1)


def seeded_uniform(
    tower: nn.Module,
    seed: int,
    rules: Sequence[tuple[type | tuple[type, ...], Rule]],
    fixed: Collection[int] = (),
    float32_draws: bool = False,
    name: str = "seeded_uniform",
) -> None:
    """Draw every parameter of ``tower`` by the first of ``rules`` whose types match its module;
    ``fixed``: ids of parameters kept as they are; ``float32_draws``: draw in float32 (else in
    float64, then cast), as the tower's reference files were made; ``name`` heads the error."""
    rng = np.random.default_rng(seed)

    def draw(tensor: torch.Tensor, low: float, high: float) -> None:
        if float32_draws:
            values = low + (high - low) * rng.random(tuple(tensor.shape), dtype=np.float32)
        else:
            values = (low + (high - low) * rng.random(tuple(tensor.shape))).astype(np.float32)
        tensor.copy_(torch.from_numpy(values))

    fixed = set(fixed)
    done = set(fixed)
    with torch.no_grad():
        for module in tower.modules():
            own = [p for p in module.parameters(recurse=False) if id(p) not in fixed]
            if not own:
                continue
            rule = next((r for kinds, r in rules if isinstance(module, kinds)), None)
            if rule is not None:
                rule(module, draw)
                done.update(id(p) for p in own)
    left = [n for n, p in tower.named_parameters() if id(p) not in done]
    if left:
        raise TypeError(f"{name}: no rule for parameters {left}")
