"""Learned context vectors read as words: each vector's nearest tokens of the text tower's vocabulary.

As in CoOp's interpretation of its learned prompts (Zhou et al., IJCV 2022): for context vector
i, the k tokens of the backbone's token-embedding table nearest to it, here ranked by cosine
similarity, and the Euclidean distance to the nearest one. Special tokens (start, end, padding...)
are left out. The nearest token of every vector, in order, followed by the class placeholder,
gives a readable approximation of the learned prompt (``"tok1 tok2 ... X."``); learned vectors
are usually far from every token (``nearest_l2``), so it is an approximation only.

Methods with context vectors (:meth:`PromptLearner.context_vectors`): CoOp, KgCoOp and DePT
(``ctx``), CoCoOp (its shared ``ctx``, without the per-clip meta-net bias). PALM (joint-space
vectors) and zero-shot have none: :func:`prompt_tokens` returns None and a trial writes no
``prompt_tokens.json``.

Shapes: M context vectors, V vocabulary tokens, W token-embedding width.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import torch
from torch import nn

from sept_ray.methods.base import PromptLearner

DEFAULT_K = 5
CLASS_PLACEHOLDER = "X"  # stands for the class name in ``prompt_text`` (CoOp's [CLASS])
TABLE_CHUNK = 16384  # vocabulary rows compared at once


@torch.no_grad()
def nearest_tokens(
    ctx: torch.Tensor,
    table: torch.Tensor,
    decode: Callable[[Sequence[int]], list[str]],
    k: int = DEFAULT_K,
    exclude: Collection[int] = (),
    chunk: int = TABLE_CHUNK,
) -> list[dict]:
    """The ``k`` tokens nearest by cosine similarity to each context vector.

    ``ctx``: [M, W] context vectors; ``table``: [V, W] token embeddings, row = token id;
    ``decode``: token ids -> readable strings; ``exclude``: token ids never returned (special
    tokens). The table is compared ``chunk`` rows at a time in float32 on ``ctx``'s device, with
    no gradient. Returns M dicts, in context order: ``{"index": i, "tokens": [{"token": str,
    "id": int, "cosine": float}, ...] (best first, min(k, eligible tokens) of them),
    "nearest_l2": float}``, ``nearest_l2`` being the Euclidean distance from vector i to its
    first (cosine-nearest) token.
    """
    if ctx.dim() != 2 or table.dim() != 2 or ctx.shape[1] != table.shape[1]:
        raise ValueError(
            f"nearest_tokens: ctx [M, W] and table [V, W] expected, got {tuple(ctx.shape)} "
            f"and {tuple(table.shape)}"
        )
    if k < 1:
        raise ValueError(f"nearest_tokens: k = {k} must be >= 1")
    ctx = ctx.detach().float()
    device, m = ctx.device, ctx.shape[0]
    if m == 0:
        return []
    unit = nn.functional.normalize(ctx, dim=-1)
    excluded = torch.tensor(sorted({int(i) for i in exclude}), dtype=torch.long, device=device)
    best = torch.empty(m, 0, device=device)  # [M, <=k] cosine, best first
    best_ids = torch.empty(m, 0, dtype=torch.long, device=device)
    for start in range(0, table.shape[0], chunk):
        rows = table[start : start + chunk].detach().to(device, torch.float32)
        sims = unit @ nn.functional.normalize(rows, dim=-1).t()  # [M, C]
        inside = excluded[(excluded >= start) & (excluded < start + rows.shape[0])] - start
        sims[:, inside] = float("-inf")
        ids = torch.arange(start, start + rows.shape[0], device=device).expand(m, -1)
        merged, merged_ids = torch.cat([best, sims], dim=1), torch.cat([best_ids, ids], dim=1)
        top = merged.topk(min(k, merged.shape[1]), dim=1)
        best, best_ids = top.values, merged_ids.gather(1, top.indices)
    keep = best[0] > float("-inf")  # fewer eligible tokens than k: drop the excluded fill
    best, best_ids = best[:, keep], best_ids[:, keep]
    if best.shape[1] == 0:
        raise ValueError("nearest_tokens: every token of the table is excluded")
    nearest = table[best_ids[:, 0].to(table.device)].detach().to(device, torch.float32)
    l2 = (ctx - nearest).norm(dim=-1)
    ids = best_ids.cpu().tolist()
    n = len(ids[0])
    words = decode([i for row in ids for i in row])
    contexts = []
    for i in range(m):
        row_words = words[i * n : (i + 1) * n]
        tokens = [
            {"token": word, "id": token_id, "cosine": float(cos)}
            for word, token_id, cos in zip(row_words, ids[i], best[i].cpu().tolist(), strict=True)
        ]
        contexts.append({"index": i, "tokens": tokens, "nearest_l2": float(l2[i])})
    return contexts


def prompt_text(contexts: Sequence[dict], placeholder: str = CLASS_PLACEHOLDER) -> str:
    """The nearest token of each context vector, in order, then ``placeholder`` and a full stop
    (our prompts are the context followed by ``"<class name>."``): ``"tok1 tok2 ... X."``."""
    return " ".join([*(c["tokens"][0]["token"] for c in contexts), f"{placeholder}."])


def prompt_tokens(learner: PromptLearner, k: int = DEFAULT_K) -> dict | None:
    """The learner's context read as words, as the JSON record ``{"backbone": name, "k": k,
    "contexts": nearest_tokens(...), "prompt_text": prompt_text(...)}``; None for a learner
    without context vectors (PALM, zero-shot)."""
    ctx = learner.context_vectors()
    if ctx is None:
        return None
    backbone = learner.backbone
    vocab = backbone.vocabulary()
    contexts = nearest_tokens(ctx, vocab.table, vocab.decode, k, exclude=vocab.special_ids)
    return {
        "backbone": backbone.name,
        "k": k,
        "contexts": contexts,
        "prompt_text": prompt_text(contexts),
    }
