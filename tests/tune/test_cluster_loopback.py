"""Acceptance of "sweeps at scale on Ray": a real two-node Ray cluster on loopback runs a b2n sweep.

The head (127.0.0.2) and a worker (127.0.0.3) are started with ``ray start`` (1 CPU each, a small
object store, token auth with a token of this test's own, ports and a ``--temp-dir`` of their own,
so the cluster cannot clash with any other Ray on the machine). The sweep is submitted with
``ray job submit`` to the head's dashboard and joins the cluster with ``--ray-address auto``. Both
nodes share this machine's filesystem, which stands in for the shared storage of a real cluster.

Checked: the job succeeds and prints its table; it proved the results folder shared (a marker
seen by a task on each node) before any trial; the four trials (1 CPU each) ran on both nodes
(``sept.node_ip``) as four finished nested MLflow runs under one parent; the embedding cache was
filled once, by one Ray task, before any trial. Teardown stops only this cluster's processes
(``ray stop`` would stop every Ray on the machine) and checks that none are left.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
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
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

pytestmark = pytest.mark.slow

EXPERIMENT = "b2n-loopback"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, small_weights):
    require_loopback_cluster()
    # Short and unique: Ray's socket paths live under it (a Unix socket path has ~107 chars).
    temp_dir = Path(tempfile.mkdtemp(prefix="sept-lb-", dir="/tmp"))
    made = Cluster(temp_dir, tmp_path_factory.mktemp("loopback"))
    started = time.monotonic()
    try:
        start_cluster(made)
        print(f"\ncluster up in {time.monotonic() - started:.1f} s")
        run_job(made, sweep_entrypoint(made, small_weights, EXPERIMENT))
        print(f"job {made.job.get('status')} in {made.job_seconds:.1f} s")
        yield made
    finally:
        stopping = time.monotonic()
        left = made.stop()
        print(f"cluster stopped in {time.monotonic() - stopping:.1f} s")
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, "Ray processes of this test still alive:\n" + "\n".join(left)


def sweep_runs(cluster: Cluster):
    client = MlflowClient(f"sqlite:///{cluster.results / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None, f"no MLflow experiment{cluster.diagnostics()}"
    found = client.search_runs([experiment.experiment_id])
    parents = [r for r in found if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = [r for r in found if MLFLOW_PARENT_RUN_ID in r.data.tags]
    return parents, children


def timeline(runs) -> str:
    """One line per trial run: its node, and when it started and ended (s from the first)."""
    first = min(r.info.start_time for r in runs)
    lines = [
        f"{r.info.run_name:<32} {r.data.tags.get('sept.node_ip')}  "
        f"{(r.info.start_time - first) / 1000:5.1f}-{((r.info.end_time or first) - first) / 1000:5.1f} s"
        for r in sorted(runs, key=lambda r: r.info.start_time)
    ]
    return "\ntrials (node, start-end):\n" + "\n".join(lines)


def test_the_submitted_sweep_succeeds_and_prints_its_table(cluster):
    assert cluster.job.get("status") == "SUCCEEDED", cluster.diagnostics()
    assert "AVERAGE" in cluster.logs, cluster.diagnostics()
    assert "4 trials finished, 0 failed" in cluster.logs, cluster.diagnostics()
    assert len(list(cluster.results.glob(f"{EXPERIMENT}/*/b2n_table.csv"))) == 1


def test_the_sweep_proved_its_results_folder_shared_before_any_trial(cluster):
    assert cluster.job.get("status") == "SUCCEEDED", cluster.summary()
    proved = f"shared storage: all 2 nodes see {cluster.results} ({HEAD}, {WORKER})"
    assert proved in cluster.logs, cluster.diagnostics()
    assert cluster.logs.index(proved) < cluster.logs.index("[1/4]")
    assert not list(cluster.results.glob(".sept-shared-check-*"))  # the marker is removed


def test_the_trials_ran_on_both_nodes_as_finished_nested_runs_of_one_parent(cluster):
    assert cluster.job.get("status") == "SUCCEEDED", cluster.summary()
    parents, children = sweep_runs(cluster)
    assert len(parents) == 1, cluster.diagnostics()
    parent = parents[0]
    assert parent.data.tags.get("sept.sweep") == EXPERIMENT
    assert parent.info.status == "FINISHED", cluster.diagnostics()
    assert len(children) == 4, cluster.diagnostics()
    assert {r.data.tags[MLFLOW_PARENT_RUN_ID] for r in children} == {parent.info.run_id}
    assert [r.info.status for r in children] == ["FINISHED"] * 4, cluster.diagnostics()
    assert {r.data.tags["sept.variant"] for r in children} == {"coop", "coop+sept"}
    node_ips = {r.data.tags.get("sept.node_ip") for r in children}
    print(timeline(children))
    assert node_ips == {HEAD, WORKER}, timeline(children) + cluster.diagnostics()


def test_the_cache_was_filled_once_by_a_cluster_task_before_the_trials(cluster):
    assert cluster.job.get("status") == "SUCCEEDED", cluster.summary()
    (fill_file,) = cluster.results.glob(f"{EXPERIMENT}/*/cache_fill.json")
    records = json.loads(fill_file.read_text())
    assert [(r["dataset"], r["built"]) for r in records] == [("Tones", True)], records
    assert records[0]["node_ip"] in {HEAD, WORKER}, records
    entries = list((cluster.results / "cache").rglob("*.npz"))
    assert [str(p) for p in entries] == [records[0]["entry"]]
    logs = cluster.logs
    assert "embedding cache: Tones on tiny-alm: built" in logs, cluster.diagnostics()
    assert logs.index("embedding cache: Tones") < logs.index("[1/4]"), cluster.diagnostics()
