"""SEPT as a regularizer composed with any prompt learner, through the learner's ``encode``.

Neighbours go through the same learned prompt as the class names (p_i^n = f_t(prompt + phrase)),
so L_se trains the prompt through both z and p. SEPT never asks which method it wraps. With
``sept.sample_neighbors`` = k, each step draws k of each class's N neighbours (the trial's generator)
and L_se over them is an unbiased estimate of L_se over all N: both terms are means over n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sept_ray.config import SeptConfig
from sept_ray.methods.base import AudioBatch, MethodOutput, PromptLearner, PromptSet
from sept_ray.sept.bank import NeighbourBank
from sept_ray.sept.loss import se_loss
from sept_ray.sept.margins import pretrained_margins


@dataclass
class SemanticExpansion:
    """lambda * L_se for the K training classes; ``neighbours``: K lists of N phrases."""

    learner: PromptLearner
    cfg: SeptConfig
    neighbours: list[list[str]]
    neighbour_prompts: PromptSet  # K*N prompts, class-major
    margins: torch.Tensor  # [K, K, N]
    templates: list[str]  # the T margin templates
    generator: torch.Generator | None = None  # draws the neighbours of a step (sample_neighbors)

    @classmethod
    def build(
        cls,
        learner: PromptLearner,
        cfg: SeptConfig,
        bank: NeighbourBank,
        dataset: str,
        classes: Sequence[str],
        dataset_template: str,
        generator: torch.Generator | None = None,
    ) -> SemanticExpansion:
        """Pick the first N neighbours of each class, tokenize them once, compute the margins;
        ``generator`` draws each step's neighbours when ``cfg.sample_neighbors`` > 0."""
        if cfg.sample_neighbors and generator is None:
            raise ValueError("sept.sample_neighbors > 0 needs a generator to draw neighbours")
        neighbours = bank.neighbours(dataset, classes, cfg.n_neighbors)
        templates = list(cfg.templates)
        if cfg.use_dataset_template:  # SPEC §3: the 6 generic ones plus the dataset's own,
            templates.append(dataset_template)  # even when it repeats a generic one
        margins = pretrained_margins(learner.backbone, classes, neighbours, templates)
        owners = [name for name, row in zip(classes, neighbours, strict=True) for _ in row]
        prompts = learner.prompts([p for row in neighbours for p in row], owners=owners)
        return cls(learner, cfg, neighbours, prompts, margins, templates, generator)

    def draw(self) -> tuple[PromptSet, torch.Tensor]:
        """This step's neighbours and their margins: all K*N and [K, K, N]; with
        ``sample_neighbors`` = n, n of each class's N drawn anew (class-major) and [K, K, n]."""
        if not self.cfg.sample_neighbors:
            return self.neighbour_prompts, self.margins
        k, n = len(self.neighbours), self.cfg.sample_neighbors
        pick = torch.rand(k, self.cfg.n_neighbors, generator=self.generator).argsort(dim=1)
        pick = pick[:, :n]  # [K, n]: which neighbours of each class
        rows = (torch.arange(k)[:, None] * self.cfg.n_neighbors + pick).flatten()
        margins = self.margins.gather(2, pick.to(self.margins.device)[None].expand(k, -1, -1))
        return self.neighbour_prompts.select(rows), margins

    def __call__(
        self,
        out: MethodOutput,
        prompts: PromptSet,
        audio: AudioBatch,
        drawn: tuple[PromptSet, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(lambda * L_se, parts) for a training step: z = the step's batch-shared class features
        (``out.class_features``, or the learner's ``encode`` of the class ``prompts``), p = the
        neighbours ``drawn`` for the step (default: :meth:`draw`) through the same learned prompt
        and the same batch (``out.extra_features`` when the learner encoded them in its forward
        pass, else ``encode``)."""
        neighbours, margins = drawn if drawn is not None else self.draw()
        k, n = margins.shape[0], margins.shape[2]
        z = out.class_features
        if z is None:
            z = self.learner.encode(prompts, audio)  # [K, D]
        p = out.extra_features if drawn is not None else None
        if p is None:
            p = self.learner.encode(neighbours, audio)
        loss, parts = se_loss(z, p.view(k, n, -1), margins, self.cfg)  # p: [K, n, D]
        return self.cfg.lam * loss, {"se": loss.detach(), **parts}
