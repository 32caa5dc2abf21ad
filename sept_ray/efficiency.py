"""Efficiency of a fitted learner: trainable parameters and inference time per clip.

Inference time is measured as a deployment would run: the text features that do not depend on
the audio are computed once beforehand (not timed, ``PromptLearner.predictor``); then the time per
clip of (a) the logits from a cached audio embedding and (b) the frozen audio tower on a decoded
clip (decoding not timed). "Included" = (a) + (b). Each is the median of ``repeats`` runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sept_ray.backbones.base import FrozenALM
from sept_ray.data.audio import load_clip
from sept_ray.methods.base import AudioBatch, PromptLearner, PromptSet


@dataclass(frozen=True)
class InferenceTiming:
    """Milliseconds per clip: logits from a cached embedding, and with the audio tower included."""

    logits_ms: float
    audio_tower_ms: float

    @property
    def total_ms(self) -> float:
        return self.logits_ms + self.audio_tower_ms


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``work()`` over ``repeats`` runs (after one warm-up run)."""
    work()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        tic = time.perf_counter()
        work()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def time_inference(
    learner: PromptLearner,
    backbone: FrozenALM,
    prompts: PromptSet,
    audio: AudioBatch,
    clip_paths: list[Path],
    repeats: int = 3,
) -> InferenceTiming:
    """Per-clip inference time of ``learner`` on ``audio`` (test embeddings of the seen classes)
    and of the audio tower on ``clip_paths`` (a few test clips)."""
    with torch.no_grad():
        predict = learner.predictor(prompts, seen=True)
        logits_s = median_seconds(lambda: predict(audio), repeats) / len(audio)
        waves = np.stack(
            [
                load_clip(
                    p, backbone.sample_rate, backbone.clip_seconds, fill=backbone.short_clip_fill
                )
                for p in clip_paths
            ]
        )
        batch = torch.from_numpy(waves).to(backbone.device)
        tower_s = median_seconds(lambda: backbone.audio_features(batch), repeats) / len(clip_paths)
    return InferenceTiming(logits_ms=1000.0 * logits_s, audio_tower_ms=1000.0 * tower_s)
