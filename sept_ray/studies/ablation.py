"""The SEPT ablation (the paper's 7-row table): CoOp + SEPT with each combination of
L_intra, m_intra, L_inter, m_inter switched on or off, on Ray Tune, tracked in MLflow.

Row 1 is plain CoOp; row 7 is full SEPT. A switched-off margin uses the constant of
sept.intra_const_margin / sept.inter_const_margin. Prints the table in the paper's layout
(averages over datasets of Base, New, H) after the per-dataset table; the report adds the b2n
blocks and the trained-trial figures.

    python sweeps/ablation.py --help
    python sweeps/ablation.py --seeds 0 1 2 --datasets SynthNature SynthHome
"""

from __future__ import annotations

import argparse

from sept_ray.report import layouts, studies
from sept_ray.report.sections import ReportInputs, ReportParts, table_rows, trained_report
from sept_ray.report.tables import to_text
from sept_ray.studies.base import Study, register
from sept_ray.tune.cli import report_study_table, run_study, study_setup
from sept_ray.tune.grid import ablation_grid


@register
class Ablation(Study):
    name = "ablation"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--method", default="coop", help="the method SEPT is ablated on (default coop)"
        )

    def sweep(self, args: argparse.Namespace, argv: list[str] | None) -> int:
        setup = study_setup(args)
        trials = ablation_grid(
            setup.datasets,
            setup.seeds,
            setup.data_root,
            base=setup.overrides,
            preset=args.preset,
            folds=setup.folds,
            method=args.method,
        )
        result = run_study(args, self.name, setup, trials, {"method": args.method}, argv)
        print()
        print(to_text(result.table, result.score_rules), end="")
        header, body = studies.ablation_table(result.table)
        title = f"SEPT ablation on {args.method} (average over datasets):"
        return report_study_table(result, title, "ablation_table", header, body)

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        rows, planned = table_rows(inputs)
        datasets = sorted({d for _, d in planned})
        return trained_report(inputs, [layouts.ablation_table(rows, datasets, inputs.comparable)])
