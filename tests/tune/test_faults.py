"""A 12-trial sweep where a quarter of the trials crash once (two raise, one kills its worker
process): every trial finishes, each is one FINISHED MLflow run with one point per epoch, and a
crashed trial continues from its last checkpoint to the numbers of an uninterrupted trial."""

import contextlib
import io

import pytest
from fault_injection import Fault, faulty
from mlflow_server import sweep_runs

from sept_ray.config import TrialConfig
from sept_ray.train import run_trial
from sept_ray.tune import trainable
from sweeps import b2n

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]
EPOCHS = 4
FAULTS = {  # trial -> fault: it fires before that epoch is reported
    "Tones-fold1-seed0-coop": Fault(2, "raise"),
    "Tones-fold1-seed3-coop+sept": Fault(3, "raise"),
    "Tones-fold1-seed4-coop": Fault(3, "exit"),
}


@pytest.fixture(scope="module")
def crashed_sweep(tmp_path_factory, small_weights):
    root = tmp_path_factory.mktemp("faults")
    write_tone_dataset(root / "data", "Tones", CLASSES, 6, 3)
    write_bank(root / "bank.json", ["Tones"], CLASSES)
    argv = [
        "--data-root", str(root / "data"), "--datasets", "Tones",
        "--results", str(root / "results"), "--experiment", "faults",
        "--methods", "coop", "--seeds", "0", "1", "2", "3", "4", "5",
        "--num-cpus", "2", "--max-failures", "1", "--weights", str(small_weights),
        "--set", f"train.epochs={EPOCHS}", "train.batch_size=4", "data.shots=4",
        "method.n_ctx=4", f"sept.bank={root / 'bank.json'}", "sept.n_neighbors=3",
        "backbone.device=cpu",
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            trainable, "train_point", faulty(trainable.train_point, FAULTS, root / "fired")
        )
        code = b2n.main(argv)
    return root, code, printed.getvalue()


def child_runs(root):
    return sweep_runs(f"sqlite:///{root / 'results' / 'mlflow.db'}", "faults")


def test_every_trial_finishes_though_a_quarter_crashed(crashed_sweep):
    root, code, printed = crashed_sweep
    assert code == 0, printed
    assert "12 trials finished, 0 failed" in printed
    fired = sorted(p.stem for p in (root / "fired").glob("*.fired"))
    assert fired == sorted(FAULTS)  # every fault fired, once


def test_each_trial_is_one_finished_run_with_one_point_per_epoch(crashed_sweep):
    root, _, _ = crashed_sweep
    client, parents, children = child_runs(root)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    names = [r.data.tags["sept.trial_name"] for r in children]
    assert len(names) == 12 and len(set(names)) == 12
    assert all(r.info.status == "FINISHED" for r in children)
    restarted = {
        r.data.tags["sept.trial_name"]: r for r in children if "sept.restarts" in r.data.tags
    }
    assert sorted(restarted) == sorted(FAULTS)
    assert {r.data.tags["sept.restarts"] for r in restarted.values()} == {"1"}
    for name, run in restarted.items():
        error = run.data.tags["sept.last_error"]
        if FAULTS[name].mode == "raise":
            assert "InjectedFault: injected fault at epoch" in error
        else:  # the worker process died: Ray says so
            assert "worker process has died" in error
    for run in children:
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "H")]
        assert sorted(steps) == list(range(1, EPOCHS + 1)), run.data.tags["sept.trial_name"]


def test_a_crashed_trial_continues_from_its_checkpoint_to_the_uninterrupted_numbers(
    crashed_sweep, tmp_path
):
    root, _, _ = crashed_sweep
    _, _, children = child_runs(root)
    by_name = {r.data.tags["sept.trial_name"]: r for r in children}
    for name, fault in FAULTS.items():
        run = by_name[name]
        # the last checkpoint was the epoch before the fault: training went on from there
        assert run.data.tags["sept.resumed_from_epoch"] == str(fault.epoch - 1)
        (trial_dir,) = (root / "results" / "faults").glob(f"*/trials/{name}")
        cfg = TrialConfig.from_yaml(trial_dir / "config.yaml")
        again = run_trial(
            TrialConfig.from_dict({**cfg.to_dict(), "output_dir": str(tmp_path / name)})
        )
        assert run.data.metrics["H"] == pytest.approx(again.h, abs=1e-9)
        assert run.data.metrics["base"] == pytest.approx(again.base, abs=1e-9)
        assert run.data.metrics["new"] == pytest.approx(again.new, abs=1e-9)
    untouched = [r for n, r in by_name.items() if n not in FAULTS]
    assert all("sept.resumed_from_epoch" not in r.data.tags for r in untouched)
