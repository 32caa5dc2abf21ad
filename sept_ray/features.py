"""The audio-embedding cache: every clip is embedded once per (backbone, weights, preprocessing).

An entry holds the raw (un-normalised) audio features of every clip any CSV of a dataset names
(all folds, both splits), so all trials of a dataset share it. Its key covers the backbone's
``cache_id`` (name, weights hash, front end, decoder), the crop views, the CSVs' bytes and every clip's (path, size, mtime):
changing any of them gives a new entry. Entries are written to a temp file and renamed (a crash
leaves no torn entry), under a file lock (two processes never build the same entry at once); the
next builder deletes the temp file of one that was killed.
The training loop reads entries; in a sweep it never runs the audio tower (the sweep fills every
entry first, one Ray task per entry, and trials load with ``build=False``).
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock

from sept_ray.backbones.base import FrozenALM
from sept_ray.data.audio import load_clip
from sept_ray.data.manifest import all_clip_paths, manifest_hash
from sept_ray.progress import progress

log = logging.getLogger(__name__)
ENTRY_VERSION = 2  # 2: raw (un-normalised) audio features


@dataclass
class DatasetEmbeddings:
    """Cached raw (un-normalised) audio features of one dataset: ``center`` [n, D] centre crops;
    ``views`` [n, V, D] random crops, or None."""

    paths: list[str]
    center: torch.Tensor
    views: torch.Tensor | None
    manifest_hash: str
    entry: Path

    def __post_init__(self) -> None:
        self._row = {path: i for i, path in enumerate(self.paths)}

    def subset(self, paths: Sequence[str]) -> DatasetEmbeddings:
        """A copy holding only the rows of ``paths`` (a trial that must not read other clips)."""
        index = self.rows(paths)
        views = self.views[index] if self.views is not None else None
        return DatasetEmbeddings(
            list(paths), self.center[index], views, self.manifest_hash, self.entry
        )

    def rows(self, paths: Sequence[str]) -> torch.Tensor:
        """Row indices (long [len(paths)]) of the given relative clip paths."""
        try:
            return torch.tensor([self._row[p] for p in paths], dtype=torch.long)
        except KeyError as exc:
            raise KeyError(f"clip {exc.args[0]!r} is not in cache entry {self.entry}") from None


class CacheMissError(FileNotFoundError):
    """A trial that may not embed found no cache entry; the message names the entry."""


class EmbeddingCache:
    """A folder of cache entries: ``<root>/<backbone>/<dataset>-<key>.npz``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def entry_path(self, backbone: FrozenALM, folder: Path, views: int) -> Path:
        """Where the entry for this backbone, dataset folder and view count lives."""
        key = cache_key(backbone, folder, views)
        return self.root / backbone.name / f"{folder.name}-{key[:20]}.npz"

    def load(
        self, backbone: FrozenALM, folder: Path, views: int = 0, build: bool = True
    ) -> DatasetEmbeddings:
        """The entry for ``folder``; when absent, built (``build``) or a :class:`CacheMissError`."""
        if build:
            return self.load_or_build(backbone, folder, views)
        entry = self.entry_path(backbone, folder, views)
        cached = read_entry(entry)
        if cached is None:
            raise CacheMissError(
                f"{entry}: no embedding-cache entry for {folder.name} on {backbone.name} on this "
                "node. A sweep fills the cache before its trials start; on a cluster --results "
                "must be on storage every node sees (NFS, EFS)."
            )
        return cached

    def load_or_build(
        self, backbone: FrozenALM, folder: Path, views: int = 0, batch_size: int = 32
    ) -> DatasetEmbeddings:
        """The entry for ``folder``, building it first if absent or unreadable."""
        return self.ensure(backbone, folder, views, batch_size)[0]

    def ensure(
        self, backbone: FrozenALM, folder: Path, views: int = 0, batch_size: int = 32
    ) -> tuple[DatasetEmbeddings, bool]:
        """(the entry for ``folder``, whether this call built it): False when it was found,
        including when another process built it while this one waited on the entry's lock."""
        entry = self.entry_path(backbone, folder, views)
        cached = read_entry(entry)
        if cached is not None:
            return cached, False
        entry.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(entry) + ".lock"):
            cached = read_entry(entry)  # another process may have built it meanwhile
            if cached is not None:
                return cached, False
            remove_stale_temps(entry)
            build_entry(backbone, folder, views, entry, batch_size)
        built = read_entry(entry)
        if built is None:
            raise RuntimeError(f"{entry}: cache entry unreadable right after writing it")
        return built, True


def remove_stale_temps(entry: Path) -> None:
    """Delete the temp files (``.<stem>.*.npz``) a killed builder of ``entry`` left behind.

    Call it holding the entry's lock: no live builder then owns one of them (the kernel released
    a killed holder's lock).
    """
    for stale in entry.parent.glob(f".{glob.escape(entry.stem)}.*.npz"):
        log.info("removing %s, left by a builder that died", stale)
        stale.unlink(missing_ok=True)


def cache_key(backbone: FrozenALM, folder: Path, views: int) -> str:
    """sha256 over backbone.cache_id, views, CSV bytes and each clip's (path, size, mtime_ns)."""
    digest = hashlib.sha256(f"v{ENTRY_VERSION}|{backbone.cache_id}|views={views}".encode())
    csvs = sorted(folder.glob("*.csv")) + sorted((folder / "csv_files").glob("*.csv"))
    for csv_path in csvs:
        digest.update(csv_path.read_bytes())
    for rel in all_clip_paths(folder):
        stat = (folder / rel).stat()
        digest.update(f"{rel}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def read_entry(entry: Path) -> DatasetEmbeddings | None:
    """The entry at ``entry``, or None when absent or not a complete entry."""
    if not entry.is_file():
        return None
    try:
        with np.load(entry, allow_pickle=False) as data:
            paths = [str(p) for p in data["paths"]]
            center = torch.from_numpy(data["center"].copy())
            views = torch.from_numpy(data["views"].copy()) if data["views"].size else None
            digest = str(data["manifest_hash"])
    except (OSError, KeyError, ValueError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        log.warning("ignoring unreadable cache entry %s (%s)", entry, exc)
        return None
    if center.shape[0] != len(paths) or (views is not None and views.shape[0] != len(paths)):
        log.warning("ignoring inconsistent cache entry %s", entry)
        return None
    return DatasetEmbeddings(paths, center, views, digest, entry)


def build_entry(
    backbone: FrozenALM, folder: Path, views: int, entry: Path, batch_size: int
) -> None:
    """Embed every clip of ``folder`` (centre crop, plus ``views`` random crops) and write ``entry``."""
    paths = all_clip_paths(folder)
    digest = manifest_hash(folder, paths)
    center = embed_clips(
        backbone, folder, paths, "center", 0, batch_size, f"{folder.name} (centre)"
    )
    view_list = [
        embed_clips(
            backbone, folder, paths, "random", v, batch_size, f"{folder.name} (view {v + 1})"
        )
        for v in range(views)
    ]
    stacked = np.stack(view_list, axis=1) if view_list else np.zeros((0,), np.float32)
    fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.stem}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle,
                paths=np.array(paths),
                center=center,
                views=stacked,
                manifest_hash=np.array(digest),
            )
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it visible
        os.chmod(tmp, 0o644)  # readable by every worker, as a plain file would be
        os.replace(tmp, entry)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def embed_clips(
    backbone: FrozenALM,
    folder: Path,
    paths: Sequence[str],
    crop: str,
    view: int,
    batch_size: int,
    label: str,
) -> np.ndarray:
    """float32 [len(paths), D] raw audio features; a random crop's offset is seeded by (view, path)."""
    out = np.empty((len(paths), backbone.embed_dim), dtype=np.float32)
    bar = progress(total=len(paths), desc=f"embedding {label}", unit="clip")
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        waves = [
            load_clip(
                folder / rel,
                backbone.sample_rate,
                backbone.clip_seconds,
                crop=crop,
                rng=np.random.default_rng([view, zlib.crc32(rel.encode())]),
                fill=backbone.short_clip_fill,
            )
            for rel in chunk
        ]
        batch = torch.from_numpy(np.stack(waves))
        with torch.no_grad():
            features = backbone.audio_features(batch.to(backbone.device))
        out[start : start + len(chunk)] = features.cpu().numpy()
        bar.update(len(chunk))
    bar.close()
    return out
