"""The importers, keyed by PALM dataset name; each dataset's file registers its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sept_ray.data.importers.plan import ImportPlan
from sept_ray.registry import Registry


@dataclass(frozen=True)
class Importer:
    """Reads ``src`` (an official distribution, unpacked) into an :class:`ImportPlan`.

    ``source`` says what to download and which folder to pass, for ``--help`` and errors.
    """

    name: str
    source: str
    plan: Callable[[Path], ImportPlan]


IMPORTERS: Registry[Importer] = Registry("importer")


def register(name: str, source: str) -> Callable[[Callable[[Path], ImportPlan]], Importer]:
    """Decorator: register ``plan(src) -> ImportPlan`` as the importer of dataset ``name``."""

    def add(plan: Callable[[Path], ImportPlan]) -> Importer:
        return IMPORTERS.register(name)(Importer(name, source, plan))

    return add
