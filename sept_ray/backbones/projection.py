"""The projection head of Pengi and MS-CLAP: a tower's output -> the joint space.

``e1 = linear1(x)`` (no bias); ``out = layer_norm(e1 + linear2(gelu(e1)))`` (no bias either).
In training the originals apply dropout (p = 0.5) to ``linear2``'s output; the towers here are
always frozen in eval mode, where that dropout is the identity, so it is left out and this module
behaves the same whatever ``.training`` says.

State-dict keys (the checkpoints' own): ``linear1.weight`` [d_out, d_in], ``linear2.weight``
[d_out, d_out], ``layer_norm.weight`` [d_out], ``layer_norm.bias`` [d_out].
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Projection(nn.Module):
    """[..., d_in] -> [..., d_out] (residual MLP + LayerNorm, eval semantics)."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_in, d_out, bias=False)
        self.linear2 = nn.Linear(d_out, d_out, bias=False)
        self.layer_norm = nn.LayerNorm(d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embed1 = self.linear1(x)
        return self.layer_norm(embed1 + self.linear2(F.gelu(embed1)))
