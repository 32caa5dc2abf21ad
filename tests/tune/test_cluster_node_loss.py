"""A worker node dies mid-sweep on the loopback two-node cluster: its trial is rescheduled on the
head, continues from its last checkpoint (on the shared results folder) and finishes; the sweep
succeeds with one FINISHED MLflow run per trial.

The nodes run with fast health checks (every 0.5 s, dead after 3 misses) so the head declares the
worker dead within seconds. Once both nodes run a trial and both trials have saved a checkpoint,
every process of the worker node (its raylet, agents and workers) is SIGKILLed, as a pre-empted
machine would vanish.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from loopback_cluster import (
    HEAD,
    RAY,
    WORKER,
    Cluster,
    loopback_usable,
    start_cluster,
    submit_job,
    sweep_entrypoint,
    wait_job,
)
from mlflow_server import sweep_runs

pytestmark = [pytest.mark.slow, pytest.mark.long]  # make test-long
EXPERIMENT = "node-loss"
EPOCHS = 40
FAST_HEALTH_CHECKS = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "500",
    "RAY_health_check_failure_threshold": "3",
}


def worker_node_processes(cluster: Cluster) -> list[psutil.Process]:
    """Every process of the worker node: its raylet and everything under it, and whatever else
    names the worker's address on its command line (agents, log monitor)."""
    found: dict[int, psutil.Process] = {}
    for proc in cluster.processes():
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if f"node_ip_address={WORKER}" in cmdline or f"node-ip-address={WORKER}" in cmdline:
            found[proc.pid] = proc
            with contextlib.suppress(psutil.Error):
                found.update({c.pid: c for c in proc.children(recursive=True)})
    return list(found.values())


def trials_running_on_worker(cluster: Cluster) -> int:
    """Trainable actors (Tune's function trainable) alive on the worker node now."""
    nodes = cluster.api("/api/v0/nodes?detail=false")["data"]["result"]["result"]
    worker_ids = {n["node_id"] for n in nodes if n["node_ip"] == WORKER}
    actors = cluster.api("/api/v0/actors?detail=false&limit=1000")["data"]["result"]["result"]
    return sum(
        a["state"] == "ALIVE" and a["node_id"] in worker_ids and "ImplicitFunc" in a["class_name"]
        for a in actors
    )


def checkpointed_trials(cluster: Cluster) -> int:
    """Trials with a checkpoint saved on the shared results folder."""
    return len(
        {p.parent for p in cluster.results.glob(f"{EXPERIMENT}/*/ray/{EXPERIMENT}/*/checkpoint_*")}
    )


@pytest.fixture(scope="module")
def node_loss(tmp_path_factory, small_weights):
    if not RAY.is_file():
        pytest.skip("needs the venv's ray CLI")
    if not (loopback_usable(HEAD) and loopback_usable(WORKER)):
        pytest.skip(f"cannot bind {HEAD} and {WORKER}")
    temp_dir = Path(tempfile.mkdtemp(prefix="sept-nl-", dir="/tmp"))
    made = Cluster(temp_dir, tmp_path_factory.mktemp("node-loss"), extra_env=FAST_HEALTH_CHECKS)
    killed: list[str] = []
    try:
        start_cluster(made)
        started = time.monotonic()
        entry = sweep_entrypoint(made, small_weights, EXPERIMENT, EPOCHS, ("--max-failures", "2"))
        submit_job(made, entry)
        deadline = time.monotonic() + 180
        while not (trials_running_on_worker(made) and checkpointed_trials(made) >= 2):
            assert time.monotonic() < deadline, "no checkpointed trial on the worker in 180 s"
            time.sleep(0.3)
        for proc in worker_node_processes(made):
            with contextlib.suppress(psutil.Error):
                killed.append(proc.name())
                proc.kill()
            made.core.pop(proc.pid, None)  # dead on purpose: not a reason to stop waiting
        wait_job(made, started)
        yield made, killed
    finally:
        left = made.stop()
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, "Ray processes of this test still alive:\n" + "\n".join(left)


def test_the_sweep_succeeds_though_its_worker_node_died(node_loss):
    cluster, killed = node_loss
    assert "raylet" in killed, killed
    assert cluster.job.get("status") == "SUCCEEDED", cluster.diagnostics()
    assert "4 trials finished, 0 failed" in cluster.logs, cluster.diagnostics()
    assert cluster.alive_node_ips() == {HEAD}  # the worker stayed dead


def test_the_lost_trial_continued_on_the_head_as_the_same_run(node_loss):
    cluster, _ = node_loss
    client, _, children = sweep_runs(f"sqlite:///{cluster.results / 'mlflow.db'}", EXPERIMENT)
    assert len(children) == 4 and len({r.data.tags["sept.trial_name"] for r in children}) == 4
    assert all(r.info.status == "FINISHED" for r in children), cluster.diagnostics()
    rescheduled = [r for r in children if "sept.restarts" in r.data.tags]
    assert rescheduled, cluster.diagnostics()
    for run in rescheduled:
        assert run.data.tags["sept.node_ip"] == HEAD  # where its last attempt ran
        assert int(run.data.tags["sept.resumed_from_epoch"]) >= 1  # from its checkpoint
    for run in children:
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "H")]
        assert sorted(steps) == list(range(1, EPOCHS + 1)), run.data.tags["sept.trial_name"]
    print(
        "rescheduled (trial, restarts, resumed from epoch): "
        + ", ".join(
            f"{r.data.tags['sept.trial_name']} {r.data.tags['sept.restarts']} "
            f"{r.data.tags['sept.resumed_from_epoch']}"
            for r in rescheduled
        )
    )
