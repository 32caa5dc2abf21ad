"""The contract every prompt learner (method) follows; the trainer and SEPT use only this.

Shapes: B clips, P prompts, L tokens, W token width, D joint width.

A learner turns names (class names, or SEPT's neighbour phrases) into a :class:`PromptSet` once,
and then gives
- ``encode(prompts, audio)``: L2-normalised text features [P, D] shared by the batch (SEPT's z and p);
- ``forward(audio, prompts, labels, extra)``: training logits, the CE weight and the method's
  own loss terms (the base class encodes the class prompts and SEPT's ``extra`` prompts in one
  pass; a method adds its terms in :meth:`PromptLearner.own_losses`);
- ``predictor(prompts, seen)``: test-time logits, with every audio-independent part done once;
- ``param_groups(lr)``: what the optimiser updates, at which learning rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import torch
from torch import nn

from sept_ray.backbones.base import FrozenALM, TokenBatch
from sept_ray.config import MethodConfig, build_section


@dataclass
class AudioBatch:
    """Audio embeddings of B clips: ``raw`` [B, D] as the frozen tower outputs them (cached)."""

    raw: torch.Tensor

    @cached_property
    def unit(self) -> torch.Tensor:
        """L2-normalised embeddings [B, D] (what cosine logits use)."""
        return nn.functional.normalize(self.raw, dim=-1)

    def __len__(self) -> int:
        return int(self.raw.shape[0])

    def __getitem__(self, index: slice | torch.Tensor) -> AudioBatch:
        return AudioBatch(self.raw[index])


@dataclass
class PromptSet:
    """Prompt inputs for a list of names, prepared once.

    ``embeds``: the frozen token embeddings [P, L, W] of ``batch`` (context slots hold
    placeholders). ``owners``: for neighbour phrases, the class each belongs to (a per-class method
    encodes a phrase through its owner's prompt); None for class names. ``extras``: whatever else
    the method precomputes per prompt (e.g. KgCoOp's hand-crafted features).
    """

    names: tuple[str, ...]
    batch: TokenBatch | None = None  # None for a method that never runs the text tower on them
    embeds: torch.Tensor | None = None
    owners: tuple[str, ...] | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def select(self, rows: torch.Tensor) -> PromptSet:
        """The prompts ``rows`` (long [R], on any device), token inputs cut to their longest."""
        index = rows.tolist()
        batch = self.batch.select(rows.to(self.batch.ids.device)) if self.batch else None
        embeds = None
        if self.embeds is not None:
            embeds = self.embeds[rows.to(self.embeds.device), : batch.ids.shape[1]]
        return PromptSet(
            names=tuple(self.names[i] for i in index),
            batch=batch,
            embeds=embeds,
            owners=tuple(self.owners[i] for i in index) if self.owners is not None else None,
            extras={k: v[rows.to(v.device)] for k, v in self.extras.items()},
        )

    def concat(self, other: PromptSet) -> PromptSet:
        """These prompts, then ``other``'s, as one set (tokens padded to the longer; a class name
        is its own owner; ``extras`` that both sets hold are joined, the others dropped)."""
        batch = embeds = None
        if self.batch is not None and other.batch is not None:
            batch = self.batch.concat(other.batch)
        if self.embeds is not None and other.embeds is not None:
            length = batch.ids.shape[1]
            embeds = torch.cat(
                [
                    nn.functional.pad(e, (0, 0, 0, length - e.shape[1]))
                    for e in (self.embeds, other.embeds)
                ]
            )
        owners = None
        if self.owners is not None or other.owners is not None:
            owners = (*(self.owners or self.names), *(other.owners or other.names))
        shared = [k for k in self.extras if k in other.extras]
        return PromptSet(
            names=(*self.names, *other.names),
            batch=batch,
            embeds=embeds,
            owners=owners,
            extras={k: torch.cat([self.extras[k], other.extras[k]]) for k in shared},
        )


@dataclass
class MethodOutput:
    """What a learner's forward returns for a training batch.

    ``logits``: [B, P] scaled cosine logits; the trainer adds ``ce_weight`` * CE(logits, labels)
    and every term of ``aux_losses`` (scalars, already weighted). ``class_features``: [P, D] the
    batch-shared normalised text features when the method computed them anyway, else None (SEPT
    then calls ``encode``). ``extra_features``: the same for the ``extra`` prompts passed to
    ``forward`` (SEPT's neighbours, encoded in the same pass), else None.
    """

    logits: torch.Tensor
    aux_losses: dict[str, torch.Tensor] = field(default_factory=dict)
    ce_weight: float = 1.0
    class_features: torch.Tensor | None = None
    extra_features: torch.Tensor | None = None  # [P', D] of the step's ``extra`` prompts, if any


@contextmanager
def seeded(generator: torch.Generator) -> Iterator[None]:
    """Run a block (e.g. ``nn.Linear`` construction) under a CPU seed drawn from ``generator``,
    leaving the global random state as it was: module init follows the trial's seed."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@dataclass(frozen=True)
class NoOptions:
    """A method without settings of its own."""


class PromptLearner(nn.Module):
    """Base prompt learner: text features for names, logits = scale * cosine.

    Subclasses set ``trainable`` (False: nothing to train), ``Options`` (a dataclass of the
    method's own settings, read from ``method.options``) and ``train_defaults`` (``train`` settings
    the method's reference code sets differently, used where the user sets none; e.g. PALM's
    ``{"lr": 0.05}``), create parameters in :meth:`init_parameters`, and implement
    :meth:`prompts` and :meth:`raw_features` (or :meth:`encode` for a method that trains
    nothing). A method's own loss terms go in :meth:`own_losses`, a CE weight other than 1 in
    :attr:`ce_weight`. ``train_classes`` are the classes training sees (for per-class
    parameters or a head over them); ``template`` is the dataset's prompt template, which
    :meth:`prompts` uses unless it is given another (an xd target's).
    """

    trainable: ClassVar[bool] = True
    Options: ClassVar[type] = NoOptions
    train_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        backbone: FrozenALM,
        cfg: MethodConfig,
        template: str,
        train_classes: Sequence[str],
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        # Kept out of the module tree: the frozen backbone is not part of the learner's state.
        self.__dict__["backbone"] = backbone
        self.cfg = cfg
        self.options = self.parse_options(cfg.options)
        self.template = template
        self.train_classes = tuple(train_classes)
        self.init_parameters(generator)

    def init_parameters(self, generator: torch.Generator) -> None:
        """Create the learnable parameters, drawing every random number from ``generator``
        (a subclass extends its parent's, calling ``super().init_parameters`` first)."""

    @classmethod
    def parse_options(cls, values: dict[str, Any]) -> Any:
        """``method.options`` checked against :attr:`Options` (errors name the key)."""
        return build_section(cls.Options, values, "method.options.")

    def prompts(
        self,
        names: Sequence[str],
        owners: Sequence[str] | None = None,
        template: str | None = None,
    ) -> PromptSet:
        """Prepare ``names``; ``owners`` names the class each phrase belongs to (SEPT neighbours);
        ``template``: the prompt template of the names' dataset where a method uses one (None:
        the learner's ``template``)."""
        raise NotImplementedError

    def raw_features(self, prompts: PromptSet, audio: AudioBatch | None = None) -> torch.Tensor:
        """Un-normalised text features [P, D] under the learned prompt, shared by the batch."""
        raise NotImplementedError

    def encode(self, prompts: PromptSet, audio: AudioBatch | None = None) -> torch.Tensor:
        """L2-normalised text features [P, D] under the learned prompt, shared by the batch."""
        return nn.functional.normalize(self.raw_features(prompts, audio), dim=-1)

    def scaled_cosine(self, audio: AudioBatch, features: torch.Tensor) -> torch.Tensor:
        """logit_scale * cos: audio [B, D], features [P, D] (or [B, P, D]) -> [B, P]."""
        if features.dim() == 3:
            return self.backbone.logit_scale * torch.einsum("bd,bpd->bp", audio.unit, features)
        return self.backbone.logit_scale * audio.unit @ features.t()

    ce_weight: float = 1.0  # the weight of CE(logits, labels) in the training loss

    def forward(
        self,
        audio: AudioBatch,
        prompts: PromptSet,
        labels: torch.Tensor | None = None,
        extra: PromptSet | None = None,
    ) -> MethodOutput:
        """Training step outputs for a batch against ``prompts`` (the training classes):
        ``prompts`` and ``extra`` (SEPT's neighbours) encoded in one pass of the text tower (on a
        causal tower, one shared prefix), cosine logits, :attr:`ce_weight` and the method's own
        terms (:meth:`own_losses`)."""
        both = prompts if extra is None else prompts.concat(extra)
        raw = self.raw_features(both, audio)  # [P (+ P'), D]
        unit = nn.functional.normalize(raw, dim=-1)
        features = unit[: len(prompts)]
        return MethodOutput(
            self.scaled_cosine(audio, features),
            aux_losses=self.own_losses(audio, prompts, raw[: len(prompts)], features, labels),
            ce_weight=self.ce_weight,
            class_features=features,
            extra_features=None if extra is None else unit[len(prompts) :],
        )

    def own_losses(
        self,
        audio: AudioBatch,
        prompts: PromptSet,
        raw: torch.Tensor,
        features: torch.Tensor,
        labels: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        """The method's own loss terms beside CE, each a weighted scalar (none by default):
        ``raw`` [P, D] and ``features`` [P, D] (normalised) are ``prompts``' text features
        this step, ``labels`` [B] index ``prompts`` (None: no labels)."""
        return {}

    def predictor(self, prompts: PromptSet, seen: bool) -> Callable[[AudioBatch], torch.Tensor]:
        """Test-time logits [B, P] for any batch. ``seen``: ``prompts`` are the training classes
        (a method with a head over them, such as DePT, uses it only then). The default caches the
        text features, which do not depend on the audio."""
        with torch.no_grad():
            features = self.encode(prompts)
        return lambda audio: self.scaled_cosine(audio, features)

    def context_vectors(self) -> torch.Tensor | None:
        """The learned context vectors [M, W] in the text tower's token-embedding space, shared
        by every prompt, or None for a method without any (read as words by
        :mod:`sept_ray.artifacts.readable`)."""
        return None

    def param_groups(self, lr: float) -> list[dict]:
        """Optimiser parameter groups; by default every parameter at ``lr``."""
        return [{"params": list(self.parameters()), "lr": lr}]

    def n_trainable(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def _tokenized(
        self,
        names: Sequence[str],
        texts: Sequence[str],
        n_ctx: int,
        owners: Sequence[str] | None = None,
    ) -> PromptSet:
        batch = self.backbone.tokenize(texts, n_ctx=n_ctx).to(self.backbone.device)
        with torch.no_grad():
            embeds = self.backbone.token_embedding(batch.ids)
        return PromptSet(
            names=tuple(names),
            batch=batch,
            embeds=embeds,
            owners=tuple(owners) if owners is not None else None,
        )
