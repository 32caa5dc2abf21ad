"""A sweep on several nodes proves its results folder is shared before any trial: on a real
two-node loopback cluster whose worker cannot see the folder, the sweep stops naming that node.

The worker's Ray (127.0.0.3) is started in a mount namespace of its own where an empty tmpfs
covers the results folder (needs root: ``unshare`` and ``mount``), so it sees a folder of the same
path that is not the driver's, as a node without the shared mount would. The sweep is submitted
to the head as a job (its driver runs on the head, 127.0.0.2). The passing case, both nodes
seeing the folder, is checked by ``test_cluster_loopback.py``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from loopback_cluster import (
    HEAD,
    WORKER,
    Cluster,
    require_loopback_cluster,
    run_job,
    start_cluster,
    sweep_entrypoint,
)

from sept_ray.tune.shared_storage import MARKER_PREFIX

pytestmark = pytest.mark.slow

EXPERIMENT = "b2n-not-shared"


@pytest.fixture(scope="module")
def blind_cluster(tmp_path_factory, small_weights):
    require_loopback_cluster()
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare (a mount namespace for the worker)")
    temp_dir = Path(tempfile.mkdtemp(prefix="sept-ns-", dir="/tmp"))
    made = Cluster(temp_dir, tmp_path_factory.mktemp("not-shared"))
    made.results.mkdir()
    made.worker_wrapper = [
        "unshare", "--mount", "--propagation", "private", "--",
        "sh", "-c", 'mount -t tmpfs tmpfs "$0" && exec "$@"', str(made.results),
    ]  # fmt: skip
    try:
        start_cluster(made)
        run_job(made, sweep_entrypoint(made, small_weights, EXPERIMENT))
        yield made
    finally:
        left = made.stop()
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, "Ray processes of this test still alive:\n" + "\n".join(left)


def test_the_sweep_stops_naming_the_node_that_cannot_see_the_results(blind_cluster):
    cluster = blind_cluster
    assert cluster.job.get("status") == "FAILED", cluster.diagnostics()
    (error,) = [line for line in cluster.logs.splitlines() if line.startswith("b2n: error:")]
    assert f"results folder {cluster.results} is not shared storage" in error, error
    assert f"the driver on {HEAD} wrote {MARKER_PREFIX}" in error, error
    blind = error.split("these nodes cannot see it: ", 1)[1]
    assert blind.startswith(f"{WORKER} [") and "FileNotFoundError" in blind, error
    assert f"{HEAD} [" not in blind, error  # the head sees it
    assert "No trial was run." in error


def test_nothing_was_run_and_the_marker_is_gone(blind_cluster):
    cluster = blind_cluster
    assert "[1/" not in cluster.logs, cluster.diagnostics()
    assert not (cluster.results / EXPERIMENT).exists()
    assert not list(cluster.results.glob(f"{MARKER_PREFIX}*"))
