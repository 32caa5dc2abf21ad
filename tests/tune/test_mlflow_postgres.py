"""A sweep tracked by a real MLflow tracking server whose backend store is a real PostgreSQL.

On the cluster the tracking server runs on PostgreSQL; here the module starts a throwaway
PostgreSQL cluster (``initdb`` + ``pg_ctl`` on 127.0.0.1, see ``pg_server.py``) and on it
``mlflow server --backend-store-uri postgresql+psycopg://...`` with proxied artifacts, then runs a
tiny b2n sweep (CoOp without and with SEPT on one dataset: two trials) with ``--mlflow-uri
http://...``. Checked through ``MlflowClient`` over HTTP: one finished parent run, one finished
nested run per trial with its metrics' history, artifacts downloadable through the server's
proxy; and in PostgreSQL itself: the rows of those runs.

Without PostgreSQL server binaries the module is skipped, except under CI (``CI`` set), where it
fails: ``.ci/run`` installs them, so CI can never skip this silently.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import psycopg
import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow_server import launch_mlflow
from pg_server import Unavailable, in_ci, start_postgres

from sweeps import b2n

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]
EXPERIMENT = "b2n-postgres"
DATABASE = "mlflow"
VARIANTS = {"coop", "coop+sept"}


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL cluster of this module's own, with an empty database ``DATABASE``."""
    missing = None
    try:
        cluster = start_postgres()
    except Unavailable as exc:
        missing = str(exc)
    if missing is not None:
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL tests, but: {missing}", pytrace=False)
        pytest.skip(missing)
    try:
        cluster.create_database(DATABASE)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def tracking_server(postgres, tmp_path_factory):
    """``mlflow server`` on ``postgres``, artifacts proxied to a folder of its own; launched, not
    yet answering: users call ``wait_ready()`` (its start overlaps the sweep's preparation)."""
    folder = tmp_path_factory.mktemp("mlflow_server")
    artifacts = folder / "artifacts"
    artifacts.mkdir()
    server = launch_mlflow(postgres.url(), artifacts, folder / "server.log")
    try:
        yield server, artifacts
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sweep(tracking_server, tmp_path_factory, small_weights):
    server, _ = tracking_server
    root = tmp_path_factory.mktemp("pg_sweep")
    write_tone_dataset(root / "data", "Tones", CLASSES, 6, 3)
    write_bank(root / "bank.json", ["Tones"], CLASSES)
    argv = [
        "--data-root",
        str(root / "data"),
        "--datasets",
        "Tones",
        "--results",
        str(root / "results"),
        "--experiment",
        EXPERIMENT,
        "--mlflow-uri",
        server.uri,
        "--num-cpus",
        "2",
        "--methods",
        "coop",
        "--sept",
        "both",
        "--weights",
        str(small_weights),
        "--set",
        "train.epochs=2",
        "train.batch_size=4",
        "data.shots=4",
        "method.n_ctx=4",
        f"sept.bank={root / 'bank.json'}",
        "sept.n_neighbors=3",
        "backbone.device=cpu",
    ]
    server.wait_ready()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = b2n.main(argv)
    assert code == 0, (
        f"sweep failed ({code}):\n{printed.getvalue()}\n"
        f"--- mlflow server log ---\n{server.log_text()[-6000:]}"
    )
    return root, printed.getvalue()


def runs(uri: str):
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    found = client.search_runs([experiment.experiment_id])
    parents = [r for r in found if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = [r for r in found if MLFLOW_PARENT_RUN_ID in r.data.tags]
    return client, experiment, parents, children


def test_the_sweep_logs_to_the_server_not_to_a_local_store(sweep, tracking_server):
    root, printed = sweep
    server, _ = tracking_server
    assert f"MLflow: {server.uri}" in printed and "AVERAGE" in printed
    assert list((root / "results").rglob("mlflow.db")) == []
    assert list((root / "results").rglob("mlartifacts")) == []


def test_one_parent_and_one_finished_nested_run_per_trial(sweep, tracking_server):
    server, _ = tracking_server
    client, experiment, parents, children = runs(server.uri)
    assert experiment.artifact_location.startswith("mlflow-artifacts:")  # the server's proxy
    assert len(parents) == 1
    parent = parents[0]
    assert parent.data.tags["sept.sweep"] == EXPERIMENT
    assert parent.info.status == "FINISHED"
    assert len(children) == 2
    assert {r.data.tags[MLFLOW_PARENT_RUN_ID] for r in children} == {parent.info.run_id}
    assert {r.data.tags["sept.variant"] for r in children} == VARIANTS
    for run in children:
        assert run.info.status == "FINISHED"
        assert {"H", "base", "new"} <= set(run.data.metrics)
        history = client.get_metric_history(run.info.run_id, "H")
        assert [m.step for m in history] == [1, 2]
        assert history[-1].value == pytest.approx(run.data.metrics["H"])
        assert run.data.params["train.epochs"] == "2" and run.data.params["method.n_ctx"] == "4"


def test_artifacts_go_through_the_server_proxy(sweep, tracking_server, tmp_path):
    root, _ = sweep
    server, artifacts = tracking_server
    client, _, parents, children = runs(server.uri)
    for run in children:
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")
        names = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"config.yaml", "metrics.json"} <= names
        into = tmp_path / run.info.run_id
        into.mkdir()
        got = Path(client.download_artifacts(run.info.run_id, "metrics.json", str(into)))
        assert "tags" in json.loads(got.read_text())
        (local,) = (root / "results" / EXPERIMENT).glob(
            f"*/trials/{run.data.tags['sept.trial_name']}/metrics.json"
        )
        assert got.read_bytes() == local.read_bytes()
        config = Path(client.download_artifacts(run.info.run_id, "config.yaml", str(into)))
        assert "n_ctx: 4" in config.read_text()
    parent = parents[0].info.run_id
    assert "b2n_table.csv" in {a.path for a in client.list_artifacts(parent)}
    table = Path(client.download_artifacts(parent, "b2n_table.csv", str(tmp_path)))
    assert table.read_text().startswith("dataset,method,base,new,H")
    # the bytes landed in the server's --artifacts-destination, not anywhere the client chose
    assert len(list(artifacts.rglob("b2n_table.csv"))) == 1
    assert len(list(artifacts.rglob("config.yaml"))) == 2


def test_the_runs_are_rows_in_postgresql(sweep, postgres, tracking_server):
    server, _ = tracking_server
    _, experiment, parents, children = runs(server.uri)
    with psycopg.connect(postgres.conninfo()) as conn:
        (count,) = conn.execute("SELECT count(*) FROM runs").fetchone()
        assert count == len(parents) + len(children) == 3
        rows = conn.execute(
            "SELECT run_uuid, status FROM runs WHERE experiment_id = %s",
            (int(experiment.experiment_id),),
        ).fetchall()
        assert dict(rows) == {r.info.run_id: "FINISHED" for r in parents + children}
        (h_points,) = conn.execute("SELECT count(*) FROM metrics WHERE key = 'H'").fetchone()
        assert h_points == 2 * len(children)
