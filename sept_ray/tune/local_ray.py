"""Start or join Ray. A script joins a running Ray only when it is given an address
(``--ray-address`` or ``RAY_ADDRESS``); otherwise, or with the address ``local``, it starts a new
one-node Ray that stays on this machine's loopback address, even where another Ray is running."""

from __future__ import annotations

import os

LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
LOCAL = "local"


def init_ray(address: str = "", num_cpus: int | None = None) -> None:
    """Join the cluster at ``address`` (``auto``: the one started on this machine with
    ``ray start``), or, for ``""`` or ``"local"``, start a single-node Ray bound to 127.0.0.1.

    ``ray.init()`` without an address would join a Ray started on this machine, or the one of
    ``RAY_ADDRESS``; a local start passes Ray's ``"local"`` so that it never does. Ray binds a
    local node to the machine's network address unless multi-node clusters are off
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray is imported); a single-node sweep has
    no use for a reachable node, so it turns them off before starting Ray.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    local = address in ("", LOCAL)
    if local:
        os.environ[LOCAL_ONLY_ENV] = "0"
    import ray
    from ray._private import ray_constants

    if ray.is_initialized():
        return
    if not local:
        ray.init(address=address, log_to_driver=True)
        return
    ray_constants.ENABLE_RAY_CLUSTER = False  # in case Ray was imported before the variable was set
    ray.init(address=LOCAL, num_cpus=num_cpus, include_dashboard=False, log_to_driver=True)
