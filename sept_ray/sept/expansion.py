"""SEPT as a regularizer composed with any prompt learner, through the learner's ``encode``.

``sept.neighbour_space`` says where a neighbour p_i^n lives:
- ``learned`` (default): p_i^n = f_t(learned prompt + phrase), through the same learned prompt as
  the class names, so L_se trains the prompt through both z and p and reshapes distances inside
  the learned space;
- ``frozen``: p_i^n = the frozen text tower's embedding of the phrase in the T margin templates
  (averaged, then L2-normalised, as the margins are), with no gradient: L_se anchors the learned
  class features z to pretrained neighbours.
SEPT never asks which method it wraps. With ``sept.sample_neighbors`` = k, each step draws k of
each class's N neighbours (the trial's generator) and L_se over them is an unbiased estimate of
L_se over all N: both terms are means over n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from sept_ray.config import SeptConfig
from sept_ray.methods.base import AudioBatch, MethodOutput, PromptLearner, PromptSet
from sept_ray.sept.bank import NeighbourBank
from sept_ray.sept.loss import se_loss
from sept_ray.sept.margins import template_space


@dataclass(frozen=True)
class NeighbourDraw:
    """One step's neighbours, class-major: ``prompts`` (K*n, to encode through the learned
    prompt; None under the frozen reading), ``frozen`` [K, n, D] (their frozen features; None
    under the learned reading) and ``margins`` [K, K, n]."""

    prompts: PromptSet | None
    frozen: torch.Tensor | None
    margins: torch.Tensor


@dataclass
class SemanticExpansion:
    """lambda * L_se for the K training classes; ``neighbours``: K lists of N phrases."""

    learner: PromptLearner
    cfg: SeptConfig
    neighbours: list[list[str]]
    neighbour_prompts: PromptSet | None  # K*N prompts, class-major (learned reading)
    frozen: torch.Tensor | None  # [K, N, D] frozen template-averaged features (frozen reading)
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
        """Pick the first N neighbours of each class, tokenize them once (learned reading),
        compute the margins (and the frozen neighbour features); ``generator`` draws each step's
        neighbours when ``cfg.sample_neighbors`` > 0."""
        if cfg.sample_neighbors and generator is None:
            raise ValueError("sept.sample_neighbors > 0 needs a generator to draw neighbours")
        neighbours = bank.neighbours(dataset, classes, cfg.n_neighbors)
        templates = margin_templates(cfg, dataset_template)
        prompts, frozen, margins = neighbour_inputs(learner, cfg, classes, neighbours, templates)
        return cls(learner, cfg, neighbours, prompts, frozen, margins, templates, generator)

    def draw(self) -> NeighbourDraw:
        """This step's neighbours: all K*N with margins [K, K, N]; with ``sample_neighbors`` =
        n, n of each class's N drawn anew (class-major) and margins [K, K, n]."""
        if not self.cfg.sample_neighbors:
            return NeighbourDraw(self.neighbour_prompts, self.frozen, self.margins)
        k, n = len(self.neighbours), self.cfg.sample_neighbors
        pick = torch.rand(k, self.cfg.n_neighbors, generator=self.generator).argsort(dim=1)
        pick = pick[:, :n]  # [K, n]: which neighbours of each class
        margins = self.margins.gather(2, pick.to(self.margins.device)[None].expand(k, -1, -1))
        if self.frozen is not None:
            index = pick.to(self.frozen.device)[..., None].expand(-1, -1, self.frozen.shape[-1])
            return NeighbourDraw(None, self.frozen.gather(1, index), margins)
        rows = (torch.arange(k)[:, None] * self.cfg.n_neighbors + pick).flatten()
        return NeighbourDraw(self.neighbour_prompts.select(rows), None, margins)

    def __call__(
        self,
        out: MethodOutput,
        prompts: PromptSet,
        audio: AudioBatch,
        drawn: NeighbourDraw | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(lambda * L_se, parts) for a training step: z = the step's batch-shared class features
        (``out.class_features``, or the learner's ``encode`` of the class ``prompts``), p = the
        neighbours ``drawn`` for the step (default: :meth:`draw`): their frozen features, or
        their features through the same learned prompt and batch (``out.extra_features`` when the
        learner encoded them in its forward pass, else ``encode``). ``parts``: the unweighted
        ``se``, ``intra`` and ``inter``, and the step's ``z`` [K, D], ``p`` [K, n, D] and
        ``margins`` [K, K, n] (unscaled), all detached (for the diagnostics)."""
        drawn = drawn if drawn is not None else self.draw()
        k, n = drawn.margins.shape[0], drawn.margins.shape[2]
        z = out.class_features
        if z is None:
            z = self.learner.encode(prompts, audio)  # [K, D]
        p = drawn.frozen
        if p is None:
            p = out.extra_features
            if p is None:
                p = self.learner.encode(drawn.prompts, audio)
        p = p.reshape(k, n, -1)  # [K, n, D]
        loss, parts = se_loss(z, p, drawn.margins, self.cfg)
        seen = {"z": z.detach(), "p": p.detach(), "margins": drawn.margins}
        return self.cfg.lam * loss, {"se": loss.detach(), **parts, **seen}


def neighbour_inputs(
    learner: PromptLearner,
    cfg: SeptConfig,
    classes: Sequence[str],
    neighbours: Sequence[Sequence[str]],
    templates: Sequence[str],
) -> tuple[PromptSet | None, torch.Tensor | None, torch.Tensor]:
    """What L_se (or its diagnostics) needs of K classes' N neighbours each, in the reading
    ``cfg.neighbour_space``: (the K*N neighbour prompts, class-major, to encode through the learned
    prompt, or None; their frozen features [K, N, D], or None; the margins [K, K, N], unscaled)."""
    space = template_space(learner.backbone, classes, neighbours, templates)
    if cfg.neighbour_space == "frozen":
        return None, space.phrases, space.margins
    owners = [name for name, row in zip(classes, neighbours, strict=True) for _ in row]
    prompts = learner.prompts([p for row in neighbours for p in row], owners=owners)
    return prompts, None, space.margins


def margin_templates(cfg: SeptConfig, dataset_template: str) -> list[str]:
    """The T margin templates: ``sept.templates`` plus, with ``use_dataset_template``, the
    dataset's own (even when it repeats a generic one)."""
    templates = list(cfg.templates)
    if cfg.use_dataset_template:
        templates.append(dataset_template)
    return templates
