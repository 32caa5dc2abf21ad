"""What a user sees, in a real browser: the MLflow UI of a sweep and the sweep's HTML report.

The module starts ``mlflow server`` (sqlite store, proxied artifacts) on 127.0.0.1, runs a tiny
b2n sweep into it (CoOp without and with SEPT, one dataset), then opens in headless Chromium
(Debian's ``/usr/bin/chromium`` driven by Playwright): the experiment's runs page, a trial's run
page (its metrics), the parent run's artifacts (the logged report) and the report page itself.
Screenshots go to ``$SEPT_TEST_ARTIFACTS/browser`` (default ``test-artifacts/browser`` in the
checkout). Without Chromium or Playwright the module is skipped, except under CI (``CI`` set),
where it fails: ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow_server import launch_mlflow

from sept_ray.tune.tracking import experiment_url
from sweeps import b2n

from conftest import write_bank, write_tone_dataset

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CLASSES = ["alpha", "beta", "delta", "gamma"]
EXPERIMENT = "b2n-browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WAIT_MS = 60_000  # the UI's first load on a loaded 2-core machine


def screenshots() -> Path:
    folder = Path(os.environ.get("SEPT_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium page factory; skipped (failed under CI) without one."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "the playwright package is not installed (pip install playwright)"
    if problem is None and not os.access(CHROMIUM, os.X_OK):
        problem = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but: {problem}", pytrace=False)
        pytest.skip(problem)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox"],  # root in CI
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def swept(tmp_path_factory, small_weights):
    """The server and the tiny sweep it tracked: (server, experiment id, parent run, children)."""
    root = tmp_path_factory.mktemp("browser")
    artifacts = root / "artifacts"
    artifacts.mkdir()
    server = launch_mlflow(f"sqlite:///{root / 'mlflow.db'}", artifacts, root / "server.log")
    try:
        write_tone_dataset(root / "data", "Tones", CLASSES, 6, 3)
        write_bank(root / "bank.json", ["Tones"], CLASSES)
        argv = [
            "--data-root", str(root / "data"), "--datasets", "Tones",
            "--results", str(root / "results"), "--experiment", EXPERIMENT,
            "--mlflow-uri", server.uri, "--num-cpus", "2", "--methods", "coop",
            "--weights", str(small_weights), "--set", "train.epochs=2", "train.batch_size=4",
            "data.shots=4", "method.n_ctx=4", f"sept.bank={root / 'bank.json'}",
            "sept.n_neighbors=3", "backbone.device=cpu",
        ]  # fmt: skip
        server.wait_ready()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = b2n.main(argv)
        assert code == 0, f"{printed.getvalue()}\n--- server log ---\n{server.log_text()[-4000:]}"
        client = MlflowClient(server.uri)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        found = client.search_runs([experiment.experiment_id])
        parent = next(r for r in found if MLFLOW_PARENT_RUN_ID not in r.data.tags)
        children = [r for r in found if MLFLOW_PARENT_RUN_ID in r.data.tags]
        (report,) = (root / "results" / EXPERIMENT).glob("*/report/report.html")
        yield server, experiment.experiment_id, parent, children, report
    finally:
        server.stop()


def test_the_mlflow_ui_shows_the_sweep_and_a_trials_metrics(chromium, swept):
    server, experiment_id, parent, children, _ = swept
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(experiment_url(server.uri, experiment_id))  # the link the sweep prints
    page.get_by_text(parent.info.run_name).first.wait_for(timeout=WAIT_MS)
    page.get_by_text(f"{1 + len(children)} matching runs").wait_for(timeout=WAIT_MS)
    assert EXPERIMENT in page.inner_text("body")
    page.screenshot(path=str(screenshots() / "mlflow_experiment.png"))

    trial = next(r for r in children if r.data.tags["sept.variant"] == "coop+sept")
    view = "?workflowType=machine_learning"  # as the printed link (the URL alone decides)
    page.goto(f"{server.uri}/#/experiments/{experiment_id}/runs/{trial.info.run_id}{view}")
    page.get_by_text(trial.info.run_name).first.wait_for(timeout=WAIT_MS)
    page.get_by_text("train_seconds").first.wait_for(timeout=WAIT_MS)
    body = page.inner_text("body")
    shown = {}  # the metrics table reads "name\nvalue" line by line
    lines = body.splitlines()
    for name, value in zip(lines, lines[1:], strict=False):
        with contextlib.suppress(ValueError):
            shown.setdefault(name, float(value))
    for name in ("base", "new", "H", "n_neighbors", "train_seconds"):
        assert shown[name] == pytest.approx(trial.data.metrics[name], rel=1e-6), name
    assert parent.info.run_name in body  # the trial's parent run
    # a training run, and what it trained and was scored on: "Tones (<manifest hash>) Train"
    (read,) = trial.inputs.dataset_inputs
    assert f"{read.dataset.name} ({read.dataset.digest})" in body
    assert "Evaluation runs" not in body and "Model registry" in body  # the training view
    page.screenshot(path=str(screenshots() / "mlflow_trial_run.png"), full_page=True)

    page.goto(f"{server.uri}/#/experiments/{experiment_id}/runs/{parent.info.run_id}/artifacts")
    page.get_by_text("report", exact=True).first.wait_for(timeout=WAIT_MS)
    assert "b2n_table.csv" in page.inner_text("body")
    page.screenshot(path=str(screenshots() / "mlflow_parent_artifacts.png"))
    page.close()


def test_the_html_report_shows_its_tables_and_figures(chromium, swept):
    _, _, parent, children, report = swept
    page = chromium.new_page(viewport={"width": 1300, "height": 900})
    page.goto(report.as_uri())
    page.get_by_role("heading", name=f"sept_ray report: {EXPERIMENT} (b2n)").wait_for()
    headings = ("Average over 1 dataset", "Tones", "Base vs New", "Training curves")
    for heading in (*headings, "SEPT diagnostics"):
        assert page.get_by_role("heading", name=heading, exact=True).is_visible()
    table = page.locator("table").first
    assert table.is_visible()
    cells = table.locator("td").all_inner_texts()
    trial = next(r for r in children if r.data.tags["sept.variant"] == "coop+sept")
    assert f"{trial.data.metrics['H']:.2f}" in cells and "not comparable" in cells
    images = page.locator("img")
    assert images.count() == 5  # Base vs New, t-SNE, per-class accuracy, curves, diagnostics
    loaded = page.evaluate(
        "Array.from(document.images).map(i => i.complete && i.naturalWidth > 100)"
    )
    assert loaded == [True] * 5
    for index in range(images.count()):
        assert images.nth(index).is_visible()
    assert parent.info.run_id in page.inner_text("body")
    page.screenshot(path=str(screenshots() / "report.png"), full_page=True)
    page.close()
