"""Base/new class split and seeded few-shot sampling (docs/METHOD.md)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sept_ray.data.manifest import Clip


@dataclass(frozen=True)
class ClassSplit:
    """Sorted classes; ``base`` = the first ceil(K/2), ``new`` = the rest."""

    classes: tuple[str, ...]
    base: tuple[str, ...]
    new: tuple[str, ...]


class FewShotWarning(UserWarning):
    """A class has fewer clips than the requested shots; all of its clips are used."""


warnings.simplefilter("always", FewShotWarning)  # every trial says so, not only a process's first


def base_new_split(classes: Sequence[str]) -> ClassSplit:
    """Split sorted ``classes`` into base (first ceil(K/2)) and new (the rest); needs K >= 2."""
    ordered = tuple(classes)
    if list(ordered) != sorted(ordered):
        raise ValueError(f"classes must be sorted, got {ordered}")
    if len(ordered) < 2:
        raise ValueError(f"base-to-new needs at least 2 classes, got {ordered}")
    n_base = math.ceil(len(ordered) / 2)
    return ClassSplit(classes=ordered, base=ordered[:n_base], new=ordered[n_base:])


def sample_few_shot(
    clips: Sequence[Clip], classes: Sequence[str], shots: int, seed: int
) -> tuple[Clip, ...]:
    """``shots`` clips per class of ``classes``, drawn without replacement by ``default_rng(seed)``.

    Classes are visited in the given order and each draw keeps CSV order, so the sample depends
    on nothing but (clips, classes, shots, seed). A class with fewer clips gives all of them, with a
    :class:`FewShotWarning`; a class with none is an error.
    """
    rng = np.random.default_rng(seed)
    sample: list[Clip] = []
    for name in classes:
        pool = [clip for clip in clips if clip.classname == name]
        if not pool:
            raise ValueError(f"class {name!r} has no training clips")
        if len(pool) < shots:
            warnings.warn(
                f"class {name!r} has {len(pool)} training clips, fewer than {shots} shots: using all",
                FewShotWarning,
                stacklevel=2,
            )
            sample.extend(pool)
            continue
        picked = np.sort(rng.choice(len(pool), size=shots, replace=False))
        sample.extend(pool[i] for i in picked)
    return tuple(sample)
