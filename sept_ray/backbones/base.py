"""The FrozenALM interface: every method and the SE loss talk to a backbone only through it.

Shapes: B clips, S samples, P prompts, L tokens, W token-embedding width, D joint-space width.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import nn


@dataclass
class TokenBatch:
    """Tokenized prompts, padded to the longest one (not to a fixed length).

    ``ids``/``mask``: long [P, L]; context slots are positions ``ctx_start .. ctx_start + n_ctx - 1``
    of every row (their ids are placeholders whose embeddings a method replaces); ``pool_index``:
    long [P], the position a pooled-token model reads (its end-of-text token).
    """

    ids: torch.Tensor
    mask: torch.Tensor
    pool_index: torch.Tensor
    ctx_start: int
    n_ctx: int

    @classmethod
    def from_rows(
        cls, rows: Sequence[Sequence[int]], pad_id: int, ctx_start: int, n_ctx: int
    ) -> TokenBatch:
        """Token-id rows right-padded with ``pad_id`` to the longest; ``mask`` marks the real
        tokens and ``pool_index`` is each row's last real token (a model that pools elsewhere
        replaces it)."""
        if not rows:
            raise ValueError("no prompts to tokenize")
        length = max(len(row) for row in rows)
        ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        pool_index = mask.sum(dim=1) - 1
        return cls(ids=ids, mask=mask, pool_index=pool_index, ctx_start=ctx_start, n_ctx=n_ctx)

    def to(self, device: torch.device | str) -> TokenBatch:
        """A copy on ``device``."""
        return TokenBatch(
            ids=self.ids.to(device),
            mask=self.mask.to(device),
            pool_index=self.pool_index.to(device),
            ctx_start=self.ctx_start,
            n_ctx=self.n_ctx,
        )

    def select(self, rows: torch.Tensor) -> TokenBatch:
        """The rows ``rows`` (long [R]), cut to the longest of them: [R, L'] with L' <= L."""
        length = int(self.mask[rows].sum(dim=1).max())
        return TokenBatch(
            ids=self.ids[rows, :length],
            mask=self.mask[rows, :length],
            pool_index=self.pool_index[rows],
            ctx_start=self.ctx_start,
            n_ctx=self.n_ctx,
        )

    def concat(self, other: TokenBatch) -> TokenBatch:
        """These rows, then ``other``'s, right-padded to the longer of the two (same context
        slots): [P + P', max(L, L')]."""
        if (self.ctx_start, self.n_ctx) != (other.ctx_start, other.n_ctx):
            raise ValueError("token batches with different context slots cannot be joined")
        length = max(self.ids.shape[1], other.ids.shape[1])

        def wide(x: torch.Tensor) -> torch.Tensor:  # pads are masked: any id
            return nn.functional.pad(x, (0, length - x.shape[1]))

        return TokenBatch(
            ids=torch.cat([wide(self.ids), wide(other.ids)]),
            mask=torch.cat([wide(self.mask), wide(other.mask)]),
            pool_index=torch.cat([self.pool_index, other.pool_index]),
            ctx_start=self.ctx_start,
            n_ctx=self.n_ctx,
        )

    def repeat(self, times: int) -> TokenBatch:
        """The rows repeated ``times`` times, block after block: [times * P, L]."""
        return TokenBatch(
            ids=self.ids.repeat(times, 1),
            mask=self.mask.repeat(times, 1),
            pool_index=self.pool_index.repeat(times),
            ctx_start=self.ctx_start,
            n_ctx=self.n_ctx,
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True)
class Vocabulary:
    """The text tower's token-embedding table and how to read its token ids.

    ``table``: [V, W], row ``v`` = the frozen input embedding of token id ``v``, for the V ids the
    tokenizer knows (rows past the tokenizer's last id, which no text can reach, are left out);
    ``decode``: token ids -> one readable string per id (the tokenizer's own text for the token
    alone, without BPE markers such as ``</w>`` or ``Ġ``); ``special_ids``: ids of the special
    tokens (start, end, padding, ...), which a learned prompt is not read as.
    """

    table: torch.Tensor
    decode: Callable[[Sequence[int]], list[str]]
    special_ids: frozenset[int] = frozenset()

    @classmethod
    def from_tokenizer(
        cls, weight: torch.Tensor, tokenizer, special_ids: Sequence[int] | None = None
    ) -> Vocabulary:
        """From an embedding weight [rows, W] and a transformers tokenizer (slow or fast):
        ``table`` = the first ``len(tokenizer)`` rows, ``decode`` = the tokenizer's ``decode``
        of each id alone (which drops ``</w>``, turns ``Ġ`` into a space and bytes into text),
        stripped of surrounding spaces (WordPiece keeps ``##`` on a word's continuation);
        ``special_ids`` default to the tokenizer's ``all_special_ids``."""
        size = min(len(tokenizer), int(weight.shape[0]))
        specials = tokenizer.all_special_ids if special_ids is None else special_ids

        def decode(ids: Sequence[int]) -> list[str]:
            return [tokenizer.decode([int(i)]).strip() for i in ids]

        return cls(weight.detach()[:size], decode, frozenset(int(i) for i in specials))


class FrozenALM(nn.Module, ABC):
    """A frozen audio-language model: audio tower, text tower, one joint space.

    Both towers are always in eval mode and never receive gradients: ``train()`` keeps them in eval.
    Gradients flow only from text features back to the token embeddings passed to
    :meth:`encode_text_embeds`.
    """

    name: str
    sample_rate: int  # Hz of the waveforms encode_audio expects
    clip_seconds: float  # clip length encode_audio expects
    embed_dim: int  # D
    ctx_width: int  # W
    logit_scale: float  # logits = logit_scale * cosine
    short_clip_fill: str = "tile"  # how the decoder fills clips shorter than clip_seconds

    def freeze(self) -> None:
        """Turn off gradients and put every sub-module in eval mode (call at the end of __init__)."""
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> FrozenALM:
        """Keep the towers in eval mode whatever ``mode`` is (dropout and BatchNorm stay frozen)."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def n_samples(self) -> int:
        """Samples per clip: round(clip_seconds * sample_rate)."""
        return round(self.clip_seconds * self.sample_rate)

    @abstractmethod
    def audio_features(self, wave: torch.Tensor) -> torch.Tensor:
        """float32 [B, S] waveform at ``sample_rate`` -> un-normalised joint features [B, D]."""

    @abstractmethod
    def tokenize(self, texts: Sequence[str], n_ctx: int = 0) -> TokenBatch:
        """Prompts = start token, ``n_ctx`` context slots, the text's tokens, end token; on CPU."""

    @abstractmethod
    def token_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """long [P, L] -> token embeddings [P, L, W] (the frozen input table)."""

    @abstractmethod
    def text_features(self, embeds: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        """Token embeddings [P, L, W] -> un-normalised joint features [P, D] (differentiable)."""

    def shared_prefix_text_features(
        self, embeds: torch.Tensor, batch: TokenBatch, prefix: int
    ) -> torch.Tensor:
        """:meth:`text_features` of prompts whose first ``prefix`` positions are the same in every
        row (the start token and a shared learned context). A backbone with a causal text tower
        overrides it to run that prefix once; by default every row runs whole (also exact)."""
        return self.text_features(embeds, batch)

    def vocabulary(self) -> Vocabulary:
        """The text tower's token-embedding table and token decoder (reading learned context
        vectors as their nearest words); a backbone without a readable vocabulary raises
        ``NotImplementedError``."""
        raise NotImplementedError(f"backbone {self.name!r} has no readable vocabulary")

    @torch.no_grad()
    def encode_audio(self, wave: torch.Tensor) -> torch.Tensor:
        """float32 [B, S] -> L2-normalised audio embeddings [B, D] (no grad)."""
        return nn.functional.normalize(self.audio_features(wave.to(self.device)), dim=-1)

    def encode_text_embeds(self, embeds: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        """[P, L, W] token embeddings -> L2-normalised text features [P, D], differentiable."""
        return nn.functional.normalize(self.text_features(embeds, batch), dim=-1)

    @torch.no_grad()
    def encode_text(self, texts: Sequence[str], chunk: int = 256) -> torch.Tensor:
        """Plain texts (no context slots) -> L2-normalised text features [P, D] (no grad)."""
        parts = []
        for start in range(0, len(texts), chunk):
            batch = self.tokenize(texts[start : start + chunk]).to(self.device)
            parts.append(self.encode_text_embeds(self.token_embedding(batch.ids), batch))
        return torch.cat(parts) if parts else torch.empty(0, self.embed_dim, device=self.device)

    @cached_property
    def weights_id(self) -> str:
        """sha256 (hex, 16 chars) of every parameter and buffer: names, shapes and values."""
        digest = hashlib.sha256()
        for key, tensor in sorted(self.state_dict().items()):
            digest.update(key.encode())
            digest.update(str(tuple(tensor.shape)).encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    @property
    def preprocessing(self) -> dict:
        """Everything between a decoded clip and the audio tower that weights do not capture
        (a backbone with its own front-end settings adds them)."""
        settings = {"sample_rate": self.sample_rate, "clip_seconds": self.clip_seconds}
        if self.short_clip_fill != "tile":  # tiled clips keep the cache keys they always had
            settings["short_clip_fill"] = self.short_clip_fill
        return settings

    @property
    def cache_id(self) -> str:
        """Identifies every input of an audio embedding: backbone, weights, front end, decoding."""
        from sept_ray.data.audio import decoder_id

        settings = json.dumps({**self.preprocessing, "decoder": decoder_id()}, sort_keys=True)
        digest = hashlib.sha256(settings.encode()).hexdigest()[:12]
        return f"{self.name}-{self.weights_id}-{digest}"
