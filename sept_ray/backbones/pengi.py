"""Pengi (Deshmukh et al., NeurIPS 2023), the paper's backbone, as a frozen audio-language model.

Two of Pengi's three parts make the joint space (1024-d); the GPT-2 caption decoder is not used.

- Audio: :class:`~sept_ray.backbones.pengi_audio.PengiAudioEncoder` (HTS-AT -> Projection 768 ->
  1024) on 44.1 kHz mono 7-s clips (the data loader tiles shorter clips and centre-crops longer
  ones at evaluation).
- Text: :class:`PengiTextEncoder`, the CLIP ViT-B/16 text tower run from token embeddings (causal,
  pooled at the end-of-text token) -> CLIP text projection 512 -> 512 -> Projection 512 -> 1024.
  Prompts: ``openai/clip-vit-base-patch16``'s BPE tokenizer, 40 tokens
  (:mod:`~sept_ray.backbones.clip_tokenizer`).
- Logits: a fixed scale of 100 times the cosine similarity.

Backbones: ``pengi`` reads Pengi's ``base.pth`` (registered weights ``pengi-base``, Zenodo record
8387083) and the CLIP tokenizer files (registered ``clip-vit-base-patch16-tokenizer``);
``pengi-random`` is the same network with seeded random weights and the offline vocabulary of
:mod:`~sept_ray.backbones.clip_vocab`: no download, for tests and timings, meaningless outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from sept_ray.backbones.base import FrozenALM, TokenBatch, Vocabulary
from sept_ray.backbones.checkpoints import WEIGHTS, WeightsSource, add_weights, resolve_weights
from sept_ray.backbones.clip_text import ClipTextTower, init_random_weights, vit_b16_text_config
from sept_ray.backbones.clip_tokenizer import PENGI_MAX_TOKENS, ClipPrompts, load_clip_tokenizer
from sept_ray.backbones.clip_vocab import offline_vocab_dir
from sept_ray.backbones.pengi_audio import PengiAudioConfig, PengiAudioEncoder
from sept_ray.backbones.pengi_audio import init_random_weights as init_random_audio_weights
from sept_ray.backbones.projection import Projection
from sept_ray.backbones.registry import BACKBONES
from sept_ray.backbones.state_dicts import load_strict, read_state_dict, unwrap_module
from sept_ray.config import BackboneConfig

if TYPE_CHECKING:
    from transformers import CLIPTokenizer

BACKBONE = "pengi"
RANDOM_BACKBONE = "pengi-random"
LOGIT_SCALE = 100.0
RANDOM_SEED = 0  # pengi-random's weights
UNUSED_PREFIX = "caption_decoder."  # the GPT-2 decoder and its mapping networks

DEFAULT_WEIGHTS = add_weights(
    WeightsSource(
        name="pengi-base",
        backbone=BACKBONE,
        kind="url",
        url="https://zenodo.org/records/8387083/files/base.pth?download=1",
        filename="pengi/base.pth",
        size_mb=2200,
        note="Pengi 'base' (audio encoder, caption encoder, GPT-2 decoder); size approximate, "
        "no published sha256",
        default=True,
    )
).name
TOKENIZER_WEIGHTS = add_weights(
    WeightsSource(
        name="clip-vit-base-patch16-tokenizer",
        backbone=BACKBONE,
        kind="hf",
        url="openai/clip-vit-base-patch16",
        filename="clip-vit-base-patch16-tokenizer",
        files=(
            "vocab.json",
            "merges.txt",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
        ),
        size_mb=4,
        note="the CLIP BPE tokenizer Pengi's caption encoder uses (tokenizer files only)",
    )
).name


class PengiTextEncoder(ClipTextTower):
    """Pengi's caption encoder: [P, L, 512] token embeddings -> [P, d_proj] text features.

    State-dict keys = the checkpoint's ``caption_encoder.*`` keys without that prefix:
    ``base.*`` (CLIP text transformer), ``clip_text_projection.weight``, ``projection.*``.
    """

    def __init__(self, config, d_proj: int) -> None:
        super().__init__(config)
        self.projection = Projection(config.projection_dim, d_proj)

    def forward(
        self,
        embeds: torch.Tensor,
        mask: torch.Tensor,
        pool_index: torch.Tensor,
        shared_prefix: int = 0,
    ) -> torch.Tensor:
        return self.projection(super().forward(embeds, mask, pool_index, shared_prefix))


class Pengi(FrozenALM):
    """Pengi's audio and caption encoders (see the module docstring). State-dict keys are those
    of ``base.pth`` less ``caption_decoder.*``: ``audio_encoder.*`` and ``caption_encoder.*``."""

    def __init__(
        self,
        tokenizer: CLIPTokenizer,
        audio_cfg: PengiAudioConfig | None = None,
        name: str = BACKBONE,
    ) -> None:
        super().__init__()
        audio_cfg = audio_cfg or PengiAudioConfig()
        self.name = name
        self.audio_encoder = PengiAudioEncoder(audio_cfg)
        text_cfg = vit_b16_text_config(eos_token_id=int(tokenizer.eos_token_id))
        self.caption_encoder = PengiTextEncoder(text_cfg, audio_cfg.d_proj)
        self.prompts = ClipPrompts(tokenizer, PENGI_MAX_TOKENS)
        self.sample_rate = audio_cfg.sample_rate
        self.clip_seconds = audio_cfg.clip_seconds
        self.embed_dim = audio_cfg.d_proj
        self.ctx_width = self.caption_encoder.width
        self.logit_scale = LOGIT_SCALE
        self.freeze()

    def audio_features(self, wave: torch.Tensor) -> torch.Tensor:
        return self.audio_encoder(wave)

    @property
    def preprocessing(self) -> dict:
        """Sample rate, clip length and the audio tower's settings (HTS-AT's mel front end:
        window, hop, mel bands, fmin/fmax, the filterbank's sample rate)."""
        return {**super().preprocessing, "audio": asdict(self.audio_encoder.cfg)}

    def tokenize(self, texts: Sequence[str], n_ctx: int = 0) -> TokenBatch:
        return self.prompts(texts, n_ctx)

    def token_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        return self.caption_encoder.token_embedding(ids)

    def text_features(self, embeds: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        return self.caption_encoder(embeds, batch.mask, batch.pool_index)

    def shared_prefix_text_features(
        self, embeds: torch.Tensor, batch: TokenBatch, prefix: int
    ) -> torch.Tensor:
        """The CLIP text tower is causal: the shared prefix runs once (exact)."""
        return self.caption_encoder(embeds, batch.mask, batch.pool_index, shared_prefix=prefix)

    def vocabulary(self) -> Vocabulary:
        """The CLIP token table, cut to the tokenizer's ids (all 49,408 for CLIP's vocabulary,
        fewer for ``pengi-random``'s offline one); tokens read without ``</w>``; specials:
        ``<|startoftext|>`` and ``<|endoftext|>``."""
        weight = self.caption_encoder.base.embeddings.token_embedding.weight
        return Vocabulary.from_tokenizer(weight, self.prompts.tokenizer)


def pengi_state(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A ``base.pth`` state dict -> the keys :class:`Pengi` holds: without a DataParallel
    ``module.`` prefix and without the unused ``caption_decoder.*``."""
    return {k: v for k, v in unwrap_module(state).items() if not k.startswith(UNUSED_PREFIX)}


def read_pengi_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a Pengi checkpoint (``torch.load(path, weights_only=True)["model"]``, or a
    plain state dict or ``.safetensors`` file) as :func:`pengi_state` returns them."""
    try:
        state = read_state_dict(path)
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise
        raise ValueError(
            f"{error}. To keep only the weights of a file you trust, re-save them once: "
            "python -c \"import torch; torch.save({'model': torch.load('base.pth', "
            "weights_only=False)['model']}, 'base-weights.pth')\" and pass base-weights.pth "
            "as backbone.weights"
        ) from None
    return pengi_state(state)


def load_pengi(
    weights: str | Path = DEFAULT_WEIGHTS, tokenizer: str | Path = TOKENIZER_WEIGHTS
) -> Pengi:
    """Pengi from a checkpoint and a CLIP tokenizer.

    ``weights``: ``base.pth`` (a path or a registered weights name, downloaded when allowed);
    ``tokenizer``: a folder with CLIP's ``vocab.json`` and ``merges.txt``, a registered weights
    name, or a hub id. See :func:`load_pengi_weights` for the checks.
    """
    path = resolve_weights(str(weights))
    tokenizer_path = resolve_weights(str(tokenizer)) if _is_local(tokenizer) else tokenizer
    model = Pengi(load_clip_tokenizer(tokenizer_path))
    load_pengi_weights(model, path)
    return model


def load_pengi_weights(model: Pengi, path: str | Path) -> None:
    """Load a Pengi checkpoint file into ``model`` (see :func:`read_pengi_checkpoint`). Stale
    buffers (``position_ids`` saved by older transformers) are ignored; any other missing,
    unexpected or mis-shaped key raises ``ValueError`` listing the keys, and nothing is loaded."""
    load_strict(model, read_pengi_checkpoint(path), source=str(path))


def _is_local(spec: str | Path) -> bool:
    """True for a path or a registered weights name, False for a hub id to hand to transformers."""
    return Path(spec).expanduser().exists() or str(spec) in WEIGHTS


def random_pengi(seed: int = RANDOM_SEED) -> Pengi:
    """``pengi-random``: Pengi's architecture with deterministic random weights drawn from
    ``seed`` (audio and text towers each from their own seeded generator) and the offline
    vocabulary. No download; the outputs mean nothing."""
    model = Pengi(load_clip_tokenizer(offline_vocab_dir()), name=RANDOM_BACKBONE)
    init_random_audio_weights(model.audio_encoder, seed)
    init_random_weights(model.caption_encoder, seed)
    return model


@BACKBONES.register(BACKBONE)
def build_pengi(cfg: BackboneConfig) -> Pengi:
    """Registry entry: ``cfg.weights`` is ``base.pth`` (path or registered name), empty for
    ``pengi-base``."""
    return load_pengi(cfg.weights or DEFAULT_WEIGHTS)


@BACKBONES.register(RANDOM_BACKBONE)
def build_pengi_random(cfg: BackboneConfig) -> Pengi:
    """Registry entry: seeded random weights; ``cfg.weights`` must be empty."""
    if cfg.weights:
        raise ValueError(
            f"backbone.weights = {cfg.weights!r}: {RANDOM_BACKBONE} has seeded random weights "
            f"and reads none (use backbone.name = {BACKBONE} to load a checkpoint)"
        )
    return random_pengi()
