"""End to end: the ablation and efficiency studies and b2n over every method, through Ray Tune."""

import contextlib
import csv
import io

import pytest
from mlflow.tracking import MlflowClient

from sweeps import ablation, b2n, efficiency

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]


@pytest.fixture(scope="module")
def world(tmp_path_factory, small_weights):
    root = tmp_path_factory.mktemp("studies")
    write_tone_dataset(root / "data", "Tones", CLASSES, 6, 3)
    write_bank(root / "bank.json", ["Tones"], CLASSES)
    common = [
        "--data-root",
        str(root / "data"),
        "--datasets",
        "Tones",
        "--results",
        str(root / "res"),
        "--num-cpus",
        "2",
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
    return root, common


def run(module, argv):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = module.main(argv)
    return code, printed.getvalue()


def rows_of(path):
    with open(path) as handle:
        return list(csv.reader(handle))


def test_ablation_study(world):
    root, common = world
    code, printed = run(ablation, [*common, "--experiment", "abl"])
    assert code == 0 and "SEPT ablation on coop" in printed
    (table,) = (root / "res" / "abl").glob("*/ablation_table.csv")
    body = rows_of(table)[1:]
    assert [r[0] for r in body] == [str(k) for k in range(1, 8)]
    assert all(r[5] != "missing" for r in body)
    client = MlflowClient(f"sqlite:///{root / 'res' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("abl")
    runs = client.search_runs([experiment.experiment_id])
    labels = sorted(r.data.tags.get("sept.label", "") for r in runs if "sept.label" in r.data.tags)
    assert labels == [f"row{k}" for k in range(1, 8)]
    parent = next(r for r in runs if "sept.label" not in r.data.tags)
    assert "ablation_table.md" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    (report,) = (root / "res" / "abl").glob("*/report/ablation.csv")
    shown = rows_of(report)
    assert shown[0][-4:] == ["Base (paper)", "New (paper)", "H (paper)", "runs"]
    assert [r[:8] for r in shown[1:]] == [r[:8] for r in body]  # the same cells as the sweep's
    assert {r[-2] for r in shown[1:]} == {"not comparable"}


def test_efficiency_study(world):
    root, common = world
    variants = ["cocoop", "dept", "palm+sept", "coop"]
    code, printed = run(efficiency, [*common, "--experiment", "eff", "--variants", *variants])
    assert code == 0 and "Efficiency" in printed
    (table,) = (root / "res" / "eff").glob("*/efficiency_table.csv")
    rows = {r[0]: r for r in rows_of(table)[1:]}
    assert set(rows) == set(variants)
    assert rows["coop"][1] == "1,536"  # 4 context vectors x 384
    assert rows["cocoop"][1] == "20,376"  # + meta-net 384-24-384
    assert float(rows["cocoop"][3]) > float(rows["coop"][3])  # per-clip text features cost more
    assert all(float(r[2]) >= 0 and float(r[3]) >= float(r[4]) >= 0 for r in rows.values())
    (report,) = (root / "res" / "eff").glob("*/report/efficiency.csv")
    shown = {r[0]: r for r in rows_of(report)[1:]}
    assert {k: v[:6] for k, v in shown.items()} == {k: v[:6] for k, v in rows.items()}


def test_b2n_over_every_method(world):
    root, common = world
    code, printed = run(b2n, [*common, "--experiment", "all", "--methods", "all"])
    assert code == 0 and "11 trials finished, 0 failed" in printed
    (table,) = (root / "res" / "all").glob("*/b2n_table.csv")
    methods = {r[1] for r in rows_of(table)[1:]}
    assert methods == {
        "zeroshot",
        "coop",
        "coop+sept",
        "cocoop",
        "cocoop+sept",
        "kgcoop",
        "kgcoop+sept",
        "dept",
        "dept+sept",
        "palm",
        "palm+sept",
    }
