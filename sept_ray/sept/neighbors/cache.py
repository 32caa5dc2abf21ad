"""The answer cache: every raw LLM answer, kept per (model, prompt version, dataset, class).

A rerun replays the cached answers through the current validation before asking anything, so a
finished class costs no call and an interrupted run resumes where it stopped. One JSON file per
key, rewritten atomically after each answer::

    {"key": {"model", "prompt_version", "dataset", "class"},
     "answers": [{"asked": k, "response_format": "...", "content": "<raw text>"}, ...]}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/sept_ray/neighbours`` (``~/.cache`` when unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "sept_ray" / "neighbours"


def slug(text: str) -> str:
    """A file-name-safe rendering of ``text`` (letters, digits, ``-``, ``.``)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "x"


@dataclass(frozen=True)
class CacheKey:
    """What an answer depends on, as far as the cache is concerned."""

    model: str
    prompt_version: str
    dataset: str
    cls: str

    def as_dict(self) -> dict[str, str]:
        return {
            "model": self.model,
            "prompt_version": self.prompt_version,
            "dataset": self.dataset,
            "class": self.cls,
        }

    def relative_path(self) -> Path:
        """``<model>/<prompt version>/<dataset>/<class>-<hash8>.json`` (the hash tells apart
        names that slug alike)."""
        digest = hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()
        parts = (slug(self.model), slug(self.prompt_version), slug(self.dataset))
        return Path(*parts) / f"{slug(self.cls)}-{digest[:8]}.json"


class AnswerCache:
    """Raw answers on disk under ``root`` (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: CacheKey) -> Path:
        return self.root / key.relative_path()

    def answers(self, key: CacheKey) -> list[dict]:
        """The cached answers of ``key``, oldest first (none if absent)."""
        path = self.path(key)
        if not path.is_file():
            return []
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}: corrupt cache entry ({exc}); delete it to ask again"
            ) from exc
        if entry.get("key") != key.as_dict():
            raise ValueError(f"{path}: cache entry of another key {entry.get('key')}")
        return list(entry["answers"])

    def append(self, key: CacheKey, answer: dict) -> None:
        """Add ``answer`` to ``key``'s entry (temp file + rename: never a partial file)."""
        path = self.path(key)
        entry = {"key": key.as_dict(), "answers": [*self.answers(key), answer]}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entry, handle, indent=1, ensure_ascii=False)
        os.replace(tmp, path)
