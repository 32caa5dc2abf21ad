"""TinyALM's audio tower: a log-mel front end, a 4-block CNN and a projection into the text space."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class TinyAudioConfig:
    """Architecture and preprocessing of the audio tower (stored with its weights)."""

    sample_rate: int = 16_000  # Hz
    clip_seconds: float = 2.0
    n_fft: int = 512  # samples (32 ms)
    hop: int = 320  # samples (20 ms)
    n_mels: int = 64
    fmin: float = 50.0  # Hz
    fmax: float = 8_000.0  # Hz
    channels: tuple[int, ...] = (24, 48, 96, 192)
    embed_dim: int = 384  # the text tower's width: the joint space is the text space

    def to_dict(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, values: dict) -> TinyAudioConfig:
        return cls(**{**values, "channels": tuple(values["channels"])})


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float
) -> torch.Tensor:
    """Triangular HTK-mel filters, float32 [n_mels, n_fft // 2 + 1], each peaking at 1."""

    def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
        return 2595.0 * torch.log10(1.0 + hz / 700.0)

    def mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)

    edges = mel_to_hz(
        torch.linspace(
            float(hz_to_mel(torch.tensor(fmin))), float(hz_to_mel(torch.tensor(fmax))), n_mels + 2
        )
    )
    bins = torch.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


class LogMel(nn.Module):
    """float32 [B, S] waveform -> log-mel energies [B, n_mels, T] (natural log, floor 1e-6)."""

    def __init__(self, cfg: TinyAudioConfig) -> None:
        super().__init__()
        self.n_fft, self.hop = cfg.n_fft, cfg.hop
        self.register_buffer("window", torch.hann_window(cfg.n_fft), persistent=False)
        fbank = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
        self.register_buffer("fbank", fbank, persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            wave, self.n_fft, self.hop, window=self.window, center=True, return_complex=True
        )
        power = spec.real**2 + spec.imag**2  # [B, F, T]
        return torch.log(self.fbank @ power + 1e-6)


class ConvBlock(nn.Sequential):
    """conv3x3 -> BatchNorm -> ReLU -> 2x2 max-pool: [B, C_in, M, T] -> [B, C_out, M/2, T/2]."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )


class TinyAudioTower(nn.Module):
    """Waveform [B, S] -> un-normalised embedding [B, embed_dim].

    Log-mel features are standardised per mel band with statistics stored as buffers
    (``mel_mean``, ``mel_std``: [n_mels], set by pretraining), then 4 conv blocks, mean over
    frequency, mean+max over time, and a 2-layer MLP projection.
    """

    def __init__(self, cfg: TinyAudioConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.frontend = LogMel(cfg)
        self.register_buffer("mel_mean", torch.zeros(cfg.n_mels))
        self.register_buffer("mel_std", torch.ones(cfg.n_mels))
        widths = (1, *cfg.channels)
        self.blocks = nn.Sequential(
            *(ConvBlock(a, b) for a, b in zip(widths, widths[1:], strict=False))
        )
        width = 2 * cfg.channels[-1]
        self.head = nn.Sequential(
            nn.Linear(width, cfg.embed_dim), nn.GELU(), nn.Linear(cfg.embed_dim, cfg.embed_dim)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=1.0 / math.sqrt(module.in_features))
                nn.init.zeros_(module.bias)

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """[B, S] -> standardised log-mel [B, 1, n_mels, T]."""
        mel = self.frontend(wave)
        return ((mel - self.mel_mean[:, None]) / self.mel_std[:, None]).unsqueeze(1)

    def embed_log_mel(self, mel: torch.Tensor) -> torch.Tensor:
        """Standardised log-mel [B, 1, n_mels, T] -> [B, embed_dim]."""
        maps = self.blocks(mel).mean(dim=2)  # [B, C, T']
        pooled = torch.cat([maps.mean(dim=-1), maps.amax(dim=-1)], dim=-1)  # [B, 2C]
        return self.head(pooled)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return self.embed_log_mel(self.log_mel(wave))
