"""Studies are registered objects: the report asks the sweep's study for its tables and
figures, so a study registered from a test module reports through a real smoke sweep."""

import contextlib
import csv
import io

import pytest

from sept_ray.report import layouts
from sept_ray.report.sections import ReportInputs, ReportParts
from sept_ray.studies import STUDIES
from sept_ray.studies.base import Study, register
from sept_ray.tune.cli import parse_study_args, report, run_study, study_setup
from sept_ray.tune.grid import b2n_grid
from sweeps import b2n

from conftest import write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]


def test_the_paper_studies_are_registered():
    assert {"b2n", "xd", "ablation", "efficiency", "search"} <= set(STUDIES.names())


class TrialCount(Study):
    """A toy study: one table, the finished trials per label."""

    name = "toy-count"

    def report(self, inputs: ReportInputs) -> ReportParts:
        labels = sorted({t.label for t in inputs.finished})
        rows = [[label, str(sum(t.label == label for t in inputs.finished))] for label in labels]
        return ReportParts([layouts.Table("toy_count", "Trials per label", ["label", "n"], rows)])


@pytest.fixture
def toy_study():
    register(TrialCount)
    yield STUDIES.get("toy-count")
    STUDIES._items.pop("toy-count")


def test_a_study_registered_elsewhere_reports_through_a_smoke_sweep(
    toy_study, tmp_path, small_weights
):
    write_tone_dataset(tmp_path / "data", "Tones", CLASSES, 4, 2)
    argv = [
        "--data-root", str(tmp_path / "data"), "--datasets", "Tones", "--smoke-test",
        "--results", str(tmp_path / "results"), "--num-cpus", "1",
        "--weights", str(small_weights), "--methods", "zeroshot", "coop", "--sept", "off",
        "--set", "train.batch_size=4", "data.shots=2", "method.n_ctx=2", "backbone.device=cpu",
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        args = parse_study_args(b2n.build_parser(), argv, toy_study.name)
        setup = study_setup(args)
        trials = b2n_grid(
            setup.datasets, ["zeroshot", "coop"], setup.seeds, setup.data_root,
            base=setup.overrides, folds=setup.folds,
        )  # fmt: skip
        result = run_study(args, toy_study.name, setup, trials, {}, argv)
        code = report(result)
    assert code == 0, printed.getvalue()
    assert result.experiment == "toy-count-smoke"
    table = list(csv.reader((result.run_dir / "report" / "toy_count.csv").open()))
    assert table[1:] == [["coop", "1"], ["zeroshot", "1"]]
    page = (result.run_dir / "report" / "report.md").read_text()
    assert "Trials per label" in page and "**study**: toy-count" in page
