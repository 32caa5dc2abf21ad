"""Prove that a sweep's results folder is shared storage before any trial of a multi-node sweep.

Trials write their folders, checkpoints and the embedding cache under the results folder, and the
driver reads them back: on a cluster every node must see the same folder. The driver writes a
marker file (a random name and content) into it, then runs one Ray task pinned to every alive node
(``NodeAffinitySchedulingStrategy``, no CPU asked, so a head with ``--num-cpus=0`` is checked too)
that looks for the marker and its content, retrying for :data:`SEE_TIMEOUT_S` (an NFS client may
cache a folder's listing for a few seconds). Nodes that do not see it are named in a
:class:`~sept_ray.config.ConfigError`; the marker is removed either way. On one node there is
nothing to prove and nothing is written.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from sept_ray.config import ConfigError

MARKER_PREFIX = ".sept-shared-check-"
SEE_TIMEOUT_S = 10.0  # how long a node keeps looking for the marker
ANSWER_TIMEOUT_S = 120.0  # how long the driver waits for every node's answer


def sees_marker(path: str, token: str, timeout_s: float = SEE_TIMEOUT_S) -> tuple[bool, str]:
    """Whether ``path`` holds ``token`` on this node (looking again until ``timeout_s``), and what
    was found instead when not: ``(seen, detail)``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = Path(path).read_text()
        except OSError as exc:
            detail = f"{type(exc).__name__}: {exc.strerror or exc}"
        else:
            if found == token:
                return True, ""
            detail = "the file holds other content"
        if time.monotonic() >= deadline:
            return False, detail
        time.sleep(0.5)


def check_shared_storage(folder: Path) -> list[str]:
    """Check, on a Ray cluster of several alive nodes, that every node sees ``folder`` (created
    if missing) as the driver does, and print so; returns the checked nodes' addresses (empty on
    one node). Raises :class:`~sept_ray.config.ConfigError` naming each node that cannot see it
    (its address and host name) and what it found instead."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if len(nodes) < 2:
        return []
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    marker = folder / f"{MARKER_PREFIX}{token[:12]}"
    marker.write_text(token)
    probe = ray.remote(num_cpus=0, max_retries=0)(sees_marker)
    try:
        pending = {
            probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(str(marker), token): node
            for node in nodes
        }
        ready, not_ready = ray.wait(
            list(pending), num_returns=len(pending), timeout=ANSWER_TIMEOUT_S
        )
        blind = []
        for ref in ready:
            try:
                seen, detail = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - a node whose task failed cannot vouch for it
                seen, detail = False, f"its check failed: {type(exc).__name__}: {exc}"
            if not seen:
                blind.append(f"{node_name(pending[ref])} ({detail})")
        for ref in not_ready:
            ray.cancel(ref, force=True)
            blind.append(f"{node_name(pending[ref])} (no answer in {ANSWER_TIMEOUT_S:.0f} s)")
    finally:
        marker.unlink(missing_ok=True)
    if blind:
        here = ray.get_runtime_context().get_node_id()
        driver = next((n["NodeManagerAddress"] for n in nodes if n["NodeID"] == here), "?")
        raise ConfigError(
            f"results folder {folder} is not shared storage: the driver on {driver} wrote "
            f"{marker.name} there, and these nodes cannot see it: {'; '.join(sorted(blind))}. "
            f"Mount the same shared storage at {folder} on every node (docs/CLUSTER.md), or pass "
            "--results on it. No trial was run."
        )
    names = sorted(n["NodeManagerAddress"] for n in nodes)
    print(f"shared storage: all {len(names)} nodes see {folder} ({', '.join(names)})", flush=True)
    return names


def node_name(node: dict) -> str:
    """A node's address, and its host name where Ray knows one."""
    address = node.get("NodeManagerAddress", "?")
    host = node.get("NodeManagerHostname", "")
    return f"{address} [{host}]" if host and host != address else address
