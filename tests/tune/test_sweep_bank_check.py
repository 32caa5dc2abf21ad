"""A bad neighbour bank stops a sweep at its start: before Ray, MLflow or any embedding."""

import pytest

from sept_ray.sept.bank import BankError, NeighbourBank, save_bank
from sept_ray.tune import SweepSpec, b2n_grid, run_sweep

from conftest import write_tone_dataset

CLASSES = ["alpha", "beta", "delta", "gamma"]
PROVENANCE = {"generator": "test", "model": "none", "prompt_version": "0", "date": "2026-11-26"}


def sweep_with_bank(tmp_path, phrases, n):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 2, 1)
    save_bank(NeighbourBank({"Tones": phrases}, PROVENANCE, "t"), tmp_path / "bank.json")
    base = {"sept": {"bank": str(tmp_path / "bank.json"), "n_neighbors": n}}
    trials = b2n_grid(["Tones"], ["coop", "coop+sept"], [0], tmp_path / "data", base=base)
    return SweepSpec("bad-bank", trials, tmp_path / "results", num_cpus=1)


def test_a_bank_missing_a_class_fails_before_anything_runs(tmp_path):
    base_only = {"alpha": ["a b", "c d"], "beta": ["e f", "g h"]}  # new classes delta, gamma
    spec = sweep_with_bank(tmp_path, base_only, 2)
    with pytest.raises(
        BankError,
        match=r"Tones-fold1-seed0-coop\+sept: .*lacks class\(es\) \['delta', 'gamma'\]",
    ):
        run_sweep(spec)
    assert not (tmp_path / "results" / "cache").exists()  # no embedding computed
    assert not (tmp_path / "results" / "mlflow.db").exists()  # no run recorded


def test_a_bank_short_of_n_phrases_fails_naming_the_class(tmp_path):
    spec = sweep_with_bank(tmp_path, {c: ["a b", "c d"] for c in CLASSES} | {"beta": ["g h"]}, 2)
    with pytest.raises(BankError, match="needs 2 phrases per class; 'beta' has 1"):
        run_sweep(spec)
    assert not (tmp_path / "results" / "cache").exists()


def test_builtin_resolves_to_the_shipped_bank_of_the_dataset(tmp_path):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 2, 1)
    trials = b2n_grid(["Tones"], ["coop+sept"], [0], tmp_path / "data")
    assert trials[0].config.sept.bank == "builtin"
    with pytest.raises(BankError, match="no shipped bank holds dataset 'Tones'"):
        run_sweep(SweepSpec("no-bank", trials, tmp_path / "results", num_cpus=1))
