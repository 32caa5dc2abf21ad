"""HTS-AT (Chen et al., ICASSP 2022): the Swin-Transformer audio tower of Pengi and MS-CLAP 2023.

Public API
----------
- :class:`HTSATConfig`: frozen dataclass of hyperparameters; the defaults are those of Pengi's and
  MS-CLAP 2023's checkpoints (their ``models/config.py``, which their ``HTSATWrapper`` uses while
  ignoring the yml audio settings): log-mel filterbank built for 32 kHz, fmin 50 Hz, fmax 14 kHz,
  window 1024, hop 320, 64 mels (audio is nevertheless fed at 44.1 kHz: the checkpoints were
  trained that way, so it is kept); Swin: 256×256 input, 4×4 patches, embed 96, depths
  (2, 2, 6, 2), heads (4, 8, 16, 32), window 8; token-semantic head with 527 classes.
- :class:`HTSAT`: ``forward(wave float32 [B, S]) -> latent [B, 768]`` (``embed_dim · 2**3``),
  the reference's ``latent_output``: the mean over tokens of the final LayerNorm'd Swin tokens.
  Pengi and MS-CLAP both take this as the audio embedding. ``log_mel(wave)`` gives the
  batch-normalised log-mel [B, 1, T, 64] (T = S // 320 + 1).

State-dict keys are the reference ``HTSAT_Swin_Transformer``'s, so a checkpoint loads with
strict matching: ``spectrogram_extractor.stft.conv_{real,imag}.weight``, ``logmel_extractor.melW``,
``bn0.*``, ``patch_embed.{proj,norm}.*``, ``layers.{i}.blocks.{j}.{norm1,norm2,attn.*,mlp.*}``,
``layers.{i}.blocks.{j}.attn_mask`` (shifted blocks only), ``layers.{i}.downsample.*``, ``norm.*``,
``tscam_conv.*``, ``head.*``. ``tscam_conv`` and ``head`` (the AudioSet clip-wise classifier) are
loaded but unused: no audio embedding depends on them.

Eval semantics only, whatever ``.training`` says: BatchNorm uses its running statistics, and
SpecAugment, mixup, dropout and stochastic depth are absent (they are training-time only).

Clip length: the log-mel of T frames is stretched (bicubic, align_corners) to
``spec_size · freq_ratio`` = 1024 frames and folded into a 256×256 image (4 stacked time
segments of 256 frames × 64 mels). Longer inputs (T > 1024, over 10.24 s at 32 kHz or
7.4 s at 44.1 kHz) are cut, as the reference does in eval, into crops of 689 frames every 344
frames, each embedded the same way, and the latents averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from sept_ray.backbones.htsat_frontend import ConvSpectrogram, LogMelFilterBank


@dataclass(frozen=True)
class HTSATConfig:
    """HTS-AT hyperparameters; defaults = the Pengi / MS-CLAP 2023 checkpoints."""

    # front end (the rate the mel filterbank is built for, not the input's rate)
    filterbank_rate: int = 32_000  # Hz
    window_size: int = 1024  # samples: STFT window = n_fft
    hop_size: int = 320  # samples
    mel_bins: int = 64
    fmin: float = 50.0  # Hz
    fmax: float = 14_000.0  # Hz
    amin: float = 1e-10  # power floor before log10
    # Swin transformer
    spec_size: int = 256  # the square input image's side
    patch_size: int = 4
    patch_stride: int = 4
    embed_dim: int = 96
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (4, 8, 16, 32)
    window: int = 8  # attention window (tokens per side)
    mlp_ratio: float = 4.0
    num_classes: int = 527  # size of the (unused) token-semantic head
    # inputs longer than spec_size * freq_ratio frames (reference's eval path)
    crop_frames: int = 689
    crop_hop: int = 344

    def __post_init__(self) -> None:
        if len(self.depths) != len(self.num_heads):
            raise ValueError(
                f"HTSATConfig: depths {self.depths} and num_heads {self.num_heads} differ in length"
            )
        if self.spec_size % self.mel_bins:
            raise ValueError(
                f"HTSATConfig: spec_size {self.spec_size} must be a multiple of mel_bins {self.mel_bins}"
            )
        if not 0 < self.crop_frames < self.max_frames:
            raise ValueError(
                f"HTSATConfig: crop_frames {self.crop_frames} must lie in 1..{self.max_frames - 1}"
            )

    @property
    def freq_ratio(self) -> int:
        """Time segments stacked along frequency in the input image (256 // 64 = 4)."""
        return self.spec_size // self.mel_bins

    @property
    def num_features(self) -> int:
        """Width of the last stage = the latent's size (96 · 2**3 = 768)."""
        return self.embed_dim * 2 ** (len(self.depths) - 1)

    @property
    def max_frames(self) -> int:
        """Log-mel frames that fit in one image (1024); longer inputs are cropped."""
        return self.spec_size * self.freq_ratio


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """[B, H, W, C] -> [B · (H/w) · (W/w), w, w, C], windows in row-major order per image."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c)


def window_reverse(windows: torch.Tensor, window: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: [B · nW, w, w, C] -> [B, H, W, C]."""
    c = windows.shape[-1]
    x = windows.view(-1, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)


def relative_position_index(window: int) -> torch.Tensor:
    """long [w², w²]: row of the bias table for each (query, key) pair of a w×w window."""
    coords = torch.stack(
        torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    ).flatten(1)  # [2, w²]
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    return relative[:, :, 0] * (2 * window - 1) + relative[:, :, 1]


def shifted_window_mask(size: int, window: int, shift: int) -> torch.Tensor:
    """float [nW, w², w²]: 0 between tokens of the same region of the cyclically shifted image,
    -100 between different regions (the reference's value, not -inf)."""
    region = torch.zeros(1, size, size, 1)
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for rows in cuts:
        for cols in cuts:
            region[:, rows, cols, :] = label
            label += 1
    labels = window_partition(region, window).view(-1, window * window)
    different = labels[:, None, :] != labels[:, :, None]
    return torch.zeros(different.shape).masked_fill(different, -100.0)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows with a learned relative position bias:
    [B · nW, w², C] -> same."""

    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        self.window, self.heads = window, heads
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        self.register_buffer("relative_position_index", relative_position_index(window))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``mask``: [nW, w², w²] additive, or None."""
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        bias = bias.view(n, n, self.heads).permute(2, 0, 1)  # [heads, N, N]
        if mask is None:
            out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=bias)
        else:
            windows = mask.shape[0]
            q, k, v = (t.reshape(bw // windows, windows, self.heads, n, -1) for t in qkv)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias + mask[:, None])
            out = out.reshape(bw, self.heads, n, -1)
        return self.proj(out.transpose(1, 2).reshape(bw, n, c))


class Mlp(nn.Module):
    """fc1 -> GELU -> fc2."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class SwinBlock(nn.Module):
    """Pre-norm (shifted-)window attention + MLP on a size×size token grid: [B, size², C] -> same.

    A grid no larger than the window is one window, never shifted (as in Swin)."""

    def __init__(
        self, dim: int, size: int, heads: int, window: int, shift: int, mlp_ratio: float
    ) -> None:
        super().__init__()
        if size <= window:
            window, shift = size, 0
        self.size, self.window, self.shift = size, window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        mask = shifted_window_mask(size, window, shift) if shift else None
        self.register_buffer("attn_mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, c = x.shape
        s, w = self.size, self.window
        grid = self.norm1(x).view(b, s, s, c)
        if self.shift:
            grid = torch.roll(grid, shifts=(-self.shift, -self.shift), dims=(1, 2))
        windows = window_partition(grid, w).view(-1, w * w, c)
        attended = self.attn(windows, self.attn_mask).view(-1, w, w, c)
        grid = window_reverse(attended, w, s, s)
        if self.shift:
            grid = torch.roll(grid, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + grid.reshape(b, s * s, c)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    """2×2 neighbouring tokens concatenated, normalised, reduced: [B, s², C] -> [B, (s/2)², 2C]."""

    def __init__(self, dim: int, size: int) -> None:
        super().__init__()
        self.size = size
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, c = x.shape
        g = x.view(b, self.size, self.size, c)
        parts = (g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2])
        return self.reduction(self.norm(torch.cat(parts, dim=-1).view(b, -1, 4 * c)))


class SwinStage(nn.Module):
    """``depth`` blocks (every second one shifted by half a window), then optional merging."""

    def __init__(
        self, dim: int, size: int, depth: int, heads: int, cfg: HTSATConfig, merge: bool
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, size, heads, cfg.window, (i % 2) * (cfg.window // 2), cfg.mlp_ratio)
            for i in range(depth)
        )
        self.downsample = PatchMerging(dim, size) if merge else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x if self.downsample is None else self.downsample(x)


class PatchEmbed(nn.Module):
    """[B, 1, spec, spec] image -> normalised patch tokens [B, (spec/stride)², embed_dim]."""

    def __init__(self, cfg: HTSATConfig) -> None:
        super().__init__()
        pad = (cfg.patch_size - cfg.patch_stride) // 2
        self.proj = nn.Conv2d(1, cfg.embed_dim, cfg.patch_size, cfg.patch_stride, padding=pad)
        self.norm = nn.LayerNorm(cfg.embed_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(image).flatten(2).transpose(1, 2))


class HTSAT(nn.Module):
    """Waveform float32 [B, S] -> latent embedding [B, num_features] (see the module docstring)."""

    def __init__(self, cfg: HTSATConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or HTSATConfig()
        self.cfg = cfg
        self.spectrogram_extractor = ConvSpectrogram(cfg.window_size, cfg.hop_size)
        self.logmel_extractor = LogMelFilterBank(
            cfg.filterbank_rate, cfg.window_size, cfg.mel_bins, cfg.fmin, cfg.fmax, cfg.amin
        )
        self.bn0 = nn.BatchNorm2d(cfg.mel_bins)
        self.patch_embed = PatchEmbed(cfg)
        grid = cfg.spec_size // cfg.patch_stride
        last = len(cfg.depths) - 1
        self.layers = nn.ModuleList(
            SwinStage(cfg.embed_dim * 2**i, grid // 2**i, depth, heads, cfg, merge=i < last)
            for i, (depth, heads) in enumerate(zip(cfg.depths, cfg.num_heads, strict=True))
        )
        self.norm = nn.LayerNorm(cfg.num_features)
        head_rows = cfg.spec_size // 2**last // cfg.patch_stride // cfg.freq_ratio
        self.tscam_conv = nn.Conv2d(
            cfg.num_features, cfg.num_classes, kernel_size=(head_rows, 3), padding=(0, 1)
        )
        self.head = nn.Linear(cfg.num_classes, cfg.num_classes)

    def log_mel(self, wave: torch.Tensor) -> torch.Tensor:
        """float32 [B, S] -> log-mel (dB) normalised by bn0's running statistics [B, 1, T, M]."""
        mel = self.logmel_extractor(self.spectrogram_extractor(wave))  # [B, 1, T, M]
        bn = self.bn0
        normed = F.batch_norm(
            mel.transpose(1, 3), bn.running_mean, bn.running_var, bn.weight, bn.bias,
            training=False, eps=bn.eps,
        )  # fmt: skip
        return normed.transpose(1, 3)

    def to_image(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, 1, T ≤ max_frames, M] -> [B, 1, spec, spec]: time stretched (bicubic) to max_frames,
        then cut into freq_ratio segments stacked along frequency (earliest at the top)."""
        cfg = self.cfg
        b, c, t, m = mel.shape
        frames, bins = cfg.max_frames, cfg.spec_size // cfg.freq_ratio
        if t > frames or m > bins:
            raise ValueError(f"HTSAT.to_image: {t}×{m} log-mel exceeds {frames}×{bins}")
        if t < frames:
            mel = F.interpolate(mel, (frames, m), mode="bicubic", align_corners=True)
        if m < bins:
            mel = F.interpolate(mel, (frames, bins), mode="bicubic", align_corners=True)
        x = mel.permute(0, 1, 3, 2).reshape(b, c, bins, cfg.freq_ratio, frames // cfg.freq_ratio)
        return x.permute(0, 1, 3, 2, 4).reshape(b, c, bins * cfg.freq_ratio, -1)

    def image_latent(self, image: torch.Tensor) -> torch.Tensor:
        """[B, 1, spec, spec] -> mean of the final normalised tokens [B, num_features]."""
        x = self.patch_embed(image)
        for stage in self.layers:
            x = stage(x)
        return self.norm(x).mean(dim=1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        mel = self.log_mel(wave)
        frames = mel.shape[2]
        if frames <= self.cfg.max_frames:
            return self.image_latent(self.to_image(mel))
        size = self.cfg.crop_frames
        starts = range(0, frames - size - 1, self.cfg.crop_hop)
        crops = torch.cat([mel[:, :, s : s + size] for s in starts])  # [n · B, 1, size, M]
        latents = self.image_latent(self.to_image(crops))
        return latents.view(len(starts), mel.shape[0], -1).mean(dim=0)
