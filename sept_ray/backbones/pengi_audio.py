"""Pengi's audio tower: HTS-AT (768-d latent) -> Projection -> 1024-d joint space.

MS-CLAP 2023's audio tower is the same network with the same settings (its ``htsat.py`` and
``config.py`` match Pengi's), so it uses this module as it is.

Public API
----------
- :class:`PengiAudioConfig`: ``htsat`` (:class:`~sept_ray.backbones.htsat.HTSATConfig`, defaults =
  the checkpoints), ``d_proj`` = 1024, and the input the checkpoints expect: ``sample_rate``
  44 100 Hz, ``clip_seconds`` 7.0 (the mel filterbank is built for 32 kHz all the same).
- :class:`PengiAudioEncoder`: ``forward(wave float32 [B, S] at 44.1 kHz) -> [B, d_proj]``
  un-normalised projected features; ``latent(wave) -> [B, 768]`` (HTS-AT before the projection).
  Sub-modules ``base.htsat`` and ``projection``: its state-dict keys are the checkpoint's
  ``audio_encoder.*`` keys with ``audio_encoder.`` removed (e.g.
  ``base.htsat.logmel_extractor.melW``, ``projection.linear1.weight``). Eval semantics always.
- :func:`load_audio_encoder_weights`: checkpoint file or state dict -> the encoder, strictly.
- :func:`init_random_weights`: deterministic seeded weights (tests, shape and speed checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from sept_ray.backbones import seeded_init
from sept_ray.backbones.htsat import HTSAT, HTSATConfig, WindowAttention
from sept_ray.backbones.htsat_frontend import ConvSpectrogram, LogMelFilterBank
from sept_ray.backbones.projection import Projection
from sept_ray.backbones.state_dicts import (
    load_strict,
    read_state_dict,
    strip_prefix,
    unwrap_module,
)

CHECKPOINT_PREFIX = "audio_encoder."


@dataclass(frozen=True)
class PengiAudioConfig:
    """Pengi's (and MS-CLAP 2023's) audio tower: HTS-AT settings, projection width, input."""

    htsat: HTSATConfig = field(default_factory=HTSATConfig)
    d_proj: int = 1024  # joint-space width
    sample_rate: int = 44_100  # Hz of the waveforms fed in (base.yml / config_2023.yml)
    clip_seconds: float = 7.0


class PengiAudioEncoder(nn.Module):
    """float32 [B, S] waveform at ``cfg.sample_rate`` -> un-normalised features [B, d_proj]."""

    def __init__(self, cfg: PengiAudioConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or PengiAudioConfig()
        # a dict so that keys read "base.htsat.*", as under the reference's HTSATWrapper
        self.base = nn.ModuleDict({"htsat": HTSAT(self.cfg.htsat)})
        self.projection = Projection(self.cfg.htsat.num_features, self.cfg.d_proj)

    @property
    def htsat(self) -> HTSAT:
        return self.base["htsat"]

    def latent(self, wave: torch.Tensor) -> torch.Tensor:
        """[B, S] -> HTS-AT latent [B, 768] (Pengi's ``embedding`` before the projection)."""
        return self.htsat(wave)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.projection(self.latent(wave))


def load_audio_encoder_weights(
    encoder: nn.Module,
    source: str | Path | Mapping[str, torch.Tensor],
    prefix: str = CHECKPOINT_PREFIX,
    allow_pickle: bool = False,
) -> None:
    """Load the audio tower's weights from a checkpoint file or a state dict, strictly.

    ``source``: a path (``torch.save``d dict, its tensors maybe under ``"model"``, or a
    ``.safetensors`` file) or a state dict. A ``module.`` prefix is removed, then the keys under
    ``prefix`` are taken (``""``: all keys). Only harmless stale buffers may differ (see
    :mod:`sept_ray.backbones.state_dicts`); any other missing, unexpected or mis-shaped key
    raises ``ValueError`` naming the source and the keys. ``allow_pickle``: see
    :func:`~sept_ray.backbones.state_dicts.read_state_dict`.
    """
    if isinstance(source, Mapping):
        name, state = "state dict", dict(source)
    else:
        name, state = str(source), read_state_dict(source, allow_pickle=allow_pickle)
    state = unwrap_module(state)
    if prefix:
        picked = strip_prefix(state, prefix)
        if not picked:
            first = ", ".join(list(state)[:5])
            raise ValueError(f"{name}: no key starts with {prefix!r} (first keys: {first})")
        state = picked
    load_strict(encoder, state, source=f"{name} [{prefix}*]" if prefix else name)


def init_random_weights(encoder: nn.Module, seed: int) -> None:
    """Deterministic random weights (:func:`~.seeded_init.seeded_uniform`).

    The fixed front end (STFT kernels, mel matrix) and derived buffers keep their values.
    Linear/conv weights ±sqrt(3 / fan_in) (unit variance for unit-variance inputs), biases ±0.1,
    LayerNorm/BatchNorm scales 1 ± 0.2, shifts ±0.1, BatchNorm running mean U(-30, 0) dB and
    variance U(50, 150) dB² (about log-mel statistics of audio in [-1, 1]), relative position
    biases ±1. A parameter of any other kind raises ``TypeError``.
    """

    def batch_norm(module: nn.Module, draw: seeded_init.Draw) -> None:
        seeded_init.norm(module, draw)
        draw(module.running_mean, -30.0, 0.0)
        draw(module.running_var, 50.0, 150.0)

    def relative_bias(module: nn.Module, draw: seeded_init.Draw) -> None:
        draw(module.relative_position_bias_table, -1.0, 1.0)

    fixed = {
        id(p)
        for m in encoder.modules()
        if isinstance(m, ConvSpectrogram | LogMelFilterBank)
        for p in m.parameters()
    }
    rules = [
        ((nn.Linear, nn.Conv1d, nn.Conv2d), seeded_init.dense(lambda m: m.weight[0].numel())),
        (nn.LayerNorm, seeded_init.norm),
        (nn.BatchNorm2d, batch_norm),
        (WindowAttention, relative_bias),
    ]
    seeded_init.seeded_uniform(encoder, seed, rules, fixed=fixed, name="init_random_weights")
