"""End to end: the cross-dataset sweep and the Optuna search of SEPT's settings."""

import contextlib
import csv
import io
import json

import pytest
from fault_injection import Fault, faulty
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from sept_ray.data.synth.world import ensure_world
from sept_ray.tune import trainable
from sept_ray.tune.search_space import SEARCHED
from sweeps import search, xd

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]
TARGET_CLASSES = ["epsilon", "zeta", "eta"]
TINY = ["train.batch_size=4", "method.n_ctx=4", "backbone.device=cpu"]


def run(module, argv):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = module.main(argv)
    return code, printed.getvalue()


def test_xd_trains_on_the_source_and_scores_source_and_target(tmp_path, small_weights):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 6, 3)
    write_tone_dataset(tmp_path / "data", "Other", TARGET_CLASSES, 2, 4, folds=2)
    write_bank(tmp_path / "bank.json", ["Tones"], CLASSES)
    results = tmp_path / "res"
    code, printed = run(
        xd,
        [
            "--data-root", str(tmp_path / "data"), "--pairs", "Tones:Other",
            "--results", str(results), "--experiment", "xd", "--num-cpus", "2",
            "--weights", str(small_weights), "--set", "train.epochs=2", "data.shots=4",
            f"sept.bank={tmp_path / 'bank.json'}", "sept.n_neighbors=3", *TINY,
        ],
    )  # fmt: skip
    assert code == 0, printed
    assert "Tones->Other" in printed and "Source" in printed
    assert not list(results.glob("xd/*/b2n_table.csv"))
    assert len(list(results.glob("xd/*/xd_scores.csv"))) == 1  # base = source, new = target
    (table,) = results.glob("xd/*/xd_table.csv")
    rows = list(csv.reader(table.open()))
    assert rows[0] == ["source -> target", "method", "Source", "Target", "runs"]
    assert {(r[0], r[1]) for r in rows[1:]} == {
        ("Tones->Other", "coop"),
        ("Tones->Other", "coop+sept"),
    }
    (split_file,) = results.glob("xd/*/trials/Tones-to-Other-fold1-seed0-coop/split.json")
    split = json.loads(split_file.read_text())
    assert split["train_classes"] == CLASSES  # every source class is trained on
    assert split["scored"]["source"]["classes"] == CLASSES
    assert split["scored"]["target"]["classes"] == sorted(TARGET_CLASSES)
    assert len(split["scored"]["target"]["clips"]) == 3 * 3  # target fold 1's test clips
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("xd")
    children = [
        r
        for r in client.search_runs([experiment.experiment_id])
        if MLFLOW_PARENT_RUN_ID in r.data.tags
    ]
    assert {r.data.tags["sept.protocol"] for r in children} == {"xd"}
    source = float(next(r for r in rows[1:] if r[1] == "coop")[2])
    coop = next(r for r in children if r.data.tags["sept.variant"] == "coop")
    assert coop.data.metrics["base"] == pytest.approx(source, abs=0.01)
    # the report's xd table: ours from MLflow, the paper's column "not comparable" (tiny-alm)
    (report,) = results.glob("xd/*/report/xd.csv")
    shown = {(r[0], r[1]): r for r in list(csv.reader(report.open()))[1:]}
    assert shown[("Tones->Other", "coop")][2] == f"{source:.2f}"
    assert shown[("Tones->Other", "coop")][5] == "not comparable"


def test_search_on_the_builtin_world_never_reads_a_test_clip(tmp_path, monkeypatch):
    root = ensure_world(tmp_path / "data", ["SynthHome"])
    write_tone_dataset(root, "Tones", CLASSES, 6, 3)  # 2 base classes: left out
    results = tmp_path / "res"
    # the first sample to finish its epoch 2 raises once: it continues from its epoch-1 checkpoint
    faults = {"search": Fault(2, "raise")}
    monkeypatch.setattr(trainable, "train_point", faulty(trainable.train_point, faults, tmp_path))
    code, printed = run(
        search,
        [
            "--data-root", str(root), "--datasets", "SynthHome", "Tones",
            "--results", str(results), "--experiment", "srch", "--num-cpus", "2",
            "--num-samples", "3", "--max-concurrent", "2", "--folds", "2", "--no-b2n",
            "--partitions", "2", "--no-prune", "--set", "train.epochs=3", *TINY,
        ],
    )  # fmt: skip
    assert code == 0, printed
    assert "Tones is left out of the objective (2 base classes" in printed
    assert "best sampled setting: " in printed and "recommended: the " in printed
    assert "  without SEPT: " in printed  # the reference, on the same objective
    (run_dir,) = (results / "srch").iterdir()
    with open(root / "SynthHome" / "csv_files" / "test_2.csv") as handle:
        test_clips = {row["path"] for row in csv.DictReader(handle)}
    # the reference without SEPT and 3 settings, each on 2 partitions
    splits = sorted(run_dir.glob("trials/*/SynthHome-p*/split.json"))
    assert len(splits) == 8 and not list(run_dir.glob("trials/*/Tones*"))
    for path in splits:
        split = json.loads(path.read_text())
        assert split["protocol"] == "val" and split["fold"] == 2
        read = {c["path"] for c in split["train_clips"]}
        read |= {p for group in split["scored"].values() for p in group["clips"]}
        assert read and not read & test_clips  # no test clip trained on or scored
        assert split["train_classes"] == split["scored"]["pseudo_base"]["classes"]
        assert len(split["train_classes"]) == 3  # base = 5 of 10 -> pseudo-base 3, pseudo-new 2
        assert len(split["scored"]["pseudo_new"]["classes"]) == 2
        assert not set(split["scored"]["pseudo_base"]["clips"]) & {
            c["path"] for c in split["train_clips"]
        }
    for trial in {p.parent.parent for p in splits}:  # the two partitions differ
        parts = [json.loads((trial / f"SynthHome-p{r}" / "split.json").read_text()) for r in (0, 1)]
        assert parts[0]["train_classes"] != parts[1]["train_classes"]
    best = json.loads((run_dir / "best_settings.json").read_text())
    assert best["recommended"] in ("searched", "defaults") and best["why"]
    chosen = best["best_searched" if best["recommended"] == "searched" else "defaults"]
    assert best["settings"] == chosen["settings"] and set(best["settings"]) <= set(SEARCHED)
    assert best["defaults"]["settings"]["sept.lam"] == 1.0  # the trials' own, scored first
    assert 0.01 <= best["best_searched"]["settings"]["sept.lam"] <= 10
    assert best["best_searched"]["spread_H"] >= 0
    top = max(best["best_searched"]["H"], best["defaults"]["H"])
    with open(run_dir / "optuna_study.csv") as handle:
        study = list(csv.DictReader(handle))
    assert len(study) == 3 and {r["state"] for r in study} == {"COMPLETE"}
    assert max(float(r["value"]) for r in study) == pytest.approx(top)
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("srch")
    found = client.search_runs([experiment.experiment_id])
    parent = next(r for r in found if MLFLOW_PARENT_RUN_ID not in r.data.tags)
    children = [r for r in found if MLFLOW_PARENT_RUN_ID in r.data.tags]
    assert len(children) == 4 and all(r.info.status == "FINISHED" for r in children)
    (reference,) = [r for r in children if r.data.params["sept.enabled"] == "False"]
    settings = [r for r in children if r is not reference]
    (retried,) = [r for r in children if "sept.restarts" in r.data.tags]
    assert retried.data.tags["sept.resumed_from_epoch"] == "1"
    assert "InjectedFault" in retried.data.tags["sept.last_error"]
    for child in children:  # one point per step, the retried sample's too
        steps = [m.step for m in client.get_metric_history(child.info.run_id, "H")]
        assert sorted(steps) == [1, 2, 3, 5, 6, 7, 8], steps  # 3 epochs twice, then the mean
    assert parent.data.metrics["best_val_H"] == pytest.approx(top)
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} >= {
        "optuna_study.csv",
        "best_settings.json",
        "search_trials.csv",
    }
    assert all("H_SynthHome" in r.data.metrics for r in children)
    # the search's report: its trials from MLflow, best first, and Optuna's two figures
    assert all(
        r.data.metrics["H"] == pytest.approx(r.data.metrics["H_SynthHome"]) for r in children
    )
    report = run_dir / "report"
    trials = list(csv.DictReader((report / "search.csv").open()))
    assert [float(t["H (val)"]) for t in trials] == sorted(
        (round(r.data.metrics["H"], 2) for r in children), reverse=True
    )
    assert any(t["sept.lam"] == "1" or t["sept.lam"] == "1.0" for t in trials)  # the defaults'
    assert all(t["spread"] for t in trials)
    figures = {p.name for p in (report / "figures").iterdir()}
    if len({r.data.metrics["H"] for r in settings}) > 1:
        assert figures == {"optuna_history.png", "optuna_importances.png"}
    else:  # every setting scored the same: no importances, and the report says why
        assert figures == {"optuna_history.png"}
        assert "optuna_importances: no importances:" in (report / "report.md").read_text()


def test_xd_refuses_datasets_and_bad_pairs(tmp_path):
    with pytest.raises(ValueError, match="--datasets has no effect on xd"):
        xd.main(["--datasets", "SynthHome", "--results", str(tmp_path)])
    with pytest.raises(ValueError, match="expected SOURCE:TARGET"):
        xd.main(["--pairs", "SynthHome", "--results", str(tmp_path)])


def test_a_search_trial_retried_in_its_second_dataset_skips_the_first(
    tmp_path, small_weights, monkeypatch
):
    classes = ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]  # 4 base classes each
    for name in ("TonesA", "TonesB"):
        write_tone_dataset(tmp_path / "data", name, classes, 6, 2)
    write_bank(tmp_path / "bank.json", ["TonesA", "TonesB"], classes, per_class=4)
    results = tmp_path / "res"
    # steps 1-2 are TonesA's epochs, 3 its end, 4-5 TonesB's: fail once at TonesB's epoch 2
    faults = {"search": Fault(5, "raise")}
    monkeypatch.setattr(trainable, "train_point", faulty(trainable.train_point, faults, tmp_path))
    code, printed = run(
        search,
        [
            "--data-root", str(tmp_path / "data"), "--datasets", "TonesA", "TonesB",
            "--results", str(results), "--experiment", "srch2", "--num-cpus", "1",
            "--num-samples", "1", "--partitions", "1", "--no-b2n", "--weights", str(small_weights),
            "--set", "train.epochs=2", f"sept.bank={tmp_path / 'bank.json'}",
            "sept.n_neighbors=3", *TINY,
        ],
    )  # fmt: skip
    assert code == 0, printed
    (run_dir,) = (results / "srch2").iterdir()
    fired = (tmp_path / "search.fired").stat().st_mtime
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    children = [
        r
        for r in client.search_runs([client.get_experiment_by_name("srch2").experiment_id])
        if MLFLOW_PARENT_RUN_ID in r.data.tags
    ]  # the reference without SEPT and the defaults
    assert [r.info.status for r in children] == ["FINISHED"] * 2
    (child,) = [r for r in children if r.data.tags.get("sept.restarts") == "1"]
    trial_id = child.info.run_name.removeprefix("search-")
    first = run_dir / "trials" / trial_id / "TonesA" / "metrics.json"
    assert first.stat().st_mtime < fired  # TonesA was not trained again after the failure
    assert child.data.tags["sept.resumed_from_epoch"] == "4"  # TonesB's epoch-1 checkpoint
    steps = [m.step for m in client.get_metric_history(child.info.run_id, "H")]
    assert sorted(steps) == [1, 2, 4, 5, 6]  # each epoch once, then the mean over datasets
    assert set(child.data.metrics) >= {"H_TonesA", "H_TonesB"}
