"""``sept neighbors show``, ``diff`` and ``check`` on shipped and written banks."""

import json

from sept_ray.cli import main
from sept_ray.sept.bank import load_bank, save_bank


def test_show_a_shipped_dataset_and_one_class(capsys):
    assert main(["neighbors", "show", "UrbanSound8K", "--class", "dog bark"]) == 0
    out = capsys.readouterr().out
    assert "generator: curated" in out and "sha256 " in out
    assert "UrbanSound8K / dog bark: 22 phrases" in out and "    2. puppy yelp" in out
    assert main(["neighbors", "show", "SESA"]) == 0
    out = capsys.readouterr().out
    assert "SESA: 4 classes" in out and "  siren (22): ambulance siren; police siren" in out
    assert main(["neighbors", "show", "SESA", "--class", "nope"]) == 2
    assert "has no class 'nope'" in capsys.readouterr().err


def test_diff_names_removed_and_added_phrases(tmp_path, capsys):
    bank = load_bank("builtin", "SESA")
    changed = json.loads(json.dumps(bank.datasets))
    changed["SESA"]["siren"] = ["klaxon wail", *changed["SESA"]["siren"][1:]]
    changed["SESA"]["explosion"] = list(reversed(changed["SESA"]["explosion"]))
    del changed["SESA"]["casual"]
    other = type(bank)(changed, {**bank.provenance, "date": "2027-01-01"}, "x")
    save_bank(other, tmp_path / "other.json")
    assert main(["neighbors", "diff", "SESA", str(tmp_path / "other.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "provenance.date: '2026-11-26' -> '2027-01-01'" in out
    assert "SESA/casual: only in a" in out
    assert "SESA/siren: -1 +1, 21 shared" in out
    assert "  - ambulance siren" in out and "  + klaxon wail" in out
    assert "  (same phrases, order changed)" in out
    assert main(["neighbors", "diff", "SESA", "SESA"]) == 0
    assert "no differences" in capsys.readouterr().out


def test_check_passes_shipped_banks_and_lists_problems_of_others(tmp_path, capsys):
    assert main(["neighbors", "check", "ESC50", "--n", "20"]) == 0
    assert "valid (1 dataset(s), >= 20 phrases per class)" in capsys.readouterr().out
    bank = load_bank("builtin", "SESA")
    entries = json.loads(json.dumps(bank.datasets))
    entries["SESA"]["gunshot"][3] = "Siren"
    save_bank(type(bank)(entries, bank.provenance, "x"), tmp_path / "bad.json")
    assert main(["neighbors", "check", str(tmp_path / "bad.json"), "--n", "22"]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "SESA/gunshot: 'Siren' is not normalised" in err
    assert "SESA/gunshot: 'siren': another class's name" in err


def test_check_knows_the_classes_of_a_registered_dataset(tmp_path, capsys):
    bank = load_bank("builtin", "SESA")
    entries = json.loads(json.dumps(bank.datasets))
    del entries["SESA"]["siren"]
    save_bank(type(bank)(entries, bank.provenance, "x"), tmp_path / "no_siren.json")
    assert main(["neighbors", "check", str(tmp_path / "no_siren.json"), "--n", "20"]) == 2
    assert "siren" in capsys.readouterr().err
    entries = {"MyData": {"hum": [f"low hum {i}" for i in range(20)]}}  # unknown: its own classes
    save_bank(type(bank)(entries, bank.provenance, "y"), tmp_path / "mine.json")
    assert main(["neighbors", "check", str(tmp_path / "mine.json"), "--n", "20"]) == 0
