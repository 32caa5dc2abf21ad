"""``sweeps/search.py --smoke-test``: the search, its recommendation, and the audit of its
settings on the real b2n protocol (table, figure, Spearman's rho in best_settings.json)."""

import contextlib
import io
import json

import pytest

from sept_ray.data.synth.world import ensure_world
from sweeps import search

pytestmark = pytest.mark.slow


def test_the_smoke_test_writes_the_audit_and_the_recommendation(tmp_path):
    root = ensure_world(tmp_path / "data", ["SynthHome"])
    results = tmp_path / "res"
    argv = [
        "--smoke-test", "--data-root", str(root), "--datasets", "SynthHome",
        "--results", str(results), "--num-cpus", "2",
        "--set", "train.batch_size=4", "method.n_ctx=4", "backbone.device=cpu",
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = search.main(argv)
    out = printed.getvalue()
    assert code == 0, out
    assert "recommended: the " in out and "Search audit: validation H against b2n H" in out
    (run_dir,) = (results / "search-smoke").iterdir()
    assert len(list(run_dir.glob("trials/*/SynthHome-p*/split.json"))) == 2 * 3  # 3 partitions
    best = json.loads((run_dir / "best_settings.json").read_text())
    assert best["recommended"] in ("searched", "defaults") and best["why"]
    audit = best["audit"]
    labels = [p["label"] for p in audit["settings"]]
    assert labels[0] == "coop+sept" and len(labels) == 2  # the defaults and the one sampled
    assert audit["spearman_rho"] is None  # two settings: no rank correlation, and it says so
    assert "ρ undefined over 2 settings" in (run_dir / "audit.md").read_text()
    assert (run_dir / "audit.png").stat().st_size > 0
    (b2n_dir,) = (results / "search-smoke-b2n").iterdir()
    report = (b2n_dir / "report" / "report.md").read_text()
    assert "Search audit: validation H against b2n H" in report
    assert (b2n_dir / "report" / "figures" / "search_audit.png").is_file()
