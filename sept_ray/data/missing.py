"""What to tell a user whose dataset folder is missing: the name they probably meant, and how to
get the dataset into the folder the sweep reads."""

from __future__ import annotations

import difflib
from pathlib import Path

from sept_ray.data.catalog import DATASETS


def known_names(root: Path) -> list[str]:
    """Dataset folders under ``root`` and every registered dataset name, sorted, no repeats."""
    folders = [p.name for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    return sorted({*folders, *DATASETS.names()})


def closest_name(name: str, candidates: list[str]) -> str | None:
    """The candidate ``name`` was probably meant to be: one equal but for case, else the closest
    spelling (difflib ratio at least 0.75); None when nothing is close."""
    same = [c for c in candidates if c.lower() == name.lower() and c != name]
    if same:
        return same[0]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return close[0] if close and close[0] != name else None


def how_to_get(root: Path, name: str) -> str:
    """The commands that put ``name`` at ``root/name``, or how to point at it."""
    where = "or pass --data-root with the folder that holds it"
    if name in DATASETS and DATASETS.get(name).hub_repo:
        return (
            f"get it with 'sept data download {name} --root {root}' (Hugging Face hub) or "
            f"'sept data import {name} SRC_DIR {root}' (from its official distribution), {where}"
        )
    if name in DATASETS:  # a built-in dataset
        return (
            f"a sweep synthesizes it when --data-root is not given; or write it with "
            f"'sept data synth --out {root} --datasets {name}', {where}"
        )
    return f"write it in the PALM layout (see 'sept data import --help'), {where}"


def missing_dataset_message(root: str | Path, name: str) -> str:
    """``<root>/<name>: dataset folder not found``, then the name probably meant (when one is
    close) or how to get the dataset."""
    root = Path(root)
    message = f"{root / name}: dataset folder not found"
    meant = closest_name(name, known_names(root))
    if meant:
        return f"{message}; did you mean {meant!r}?"
    return f"{message}; {how_to_get(root, name)}"
