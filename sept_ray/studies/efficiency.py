"""The efficiency table (the paper's layout): trainable parameters, training time per run,
inference time per clip and H, per method, on Ray Tune, tracked in MLflow.

Inference time per clip is measured after training as a deployment would run it: text
features that do not depend on the audio computed once beforehand; the audio tower on decoded
clips included ("Inference Time") or the embedding taken from the cache ("cached audio").
Trials run one at a time by default so their timings do not share the CPU. The report adds the
b2n blocks and the trained-trial figures.

    python sweeps/efficiency.py --help
    python sweeps/efficiency.py --preset paper --datasets SynthHome --folds 1
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from sept_ray.report import layouts, studies
from sept_ray.report.sections import ReportInputs, ReportParts, table_rows, trained_report
from sept_ray.studies.base import Study, register
from sept_ray.tune.cli import report_study_table, run_study, study_setup
from sept_ray.tune.grid import b2n_grid

PAPER_ROWS = ["cocoop", "kgcoop", "dept", "coop", "coop+sept"]


@register
class Efficiency(Study):
    name = "efficiency"
    option_defaults = {"max_concurrent": 1}  # timings do not share the CPU

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--variants",
            nargs="+",
            default=PAPER_ROWS,
            help="method variants, '+sept' for SEPT (default: the paper's rows)",
        )

    def sweep(self, args: argparse.Namespace, argv: list[str] | None) -> int:
        setup = study_setup(args, time_inference=True)
        trials = b2n_grid(
            setup.datasets,
            args.variants,
            setup.seeds,
            setup.data_root,
            base=setup.overrides,
            preset=args.preset,
            folds=setup.folds,
        )
        result = run_study(args, self.name, setup, trials, {"variants": args.variants}, argv)
        finals = defaultdict(list)
        for outcome in result.outcomes:
            finals[outcome.trial.row].append(outcome.metrics)
        header, body = studies.efficiency_table(result.table, dict(finals))
        title = f"Efficiency ({args.backbone}, {args.preset} preset; means over trials):"
        return report_study_table(result, title, "efficiency_table", header, body)

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        finals = defaultdict(list)
        for trial in inputs.finished:
            finals[trial.label].append(trial.metrics)
        table = layouts.efficiency_table(table_rows(inputs)[0], dict(finals), inputs.comparable)
        return trained_report(inputs, [table])
