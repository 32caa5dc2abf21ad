"""End to end: a tiny b2n sweep through Ray Tune (local Ray on loopback), read back from MLflow."""

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from sept_ray import cli
from sept_ray.metrics import harmonic_mean
from sept_ray.sept.bank import load_bank
from sweeps import b2n

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]
SECRET = "sk-sweep-0123456789-must-not-leak"  # an API key in the environment of the sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, small_weights):
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
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.MonkeyPatch.context() as env:
        env.setenv("OPENAI_API_KEY", SECRET)
        code = b2n.main(argv)
    return root, code, printed.getvalue()


def test_sweep_succeeds_prints_progress_and_writes_table(sweep):
    root, code, printed = sweep
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


def runs(root):
    client = MlflowClient(f"sqlite:///{root / 'results' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("e2e")
    found = client.search_runs([experiment.experiment_id])
    parents = [r for r in found if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = [r for r in found if MLFLOW_PARENT_RUN_ID in r.data.tags]
    return client, parents, children


def test_every_trial_is_one_finished_nested_run(sweep):
    root, _, _ = sweep
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
    root, _, printed = sweep
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
    root, _, _ = sweep
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
    bank_file = client.download_artifacts(coop.info.run_id, "neighbour_bank.json", str(tmp_path))
    used = load_bank(bank_file)  # the bank itself, as the trial read it
    assert used.content_hash == coop.data.tags["sept.neighbour_bank_hash"]
    assert used.datasets == load_bank(root / "bank.json").datasets
    local = client.download_artifacts(coop.info.run_id, "per_class_accuracy.json", str(tmp_path))
    per_class = json.loads(Path(local).read_text())
    base = sum(per_class["base"].values()) / len(per_class["base"])  # equal clips per class
    new = sum(per_class["new"].values()) / len(per_class["new"])
    assert coop.data.metrics["H"] == pytest.approx(harmonic_mean(base, new), abs=1e-3)


def test_the_api_key_is_nowhere_in_the_mlflow_store_or_the_output(sweep):
    root, _, printed = sweep
    assert SECRET not in printed
    client, parents, children = runs(root)
    for run in parents + children:
        assert not any(SECRET in f"{k}={v}" for k, v in run.data.params.items())
        assert not any(SECRET in f"{k}={v}" for k, v in run.data.tags.items())
    stored = [p for p in (root / "results").rglob("*") if p.is_file()]
    assert any(p.name == "mlflow.db" for p in stored)
    assert any(p.name == "neighbour_bank.json" and "mlartifacts" in p.parts for p in stored)
    assert [p for p in stored if SECRET.encode() in p.read_bytes()] == []


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
    root, _, printed = sweep
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
    root, _, _ = sweep
    assert cli.main(["report", "--experiment", "nope", "--results", str(root / "results")]) == 2
    assert "no MLflow experiment 'nope'" in capsys.readouterr().err
    assert cli.main(["report", "--experiment", "e2e", "--results", str(tmp_path)]) == 2
    assert "no MLflow store at" in capsys.readouterr().err
