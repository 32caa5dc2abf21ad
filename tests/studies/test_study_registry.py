"""Studies are registered objects, one file each: a study registered from a test module declares
its options and trials, and runs and reports through a real smoke sweep."""

import contextlib
import csv
import io

import pytest

from sept_ray.report import layouts
from sept_ray.report.sections import ReportInputs, ReportParts
from sept_ray.studies import STUDIES
from sept_ray.studies.base import Study, register
from sept_ray.studies.script import study_main, study_parser_of
from sept_ray.tune.cli import report, run_study, study_setup
from sept_ray.tune.grid import b2n_grid

from conftest import write_tone_dataset

pytestmark = pytest.mark.slow
CLASSES = ["alpha", "beta", "delta", "gamma"]


def test_the_paper_studies_are_registered():
    assert {"b2n", "xd", "ablation", "efficiency", "search"} <= set(STUDIES.names())


class TrialCount(Study):
    """A toy study: zero-shot and CoOp, --repeat seeds; its report's one table counts the
    finished trials per label."""

    name = "toy-count"

    def add_options(self, parser):
        parser.add_argument("--repeat", type=int, default=1, help="seeds 0..repeat-1")

    def sweep(self, args, argv):
        args.seeds = list(range(args.repeat))
        setup = study_setup(args)
        trials = b2n_grid(
            setup.datasets, ["zeroshot", "coop"], setup.seeds, setup.data_root,
            base=setup.overrides, folds=setup.folds,
        )  # fmt: skip
        self.result = run_study(args, self.name, setup, trials, {"repeat": args.repeat}, argv)
        return report(self.result)

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
        "--weights", str(small_weights), "--repeat", "1",
        "--set", "train.batch_size=4", "data.shots=2", "method.n_ctx=2", "backbone.device=cpu",
    ]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = study_main(toy_study.name, argv)
    result = toy_study.result
    assert code == 0, printed.getvalue()
    assert result.experiment == "toy-count-smoke"
    table = list(csv.reader((result.run_dir / "report" / "toy_count.csv").open()))
    assert table[1:] == [["coop", "1"], ["zeroshot", "1"]]
    page = (result.run_dir / "report" / "report.md").read_text()
    assert "Trials per label" in page and "**study**: toy-count" in page


def test_a_registered_study_has_a_parser_of_its_own_options(toy_study):
    text = study_parser_of(toy_study.name).format_help()
    assert "--repeat" in text and "--seeds" in text  # its own, then the common options
    assert "zero-shot and CoOp" in text  # its docstring is the help
