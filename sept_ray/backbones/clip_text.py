"""The CLIP ViT-B/16 text tower with a forward from token embeddings (Pengi's caption encoder base).

transformers 5's ``CLIPTextModel.forward`` takes token ids only, while prompt learning feeds token
embeddings. :meth:`ClipTextTower.features` therefore runs the model's sub-modules itself, exactly as
``CLIPTextModel.forward`` does: token + position embeddings -> causal mask (combined with the
key-padding mask) -> encoder -> final LayerNorm -> hidden state at the end-of-text position ->
CLIP text projection 512 -> 512 (no bias). Shapes: P prompts, L tokens, W = 512.

Prompts that share their first positions (a shared learned context after the start token) can run
that prefix once: :meth:`ClipTextTower.shared_prefix_hidden_states` (exact; causal attention).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from sept_ray.backbones import seeded_init

if TYPE_CHECKING:
    from transformers import CLIPTextConfig

START_OF_TEXT_ID = 49406  # <|startoftext|> in OpenAI's CLIP vocabulary
END_OF_TEXT_ID = 49407  # <|endoftext|>, also CLIP's padding token


def vit_b16_text_config(eos_token_id: int = END_OF_TEXT_ID) -> CLIPTextConfig:
    """The text tower of OpenAI CLIP ViT-B/16: width 512, 12 layers, 8 heads, MLP 2048, QuickGELU,
    vocabulary 49408, 77 positions, projection 512. ``eos_token_id`` is used only by
    ``CLIPTextModel.forward`` (the token-id path) to find the pooled position."""
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=49408,
        hidden_size=512,
        intermediate_size=2048,
        projection_dim=512,
        num_hidden_layers=12,
        num_attention_heads=8,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
        attention_dropout=0.0,
        bos_token_id=START_OF_TEXT_ID,
        eos_token_id=eos_token_id,
    )


def causal_attention_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Additive attention mask [P, 1, L, L] from a key-padding mask [P, L] (1 = real token).

    Query i may attend to key j only when j <= i (causal) and key j is a real token; blocked pairs
    hold the most negative ``dtype`` value, allowed pairs 0. Position 0 is always allowed, so no row
    is fully blocked for prompts that start with a real token.
    """
    length = mask.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=mask.device).tril()  # [L, L]
    allowed = causal[None, :, :] & mask.bool()[:, None, :]  # [P, L, L]
    blocked = torch.zeros(allowed.shape, dtype=dtype, device=mask.device)
    blocked.masked_fill_(~allowed, torch.finfo(dtype).min)
    return blocked[:, None, :, :]


class ClipTextTower(nn.Module):
    """CLIP's text transformer (``base``, a ``CLIPTextModel``) and its text projection
    (``clip_text_projection``, 512 -> 512, no bias). The attribute names are those of Pengi's
    caption encoder, so its checkpoint keys ``caption_encoder.base.*`` and
    ``caption_encoder.clip_text_projection.weight`` load without renaming."""

    def __init__(self, config: CLIPTextConfig) -> None:
        from transformers import CLIPTextModel

        super().__init__()
        self.config = config
        self.base = CLIPTextModel(config)
        self.clip_text_projection = nn.Linear(config.hidden_size, config.projection_dim, bias=False)
        self.width = int(config.hidden_size)

    def token_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        """long [P, L] -> token embeddings [P, L, W] (no position embeddings yet)."""
        return self.base.embeddings.token_embedding(ids)

    def hidden_states(self, embeds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token embeddings [P, L, W] and key-padding mask [P, L] -> final-LayerNorm'd hidden
        states [P, L, W], causal attention (what ``CLIPTextModel.forward`` computes from ids)."""
        length = embeds.shape[1]
        if length > self.config.max_position_embeddings:
            raise ValueError(
                f"ClipTextTower: {length} tokens exceed the "
                f"{self.config.max_position_embeddings} positions of the text tower"
            )
        positions = self.base.embeddings.position_ids[:, :length]  # [1, L]
        hidden = embeds + self.base.embeddings.position_embedding(positions)
        attention = causal_attention_mask(mask, hidden.dtype)
        hidden = self.base.encoder(inputs_embeds=hidden, attention_mask=attention).last_hidden_state
        return self.base.final_layer_norm(hidden)

    def shared_prefix_hidden_states(
        self, embeds: torch.Tensor, mask: torch.Tensor, prefix: int
    ) -> torch.Tensor:
        """Like :meth:`hidden_states` for prompts whose first ``prefix`` positions are the same
        real tokens in every row (CoOp: the start token and the shared context vectors): those
        positions run through the tower once, and every row's later positions attend to their
        keys and values. Exact under causal attention (a prefix position never sees what follows);
        returns the final-LayerNorm'd hidden states of positions ``prefix ..`` [P, L - prefix, W].
        The prefix of row 0 is used (the rows must agree there)."""
        rows, length, width = embeds.shape
        heads = self.config.num_attention_heads
        if length > self.config.max_position_embeddings:
            raise ValueError(
                f"ClipTextTower: {length} tokens exceed the "
                f"{self.config.max_position_embeddings} positions of the text tower"
            )
        positions = self.base.embeddings.position_embedding(
            self.base.embeddings.position_ids[:, :length]
        )  # [1, L, W]
        head = embeds[:1, :prefix] + positions[:, :prefix]  # [1, Lp, W]
        tail = embeds[:, prefix:] + positions[:, prefix:]  # [P, Ls, W]
        causal = torch.ones(length - prefix, length - prefix, device=embeds.device).tril().bool()
        allowed = torch.cat(  # [P, 1, Ls, Lp + Ls]: every prefix key, then causal real keys
            [
                torch.ones(rows, length - prefix, prefix, dtype=torch.bool, device=embeds.device),
                causal[None] & mask[:, None, prefix:].bool(),
            ],
            dim=2,
        )[:, None]

        def split(x: torch.Tensor) -> torch.Tensor:  # [n, l, W] -> [n, heads, l, W / heads]
            return x.view(x.shape[0], x.shape[1], heads, width // heads).transpose(1, 2)

        def merge(x: torch.Tensor) -> torch.Tensor:  # [n, heads, l, d] -> [n, l, W]
            return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], width)

        for layer in self.base.encoder.layers:
            attn = layer.self_attn
            x_head, x_tail = layer.layer_norm1(head), layer.layer_norm1(tail)
            q_head, k_head, v_head = (
                split(proj(x_head)) for proj in (attn.q_proj, attn.k_proj, attn.v_proj)
            )
            q_tail, k_tail, v_tail = (
                split(proj(x_tail)) for proj in (attn.q_proj, attn.k_proj, attn.v_proj)
            )
            out_head = nn.functional.scaled_dot_product_attention(
                q_head, k_head, v_head, is_causal=True, scale=attn.scale
            )
            keys = torch.cat([k_head.expand(rows, -1, -1, -1), k_tail], dim=2)
            values = torch.cat([v_head.expand(rows, -1, -1, -1), v_tail], dim=2)
            out_tail = nn.functional.scaled_dot_product_attention(
                q_tail, keys, values, attn_mask=allowed, scale=attn.scale
            )
            head = head + attn.out_proj(merge(out_head))
            tail = tail + attn.out_proj(merge(out_tail))
            head = head + layer.mlp(layer.layer_norm2(head))
            tail = tail + layer.mlp(layer.layer_norm2(tail))
        return self.base.final_layer_norm(tail)

    def pooled(
        self,
        embeds: torch.Tensor,
        mask: torch.Tensor,
        pool_index: torch.Tensor,
        shared_prefix: int = 0,
    ) -> torch.Tensor:
        """[P, L, W] -> the hidden state at each prompt's end-of-text position ``pool_index`` [P]:
        [P, W] (CLIP's pooled output, before the projection). ``shared_prefix`` > 0: the first
        that many positions are the same in every row and run once
        (:meth:`shared_prefix_hidden_states`)."""
        pool_index = pool_index.to(embeds.device)
        rows = torch.arange(embeds.shape[0], device=embeds.device)
        if shared_prefix > 0 and int(pool_index.min()) >= shared_prefix:
            hidden = self.shared_prefix_hidden_states(embeds, mask, shared_prefix)
            return hidden[rows, pool_index - shared_prefix]
        return self.hidden_states(embeds, mask)[rows, pool_index]

    def forward(
        self,
        embeds: torch.Tensor,
        mask: torch.Tensor,
        pool_index: torch.Tensor,
        shared_prefix: int = 0,
    ) -> torch.Tensor:
        """[P, L, W] -> projected text features [P, projection_dim] (CLIP's text embedding)."""
        return self.clip_text_projection(self.pooled(embeds, mask, pool_index, shared_prefix))


def init_random_weights(tower: nn.Module, seed: int) -> None:
    """Deterministic random weights for a text tower (:func:`~.seeded_init.seeded_uniform`):
    embeddings ±0.02·sqrt(3) (std 0.02), linear weights ±sqrt(3 / fan_in), biases ±0.1,
    LayerNorm scales 1 ± 0.2 and shifts ±0.1. A parameter of any other kind raises ``TypeError``.
    """
    rules = [
        (nn.Embedding, seeded_init.embedding),
        (nn.Linear, seeded_init.dense(lambda m: m.in_features)),
        (nn.LayerNorm, seeded_init.norm),
    ]
    seeded_init.seeded_uniform(tower, seed, rules, name="init_random_weights")
