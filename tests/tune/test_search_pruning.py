"""The search's pruner (ASHA on per-epoch validation H) stops a setting that is clearly worse,
and the search says what that saved; the stopped setting is neither a failure nor a candidate."""

import contextlib
import csv
import io
import json
import sys

import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from ray import cloudpickle

from sept_ray.tune import trainable
from sweeps import search

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]  # 4 base classes


def third_scores_zero(train, markers):
    """``train`` whose third setting (the fourth trial: the reference without SEPT runs first;
    trials run one at a time) reports H = 0 at every epoch: a setting clearly worse than the
    two before it."""

    def run(config):
        from ray import tune

        index = len(list(markers.glob("*.started")))
        (markers / f"{index}.started").write_text(tune.get_context().get_trial_id())
        if index != 3:
            return train(config)
        report = tune.report

        def zero(metrics, *args, **kwargs):
            if metrics.get("final") == 0:
                metrics = {**metrics, "H": 0.0}
            report(metrics, *args, **kwargs)

        tune.report = zero
        try:
            train(config)
        finally:
            tune.report = report

    return run


cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import it


def test_the_pruner_stops_a_setting_that_is_clearly_worse(tmp_path, small_weights, monkeypatch):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 6, 2)
    write_bank(tmp_path / "bank.json", ["Tones"], CLASSES, per_class=4)
    markers = tmp_path / "markers"
    markers.mkdir()
    wrapped = third_scores_zero(trainable.train_point, markers)
    monkeypatch.setattr(trainable, "train_point", wrapped)
    results = tmp_path / "res"
    argv = [
        "--data-root", str(tmp_path / "data"), "--datasets", "Tones", "--results", str(results),
        "--experiment", "prune", "--num-cpus", "1", "--max-concurrent", "1",
        "--num-samples", "3", "--partitions", "1", "--no-b2n", "--weights", str(small_weights),
        "--set", "train.epochs=2", f"sept.bank={tmp_path / 'bank.json'}", "sept.n_neighbors=3",
        "train.batch_size=4", "method.n_ctx=4", "backbone.device=cpu",
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = search.main(argv)
    out = printed.getvalue()
    assert code == 0, out
    (run_dir,) = (results / "prune").iterdir()
    best = json.loads((run_dir / "best_settings.json").read_text())
    stopped = best["early_stopping"]["stopped"]
    assert (markers / "3.started").read_text() in stopped, stopped  # the third setting
    assert best["early_stopping"]["steps_run"] < best["early_stopping"]["steps_planned"] == 12
    assert best["without_sept"]["H"] > 0  # the reference ran to the end beside them
    assert "stopped early at step " in out and "0 failed" in out  # in progress and summary
    with open(run_dir / "optuna_study.csv") as handle:
        states = [row["state"] for row in csv.DictReader(handle)]
    assert states[0] == "COMPLETE" and states[2] == "PRUNED"  # the defaults ran to the end
    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("prune").experiment_id])
    children = [r for r in runs if MLFLOW_PARENT_RUN_ID in r.data.tags]
    killed = [r for r in children if r.info.status == "KILLED"]
    assert len(killed) == len(stopped) and all("sept.stopped_early" in r.data.tags for r in killed)
    report = (run_dir / "report" / "report.md").read_text()
    assert "settings stopped early or interrupted" in report and "Missing trials" not in report
    scored = {r["trial_id"] for r in csv.DictReader((run_dir / "search_trials.csv").open())}
    assert not scored & set(stopped)  # a stopped setting is no candidate
