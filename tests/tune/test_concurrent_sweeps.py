"""Two sweeps of one experiment started at once on one results folder (one embedding cache, one
fresh MLflow store): both finish, each with its own run folder and runs, and the cache entry is
built once and read whole by the other."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from sept_ray.features import read_entry

from conftest import write_bank, write_tone_dataset

pytestmark = [pytest.mark.slow, pytest.mark.long]  # make test-long
REPO = Path(__file__).resolve().parents[2]
CLASSES = ["alpha", "beta", "delta", "gamma"]


def test_two_sweeps_at_once_share_cache_and_store_without_harm(tmp_path, small_weights):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 40, 3)  # a cache fill of a few s
    write_bank(tmp_path / "bank.json", ["Tones"], CLASSES)
    results = tmp_path / "results"
    argv = [
        "--data-root", str(tmp_path / "data"), "--datasets", "Tones",
        "--results", str(results), "--experiment", "twice",
        "--methods", "coop", "--seeds", "0", "--num-cpus", "1", "--weights", str(small_weights),
        "--set", "train.epochs=2", "train.batch_size=4", "data.shots=4", "method.n_ctx=4",
        f"sept.bank={tmp_path / 'bank.json'}", "sept.n_neighbors=3", "backbone.device=cpu",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    logs = [tmp_path / f"driver{k}.log" for k in (1, 2)]
    drivers = []
    for log in logs:
        with log.open("w") as out:
            drivers.append(
                subprocess.Popen(
                    [sys.executable, "sweeps/b2n.py", *argv],
                    cwd=REPO,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            )
    codes = [driver.wait(timeout=280) for driver in drivers]
    outputs = [log.read_text() for log in logs]
    assert codes == [0, 0], "\n\n".join(o[-3000:] for o in outputs)
    assert all("2 trials finished, 0 failed" in o for o in outputs)

    run_dirs = sorted(p.parent for p in (results / "twice").glob("*/sweep.json"))
    assert len(run_dirs) == 2  # a folder each, though both may have started in one second
    sweeps = [json.loads((d / "sweep.json").read_text()) for d in run_dirs]
    assert sweeps[0]["parent_run_id"] != sweeps[1]["parent_run_id"]

    client = MlflowClient(f"sqlite:///{results / 'mlflow.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "twice"]
    found = client.search_runs([experiment.experiment_id])
    parents = [r for r in found if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    assert sorted(r.info.run_id for r in parents) == sorted(s["parent_run_id"] for s in sweeps)
    assert all(r.info.status == "FINISHED" for r in found)
    for sweep, run_dir in zip(sweeps, run_dirs, strict=True):
        children = [
            r for r in found if r.data.tags.get(MLFLOW_PARENT_RUN_ID) == sweep["parent_run_id"]
        ]
        assert sorted(r.data.tags["sept.trial_name"] for r in children) == sorted(sweep["trials"])
        assert {
            r.data.tags["sept.run_dir"] for r in parents if r.info.run_id == sweep["parent_run_id"]
        } == {str(run_dir)}

    entries = list((results / "cache").rglob("*.npz"))
    assert [p.name.startswith(".") for p in entries] == [False]  # one entry, no temp left
    assert len(read_entry(entries[0]).paths) == 4 * 43
    fills = [json.loads((d / "cache_fill.json").read_text()) for d in run_dirs]
    assert sorted(record["built"] for fill in fills for record in fill) == [False, True]
