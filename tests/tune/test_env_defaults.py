"""A sweep's results, data, MLflow and Ray come from the flags, else the environment (what a
cluster config sets on its nodes), else the built-in defaults; its first lines say which."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from sept_ray.data.synth.world import BUILTIN_DATASETS
from sept_ray.tune.cli import StudySetup, parse_study_args, study_setup, study_spec
from sept_ray.tune.env_defaults import ENV_VARS
from sweeps import b2n

from conftest import write_tone_dataset

REPO = Path(__file__).resolve().parents[2]
CLUSTER = {
    "SEPT_RESULTS_DIR": "/mnt/shared/results",
    "SEPT_DATA_ROOT": "/mnt/shared/data",
    "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
    "RAY_ADDRESS": "auto",
}


@pytest.fixture
def no_env(monkeypatch):
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def parse(argv: list[str]):
    return parse_study_args(b2n.build_parser(), argv, "b2n")


def first_lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_the_cluster_environment_is_the_default(no_env, capsys):
    for var, value in CLUSTER.items():
        no_env.setenv(var, value)
    args = parse([])
    assert args.results == Path("/mnt/shared/results")
    assert args.data_root == Path("/mnt/shared/data")
    assert args.mlflow_uri == "http://127.0.0.1:5000"
    assert args.ray_address == "auto"
    assert first_lines(capsys) == [
        "results: /mnt/shared/results ($SEPT_RESULTS_DIR)",
        "data: /mnt/shared/data ($SEPT_DATA_ROOT)",
        "MLflow: http://127.0.0.1:5000 ($MLFLOW_TRACKING_URI)",
        "Ray: joins the cluster at auto ($RAY_ADDRESS)",
    ]


def test_flags_win_over_the_environment(no_env, tmp_path, capsys):
    for var, value in CLUSTER.items():
        no_env.setenv(var, value)
    args = parse(
        ["--results", str(tmp_path / "r"), "--data-root", str(tmp_path / "d"),
         "--mlflow-uri", "sqlite:///x.db", "--ray-address", "local"]
    )  # fmt: skip
    assert (args.results, args.data_root) == (tmp_path / "r", tmp_path / "d")
    assert (args.mlflow_uri, args.ray_address) == ("sqlite:///x.db", "local")
    assert first_lines(capsys) == [
        f"results: {tmp_path / 'r'} (--results)",
        f"data: {tmp_path / 'd'} (--data-root)",
        "MLflow: sqlite:///x.db (--mlflow-uri)",
        "Ray: starts a one-node Ray on this machine (--ray-address)",
    ]


def test_without_flags_or_environment_the_built_in_defaults(no_env, tmp_path, capsys):
    no_env.chdir(tmp_path)
    no_env.setenv("RAY_ADDRESS", "")  # empty counts as unset
    args = parse([])
    assert (args.results, args.data_root) == (Path("results"), Path("results") / "data")
    assert (args.mlflow_uri, args.ray_address) == ("", "")
    assert first_lines(capsys) == [
        f"results: {tmp_path / 'results'} (default)",
        f"data: {tmp_path / 'results' / 'data'} (default)",
        f"MLflow: sqlite:///{tmp_path / 'results' / 'mlflow.db'} (default)",
        "Ray: starts a one-node Ray on this machine (default)",
    ]


def test_one_flag_leaves_the_others_to_the_environment(no_env, tmp_path, capsys):
    for var, value in CLUSTER.items():
        no_env.setenv(var, value)
    args = parse(["--mlflow-uri", "sqlite:///y.db"])
    assert args.origins == {
        "results": "env", "data_root": "env", "mlflow_uri": "flag", "ray_address": "env"
    }  # fmt: skip
    assert args.results == Path("/mnt/shared/results") and args.ray_address == "auto"


def test_the_built_in_world_goes_to_a_default_data_root_never_to_a_named_one(no_env, tmp_path):
    name = next(iter(BUILTIN_DATASETS))
    no_env.setenv("SEPT_DATA_ROOT", str(tmp_path / "env-data"))
    setup = study_setup(parse(["--smoke-test", "--datasets", name]))
    assert setup.data_root == tmp_path / "env-data"
    assert (tmp_path / "env-data" / name).is_dir()  # synthesized into $SEPT_DATA_ROOT
    named = tmp_path / "named"
    named.mkdir()
    setup = study_setup(parse(["--smoke-test", "--datasets", name, "--data-root", str(named)]))
    assert setup.data_root == named and list(named.iterdir()) == []


@pytest.mark.slow
def test_a_sweep_with_no_options_but_the_environment_writes_and_logs_where_it_says(
    tmp_path, small_weights
):
    """sweeps/b2n.py run as a script, its results folder, data root and MLflow store given only
    by the environment (RAY_ADDRESS=local: its own Ray): everything lands there, nothing in its
    working folder."""
    write_tone_dataset(tmp_path / "data", "Tones", ["alpha", "beta", "delta", "gamma"], 6, 3)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "MLFLOW_"))}
    env.update(
        SEPT_RESULTS_DIR=str(tmp_path / "shared-results"),
        SEPT_DATA_ROOT=str(tmp_path / "data"),
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'tracking' / 'mlflow.db'}",
        RAY_ADDRESS="local",
    )
    done = subprocess.run(
        [sys.executable, str(REPO / "sweeps" / "b2n.py"), "--datasets", "Tones",
         "--methods", "zeroshot", "--sept", "off", "--num-cpus", "1", "--weights", str(small_weights),
         "--set", "data.shots=4", "backbone.device=cpu"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.splitlines()[:4] == [
        f"results: {tmp_path / 'shared-results'} ($SEPT_RESULTS_DIR)",
        f"data: {tmp_path / 'data'} ($SEPT_DATA_ROOT)",
        f"MLflow: sqlite:///{tmp_path / 'tracking' / 'mlflow.db'} ($MLFLOW_TRACKING_URI)",
        "Ray: starts a one-node Ray on this machine ($RAY_ADDRESS)",
    ]
    assert list((tmp_path / "shared-results" / "b2n").glob("*/b2n_table.csv"))
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("b2n")
    assert experiment is not None
    assert len(client.search_runs([experiment.experiment_id])) == 2  # the parent and one trial
    assert list(work.iterdir()) == []


def test_a_sweep_stores_its_folders_from_the_environment_for_a_resume(no_env):
    """A resume re-parses the sweep's stored options: folders taken from the environment are
    stored as options, so it finds them wherever it runs; flags are stored as given."""
    for var, value in CLUSTER.items():
        no_env.setenv(var, value)
    argv = ["--smoke-test", "--mlflow-uri", "sqlite:///y.db"]
    args = parse(argv)
    setup = StudySetup(["Tones"], [1], [0], args.data_root, {})
    stored = study_spec(args, "b2n", setup, [], {}, argv).params["argv"]
    assert stored == (
        "--smoke-test --mlflow-uri sqlite:///y.db "
        "--results /mnt/shared/results --data-root /mnt/shared/data"
    )
    for var in CLUSTER:
        no_env.delenv(var)
    again = parse(shlex.split(stored))
    assert (again.results, again.data_root) == (args.results, args.data_root)
