"""Fill the audio-embedding cache before a sweep's trials start: one Ray task per entry.

An entry is one (backbone, weights, dataset folder, crop views); each task embeds every clip of
its dataset once (on a GPU when it was given one) into the sweep's cache folder, which trials on
any node then read (shared storage on a cluster). Trials load with ``build=False``: none of them
ever runs the audio tower to embed a dataset.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sept_ray.config import BackboneConfig, TrialConfig
from sept_ray.plugins import load_plugins
from sept_ray.protocols import protocol_of


class CacheFillError(RuntimeError):
    """An entry could not be filled (e.g. an unreadable clip); the message names the dataset,
    the backbone and the task's error (with the clip's path)."""


@dataclass(frozen=True)
class CacheJob:
    """One cache entry to fill: ``folder`` embedded by ``backbone`` with ``views`` random crops."""

    backbone: BackboneConfig
    folder: str
    views: int
    cache_dir: str

    @property
    def label(self) -> str:
        return f"{Path(self.folder).name} on {self.backbone.name}"


def cache_jobs(configs: list[TrialConfig]) -> list[CacheJob]:
    """The distinct entries ``configs`` read: each training dataset (with its crop views) and
    each dataset a protocol scores besides it (an xd target; centre crops only), in first-seen
    order."""
    jobs: dict[tuple, CacheJob] = {}
    for cfg in configs:
        views = cfg.data.crop_views if cfg.data.train_crop == "random" else 0
        folders = [(cfg.data.name, views), *((t, 0) for t in protocol_of(cfg).targets(cfg))]
        for name, n_views in folders:
            folder = str(Path(cfg.data.root) / name)
            key = (cfg.backbone.name, cfg.backbone.weights, folder, n_views, cfg.cache_dir)
            jobs.setdefault(key, CacheJob(cfg.backbone, folder, n_views, cfg.cache_dir))
    return list(jobs.values())


def fill_entry(job: CacheJob, plugins: Sequence[str] = ()) -> dict:
    """Build ``job``'s entry unless present; returns what happened (``built``: this task wrote
    the entry), where, and how long it took; ``plugins``: modules to import first (a backbone
    registered outside the package)."""
    import ray

    from sept_ray.backbones import build_backbone
    from sept_ray.backbones.registry import release_backbones
    from sept_ray.features import EmbeddingCache

    load_plugins(plugins)
    started = time.monotonic()
    backbone = build_backbone(job.backbone)
    cache = EmbeddingCache(job.cache_dir)
    folder = Path(job.folder)
    embeddings, built = cache.ensure(backbone, folder, job.views)
    device = str(backbone.device)
    release_backbones()
    return {
        "entry": str(embeddings.entry),
        "dataset": folder.name,
        "backbone": job.backbone.name,
        "views": job.views,
        "clips": len(embeddings.paths),
        "built": built,  # False: found, or built by another process while this one waited
        "node_ip": ray.util.get_node_ip_address(),
        "device": device,
        "seconds": round(time.monotonic() - started, 2),
    }


def fill_cache(
    jobs: list[CacheJob], cpus: float, gpus: float, plugins: Sequence[str] = ()
) -> list[dict]:
    """Run one Ray task per job (``cpus``/``gpus`` each, importing ``plugins`` first) and print
    each entry as it is ready."""
    import ray

    remote = ray.remote(fill_entry).options(num_cpus=cpus, num_gpus=gpus, max_retries=1)
    pending = {remote.remote(job, list(plugins)): job for job in jobs}
    records = []
    print(f"embedding cache: {len(jobs)} entries to check or fill", flush=True)
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        job = pending.pop(ready[0])
        try:
            record = ray.get(ready[0])
        except ray.exceptions.RayTaskError as exc:
            raise CacheFillError(f"embedding cache: {job.label}: {exc.cause!r}") from None
        what = "built" if record["built"] else "found"
        print(
            f"embedding cache: {job.label}: {what} ({record['clips']} clips) on "
            f"{record['node_ip']} ({record['device']}) in {record['seconds']:.1f} s",
            flush=True,
        )
        records.append(record)
    return records
