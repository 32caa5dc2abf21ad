"""Optuna search of SEPT's settings without test leakage, then the best settings on b2n.

The objective never sees a test clip: on each dataset the base classes are split again into
pseudo-base and pseudo-new, the prompt trains on pseudo-base shots and H is scored on held-out
training clips (the ``val`` protocol). A dataset with fewer than 4 base classes is left out of
the objective, and the search says so. Searched: λ (log scale), N (1 to the bank's size), the
four margin switches, the inter constant margin and a margin scale; OptunaSearch is seeded and
runs --max-concurrent settings at once (default 2). Then the best settings run on the real b2n
protocol beside the method without SEPT and with SEPT's defaults, as a separate sweep (study
``search-b2n``). The search's report shows every setting tried (best first) and Optuna's
figures; its plan is the number of samples, not a list of trials.

    python sweeps/search.py --help
    python sweeps/search.py --num-samples 32 --max-concurrent 4
    python sweeps/search.py --method kgcoop --datasets SynthHome SynthNature --preset paper
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sept_ray.config import unflatten
from sept_ray.report.record import SweepRecord
from sept_ray.report.sections import ReportInputs, ReportParts, search_parts
from sept_ray.report.tables import to_text
from sept_ray.studies.b2n import B2N
from sept_ray.studies.base import Study, register
from sept_ray.tune.cli import StudySetup, report, run_study, study_setup, study_spec, write_report
from sept_ray.tune.grid import labelled_grid
from sept_ray.tune.search import SearchResult, eligible_datasets, fmt, run_search


@register
class Search(Study):
    name = "search"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--method", default="coop", help="the method SEPT is searched on (default coop)"
        )
        parser.add_argument(
            "--num-samples",
            type=int,
            default=16,
            help="settings to try (default 16; smoke test 2)",
        )
        parser.add_argument(
            "--search-seed", type=int, default=0, help="seed of the Optuna sampler (default 0)"
        )
        parser.add_argument(
            "--no-b2n",
            action="store_true",
            help="stop after the search (skip the b2n run of the best settings)",
        )

    def sweep(self, args: argparse.Namespace, argv: list[str] | None) -> int:
        setup = study_setup(args)
        objective, left_out = eligible_datasets(setup.data_root, setup.datasets)
        for name, why in left_out.items():
            print(f"search: {name} is left out of the objective ({why})")
        if not objective:
            raise ValueError("no dataset has enough base classes for the validation split")
        seed, fold = setup.seeds[0], (setup.folds or [1])[0]
        row = {
            "method": {"name": args.method},
            "sept": {"enabled": True},
            "protocol": {"name": "val"},
        }
        trials = labelled_grid(
            [("search", row)], objective, [seed], setup.data_root, setup.overrides, args.preset,
            [fold],
        )  # fmt: skip
        samples = 2 if args.smoke_test else args.num_samples
        params = {
            "method": args.method,
            "objective_datasets": objective,
            "left_out": left_out,
            "num_samples": samples,
            "search_seed": args.search_seed,
        }
        spec = study_spec(args, self.name, setup, trials, params, argv)
        found = run_search(spec, samples, args.search_seed, args.resume and Path(args.resume))
        print(f"\nsearch: {len(found.trials)} settings scored, {len(found.failed)} failed")
        for trial_id, error in found.failed:
            print(f"FAILED {trial_id}: {error}")
        print(f"best validation H {found.best_h:.2f} (mean over {', '.join(objective)}) with:")
        for key, value in found.best.items():
            print(f"  {key} = {fmt(value)}")
        print(f"search tables: {', '.join(str(p) for p in found.files)}")
        search_report = write_report(
            found.mlflow_uri, spec.experiment, found.parent_run_id, found.run_dir
        )
        code = 1 if found.failed or search_report else 0
        if args.no_b2n:
            return code
        args.experiment = f"{spec.experiment}-b2n"
        return best_on_b2n(args, argv, setup, found) or code

    def planned(self, record: SweepRecord) -> int:
        return int(record.params.get("num_samples", len(record.plan)))

    def report(self, inputs: ReportInputs) -> ReportParts:
        return search_parts(inputs)


@register
class SearchB2N(B2N):
    """The b2n sweep a search runs with its best settings: a b2n report."""

    name = "search-b2n"


def best_on_b2n(
    args: argparse.Namespace, argv: list[str] | None, setup: StudySetup, found: SearchResult
) -> int:
    """Run the search's best settings on the b2n protocol beside the method without SEPT and with
    SEPT's defaults (a sweep of its own, experiment ``args.experiment``); its exit code."""
    best = unflatten(found.best)
    rows = [
        (args.method, {"method": {"name": args.method}, "sept": {"enabled": False}}),
        (f"{args.method}+sept", {"method": {"name": args.method}, "sept": {"enabled": True}}),
        (
            f"{args.method}+sept:searched",
            {"method": {"name": args.method}, "sept": {**best["sept"], "enabled": True}},
        ),
    ]
    trials = labelled_grid(
        rows, setup.datasets, setup.seeds, setup.data_root, setup.overrides, args.preset,
        setup.folds,
    )  # fmt: skip
    args.resume = None  # the b2n run of the best settings is a sweep of its own
    print(f"\nb2n with the best settings ({args.experiment}):")
    result = run_study(args, SearchB2N.name, setup, trials, {"settings": found.best}, argv)
    print()
    print(to_text(result.table, result.score_rules), end="")
    return report(result)
