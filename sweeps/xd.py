"""Cross-dataset transfer sweep on Ray Tune, tracked in MLflow.

Each trial trains on every class of a source dataset (16 shots per class) and is scored on the
source's test clips (all its classes) and on the target's test clips with the target's class
names and template. Grid: pairs x methods x {-SEPT, +SEPT} x seeds x source folds. Prints the
table in the paper's layout (Source and Target accuracy per pair and method). In MLflow an xd
trial's ``base`` metric is the source accuracy and ``new`` the target accuracy.

    python sweeps/xd.py --help
    python sweeps/xd.py --pairs SynthNature:SynthStreet --methods coop cocoop
    python sweeps/xd.py --paper-pairs --data-root /data/palm --preset paper
"""

from __future__ import annotations

import argparse

from sept_ray.report import studies
from sept_ray.tune.cli import (
    add_common_args,
    add_variant_args,
    parse_study_args,
    report_study_table,
    run_study,
    script_main,
    study_parser,
    study_setup,
)
from sept_ray.tune.grid import parse_pair, variants, xd_grid

BUILTIN_PAIRS = ("SynthNature:SynthStreet", "SynthInstruments:SynthHome")
PAPER_PAIRS = (
    "ESC50-Actions:UrbanSound8K",
    "RAVDESS:CREMA-D",
    "NS-Instruments:Beijing-Opera",
)


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__)
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
    add_common_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_study_args(parser, argv, "xd")
    if args.datasets != parser.get_default("datasets"):
        raise ValueError("--datasets has no effect on xd: name SOURCE:TARGET pairs with --pairs")
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
    result = run_study(args, "xd", setup, trials, params, argv, table_stem="xd_scores")
    header, body = studies.xd_table(result.table)
    title = "Cross-dataset transfer (accuracy %, mean over folds and seeds):"
    return report_study_table(result, title, "xd_table", header, body)


if __name__ == "__main__":
    script_main("xd", main)
