"""HTS-AT's log-mel front end, laid out as the checkpoints store it (torchlibrosa's layout).

The STFT is a pair of 1-D convolutions whose kernels are Hann-windowed DFT rows, and the mel
filterbank is a matrix; all three are *parameters* in Pengi's and MS-CLAP's checkpoints, so
they load from there (a checkpoint's values win over the ones computed here):

- ``ConvSpectrogram``: ``stft.conv_real.weight``, ``stft.conv_imag.weight``: [n_fft//2+1, 1, n_fft]
- ``LogMelFilterBank``: ``melW``: [n_fft//2+1, n_mels] (Slaney mel scale, Slaney area norm,
  the filterbank of ``librosa.filters.mel``).

Units: waveform in [-1, 1] at any rate; power spectrogram; log-mel in dB (10·log10, floor 1e-10,
reference 1.0, no top-dB clipping). Frames: centred, reflect-padded by n_fft // 2, so
T = S // hop + 1 for S samples (S must exceed n_fft // 2).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def hann_dft_kernels(n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and imaginary STFT kernels, float32 [n_fft//2+1, 1, n_fft] each:
    ``w[n]·cos(2πkn/N)`` and ``-w[n]·sin(2πkn/N)`` with ``w`` the periodic Hann window."""
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)
    k = np.arange(n_fft // 2 + 1)
    phase = 2.0 * np.pi * ((k[:, None] * n[None, :]) % n_fft) / n_fft  # exact integer reduction
    real = np.cos(phase) * window[None, :]
    imag = -np.sin(phase) * window[None, :]
    return _kernel(real), _kernel(imag)


def _kernel(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(values.astype(np.float32))[:, None, :]


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear (3 bins per 200 Hz) below 1 kHz, logarithmic above."""
    hz = np.atleast_1d(np.asarray(hz, dtype=np.float64))
    mel = hz / (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    above = hz >= 1000.0
    mel[above] = 15.0 + np.log(hz[above] / 1000.0) / log_step
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.atleast_1d(np.asarray(mel, dtype=np.float64))
    hz = mel * (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    above = mel >= 15.0
    hz[above] = 1000.0 * np.exp(log_step * (mel[above] - 15.0))
    return hz


def slaney_mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float
) -> torch.Tensor:
    """Triangular filters on Slaney's mel scale with Slaney area normalisation (each filter
    times 2 / its bandwidth in Hz), float32 [n_fft//2+1, n_mels]: ``librosa.filters.mel(...).T``,
    including its float32 rounding of the triangles before the normalisation."""
    bins_hz = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)
    low, high = _hz_to_mel(np.array([fmin, fmax]))
    edges = _mel_to_hz(np.linspace(low, high, n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    triangles = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    weights = (triangles * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(weights.T))


class STFTConv(nn.Module):
    """Centred STFT as two strided convolutions: [B, S] -> (real, imag), each [B, 1, T, F]."""

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        bins = n_fft // 2 + 1
        self.conv_real = nn.Conv1d(1, bins, kernel_size=n_fft, stride=hop, bias=False)
        self.conv_imag = nn.Conv1d(1, bins, kernel_size=n_fft, stride=hop, bias=False)
        real, imag = hann_dft_kernels(n_fft)
        with torch.no_grad():
            self.conv_real.weight.copy_(real)
            self.conv_imag.weight.copy_(imag)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if wave.shape[-1] <= self.n_fft // 2:
            raise ValueError(
                f"STFTConv: a clip of {wave.shape[-1]} samples is too short for reflect padding "
                f"(needs more than {self.n_fft // 2})"
            )
        x = F.pad(wave[:, None, :], (self.n_fft // 2, self.n_fft // 2), mode="reflect")
        real = self.conv_real(x)[:, None].transpose(2, 3)
        imag = self.conv_imag(x)[:, None].transpose(2, 3)
        return real, imag


class ConvSpectrogram(nn.Module):
    """float32 [B, S] -> power spectrogram [B, 1, T, n_fft//2+1]."""

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        self.stft = STFTConv(n_fft, hop)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        real, imag = self.stft(wave)
        return real**2 + imag**2


class LogMelFilterBank(nn.Module):
    """Power spectrogram [..., n_fft//2+1] -> log-mel in dB [..., n_mels]."""

    def __init__(
        self, sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float, amin: float
    ) -> None:
        super().__init__()
        self.amin = amin
        self.melW = nn.Parameter(slaney_mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax))

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        mel = torch.matmul(power, self.melW)
        return 10.0 * torch.log10(torch.clamp(mel, min=self.amin))  # reference power 1.0
