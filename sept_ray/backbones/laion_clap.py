"""LAION-CLAP through transformers' ``ClapModel`` (e.g. the hub's ``laion/clap-htsat-unfused``).

Text tower: RoBERTa. A prompt is ``<s>``, ``n_ctx`` context slots, the text's tokens, ``</s>``
(77 tokens at most, LAION's text length), right-padded with ``<pad>``. Features follow
``ClapModel.get_text_features``: RoBERTa's pooler (dense + tanh on the first token's last hidden
state), then ``text_projection`` (linear, ReLU, linear), not normalised here.
Audio tower: HTS-AT on a log-mel spectrogram made by the checkpoint's ``ClapFeatureExtractor``
(48 kHz, 10 s clips). Evaluation is deterministic: longer clips are centre-cropped to 10 s here
(the extractor would crop at random), shorter ones are filled by the extractor's ``repeatpad``
(whole repeats, then zeros, as LAION does; ``short_clip_fill`` makes ``sept_ray.data.audio`` fill
them the same way); fusion models get ``is_longer = False`` for every clip (the extractor marks a random
clip as longer when none is). Features follow ``ClapModel.get_audio_features`` before its
normalisation. Logits use ``logit_scale_a.exp()``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from sept_ray.backbones.base import FrozenALM, TokenBatch, Vocabulary
from sept_ray.backbones.checkpoints import WEIGHTS, WeightsSource, add_weights, resolve_weights
from sept_ray.backbones.registry import BACKBONES
from sept_ray.config import BackboneConfig
from sept_ray.offline import is_offline

BACKBONE = "laion-clap"
MAX_TOKENS = 77  # LAION-CLAP's text length
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")

DEFAULT_WEIGHTS = add_weights(
    WeightsSource(
        name="laion-clap-htsat-unfused",
        backbone=BACKBONE,
        kind="hf",
        url="laion/clap-htsat-unfused",
        filename="laion-clap-htsat-unfused",
        size_mb=615,
        note="LAION-CLAP HTSAT-tiny + RoBERTa, no fusion (transformers format; size approximate)",
        default=True,
    )
).name
add_weights(
    WeightsSource(
        name="laion-clap-htsat-fused",
        backbone=BACKBONE,
        kind="hf",
        url="laion/clap-htsat-fused",
        filename="laion-clap-htsat-fused",
        size_mb=615,
        note="LAION-CLAP HTSAT-tiny + RoBERTa with feature fusion (size approximate)",
    )
)


def model_source(spec: str) -> str:
    """What ``from_pretrained`` reads for ``spec``: a local folder (given, or a registered weights
    name resolved by :func:`resolve_weights`), or a hub id ``owner/name`` that is neither (then
    transformers downloads and caches it itself)."""
    if spec in WEIGHTS:
        source = WEIGHTS.get(spec)
        if source.backbone != BACKBONE:
            raise ValueError(
                f"weights {spec!r} belong to backbone {source.backbone!r}, not {BACKBONE!r}"
            )
    elif not Path(spec).expanduser().exists() and HUB_ID.fullmatch(spec):
        return spec
    path = resolve_weights(spec)
    if not path.is_dir():
        raise ValueError(
            f"{path}: a LAION-CLAP model is a folder (config.json, weights, tokenizer)"
        )
    return str(path)


class LaionClap(FrozenALM):
    """A frozen ``ClapModel`` with its tokenizer and feature extractor (see the module docstring)."""

    name = BACKBONE

    def __init__(self, model, tokenizer, extractor) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.extractor = extractor
        self.fusion = bool(model.config.audio_config.enable_fusion)
        self.short_clip_fill = "repeatpad"
        self.sample_rate = int(extractor.sampling_rate)
        self.clip_seconds = float(extractor.max_length_s)
        self.embed_dim = int(model.config.projection_dim)
        self.ctx_width = int(model.config.text_config.hidden_size)
        self.logit_scale = float(model.logit_scale_a.detach().exp())
        self.placeholder = int(tokenizer.convert_tokens_to_ids("X"))
        if self.placeholder in (tokenizer.pad_token_id, tokenizer.unk_token_id):
            raise ValueError("tokenizer has no token 'X' for the context placeholder")
        self.freeze()

    @property
    def truncation(self) -> str:
        """The extractor's mode: 4 stacked mels for a fusion model, 1 mel otherwise."""
        return "fusion" if self.fusion else "rand_trunc"

    @property
    def preprocessing(self) -> dict:
        """The front end's settings (the mel filterbank is built from them, not stored as weights)."""
        ex = self.extractor
        front = {
            "n_mels": ex.feature_size,
            "hop_length": ex.hop_length,
            "fft_window_size": ex.fft_window_size,
            "frequency_min": ex.frequency_min,
            "frequency_max": ex.frequency_max,
            "top_db": ex.top_db,
            "truncation": self.truncation,
            "padding": "repeatpad",
            "crop": "center",
        }
        return {**super().preprocessing, "front_end": front}

    def audio_features(self, wave: torch.Tensor) -> torch.Tensor:
        """float32 [B, S] at 48 kHz -> [B, D]; S != 10 s is centre-cropped or repeat-padded."""
        if wave.ndim != 2:
            raise ValueError(f"wave must be [B, S], got shape {tuple(wave.shape)}")
        samples = wave.detach().to("cpu", torch.float32).numpy()
        if samples.shape[1] > self.n_samples:
            start = (samples.shape[1] - self.n_samples) // 2
            samples = samples[:, start : start + self.n_samples]
        inputs = self.extractor(
            list(np.ascontiguousarray(samples)),
            sampling_rate=self.sample_rate,
            truncation=self.truncation,
            padding="repeatpad",
            return_tensors="pt",
        )
        mels = inputs["input_features"].to(self.device, torch.float32)
        is_longer = torch.zeros(len(samples), 1, dtype=torch.bool, device=self.device)
        pooled = self.model.audio_model(input_features=mels, is_longer=is_longer).pooler_output
        return self.model.audio_projection(pooled)

    def tokenize(self, texts: Sequence[str], n_ctx: int = 0) -> TokenBatch:
        """``<s>`` + n_ctx placeholder slots + text tokens + ``</s>``, right-padded with ``<pad>``;
        text tokens beyond 77 tokens in all are dropped."""
        tok = self.tokenizer
        budget = MAX_TOKENS - 2 - n_ctx
        if budget < 1:
            raise ValueError(f"n_ctx = {n_ctx} leaves no room for text in {MAX_TOKENS} tokens")
        pieces = tok(list(texts), add_special_tokens=False)["input_ids"]
        rows = [
            [tok.cls_token_id, *[self.placeholder] * n_ctx, *p[:budget], tok.sep_token_id]
            for p in pieces
        ]
        batch = TokenBatch.from_rows(rows, tok.pad_token_id, ctx_start=1, n_ctx=n_ctx)
        batch.pool_index = torch.zeros(len(rows), dtype=torch.long)  # RoBERTa's pooler reads <s>
        return batch

    def token_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model.text_model.embeddings.word_embeddings(ids)

    def vocabulary(self) -> Vocabulary:
        """RoBERTa's byte-level BPE table; tokens read without ``Ġ``; specials: ``<s>``,
        ``</s>``, ``<pad>``, ``<unk>``, ``<mask>``."""
        weight = self.model.text_model.embeddings.word_embeddings.weight
        return Vocabulary.from_tokenizer(weight, self.tokenizer)

    def text_features(self, embeds: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        """[P, L, W] -> [P, D]: position ids as RoBERTa derives them from token ids (1-based past
        the padding index, padding at the padding index), pooler, text projection."""
        mask = batch.mask.to(embeds.device)
        pad = self.model.text_model.embeddings.padding_idx
        positions = torch.cumsum(mask, dim=1) * mask + pad
        out = self.model.text_model(
            inputs_embeds=embeds, attention_mask=mask, position_ids=positions
        )
        return self.model.text_projection(out.pooler_output)


def load_laion_clap(spec: str = DEFAULT_WEIGHTS) -> LaionClap:
    """LaionClap from a folder, a registered weights name or a hub id (see :func:`model_source`).

    Raises ``ValueError`` naming the source when the weights leave parameters uninitialised or
    of the wrong shape (``from_pretrained`` would only warn and keep random values), and
    ``FileNotFoundError`` when there is no model to load.
    """
    from transformers import AutoTokenizer, ClapFeatureExtractor, ClapModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    source = model_source(spec)
    try:
        model, info = ClapModel.from_pretrained(
            source, output_loading_info=True, local_files_only=is_offline()
        )
    except OSError as error:  # e.g. a hub id while offline, or a folder without a model
        raise FileNotFoundError(f"{source}: cannot load a ClapModel ({error})") from error
    if info["missing_keys"] or info["mismatched_keys"]:
        raise ValueError(
            f"{source}: weights do not fit ClapModel; missing keys {sorted(info['missing_keys'])}, "
            f"shape mismatches {sorted(info['mismatched_keys'])}"
        )
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=is_offline())
    extractor = ClapFeatureExtractor.from_pretrained(source, local_files_only=is_offline())
    return LaionClap(model.float(), tokenizer, extractor)


@BACKBONES.register(BACKBONE)
def build_laion_clap(cfg: BackboneConfig) -> LaionClap:
    """Registry entry: ``cfg.weights`` is a model folder, a registered name or a hub id; empty =
    ``laion-clap-htsat-unfused``."""
    return load_laion_clap(cfg.weights or DEFAULT_WEIGHTS)
