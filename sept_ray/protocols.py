"""What a trial trains on and is scored on: the b2n, xd and val protocols (docs/METHOD.md).

A :class:`TrialTask` names the training classes, the few-shot sample and two scored groups of
clips. Every protocol scores a *seen* group (classes the prompt was trained on; a method with a
head over them uses it) and an *unseen* one, reported as ``base`` and ``new``, and H of the two:

- ``b2n``: seen = base-class test clips, unseen = new-class test clips.
- ``xd``: train on every source class; seen = the source's test clips (all classes), unseen = the
  target's test clips with the target's class names and template.
- ``val``: a search objective that reads no test clip [ours]. The base classes are split again
  into pseudo-base and pseudo-new (:func:`pseudo_split`: partition ``val_partition`` of
  ``val_partitions`` rotations; partition 0 = the first ceil(K_base/2) pseudo-base); a seeded
  ``val_fraction`` of each pseudo-base class's training clips is held out, shots come from the
  rest; seen = the held-out pseudo-base clips, unseen = every training clip of the pseudo-new
  classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sept_ray.config import ConfigError, TrialConfig
from sept_ray.data.catalog import dataset_template
from sept_ray.data.manifest import Clip, DatasetSplit, load_split
from sept_ray.data.split import base_new_split, sample_few_shot
from sept_ray.registry import Registry

MIN_VAL_BASE_CLASSES = 4
"""The val protocol needs >= 2 pseudo-base and >= 2 pseudo-new classes: with fewer, CE over one
class or accuracy over one class is constant and says nothing [ours]."""


@dataclass(frozen=True)
class ScoredGroup:
    """Clips scored against ``classes`` (labels index it): from dataset ``dataset`` at ``root``,
    prompts built with ``template``; ``seen``: these are the training classes."""

    name: str
    dataset: str
    root: Path
    classes: tuple[str, ...]
    clips: tuple[Clip, ...]
    template: str
    seen: bool


@dataclass(frozen=True)
class TrialTask:
    """A trial's training classes and shots (from ``split``), and its two scored groups."""

    protocol: str
    split: DatasetSplit
    template: str
    train_classes: tuple[str, ...]
    shots: tuple[Clip, ...]
    seen: ScoredGroup
    unseen: ScoredGroup

    def clips_read(self) -> set[str]:
        """Relative paths of every clip of the training dataset the trial trains or scores on."""
        paths = {c.path for c in self.shots}
        for group in (self.seen, self.unseen):
            if group.dataset == self.split.name:
                paths |= {c.path for c in group.clips}
        return paths

    def short_classes(self, shots: int) -> dict[str, int]:
        """``{class: training clips}`` of the training classes with fewer than ``shots`` clips
        (each gives all of its clips)."""
        counts = {name: sum(c.classname == name for c in self.shots) for name in self.train_classes}
        return {name: n for name, n in counts.items() if n < shots}

    def record(self) -> dict:
        """The split as JSON (``split.json``): classes of each group and every clip used."""
        return {
            "protocol": self.protocol,
            "dataset": self.split.name,
            "fold": self.split.fold,
            "classes": list(self.split.classes),
            "train_classes": list(self.train_classes),
            "base": list(self.seen.classes),
            "new": list(self.unseen.classes),
            "train_clips": [{"path": c.path, "classname": c.classname} for c in self.shots],
            "scored": {
                group.name: {
                    "dataset": group.dataset,
                    "reported_as": key,
                    "classes": list(group.classes),
                    "clips": [c.path for c in group.clips],
                }
                for key, group in (("base", self.seen), ("new", self.unseen))
            },
        }


def build_task(cfg: TrialConfig) -> TrialTask:
    """The task of ``cfg.protocol.name`` on ``cfg.data`` (see the module docstring)."""
    split = load_split(cfg.data.root, cfg.data.name, cfg.data.fold)
    template = dataset_template(cfg.data.name, cfg.data.template)
    return protocol_of(cfg).build(cfg, split, template)


def protocol_of(cfg: TrialConfig) -> Protocol:
    """The registered protocol ``cfg.protocol.name``."""
    return PROTOCOLS.get(cfg.protocol.name)


def in_classes(clips: tuple[Clip, ...], classes: tuple[str, ...]) -> tuple[Clip, ...]:
    """The clips of ``classes``, in manifest order."""
    wanted = set(classes)
    return tuple(c for c in clips if c.classname in wanted)


def b2n_task(cfg: TrialConfig, split: DatasetSplit, template: str) -> TrialTask:
    classes = base_new_split(split.classes)
    shots = sample_few_shot(split.train, classes.base, cfg.data.shots, cfg.train.seed)

    def group(name: str, names: tuple[str, ...], seen: bool) -> ScoredGroup:
        clips = in_classes(split.test, names)
        return ScoredGroup(name, split.name, split.root, names, clips, template, seen)

    return TrialTask(
        "b2n",
        split,
        template,
        classes.base,
        shots,
        group("base", classes.base, True),
        group("new", classes.new, False),
    )


def xd_task(cfg: TrialConfig, split: DatasetSplit, template: str) -> TrialTask:
    target_name = cfg.protocol.target
    if target_name == cfg.data.name:
        raise ConfigError(
            f"protocol.target = {target_name!r}: the target must differ from data.name"
        )
    target = load_split(cfg.data.root, target_name, cfg.protocol.target_fold)
    shots = sample_few_shot(split.train, split.classes, cfg.data.shots, cfg.train.seed)
    seen = ScoredGroup("source", split.name, split.root, split.classes, split.test, template, True)
    unseen = ScoredGroup(
        "target",
        target.name,
        target.root,
        target.classes,
        target.test,
        dataset_template(target.name, ""),
        False,
    )
    return TrialTask("xd", split, template, split.classes, shots, seen, unseen)


def val_task(cfg: TrialConfig, split: DatasetSplit, template: str) -> TrialTask:
    base = base_new_split(split.classes).base
    if len(base) < MIN_VAL_BASE_CLASSES:
        raise ConfigError(
            f"protocol.name = 'val' on {split.name!r}: {len(base)} base classes, the validation "
            f"split needs at least {MIN_VAL_BASE_CLASSES}"
        )
    pseudo_base, pseudo_new = pseudo_split(
        base, cfg.protocol.val_partition, cfg.protocol.val_partitions
    )
    held_out, pool = hold_out(
        split.train, pseudo_base, cfg.protocol.val_fraction, cfg.train.seed, split.name
    )
    shots = sample_few_shot(pool, pseudo_base, cfg.data.shots, cfg.train.seed)
    seen = ScoredGroup("pseudo_base", split.name, split.root, pseudo_base, held_out, template, True)
    unseen_clips = in_classes(split.train, pseudo_new)
    unseen = ScoredGroup(
        "pseudo_new", split.name, split.root, pseudo_new, unseen_clips, template, False
    )
    return TrialTask("val", split, template, pseudo_base, shots, seen, unseen)


def pseudo_split(
    base: tuple[str, ...], partition: int, partitions: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(pseudo-base, pseudo-new), each sorted: partition ``partition`` of ``partitions`` of the
    sorted ``base`` classes (K of them), rotated left by ``partition * ceil(K / partitions)``,
    then the first ceil(K/2) pseudo-base and the rest pseudo-new. Partition 0 is the unrotated split; with
    3 or more partitions every base class is pseudo-new in at least one (with 2, when K is even)."""
    shift = (partition * math.ceil(len(base) / partitions)) % len(base)
    rotated = base[shift:] + base[:shift]
    n_base = math.ceil(len(base) / 2)
    return tuple(sorted(rotated[:n_base])), tuple(sorted(rotated[n_base:]))


def hold_out(
    clips: tuple[Clip, ...], classes: tuple[str, ...], fraction: float, seed: int, dataset: str
) -> tuple[tuple[Clip, ...], tuple[Clip, ...]]:
    """(held out, rest): ceil(fraction * n) clips of each class drawn by ``default_rng(seed)``;
    a class needs 2 clips so that both sides get one."""
    rng = np.random.default_rng([seed, 1])
    held: set[str] = set()
    for name in classes:
        pool = [c.path for c in clips if c.classname == name]
        if len(pool) < 2:
            raise ConfigError(
                f"{dataset}: class {name!r} has {len(pool)} training clip(s); the validation "
                "split needs 2 (one to train on, one to score)"
            )
        n_held = min(len(pool) - 1, math.ceil(fraction * len(pool)))
        held |= {pool[i] for i in rng.choice(len(pool), size=n_held, replace=False)}
    in_group = in_classes(clips, classes)
    return (
        tuple(c for c in in_group if c.path in held),
        tuple(c for c in in_group if c.path not in held),
    )


@dataclass(frozen=True)
class Protocol:
    """A registered protocol: how it builds a trial's task from the training dataset's split and
    template, and whether it also scores a target dataset (``protocol.target``, read with centre
    crops), which names a table's dataset cell ``<source>-><target>``."""

    name: str
    build: Callable[[TrialConfig, DatasetSplit, str], TrialTask]
    scores_target: bool = False

    def targets(self, cfg: TrialConfig) -> tuple[str, ...]:
        """The datasets a trial of ``cfg`` scores besides its training one."""
        return (cfg.protocol.target,) if self.scores_target else ()

    def table_cell(self, dataset: str, target: str) -> str:
        """A table's dataset cell for a trial trained on ``dataset``."""
        return f"{dataset}->{target}" if self.scores_target else dataset


PROTOCOLS: Registry[Protocol] = Registry("protocol")
for _protocol in (
    Protocol("b2n", b2n_task),
    Protocol("xd", xd_task, scores_target=True),
    Protocol("val", val_task),
):
    PROTOCOLS.register(_protocol.name)(_protocol)
