"""The Semantic Expansion loss L_se (docs/METHOD.md) with the four ablation switches.

L_intra^i = (1/N) sum_n max(0, ||z_i - p_i^n|| - m_iin)
L_inter^ij = (1/N) sum_n max(0, m_ijn - ||z_i - p_j^n||)
L_se = (1/K) sum_i ( L_intra^i + 1/(K-1) sum_{j != i} L_inter^ij )
The pretrained margins are multiplied by ``margin_scale`` (1 = the paper's loss) [ours].
A switched-off margin is replaced by a constant (``intra_const_margin``, ``inter_const_margin``);
a switched-off term contributes 0. With K = 1 there is no inter term.
"""

from __future__ import annotations

import torch

from sept_ray.config import SeptConfig
from sept_ray.sept.margins import pairwise_distances


def se_loss(
    z: torch.Tensor, p: torch.Tensor, margins: torch.Tensor, cfg: SeptConfig
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """z [K, D] class features, p [K, N, D] neighbour features, margins [K, K, N] -> (L_se, parts).

    ``parts`` holds the (unweighted) ``intra`` and ``inter`` means over classes, detached.
    """
    k = z.shape[0]
    margins = margins * cfg.margin_scale
    dist = pairwise_distances(z, p)  # [K, K, N]
    eye = torch.eye(k, dtype=torch.bool, device=z.device)
    zero = z.new_zeros(())

    intra = zero
    if cfg.use_intra:
        m_intra = (
            margins[eye] if cfg.intra_margin else torch.full_like(dist[eye], cfg.intra_const_margin)
        )
        intra = torch.relu(dist[eye] - m_intra).mean(dim=-1).mean()  # dist[eye]: [K, N]

    inter = zero
    if cfg.use_inter and k > 1:
        m_inter = margins if cfg.inter_margin else torch.full_like(dist, cfg.inter_const_margin)
        per_pair = torch.relu(m_inter - dist).mean(dim=-1)  # [K, K]
        inter = (per_pair.masked_fill(eye, 0.0).sum(dim=1) / (k - 1)).mean()

    return intra + inter, {"intra": intra.detach(), "inter": inter.detach()}
