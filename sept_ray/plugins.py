"""Methods, backbones, datasets and studies registered outside the package.

A plugin is a module that registers them when imported (``@METHODS.register("mine")``,
``@BACKBONES.register(...)``, ``catalog.add(DatasetInfo(...))``, ``@register`` of a study). A
sweep takes it as ``--plugin MODULE``: the driver imports it before planning, each trial's
worker and each embedding-cache task import it before building anything, and the sweep's
parent run records it (a resume re-imports it). The module must be importable on every node:
installed in the environment, or on ``PYTHONPATH``. docs/EXTENDING.md walks through each kind.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from sept_ray.config import ConfigError


def load_plugins(modules: Sequence[str]) -> None:
    """Import each of ``modules`` (once per process); a module that cannot be imported is a
    :class:`ConfigError` naming it and why."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(
                f"--plugin {name}: cannot import it ({exc}); it must be installed or on "
                "PYTHONPATH on every node"
            ) from None
