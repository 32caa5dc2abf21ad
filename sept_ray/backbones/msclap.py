"""MS-CLAP 2023 (Elizalde et al., microsoft/CLAP, the ``msclap`` package), loaded with our own code.

Audio tower: HTS-AT -> Projection 768 -> 1024, the same network and settings as Pengi's
(:class:`~sept_ray.backbones.pengi_audio.PengiAudioEncoder`): 44.1 kHz mono, 7 s clips (shorter
ones tiled, longer ones cropped: ``sept_ray.data.audio`` does both, centre crop at evaluation).
Text tower: GPT-2 (``gpt2``: 12 layers, width 768) -> Projection 768 -> 1024. As ``msclap`` does,
the GPT-2 tokenizer gets ``!`` (id 0 in GPT-2's vocabulary) as its padding token, each text is
``text + " <|endoftext|>"`` (77 tokens at most), and the feature is the last hidden state at
index ``(number of non-padding ids) - 1`` (the end-of-text token, unless the text itself holds a
``!``, which msclap counts as padding too). Context slots come first (``ctx_start = 0``: GPT-2
prompts have no start token). Logits use the learned ``logit_scale.exp()``.

Weights: a ``torch.save``d dict whose ``"model"`` holds ``audio_encoder.*``, ``caption_encoder.*``
and ``logit_scale`` (maybe with DataParallel's ``module.``): the hub file
``microsoft/msclap/CLAP_weights_2023.pth``. ``backbone.weights`` is that file (the tokenizer is
then the registered ``gpt2-tokenizer``), or a folder holding one ``.pth``, optionally
``msclap_config.json`` (a :class:`MSClapConfig` for other sizes) and a GPT-2 tokenizer
(``tokenizer.json``, or ``vocab.json`` + ``merges.txt``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from sept_ray.backbones import seeded_init
from sept_ray.backbones.base import FrozenALM, TokenBatch, Vocabulary
from sept_ray.backbones.checkpoints import WEIGHTS, WeightsSource, add_weights, resolve_weights
from sept_ray.backbones.htsat import HTSATConfig
from sept_ray.backbones.pengi_audio import (
    PengiAudioConfig,
    PengiAudioEncoder,
    load_audio_encoder_weights,
)
from sept_ray.backbones.projection import Projection
from sept_ray.backbones.registry import BACKBONES
from sept_ray.backbones.state_dicts import load_strict, read_state_dict, strip_prefix, unwrap_module
from sept_ray.config import BackboneConfig

BACKBONE = "msclap-2023"
CONFIG_FILE = "msclap_config.json"
PAD_TOKEN = "!"  # msclap: tokenizer.add_special_tokens({"pad_token": "!"})
END_TEXT = " <|endoftext|>"  # msclap appends this to every text
PLACEHOLDER = "X"  # token id held by context slots (its embedding is replaced)
STALE_TEXT_BUFFERS = re.compile(r"base\.h\.\d+\.attn\.(bias|masked_bias)")  # old GPT-2 masks

DEFAULT_WEIGHTS = add_weights(
    WeightsSource(
        name="msclap-2023",
        backbone=BACKBONE,
        kind="url",
        url="https://huggingface.co/microsoft/msclap/resolve/main/CLAP_weights_2023.pth",
        filename="CLAP_weights_2023.pth",
        size_mb=690,
        note="MS-CLAP 2023 (HTS-AT + GPT-2); size approximate, no published checksum",
        default=True,
    )
).name
TOKENIZER_WEIGHTS = add_weights(
    WeightsSource(
        name="gpt2-tokenizer",
        backbone=BACKBONE,
        kind="hf",
        url="openai-community/gpt2",
        filename="gpt2-tokenizer",
        files=("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"),
        size_mb=2,
        note="GPT-2's tokenizer files only (MS-CLAP's text tower tokenizer)",
    )
).name


@dataclass(frozen=True)
class GPT2TextConfig:
    """GPT-2 sizes; defaults = ``gpt2`` (what msclap's ``AutoModel.from_pretrained('gpt2')`` builds)."""

    vocab_size: int = 50257
    n_positions: int = 1024
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12

    def build(self) -> nn.Module:
        """A GPT2Model of these sizes (GPT-2's other settings: GELU-new, LayerNorm eps 1e-5)."""
        from transformers import GPT2Config, GPT2Model

        end = self.vocab_size - 1  # <|endoftext|> is GPT-2's last id
        config = GPT2Config(**asdict(self), bos_token_id=end, eos_token_id=end)
        return GPT2Model(config)


@dataclass(frozen=True)
class MSClapConfig:
    """MS-CLAP's towers; defaults = the 2023 release (``config_2023.yml`` + ``models/config.py``).

    ``audio.d_proj`` is the joint width of both projections; ``text_len`` the prompt length."""

    audio: PengiAudioConfig = field(default_factory=PengiAudioConfig)
    text: GPT2TextConfig = field(default_factory=GPT2TextConfig)
    text_len: int = 77

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping, source: str = "config") -> MSClapConfig:
        """Inverse of :meth:`to_dict`; an unknown or missing key raises ``ValueError`` naming it."""
        try:
            audio = dict(values.get("audio", {}))
            htsat = {
                k: tuple(v) if isinstance(v, list) else v for k, v in audio.pop("htsat", {}).items()
            }
            rest = {k: v for k, v in values.items() if k not in ("audio", "text")}
            return cls(
                audio=PengiAudioConfig(htsat=HTSATConfig(**htsat), **audio),
                text=GPT2TextConfig(**values.get("text", {})),
                **rest,
            )
        except TypeError as error:
            raise ValueError(f"{source}: not an MS-CLAP config ({error})") from None


class CaptionEncoder(nn.Module):
    """GPT-2 (``base``) and its Projection (``projection``), keys as msclap's ``caption_encoder``."""

    def __init__(self, cfg: GPT2TextConfig, d_proj: int) -> None:
        super().__init__()
        self.base = cfg.build()
        self.projection = Projection(cfg.n_embd, d_proj)


def init_random_text_weights(encoder: CaptionEncoder, seed: int) -> None:
    """Deterministic random weights for the text tower (:func:`~.seeded_init.seeded_uniform`,
    drawn in float32): token and position embeddings ±0.02·sqrt(3) (std 0.02), GPT-2's
    ``Conv1D`` (weight [in, out]) and ``nn.Linear`` weights ±sqrt(3 / fan_in), biases ±0.1,
    LayerNorm scales 1 ± 0.2 and shifts ±0.1. A parameter of any other kind raises ``TypeError``.
    """
    from transformers.pytorch_utils import Conv1D

    def fan_in(module: nn.Module) -> int:
        return module.weight.shape[0 if isinstance(module, Conv1D) else 1]

    rules = [
        (nn.Embedding, seeded_init.embedding),
        ((Conv1D, nn.Linear), seeded_init.dense(fan_in)),
        (nn.LayerNorm, seeded_init.norm),
    ]
    seeded_init.seeded_uniform(
        encoder, seed, rules, float32_draws=True, name="init_random_text_weights"
    )


class MSClap(FrozenALM):
    """MS-CLAP 2023 behind FrozenALM (see the module docstring)."""

    name = BACKBONE

    def __init__(self, cfg: MSClapConfig, tokenizer, logit_scale: float) -> None:
        super().__init__()
        self.cfg = cfg
        self.audio_encoder = PengiAudioEncoder(cfg.audio)
        self.caption_encoder = CaptionEncoder(cfg.text, cfg.audio.d_proj)
        self.tokenizer = tokenizer
        self.pad_id = int(tokenizer.pad_token_id)
        self.end_id = int(tokenizer.convert_tokens_to_ids("<|endoftext|>"))
        self.placeholder = int(tokenizer.convert_tokens_to_ids(PLACEHOLDER))
        if len(tokenizer) > cfg.text.vocab_size:
            raise ValueError(
                f"tokenizer has {len(tokenizer)} tokens, the text tower {cfg.text.vocab_size}"
            )
        self.sample_rate = cfg.audio.sample_rate
        self.clip_seconds = cfg.audio.clip_seconds
        self.embed_dim = cfg.audio.d_proj
        self.ctx_width = cfg.text.n_embd
        self.logit_scale = float(logit_scale)
        self.freeze()

    @property
    def preprocessing(self) -> dict:
        """The HTS-AT front end's settings (its filterbank is a checkpoint tensor as well)."""
        return {**super().preprocessing, "htsat": asdict(self.cfg.audio.htsat)}

    def audio_features(self, wave: torch.Tensor) -> torch.Tensor:
        """float32 [B, S] at 44.1 kHz -> [B, 1024] (msclap's ``audio_encoder(x)[0]``)."""
        return self.audio_encoder(wave)

    def tokenize(self, texts: Sequence[str], n_ctx: int = 0) -> TokenBatch:
        """n_ctx placeholder slots + tokens of ``text + " <|endoftext|>"``, right-padded with
        ``!``; a text too long for ``text_len`` tokens is cut, keeping ``<|endoftext|>`` last."""
        budget = self.cfg.text_len - n_ctx
        if budget < 2:
            raise ValueError(
                f"n_ctx = {n_ctx} leaves no room for text in {self.cfg.text_len} tokens"
            )
        pieces = self.tokenizer([t + END_TEXT for t in texts], add_special_tokens=False)
        rows = []
        for piece in pieces["input_ids"]:
            if len(piece) > budget:
                piece = [*piece[: budget - 1], self.end_id]
            rows.append([self.placeholder] * n_ctx + piece)
        batch = TokenBatch.from_rows(rows, self.pad_id, ctx_start=0, n_ctx=n_ctx)
        batch.pool_index = (batch.ids != self.pad_id).sum(dim=1) - 1  # msclap's rule, "!" included
        return batch

    def token_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        return self.caption_encoder.base.wte(ids)

    def vocabulary(self) -> Vocabulary:
        """GPT-2's byte-level BPE table; tokens read without ``Ġ``; special: ``<|endoftext|>``
        alone (``!``, msclap's padding token, is also a real token of texts)."""
        weight = self.caption_encoder.base.wte.weight
        return Vocabulary.from_tokenizer(weight, self.tokenizer, special_ids=[self.end_id])

    def text_features(self, embeds: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        """[P, L, W] -> [P, D]: GPT-2 (causal, padding masked), hidden state at ``pool_index``,
        projection."""
        mask = batch.mask.to(embeds.device)
        hidden = self.caption_encoder.base(inputs_embeds=embeds, attention_mask=mask)
        rows = torch.arange(embeds.shape[0], device=embeds.device)
        pooled = hidden.last_hidden_state[rows, batch.pool_index.to(embeds.device)]
        return self.caption_encoder.projection(pooled)


def load_gpt2_tokenizer(folder: str | Path):
    """GPT-2's tokenizer from a folder (``tokenizer.json``, or ``vocab.json`` + ``merges.txt``),
    with ``!`` as its padding token."""
    from transformers import GPT2Tokenizer

    tokenizer = GPT2Tokenizer.from_pretrained(str(folder))
    tokenizer.add_special_tokens({"pad_token": PAD_TOKEN})
    return tokenizer


def locate(spec: str) -> tuple[Path, Path | None, Path | None]:
    """(checkpoint file, config file or None, tokenizer folder or None) for ``backbone.weights``."""
    if spec in WEIGHTS and WEIGHTS.get(spec).backbone != BACKBONE:
        raise ValueError(
            f"weights {spec!r} belong to backbone {WEIGHTS.get(spec).backbone!r}, not {BACKBONE!r}"
        )
    path = resolve_weights(spec)
    if path.is_file():
        return path, None, None
    checkpoints = sorted(path.glob("*.pth"))
    if len(checkpoints) != 1:
        found = ", ".join(p.name for p in checkpoints) or "none"
        raise ValueError(
            f"{path}: an MS-CLAP folder holds exactly one .pth checkpoint (found {found})"
        )
    config = path / CONFIG_FILE
    has_tokenizer = any((path / name).is_file() for name in ("tokenizer.json", "vocab.json"))
    tokenizer = path if has_tokenizer else None
    return checkpoints[0], config if config.is_file() else None, tokenizer


def load_msclap(spec: str = DEFAULT_WEIGHTS) -> MSClap:
    """MSClap from ``backbone.weights`` (see the module docstring), every key checked.

    A ``module.`` prefix is removed; stale GPT-2 mask buffers (``attn.bias``, ``attn.masked_bias``)
    and the other harmless buffers of :mod:`~sept_ray.backbones.state_dicts` are ignored; any
    other missing, unexpected or mis-shaped key raises ``ValueError`` naming the file and keys.
    """
    checkpoint, config_file, tokenizer_dir = locate(spec)
    cfg = MSClapConfig()
    if config_file is not None:
        cfg = MSClapConfig.from_dict(json.loads(config_file.read_text()), str(config_file))
    tokenizer = load_gpt2_tokenizer(tokenizer_dir or resolve_weights(TOKENIZER_WEIGHTS))
    state = unwrap_module(read_state_dict(checkpoint))
    stray = sorted(
        k
        for k in state
        if k != "logit_scale" and not k.startswith(("audio_encoder.", "caption_encoder."))
    )
    if stray or "logit_scale" not in state:
        raise ValueError(
            f"{checkpoint}: not an MS-CLAP checkpoint; unexpected keys {stray[:20]}"
            + ("" if "logit_scale" in state else ", no logit_scale")
        )
    model = MSClap(cfg, tokenizer, float(state["logit_scale"].exp()))
    load_audio_encoder_weights(model.audio_encoder, state, prefix="audio_encoder.")
    own = model.caption_encoder.state_dict()
    text = {
        k: v
        for k, v in strip_prefix(state, "caption_encoder.").items()
        if k in own or not STALE_TEXT_BUFFERS.fullmatch(k)
    }
    load_strict(model.caption_encoder, text, source=f"{checkpoint} [caption_encoder.*]")
    model.freeze()
    return model


@BACKBONES.register(BACKBONE)
def build_msclap(cfg: BackboneConfig) -> MSClap:
    """Registry entry: ``cfg.weights`` is a ``.pth`` file, a folder or a registered name; empty =
    ``msclap-2023`` (the hub file, downloaded when allowed)."""
    return load_msclap(cfg.weights or DEFAULT_WEIGHTS)
