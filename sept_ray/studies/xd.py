"""Cross-dataset transfer sweep on Ray Tune, tracked in MLflow.

Each trial trains on every class of a source dataset (16 shots per class) and is scored on the
source's test clips (all its classes) and on the target's test clips with the target's class
names and template. Grid: pairs x methods x {-SEPT, +SEPT} x seeds x source folds. Prints the
table in the paper's layout (Source and Target accuracy per pair and method). In MLflow an xd
trial's ``base`` metric is the source accuracy and ``new`` the target accuracy. The report adds
the t-SNE and the per-dataset figures (no Base vs New: source and target are not base and new).

    python sweeps/xd.py --help
    python sweeps/xd.py --pairs SynthNature:SynthStreet --methods coop cocoop
    python sweeps/xd.py --paper-pairs --data-root /data/palm --preset paper
"""

from __future__ import annotations

import argparse

from sept_ray.data.synth.world import BUILTIN_DATASETS
from sept_ray.report import layouts, studies
from sept_ray.report.sections import ReportInputs, ReportParts, table_rows, trained_report
from sept_ray.studies.base import Study, register
from sept_ray.tune.cli import add_variant_args, report_study_table, run_study, study_setup
from sept_ray.tune.grid import parse_pair, variants, xd_grid

BUILTIN_PAIRS = ("SynthNature:SynthStreet", "SynthInstruments:SynthHome")
PAPER_PAIRS = (
    "ESC50-Actions:UrbanSound8K",
    "RAVDESS:CREMA-D",
    "NS-Instruments:Beijing-Opera",
)


@register
class CrossDataset(Study):
    name = "xd"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--pairs",
            nargs="+",
            default=list(BUILTIN_PAIRS),
            metavar="SOURCE:TARGET",
            help=f"source:target pairs (default, on the built-in world: {' '.join(BUILTIN_PAIRS)})",
        )
        parser.add_argument(
            "--paper-pairs",
            action="store_true",
            help=f"the paper's pairs: {' '.join(PAPER_PAIRS)} (needs --data-root)",
        )
        add_variant_args(parser, ["coop"])

    def sweep(self, args: argparse.Namespace, argv: list[str] | None) -> int:
        if args.datasets != list(BUILTIN_DATASETS):  # not add_common_args' default
            raise ValueError(
                "--datasets has no effect on xd: name SOURCE:TARGET pairs with --pairs"
            )
        pairs = [parse_pair(p) for p in (PAPER_PAIRS if args.paper_pairs else args.pairs)]
        if args.smoke_test:
            pairs = pairs[:1]
        args.datasets = list(dict.fromkeys(name for pair in pairs for name in pair))
        setup = study_setup(args, smoke_datasets=2)
        chosen = variants(args.methods, args.sept, args.neighbour_spaces)
        trials = xd_grid(
            pairs,
            chosen,
            setup.seeds,
            setup.data_root,
            base=setup.overrides,
            preset=args.preset,
            folds=setup.folds,
        )
        params = {"pairs": [f"{s}:{t}" for s, t in pairs], "variants": chosen}
        result = run_study(args, self.name, setup, trials, params, argv, table_stem="xd_scores")
        header, body = studies.xd_table(result.table)
        title = "Cross-dataset transfer (accuracy %, mean over folds and seeds):"
        return report_study_table(result, title, "xd_table", header, body)

    def report(self, inputs: ReportInputs) -> ReportParts:
        lead = (
            [layouts.xd_table(table_rows(inputs)[0], inputs.comparable)] if inputs.finished else []
        )
        return trained_report(inputs, lead, blocks=False, scatter=False)
