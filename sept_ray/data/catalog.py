"""Known datasets, one record each: class names, hand-crafted zero-shot template, fold count, hub
copy and shipped neighbour bank (docs/DATASETS.md).

The 11 datasets of the paper and the built-in sound world register here; a dataset of the user's
own needs no entry (its template then defaults to :data:`DEFAULT_TEMPLATE`, or ``data.template``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sept_ray.data.palm_classes import PALM_CLASSES
from sept_ray.data.split import base_new_split
from sept_ray.registry import Registry

DEFAULT_TEMPLATE = "This is a sound of {}."
HUB_OWNER = "MahiA"


@dataclass(frozen=True)
class DatasetInfo:
    """What the tool knows of a dataset without reading it."""

    name: str
    template: str
    folds: int
    classes: tuple[str, ...] = ()  # sorted class names; empty when only the data can tell
    hub_size: str = ""  # download size of its hub copy (PALM's DATASETS.md); empty: none
    bank: str = ""  # its neighbour bank (sept.bank = builtin): a file of the package's banks
    # folder, or an absolute path (a plugin's own); empty: none ships

    @property
    def hub_repo(self) -> str:
        """The hub dataset repository of its PALM-layout copy, ``MahiA/<name>``; empty: none."""
        return f"{HUB_OWNER}/{self.name}" if self.hub_size else ""

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


for _name, _folds, _template, _size in (  # the paper's 11, each with PALM's hub copy
    ("Beijing-Opera", 5, "This is a sound of {} being played.", "68 MB"),
    ("CREMA-D", 1, "This is a human vocal sound of {} speech.", "653 MB"),
    ("ESC50", 5, "This is a characteristic sound of {}.", "777 MB"),
    ("ESC50-Actions", 5, "This is a characteristic sound of {}.", "772 MB"),
    ("GT-Music-Genre", 1, "This is {} music.", "1.4 GB"),
    ("NS-Instruments", 1, "This is a sound of {} being played.", "14 GB"),
    ("RAVDESS", 1, "This is a human vocal sound of {} speech.", "683 MB"),
    ("SESA", 1, "This is a sound of {}.", "51 MB"),
    ("TUT2017", 4, "This is a sound of {}.", "12 GB"),
    ("UrbanSound8K", 10, "This is a characteristic sound of {}.", "6.8 GB"),
    ("VocalSound", 1, "This is a human vocal sound of {}.", "6.9 GB"),
):
    add(DatasetInfo(_name, _template, _folds, PALM_CLASSES[_name], _size, f"{_name}.json"))


def _add_builtin() -> None:
    from sept_ray.data.synth.world import BUILTIN_DATASETS

    for spec in BUILTIN_DATASETS.values():
        classes = tuple(sorted(spec.classes))
        add(DatasetInfo(spec.name, spec.template, spec.folds, classes, bank="builtin.json"))


_add_builtin()
