"""Progress bars for long work (synthesis, embedding): live on a terminal, sparse in logs."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm import tqdm


def progress(iterable: Iterable | None = None, *, total: int, desc: str, unit: str) -> tqdm:
    """A tqdm bar on stderr; refreshed every 0.5 s on a terminal, every 30 s otherwise."""
    interactive = sys.stderr.isatty()
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        mininterval=0.5 if interactive else 30.0,
        leave=not interactive,
    )
