"""Start or join Ray. A local Ray (no address given) stays on this machine's loopback address."""

from __future__ import annotations

import os

LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def init_ray(address: str = "", num_cpus: int | None = None) -> None:
    """Join the cluster at ``address``, or start a single-node Ray bound to 127.0.0.1.

    Ray binds a local node to the machine's network address unless multi-node clusters are off
    (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray is imported); a single-node sweep has
    no use for a reachable node, so it turns them off before starting Ray.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not address:
        os.environ[LOCAL_ONLY_ENV] = "0"
    import ray
    from ray._private import ray_constants

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=True)
        return
    ray_constants.ENABLE_RAY_CLUSTER = False  # in case Ray was imported before the variable was set
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=True)
