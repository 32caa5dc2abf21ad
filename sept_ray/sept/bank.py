"""Neighbour banks: JSON files mapping dataset -> class -> neighbour phrases, with provenance.

Format ``sept-neighbour-bank/1``::

    {"format": "sept-neighbour-bank/1",
     "provenance": {"generator": ..., "model": ..., "prompt_version": ..., "date": ...},
     "datasets": {"<dataset>": {"<class>": ["phrase", ...], ...}, ...}}

Phrases are in preference order: a trial uses the first N of each class. The package ships
curated banks (``sept_ray/sept/banks/*.json``: the built-in world and the paper's 11 datasets); the
bank spec ``"builtin"`` means "the bank the trial's registered dataset names" (its
:class:`~sept_ray.data.catalog.DatasetInfo` ``bank``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

BANK_FORMAT = "sept-neighbour-bank/1"
PROVENANCE_KEYS = ("generator", "model", "prompt_version", "date")


class BankError(ValueError):
    """A bank is malformed, lacks a class, or holds too few phrases; names the bank and class."""


@dataclass(frozen=True)
class NeighbourBank:
    """A validated bank; ``source`` says where it was read from (for error messages)."""

    datasets: dict[str, dict[str, list[str]]]
    provenance: dict[str, str]
    source: str

    def to_json(self) -> dict:
        return {"format": BANK_FORMAT, "provenance": self.provenance, "datasets": self.datasets}

    @property
    def content_hash(self) -> str:
        """sha256 (hex) of the canonical JSON: identical banks hash alike wherever they are stored."""
        canonical = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def covers(self, dataset: str, classes: Sequence[str], n: int) -> bool:
        """Whether :meth:`neighbours` would give ``n`` phrases for every one of ``classes``."""
        entries = self.datasets.get(dataset)
        return entries is not None and all(len(entries.get(c, ())) >= n for c in classes)

    def neighbours(self, dataset: str, classes: Sequence[str], n: int) -> list[list[str]]:
        """The first ``n`` phrases of each class, in ``classes`` order: K lists of N phrases."""
        if dataset not in self.datasets:
            known = ", ".join(sorted(self.datasets))
            raise BankError(f"{self.source}: no dataset {dataset!r} (has: {known})")
        entries = self.datasets[dataset]
        missing = [c for c in classes if c not in entries]
        if missing:
            raise BankError(f"{self.source}: dataset {dataset!r} lacks class(es) {missing}")
        short = {c: len(entries[c]) for c in classes if len(entries[c]) < n}
        if short:
            detail = ", ".join(f"{c!r} has {k}" for c, k in short.items())
            raise BankError(
                f"{self.source}: dataset {dataset!r} needs {n} phrases per class; {detail}"
            )
        return [list(entries[c][:n]) for c in classes]


SHIPPED = "builtin"
"""The bank spec naming the shipped bank of a dataset."""


def banks_dir() -> Path:
    """The folder of the banks shipped with the package."""
    return Path(str(resources.files("sept_ray.sept") / "banks"))


def shipped_banks() -> dict[str, Path]:
    """dataset name -> the file of its shipped bank: what each registered dataset's
    :class:`~sept_ray.data.catalog.DatasetInfo` names (``bank``)."""
    from sept_ray.data.catalog import DATASETS

    infos = (DATASETS.get(name) for name in DATASETS.names())
    return {info.name: banks_dir() / info.bank for info in infos if info.bank}


def bank_path(spec: str | Path, dataset: str = "") -> Path:
    """The file of bank ``spec``: a path, or ``"builtin"`` = the shipped bank of ``dataset``."""
    if str(spec) != SHIPPED:
        return Path(spec)
    shipped = shipped_banks()
    if dataset not in shipped:
        known = ", ".join(sorted(shipped))
        raise BankError(
            f"sept.bank = 'builtin': no shipped bank holds dataset {dataset!r} (shipped: {known}); "
            "generate one with `sept neighbors generate` and pass its path"
        )
    return shipped[dataset]


def load_bank(spec: str | Path, dataset: str = "") -> NeighbourBank:
    """Read and validate a bank: a path to a JSON file, or ``"builtin"`` with the ``dataset``
    whose shipped bank to read."""
    return read_bank(bank_path(spec, dataset))


def load_bank_or_none(spec: str, dataset: str) -> NeighbourBank | None:
    """The bank of ``spec`` for ``dataset``, or None when there is none to read."""
    try:
        return load_bank(spec, dataset)
    except BankError:
        return None


def read_bank(path: Path) -> NeighbourBank:
    """Read and structurally validate the bank file ``path``."""
    if not path.is_file():
        raise BankError(f"{path}: neighbour bank not found")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BankError(f"{path}: not valid JSON ({exc})") from exc
    return parse_bank(raw, str(path))


def parse_bank(raw: object, source: str) -> NeighbourBank:
    """Validate the structure of a decoded bank; every error names ``source`` and the key."""
    if not isinstance(raw, dict) or raw.get("format") != BANK_FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise BankError(f"{source}: format must be {BANK_FORMAT!r}, found {found!r}")
    provenance = raw.get("provenance")
    if not isinstance(provenance, dict) or any(k not in provenance for k in PROVENANCE_KEYS):
        raise BankError(f"{source}: provenance must hold {', '.join(PROVENANCE_KEYS)}")
    datasets = raw.get("datasets")
    if not isinstance(datasets, dict) or not datasets:
        raise BankError(f"{source}: 'datasets' must map dataset names to classes")
    for dataset, classes in datasets.items():
        if not isinstance(classes, dict) or not classes:
            raise BankError(f"{source}: datasets.{dataset} must map class names to phrase lists")
        for name, phrases in classes.items():
            if not isinstance(phrases, list) or not all(
                isinstance(p, str) and p.strip() for p in phrases
            ):
                raise BankError(f"{source}: datasets.{dataset}.{name} must be non-empty strings")
    return NeighbourBank(datasets=datasets, provenance=dict(provenance), source=source)


def save_bank(bank: NeighbourBank, path: str | Path) -> None:
    """Write ``bank`` atomically (temp file + rename): readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(bank.to_json(), handle, indent=1, ensure_ascii=False)
    os.replace(tmp, path)
