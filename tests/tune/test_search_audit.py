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
    # the reference without SEPT and 2 settings, each on 3 partitions
    assert len(list(run_dir.glob("trials/*/SynthHome-p*/split.json"))) == 3 * 3
    best = json.loads((run_dir / "best_settings.json").read_text())
    assert best["recommended"] in ("searched", "defaults") and best["why"]
    audit = best["audit"]
    labels = [p["label"] for p in audit["settings"]]
    # coop without SEPT (its validation H from the search's reference), the defaults, the one
    # sampled setting
    assert labels[:2] == ["coop", "coop+sept"] and len(labels) == 3
    assert audit["settings"][0]["val_h"] == best["without_sept"]["H"]
    rho = audit["spearman_rho"]
    assert rho is None or -1 <= rho <= 1
    assert "over 3 settings" in (run_dir / "audit.md").read_text()
    assert (run_dir / "audit.png").stat().st_size > 0
    (b2n_dir,) = (results / "search-smoke-b2n").iterdir()
    report = (b2n_dir / "report" / "report.md").read_text()
    assert "Search audit: validation H against b2n H" in report
    assert (b2n_dir / "report" / "figures" / "search_audit.png").is_file()
