"""Importers from each official distribution's native layout to the PALM layout (docs/DATASETS.md).

One file per dataset (or family) registers its importer in :data:`IMPORTERS` under the PALM name;
:func:`import_dataset` runs one and writes ``<out_root>/<name>/`` with the shared writer.
"""

from __future__ import annotations

from pathlib import Path

from sept_ray.data.importers import (  # noqa: F401  (each module registers its importer)
    beijing_opera,
    crema_d,
    esc50,
    gtzan,
    nsynth,
    ravdess,
    sesa,
    tut2017,
    urbansound8k,
    vocalsound,
)
from sept_ray.data.importers.plan import NativeLayoutError
from sept_ray.data.importers.registry import IMPORTERS, Importer
from sept_ray.data.importers.writer import LINK_MODES, ImportResult, write_palm

__all__ = [
    "IMPORTERS",
    "LINK_MODES",
    "ImportResult",
    "Importer",
    "NativeLayoutError",
    "import_dataset",
]


def import_dataset(
    name: str, src: str | Path, out_root: str | Path, mode: str = "hardlink", force: bool = False
) -> ImportResult:
    """Import dataset ``name`` from the unpacked official distribution ``src`` into
    ``<out_root>/<name>`` (PALM layout); files are hard-linked (copied across filesystems),
    copied or symlinked per ``mode``."""
    importer = IMPORTERS.get(name)
    src = Path(src)
    if not src.is_dir():
        raise NativeLayoutError(f"{src}: source folder not found; expected {importer.source}")
    return write_palm(importer.plan(src), out_root, mode=mode, force=force)
