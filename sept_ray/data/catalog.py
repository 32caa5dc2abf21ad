"""Known datasets: their class names, hand-crafted zero-shot templates and fold counts (docs/DATASETS.md).

The 11 datasets of the paper and the built-in sound world register here; a dataset of the user's
own needs no entry (its template then defaults to :data:`DEFAULT_TEMPLATE`, or ``data.template``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sept_ray.data.palm_classes import PALM_CLASSES
from sept_ray.data.split import base_new_split
from sept_ray.registry import Registry

DEFAULT_TEMPLATE = "This is a sound of {}."


@dataclass(frozen=True)
class DatasetInfo:
    """What the tool knows of a dataset without reading it."""

    name: str
    template: str
    folds: int
    classes: tuple[str, ...] = ()  # sorted class names; empty when only the data can tell

    @property
    def base_classes(self) -> tuple[str, ...]:
        """The first ceil(K/2) sorted classes: the base classes."""
        return base_new_split(self.classes).base

    @property
    def new_classes(self) -> tuple[str, ...]:
        """The classes after the base ones."""
        return base_new_split(self.classes).new


DATASETS: Registry[DatasetInfo] = Registry("dataset")


def add(info: DatasetInfo) -> None:
    DATASETS.register(info.name)(info)


def dataset_template(name: str, override: str = "") -> str:
    """``override`` when given, else the registered template of ``name``, else the default."""
    if override:
        return override
    return DATASETS.get(name).template if name in DATASETS else DEFAULT_TEMPLATE


for _name, _folds, _template in (
    ("Beijing-Opera", 5, "This is a sound of {} being played."),
    ("CREMA-D", 1, "This is a human vocal sound of {} speech."),
    ("ESC50", 5, "This is a characteristic sound of {}."),
    ("ESC50-Actions", 5, "This is a characteristic sound of {}."),
    ("GT-Music-Genre", 1, "This is {} music."),
    ("NS-Instruments", 1, "This is a sound of {} being played."),
    ("RAVDESS", 1, "This is a human vocal sound of {} speech."),
    ("SESA", 1, "This is a sound of {}."),
    ("TUT2017", 4, "This is a sound of {}."),
    ("UrbanSound8K", 10, "This is a characteristic sound of {}."),
    ("VocalSound", 1, "This is a human vocal sound of {}."),
):
    add(DatasetInfo(_name, _template, _folds, PALM_CLASSES[_name]))


def _add_builtin() -> None:
    from sept_ray.data.synth.world import BUILTIN_DATASETS

    for spec in BUILTIN_DATASETS.values():
        add(DatasetInfo(spec.name, spec.template, spec.folds, tuple(sorted(spec.classes))))


_add_builtin()
