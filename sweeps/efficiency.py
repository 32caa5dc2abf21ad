"""The efficiency table (the paper's layout): trainable parameters, training time per run,
inference time per clip and H, per method, on Ray Tune, tracked in MLflow.

Inference time per clip is measured after training as a deployment would run it: text
features that do not depend on the audio computed once beforehand; the audio tower on decoded
clips included ("Inference Time") or the embedding taken from the cache ("cached audio").
Trials run one at a time by default so their timings do not share the CPU.

    python sweeps/efficiency.py --help
    python sweeps/efficiency.py --preset paper --datasets SynthHome --folds 1
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from sept_ray.report import studies
from sept_ray.tune.cli import (
    add_common_args,
    parse_study_args,
    report_study_table,
    run_study,
    script_main,
    study_parser,
    study_setup,
)
from sept_ray.tune.grid import b2n_grid

PAPER_ROWS = ["cocoop", "kgcoop", "dept", "coop", "coop+sept"]


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=PAPER_ROWS,
        help="method variants, '+sept' for SEPT (default: the paper's rows)",
    )
    add_common_args(parser)
    parser.set_defaults(max_concurrent=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parse_study_args(build_parser(), argv, "efficiency")
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
    result = run_study(args, "efficiency", setup, trials, {"variants": args.variants}, argv)
    finals = defaultdict(list)
    for outcome in result.outcomes:
        finals[outcome.trial.row].append(outcome.metrics)
    header, body = studies.efficiency_table(result.table, dict(finals))
    title = f"Efficiency ({args.backbone}, {args.preset} preset; means over trials):"
    return report_study_table(result, title, "efficiency_table", header, body)


if __name__ == "__main__":
    script_main("efficiency", main)
