"""``--objective pareto``: Optuna's multi-objective search on validation Base and New, scored
with several training seeds; the front in the files, best_settings.json and the report."""

import contextlib
import csv
import io
import json

import pytest

from sweeps import search

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"]  # 4 base classes


def test_a_pareto_search_writes_the_front_and_scores_every_seed(tmp_path, small_weights):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 6, 2)
    write_bank(tmp_path / "bank.json", ["Tones"], CLASSES, per_class=4)
    results = tmp_path / "res"
    argv = [
        "--data-root", str(tmp_path / "data"), "--datasets", "Tones", "--results", str(results),
        "--experiment", "front", "--num-cpus", "2", "--max-concurrent", "2",
        "--num-samples", "3", "--partitions", "1", "--val-seeds", "0", "1",
        "--objective", "pareto", "--no-b2n", "--weights", str(small_weights),
        "--set", "train.epochs=2", f"sept.bank={tmp_path / 'bank.json'}", "sept.n_neighbors=3",
        "train.batch_size=4", "method.n_ctx=4", "backbone.device=cpu",
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = search.main(argv)
    out = printed.getvalue()
    assert code == 0, out
    assert "objective: Pareto front of Base and New" in out and "no early stopping" in out
    assert "Pareto front of validation Base and New: " in out
    (run_dir,) = (results / "front").iterdir()
    seeds = {p.parent.name for p in run_dir.glob("trials/*/Tones-s*/split.json")}
    assert seeds == {"Tones-s0", "Tones-s1"}
    assert len(list(run_dir.glob("trials/*/Tones-s*/split.json"))) == 4 * 2  # 4 trials x 2 seeds
    best = json.loads((run_dir / "best_settings.json").read_text())
    front = best["pareto_front"]
    assert front and "Pareto" in best["objective"]
    rows = list(csv.DictReader((run_dir / "search_trials.csv").open()))
    scores = {r["trial_id"]: (float(r["base"]), float(r["new"])) for r in rows}
    on_front = {p["trial_id"] for p in front}
    assert "without-sept" not in on_front and on_front <= set(scores)
    for name, (base, new) in scores.items():  # nothing on the front is dominated
        if name in on_front:
            assert not any(b >= base and n >= new and (b, n) != (base, new)
                           for k, (b, n) in scores.items() if k != "without-sept")  # fmt: skip
    if best["recommended"] == "searched":
        assert best["settings"] in [p["settings"] for p in front]
    assert (run_dir / "pareto.png").stat().st_size > 0
    assert "on the front" in (run_dir / "pareto_front.md").read_text()
    with open(run_dir / "optuna_study.csv") as handle:
        study = list(csv.DictReader(handle))
    assert len(study) == 3 and {"values_0", "values_1"} <= set(study[0])  # not the reference
    report = (run_dir / "report" / "report.md").read_text()
    assert "Search: Pareto front of validation Base and New" in report
    assert (run_dir / "report" / "figures" / "search_pareto.png").is_file()
