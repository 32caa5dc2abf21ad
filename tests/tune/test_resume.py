"""Kill a sweep's driver mid-sweep, resume it, and count its MLflow runs."""

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from mlflow_server import sweep_runs

from sweeps import b2n

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CLASSES = ["alpha", "beta", "delta", "gamma"]


def finished_trials(results: Path) -> dict[str, float]:
    """Trial folder name -> mtime of its metrics.json (written when a trial ends)."""
    return {
        p.parent.name: p.stat().st_mtime for p in results.glob("resume/*/trials/*/metrics.json")
    }


def saved_terminated(results: Path) -> int:
    """Trials Tune's latest saved experiment state marks TERMINATED (what a restore keeps)."""
    states = sorted(results.glob("resume/*/ray/resume/experiment_state-*.json"))
    if not states:
        return 0
    try:
        saved = json.loads(states[-1].read_text())
    except (OSError, json.JSONDecodeError):  # being rewritten
        return 0
    return sum(json.loads(t[0]).get("status") == "TERMINATED" for t in saved["trial_data"])


def kill_session(leader: int) -> None:
    """SIGKILL the driver's whole session (the driver and the local Ray it started)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader, signal.SIGKILL)
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if os.getsid(proc.pid) == leader:
                proc.kill()


def check_partial_report(results: Path, out: Path) -> None:
    """The report of the killed sweep: its finished runs averaged as k of the 6 planned, the
    others listed as missing with their state, no cell shown as 0."""
    from sept_ray.report.build import build_report
    from sept_ray.report.record import load_sweep

    record = load_sweep(f"sqlite:///{results / 'mlflow.db'}", "resume")
    done = len(record.finished())
    files = build_report(record, out, log_to_mlflow=False, progress=lambda _: None)
    blocks = list(csv.DictReader((out / "b2n.csv").open()))
    assert len(blocks) == 4  # coop and coop+sept; average and Tones
    for block in blocks:  # 3 seeds planned per cell
        k = sum(t.label == block["Method"] for t in record.finished())
        assert block["runs"] == {0: "0", 3: "3"}.get(k, f"{k}/3")
        assert (block["H"] == "missing") == (k == 0)
    missing = list(csv.DictReader((out / "missing_trials.csv").open()))
    assert len(missing) == 6 - done
    assert {m["status"] for m in missing} <= {"never started", "RUNNING"}
    assert f"Missing trials ({6 - done})" in files.html.read_text()


def test_a_killed_sweep_resumes_and_keeps_one_run_per_trial(tmp_path, small_weights):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 6, 3)
    write_bank(tmp_path / "bank.json", ["Tones"], CLASSES)
    results = tmp_path / "results"
    argv = [
        "--data-root", str(tmp_path / "data"), "--datasets", "Tones",
        "--results", str(results), "--experiment", "resume",
        "--methods", "coop", "--seeds", "0", "1", "2",
        "--num-cpus", "1", "--max-concurrent", "1", "--weights", str(small_weights),
        "--set", "train.epochs=8", "train.batch_size=4", "data.shots=4", "method.n_ctx=4",
        f"sept.bank={tmp_path / 'bank.json'}", "sept.n_neighbors=3", "backbone.device=cpu",
    ]  # fmt: skip
    log = open(tmp_path / "first.log", "w")  # noqa: SIM115 - the child writes it
    # Tune saves its experiment state every second (default: adaptive, often tens of seconds)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TUNE_GLOBAL_CHECKPOINT_S": "1"}
    driver = subprocess.Popen(
        [sys.executable, "sweeps/b2n.py", *argv],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 240
        while saved_terminated(results) < 2:  # Tune snapshots its state now and then
            assert driver.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "Tune saved no 2 finished trials in 240 s"
            time.sleep(0.2)
    finally:
        kill_session(driver.pid)
        driver.wait()
        log.close()
    killed_at = time.time()
    before = finished_trials(results)
    assert 2 <= len(before) < 6, "the sweep ended before it could be killed mid-way"
    check_partial_report(results, tmp_path / "partial")

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = b2n.main(["--resume", "--results", str(results), "--experiment", "resume"])
    out = printed.getvalue()
    assert code == 0, out
    assert "resuming" in out and "6 trials finished, 0 failed" in out

    after = finished_trials(results)
    assert len(after) == 6
    kept = [name for name, stamp in after.items() if stamp < killed_at]
    assert len(kept) >= 2, "trials that had finished before the kill ran again"

    run_dirs = list((results / "resume").iterdir())
    assert len(run_dirs) == 1  # the resume wrote into the interrupted run's folder
    sweep = json.loads((run_dirs[0] / "sweep.json").read_text())
    client, parents, children = sweep_runs(f"sqlite:///{results / 'mlflow.db'}", "resume")
    assert [p.info.run_id for p in parents] == [sweep["parent_run_id"]]
    assert parents[0].info.status == "FINISHED"
    names = sorted(r.data.tags["sept.trial_name"] for r in children)
    assert names == sorted(sweep["trials"]) and len(names) == 6  # exactly one run per trial
    assert all(r.info.status == "FINISHED" for r in children)
    for run in children:  # one point per epoch: nothing logged twice across the kill
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "H")]
        assert sorted(steps) == list(range(1, 9)), run.data.tags["sept.trial_name"]
    resumed = [r for r in children if "sept.resumed_from_epoch" in r.data.tags]
    check_table_matches_uninterrupted(run_dirs[0], tmp_path / "again")
    print(
        f"runs: 1 parent, {len(children)} trials; {len(kept)} kept from before the kill, "
        f"{len(resumed)} continued from a checkpoint"
    )


def check_table_matches_uninterrupted(run_dir: Path, scratch: Path) -> None:
    """The resumed sweep's table is the one its trials give when each runs uninterrupted (in
    this process, from the config the sweep recorded)."""
    from sept_ray.config import TrialConfig
    from sept_ray.metrics import RunScore, aggregate
    from sept_ray.report.tables import write_tables
    from sept_ray.train import run_trial

    scores = []
    for config_file in sorted(run_dir.glob("trials/*/config.yaml")):
        cfg = TrialConfig.from_yaml(config_file)
        cfg = TrialConfig.from_dict({**cfg.to_dict(), "output_dir": str(scratch / cfg.variant)})
        result = run_trial(cfg)
        scores.append(
            RunScore("Tones", cfg.variant, cfg.train.seed, 1, result.base, result.new, result.h)
        )
    (expected,) = [p for p in write_tables(aggregate(scores), scratch) if p.suffix == ".csv"]
    assert (run_dir / "b2n_table.csv").read_text() == expected.read_text()
