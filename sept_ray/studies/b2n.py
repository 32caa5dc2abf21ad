"""Base-to-new generalization sweep on Ray Tune, tracked in MLflow.

Grid: datasets x methods x {-SEPT, +SEPT} x seeds x folds. With no options it runs the built-in
default: the built-in sound world (synthesized on first use), TinyALM, zero-shot, CoOp and
CoOp+SEPT, the demo preset, one seed, every fold. Prints progress, then the Base/New/H table and, when a method ran with and without SEPT,
SEPT's effect on H paired by dataset, fold and seed. The report adds the b2n blocks in the
paper's layout, SEPT's diagnostics and every trained-trial figure.

    python sweeps/b2n.py --help
    python sweeps/b2n.py --methods all --seeds 0 1 2
    python sweeps/b2n.py --preset paper --datasets SynthHome --set sept.lam=0.5
"""

from __future__ import annotations

import argparse

from sept_ray.report.sections import ReportInputs, ReportParts, trained_report
from sept_ray.report.tables import to_text
from sept_ray.studies.base import Study, register
from sept_ray.tune.cli import add_variant_args, report_b2n, run_study, study_setup
from sept_ray.tune.grid import b2n_grid, variants


@register
class B2N(Study):
    name = "b2n"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        add_variant_args(parser, ["zeroshot", "coop"])

    def sweep(self, args: argparse.Namespace, argv: list[str] | None) -> int:
        setup = study_setup(args)
        chosen = variants(args.methods, args.sept, args.neighbour_spaces)
        trials = b2n_grid(
            setup.datasets,
            chosen,
            setup.seeds,
            setup.data_root,
            base=setup.overrides,
            preset=args.preset,
            folds=setup.folds,
        )
        result = run_study(args, self.name, setup, trials, {"variants": chosen}, argv)
        print()
        print(to_text(result.table, result.score_rules), end="")
        return report_b2n(result)

    def report(self, inputs: ReportInputs) -> ReportParts:
        return trained_report(inputs, [])
