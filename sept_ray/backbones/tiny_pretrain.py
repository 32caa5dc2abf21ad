"""Pretrain TinyALM's audio tower contrastively against the frozen MiniLM text tower.

Data: the sound world's captioned pretraining split (16 kHz, 2 s, each clip under the mild
condition or one of the datasets' own; captions are name-free paraphrases plus drawn pitch and pace
attributes, never the downstream prompt templates). Loss: symmetric
InfoNCE between audio embeddings and the frozen text embeddings of each clip's caption, with a
learned temperature (clips sharing a caption are all positives). ``sept tiny-alm pretrain``
reproduces the shipped weights (up to floating-point non-determinism across thread counts).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from sept_ray.backbones.tiny import TinyALM, minilm_path
from sept_ray.backbones.tiny_audio import TinyAudioConfig
from sept_ray.data.audio import fit_length, resample
from sept_ray.data.synth.sounds import RECIPES
from sept_ray.data.synth.world import (
    BUILTIN_DATASETS,
    PRETRAIN_CONDITION,
    pretraining_set,
    render_clip,
)

MAX_LOGIT_SCALE = 100.0


@dataclass(frozen=True)
class PretrainConfig:
    """Pretraining settings; the shipped weights used the defaults."""

    clips: int = 2000
    epochs: int = 6
    batch_size: int = 64
    lr: float = 2e-3  # AdamW, cosine decay to 0
    weight_decay: float = 1e-4
    seed: int = 0
    check_clips_per_class: int = 8  # held-out clips per class for the zero-shot checks
    audio: TinyAudioConfig = TinyAudioConfig()


def standardise(model: TinyALM, waves: np.ndarray, chunk: int = 256) -> torch.Tensor:
    """Waveforms [n, S] -> log-mel [n, 1, M, T]; sets the tower's per-band mean/std from them."""
    with torch.no_grad():
        mels = torch.cat(
            [
                model.audio.frontend(torch.from_numpy(waves[i : i + chunk]))
                for i in range(0, len(waves), chunk)
            ]
        )
        model.audio.mel_mean.copy_(mels.mean(dim=(0, 2)))
        model.audio.mel_std.copy_(mels.std(dim=(0, 2)).clamp(min=1e-3))
    return ((mels - model.audio.mel_mean[:, None]) / model.audio.mel_std[:, None]).unsqueeze(1)


def contrastive_loss(
    audio: torch.Tensor, text: torch.Tensor, ids: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE; audio, text: normalised [B, D]; ids [B] caption ids (equal ids: positives)."""
    logits = scale * audio @ text.t()  # [B, B]
    positives = (ids[:, None] == ids[None, :]).float()
    targets = positives / positives.sum(dim=1, keepdim=True)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets))


def zero_shot_checks(model: TinyALM, cfg: PretrainConfig) -> dict[str, float]:
    """Zero-shot accuracy (%) with each dataset's template: on held-out pretraining-condition clips
    of all 42 classes, and on clips rendered under each built-in dataset's own condition."""
    results = {}
    names = list(RECIPES)
    rng = np.random.default_rng([cfg.seed, 99])
    waves, labels = [], []
    for k, name in enumerate(names):
        for _ in range(cfg.check_clips_per_class):
            waves.append(render_clip(name, rng, 16_000, 2.0, PRETRAIN_CONDITION)[0])
            labels.append(k)
    results["pretrain_condition_42way"] = _accuracy(
        model, waves, labels, names, "This is a sound of {}."
    )
    for spec in BUILTIN_DATASETS.values():
        waves, labels = [], []
        for k, name in enumerate(spec.classes):
            for _ in range(cfg.check_clips_per_class):
                wave = render_clip(
                    name, rng, spec.sample_rate, float(rng.uniform(*spec.seconds)), spec.condition
                )[0]
                wave = fit_length(resample(wave, spec.sample_rate, 16_000), model.n_samples)
                waves.append(wave)
                labels.append(k)
        results[spec.name] = _accuracy(model, waves, labels, list(spec.classes), spec.template)
    return results


def _accuracy(
    model: TinyALM, waves: list, labels: list, classes: list[str], template: str
) -> float:
    audio = model.encode_audio(torch.from_numpy(np.stack(waves)))
    text = model.encode_text([template.format(c) for c in classes])
    predicted = (audio @ text.t()).argmax(dim=1)
    return 100.0 * (predicted == torch.tensor(labels)).float().mean().item()


def pretrain_tiny_alm(cfg: PretrainConfig, out_path: str | Path) -> dict:
    """Pretrain, write the weights to ``out_path`` and a report (config, losses, zero-shot
    checks) beside it as ``<out_path stem>.json``; return the report."""
    started = time.perf_counter()
    torch.manual_seed(cfg.seed)
    waves, captions, _ = pretraining_set(cfg.clips, cfg.seed)
    model = TinyALM(cfg.audio, minilm_path())
    unique = sorted(set(captions))
    position = {c: i for i, c in enumerate(unique)}
    caption_ids = torch.tensor([position[c] for c in captions])  # [n]
    print(f"encoding {len(unique)} captions with the frozen text tower", flush=True)
    text = model.encode_text(unique)  # [U, D]
    mels = standardise(model, waves)
    del waves

    tower = model.audio
    for parameter in tower.parameters():
        parameter.requires_grad_(True)
    log_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    params = [*tower.parameters(), log_scale]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(mels) / cfg.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    generator = torch.Generator().manual_seed(cfg.seed)
    history = []
    for epoch in range(1, cfg.epochs + 1):
        tower.train(True)  # BatchNorm learns its statistics here, then is frozen
        order = torch.randperm(len(mels), generator=generator)
        total, count = 0.0, 0
        for start in range(0, len(order), cfg.batch_size):
            pick = order[start : start + cfg.batch_size]
            batch = augment(mels[pick], generator)
            audio = F.normalize(tower.embed_log_mel(batch), dim=-1)
            scale = log_scale.exp().clamp(max=MAX_LOGIT_SCALE)
            loss = contrastive_loss(audio, text[caption_ids[pick]], caption_ids[pick], scale)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total, count = total + loss.item() * len(pick), count + len(pick)
        history.append(total / count)
        print(
            f"epoch {epoch}/{cfg.epochs}: loss {history[-1]:.4f}, "
            f"scale {log_scale.exp().item():.1f}, {time.perf_counter() - started:.0f} s",
            flush=True,
        )

    model.logit_scale = float(log_scale.detach().exp().clamp(max=MAX_LOGIT_SCALE))
    model.freeze()
    model.save_audio_weights(out_path)
    report = {
        "weights": str(out_path),
        "config": {**asdict(cfg), "audio": cfg.audio.to_dict()},
        "loss_per_epoch": history,
        "logit_scale": model.logit_scale,
        "zero_shot_accuracy": zero_shot_checks(model, cfg),
        "seconds": time.perf_counter() - started,
    }
    Path(out_path).with_suffix(".json").write_text(json.dumps(report, indent=1))
    return report


def augment(mel: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random circular time shift and one random band mask per clip: [B, 1, M, T] -> same."""
    b, _, m, t = mel.shape
    shifts = torch.randint(t, (b,), generator=generator)
    index = (torch.arange(t)[None, :] + shifts[:, None]) % t  # [B, T]
    out = torch.gather(mel, 3, index[:, None, None, :].expand(b, 1, m, t))
    start = torch.randint(m - 8, (b,), generator=generator)
    width = torch.randint(0, 9, (b,), generator=generator)
    band = torch.arange(m)[None, :]
    masked = (band >= start[:, None]) & (band < (start + width)[:, None])  # [B, M]
    return out.masked_fill(masked[:, None, :, None], 0.0)
