"""End to end: a tiny b2n sweep through Ray Tune (local Ray on loopback), read back from MLflow."""

import contextlib
import csv
import io
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import ray
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow_server import sweep_runs

from sept_ray import cli
from sept_ray.metrics import harmonic_mean
from sept_ray.sept.bank import load_bank
from sweeps import b2n

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]
SECRET = "sk-sweep-0123456789-must-not-leak"  # an API key in the environment of the sweep


@dataclass
class Swept:
    """What the module's sweep left: its folder, exit code, output, and the Ray it ran on."""

    root: Path
    code: int
    printed: str  # stdout
    errors: str  # stderr
    session_dir: Path  # the Ray session of the sweep: its logs stay after Ray shuts down
    worker_key: str | None  # OPENAI_API_KEY as a worker of that Ray saw it
    listening: list[tuple[str, str]]  # (process, address) of every listening socket of that Ray


def ray_processes(session_dir: Path) -> list[psutil.Process]:
    """The processes of a Ray session: those whose command line names it (gcs_server, raylet,
    Ray's Python services) and all their children (workers, agents: ``ray::IDLE`` ...)."""
    found = {}
    for proc in psutil.process_iter(["cmdline"]):
        if session_dir.name in " ".join(proc.info["cmdline"] or []):
            with contextlib.suppress(psutil.NoSuchProcess):
                found.update((p.pid, p) for p in [proc, *proc.children(recursive=True)])
    return list(found.values())


def listening_sockets(procs: list[psutil.Process]) -> list[tuple[str, str]]:
    """``(name, ip)`` of every listening TCP socket and unconnected UDP socket of ``procs``."""
    found = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            found += [
                (proc.name(), conn.laddr.ip)
                for conn in proc.net_connections(kind="inet")
                if conn.status == psutil.CONN_LISTEN
                or (conn.status == psutil.CONN_NONE and not conn.raddr)
            ]
    return found


def is_loopback(ip: str) -> bool:
    """127.0.0.0/8 or ::1, also as an IPv4-mapped IPv6 address (``::ffff:127.0.0.1``)."""
    address = ipaddress.ip_address(ip)
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, small_weights):
    """The sweep, run in this process with an API key in its environment, on a Ray started for
    it (a Ray left by an earlier test never saw the key); Ray is shut down after the module."""
    root = tmp_path_factory.mktemp("sweep")
    write_tone_dataset(root / "data", "Tones", CLASSES, 6, 3)
    write_tone_dataset(root / "data", "Tones2", CLASSES, 4, 2, folds=2)
    write_bank(root / "bank.json", ["Tones", "Tones2"], CLASSES)
    argv = [
        "--data-root",
        str(root / "data"),
        "--datasets",
        "Tones",
        "Tones2",
        "--results",
        str(root / "results"),
        "--experiment",
        "e2e",
        "--num-cpus",
        "2",
        "--methods",
        "zeroshot",
        "coop",
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
    ray.shutdown()  # no-op unless an earlier test left Ray running
    printed, errors = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(printed),
        contextlib.redirect_stderr(errors),
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("OPENAI_API_KEY", SECRET)
        code = b2n.main(argv)
    session_dir = Path(ray._private.worker._global_node.get_session_dir_path())
    worker_key = ray.get(ray.remote(os.getenv).remote("OPENAI_API_KEY"))
    listening = listening_sockets(ray_processes(session_dir))
    yield Swept(
        root, code, printed.getvalue(), errors.getvalue(), session_dir, worker_key, listening
    )
    ray.shutdown()


def test_sweep_succeeds_prints_progress_and_writes_table(sweep):
    root, code, printed = sweep.root, sweep.code, sweep.printed
    assert code == 0
    for k in range(1, 10):
        assert f"[{k}/9] " in printed
    assert "AVERAGE" in printed and "mlflow ui --backend-store-uri sqlite:///" in printed
    tables = list((root / "results" / "e2e").glob("*/b2n_table.csv"))
    assert len(tables) == 1
    lines = tables[0].read_text().splitlines()
    assert lines[0].startswith("dataset,method,base,new,H")
    rows = [line.split(",") for line in lines[1:]]
    assert {(r[0], r[1]) for r in rows} == {
        (d, v) for d in ("Tones", "Tones2", "AVERAGE") for v in ("zeroshot", "coop", "coop+sept")
    }
    tones2 = next(r for r in rows if r[0] == "Tones2" and r[1] == "coop")
    assert tones2[7] == "2"  # two folds fed the cell


def test_sept_effect_is_paired_per_dataset_and_averaged_as_the_table(sweep):
    root, printed = sweep.root, sweep.printed
    assert "SEPT's effect on H, paired by dataset, fold and seed" in printed
    (run_dir,) = (root / "results" / "e2e").glob("*/")
    table = {
        (r["dataset"], r["method"]): r for r in csv.DictReader((run_dir / "b2n_table.csv").open())
    }
    effect = {r["dataset"]: r for r in csv.DictReader((run_dir / "sept_effect.csv").open())}
    assert set(effect) == {"Tones", "Tones2", "AVERAGE"}
    assert effect["Tones2"]["pairs"] == "2" and effect["AVERAGE"]["pairs"] == "3"
    for dataset, row in effect.items():
        assert row["method"] == "coop+sept" and row["against"] == "coop"
        gap = float(table[(dataset, "coop+sept")]["H"]) - float(table[(dataset, "coop")]["H"])
        assert float(row["ΔH"]) == pytest.approx(gap, abs=0.006)
    # one seed: Tones has a single pair, so neither it nor the AVERAGE has an interval
    assert effect["Tones"]["95% interval"] == "—" == effect["AVERAGE"]["95% interval"]
    low, high = (float(x) for x in effect["Tones2"]["95% interval"].strip("[]").split(","))
    assert low - 0.006 <= float(effect["Tones2"]["ΔH"]) <= high + 0.006


def runs(root):
    return sweep_runs(f"sqlite:///{root / 'results' / 'mlflow.db'}", "e2e")


def test_every_trial_is_one_finished_nested_run(sweep):
    root = sweep.root
    client, parents, children = runs(root)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    # Tones fold 1 + Tones2 folds 1, 2 -> 3 dataset-folds x 3 variants
    assert len(children) == 9
    assert {r.data.tags[MLFLOW_PARENT_RUN_ID] for r in children} == {parents[0].info.run_id}
    assert all(r.info.status == "FINISHED" for r in children)
    assert {r.data.tags["sept.variant"] for r in children} == {"zeroshot", "coop", "coop+sept"}
    artifacts = {a.path for a in client.list_artifacts(parents[0].info.run_id)}
    assert {"b2n_table.csv", "b2n_table.md"} <= artifacts


def test_the_cache_is_filled_once_before_trials_and_trials_record_their_node(sweep):
    root, printed = sweep.root, sweep.printed
    (fill_file,) = (root / "results" / "e2e").glob("*/cache_fill.json")
    records = json.loads(fill_file.read_text())
    assert sorted((r["dataset"], r["built"]) for r in records) == [
        ("Tones", True),
        ("Tones2", True),
    ]
    assert len(list((root / "results" / "cache").rglob("*.npz"))) == 2  # one entry per dataset
    assert printed.index("embedding cache: Tones") < printed.index("[1/9]")
    _, parents, children = runs(root)
    assert {r.data.tags["sept.node_ip"] for r in children} == {"127.0.0.1"}
    assert {r.data.tags["sept.protocol"] for r in children} == {"b2n"}
    assert (
        "infer_ms" not in children[0].data.metrics
    )  # sweeps other than efficiency never run the audio tower


def test_runs_hold_params_metrics_artifacts_and_consistent_h(sweep, tmp_path):
    root = sweep.root
    client, _, children = runs(root)
    coop = next(r for r in children if r.data.tags["sept.variant"] == "coop+sept")
    params = coop.data.params
    assert params["sept.enabled"] == "True" and params["train.epochs"] == "2"
    assert params["sept.n_neighbors"] == "3" and params["method.name"] == "coop"
    history = client.get_metric_history(coop.info.run_id, "H")
    assert [m.step for m in history] == [1, 2]  # per epoch: the last is the trial's score
    assert coop.data.metrics["H"] == history[-1].value
    names = {a.path for a in client.list_artifacts(coop.info.run_id)}
    assert {
        "prompt.safetensors",
        "config.yaml",
        "per_class_accuracy.json",
        "neighbours.json",
    } <= names
    for tag in (
        "sept.backbone_weights_hash",
        "sept.dataset_manifest_hash",
        "sept.neighbour_bank_hash",
    ):
        assert coop.data.tags[tag]
    assert coop.data.metrics["n_neighbors"] == 3  # the N the trial used
    # the demo preset reports the last epoch, and says so
    assert params["train.report_epoch"] == "last" and coop.data.metrics["report_epoch"] == 2
    assert coop.data.metrics["H_last"] == coop.data.metrics["H"]
    # SEPT's diagnostics: base classes in every epoch's steps, new classes at the last epoch
    assert [m.step for m in client.get_metric_history(coop.info.run_id, "diag_base_drift")] == [
        1,
        2,
    ]
    assert [m.step for m in client.get_metric_history(coop.info.run_id, "diag_new_drift")] == [2]
    assert 0 <= coop.data.metrics["diag_new_intra_active"] <= 1
    assert [m.step for m in client.get_metric_history(coop.info.run_id, "se_intra")] == [1, 2]
    # the UI shows model training, and what the trial read
    experiment = client.get_experiment(coop.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    (read,) = coop.inputs.dataset_inputs
    assert [t.value for t in read.tags] == ["train"]
    profile = json.loads(read.dataset.profile)
    assert profile["manifest"] == coop.data.tags["sept.dataset_manifest_hash"]
    split_file = client.download_artifacts(coop.info.run_id, "split.json", str(tmp_path))
    split = json.loads(Path(split_file).read_text())
    assert profile["fold"] == split["fold"] and profile["train_clips"] == len(split["train_clips"])
    assert profile["new_classes"] == len(split["new"])
    assert profile["new_clips"] == len(split["scored"]["new"]["clips"])
    assert read.dataset.name == f"{coop.data.tags['sept.dataset']} fold {split['fold']}"
    # MLflow keeps one record per (name, digest): trials share one only when they read the
    # same clips (every variant of a dataset, fold and seed), never across folds or seeds
    records = {
        (r.inputs.dataset_inputs[0].dataset.name, r.inputs.dataset_inputs[0].dataset.digest)
        for r in children
    }
    points = {(r.data.params["data.name"], r.data.params["data.fold"]) for r in children}
    assert len(records) == len(points) == 3
    for run in children:
        (only,) = run.inputs.dataset_inputs
        assert json.loads(only.dataset.profile)["fold"] == int(run.data.params["data.fold"])
    bank_file = client.download_artifacts(coop.info.run_id, "neighbour_bank.json", str(tmp_path))
    used = load_bank(bank_file)  # the bank itself, as the trial read it
    assert used.content_hash == coop.data.tags["sept.neighbour_bank_hash"]
    assert used.datasets == load_bank(root / "bank.json").datasets
    local = client.download_artifacts(coop.info.run_id, "per_class_accuracy.json", str(tmp_path))
    per_class = json.loads(Path(local).read_text())
    base = sum(per_class["base"].values()) / len(per_class["base"])  # equal clips per class
    new = sum(per_class["new"].values()) / len(per_class["new"])
    assert coop.data.metrics["H"] == pytest.approx(harmonic_mean(base, new), abs=1e-3)


def test_the_api_key_is_nowhere_in_the_mlflow_store_the_output_or_ray_logs(sweep):
    root, printed = sweep.root, sweep.printed
    # not vacuous: the sweep ran on a Ray whose workers had the key, and they wrote logs
    assert sweep.worker_key == SECRET
    logs = [p for p in (sweep.session_dir / "logs").rglob("*") if p.is_file()]
    assert [p for p in logs if p.name.startswith("worker-") and p.suffix in (".out", ".err")]
    assert [p for p in logs if p.name.startswith("raylet.")]
    assert [p for p in logs if SECRET.encode() in p.read_bytes()] == []
    assert SECRET not in printed and SECRET not in sweep.errors
    client, parents, children = runs(root)
    for run in parents + children:
        assert not any(SECRET in f"{k}={v}" for k, v in run.data.params.items())
        assert not any(SECRET in f"{k}={v}" for k, v in run.data.tags.items())
    stored = [p for p in (root / "results").rglob("*") if p.is_file()]
    assert any(p.name == "mlflow.db" for p in stored)
    assert any(p.name == "neighbour_bank.json" and "mlartifacts" in p.parts for p in stored)
    assert [p for p in stored if SECRET.encode() in p.read_bytes()] == []


def test_the_sweeps_ray_listens_on_loopback_only(sweep):
    """Every socket the sweep's local Ray listens on (GCS, raylet, agents, workers) is bound to
    127.0.0.1 or ::1: nothing of it is reachable from the network."""
    names = {name for name, _ in sweep.listening}
    assert {"gcs_server", "raylet"} <= names
    assert any(name.startswith("ray::") for name in names)  # a worker or an agent
    assert [(name, ip) for name, ip in sweep.listening if not is_loopback(ip)] == []


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(tmp_path, small_weights):
    """A trial whose loss turns non-finite fails with its message; the other trial finishes."""
    from sept_ray.tune import SweepSpec, b2n_grid, run_sweep

    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 4, 2)
    common = {
        "backbone": {"weights": str(small_weights), "device": "cpu"},
        "train": {"epochs": 2, "batch_size": 4},
        "data": {"shots": 4},
        "method": {"n_ctx": 2},
    }
    good = b2n_grid(["Tones"], ["coop"], [0], tmp_path / "data", base=common)
    bad = b2n_grid(
        ["Tones"],
        ["coop"],
        [1],
        tmp_path / "data",
        base={**common, "train": {"epochs": 3, "batch_size": 4, "lr": 1e38}},
    )
    spec = SweepSpec("fail", good + bad, tmp_path / "results", num_cpus=2)
    result = run_sweep(spec)
    assert [o.score.seed for o in result.outcomes] == [0]
    assert len(result.failed) == 1 and result.failed[0][0] == "Tones-fold1-seed1-coop"
    assert "non-finite loss" in result.failed[0][1]
    client = MlflowClient(result.mlflow_uri)
    experiment = client.get_experiment_by_name("fail")
    status = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert status["Tones-fold1-seed0-coop"].info.status == "FINISHED"
    failed = status["Tones-fold1-seed1-coop"]
    assert failed.info.status == "FAILED" and "non-finite loss" in failed.data.tags["sept.error"]

    # the report lists it with its error, and its cell counts 1 of the 2 planned runs
    from sept_ray.report.build import build_report
    from sept_ray.report.record import load_sweep

    files = build_report(load_sweep(result.mlflow_uri, "fail"), tmp_path / "report")
    (failed_csv,) = [p for p in files.csvs if p.name == "failed_trials.csv"]
    rows = list(csv.reader(failed_csv.open()))
    assert rows[1][0] == "Tones-fold1-seed1-coop" and "non-finite loss" in rows[1][1]
    assert not any(p.name == "missing_trials.csv" for p in files.csvs)  # failed, not missing
    blocks = list(csv.DictReader((tmp_path / "report" / "b2n.csv").open()))
    assert [b["runs"] for b in blocks] == ["1/2", "1/2"]  # average and Tones
    assert "Failed trials (1)" in files.html.read_text()


def test_the_sweep_ends_with_its_report_and_sept_report_rebuilds_it_from_mlflow(sweep, tmp_path):
    root, printed = sweep.root, sweep.printed
    (report_dir,) = (root / "results" / "e2e").glob("*/report")
    assert f"report: {report_dir / 'report.html'}" in printed
    (table_file,) = (root / "results" / "e2e").glob("*/b2n_table.csv")
    ours = {(r["dataset"], r["method"]): r for r in csv.DictReader(table_file.open())}
    blocks = list(csv.DictReader((report_dir / "b2n.csv").open()))
    assert {(b["block"], b["Method"]) for b in blocks} == set(ours)
    for block in blocks:
        cell = ours[(block["block"], block["Method"])]
        assert block["H"] == f"{float(cell['H']):.2f}" and block["runs"] == cell["runs"]
        assert block["H (paper)"] == "not comparable"  # tiny-alm, demo preset, Tones
    sept_rows = [b for b in blocks if b["Method"] == "coop+sept"]
    for block in sept_rows:
        coop = ours[(block["block"], "coop")]
        sept = ours[(block["block"], "coop+sept")]
        assert block["ΔH (SEPT)"] == f"{float(sept['H']) - float(coop['H']):+.2f}"
    figures = {p.name for p in (report_dir / "figures").iterdir()}
    assert {"base_vs_new.png", "tsne_Tones.png", "per_class_Tones2.png", "curves_Tones.png"} <= (
        figures
    )
    page = (report_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(figures)
    client, parents, _ = runs(root)
    logged = {a.path for a in client.list_artifacts(parents[0].info.run_id, "report")}
    assert {"report/report.html", "report/report.md", "report/b2n.csv"} <= logged
    assert {"report/sept_effect.csv", "report/sept_diagnostics.csv"} <= logged
    diagnostics = list(csv.DictReader((report_dir / "sept_diagnostics.csv").open()))
    assert {(d["Method"], d["classes"]) for d in diagnostics} >= {("coop+sept", "new")}
    assert all(0 <= float(d["active intra"]) <= 1 for d in diagnostics)

    # `sept report` reads MLflow alone: the sweep's run folder is out of the way meanwhile
    hidden = root / "results" / "e2e.hidden"
    (root / "results" / "e2e").rename(hidden)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(
                ["report", "--experiment", "e2e", "--results", str(root / "results"),
                 "--out", str(tmp_path / "again"), "--tsne-dataset", "Tones2"]
            )  # fmt: skip
    finally:
        hidden.rename(root / "results" / "e2e")
    assert code == 0 and f"report: {tmp_path / 'again' / 'report.html'}" in out.getvalue()
    assert (tmp_path / "again" / "b2n.csv").read_text() == (report_dir / "b2n.csv").read_text()
    assert (tmp_path / "again" / "figures" / "tsne_Tones2.png").is_file()


def test_sept_report_names_what_is_not_there(sweep, tmp_path, capsys):
    root = sweep.root
    assert cli.main(["report", "--experiment", "nope", "--results", str(root / "results")]) == 2
    assert "no MLflow experiment 'nope'" in capsys.readouterr().err
    assert cli.main(["report", "--experiment", "e2e", "--results", str(tmp_path)]) == 2
    assert "no MLflow store at" in capsys.readouterr().err
