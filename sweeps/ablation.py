"""The SEPT ablation (the paper's 7-row table): CoOp + SEPT with each combination of
L_intra, m_intra, L_inter, m_inter switched on or off, on Ray Tune, tracked in MLflow.

Row 1 is plain CoOp; row 7 is full SEPT. A switched-off margin uses the constant of
sept.intra_const_margin / sept.inter_const_margin. Prints the table in the paper's layout
(averages over datasets of Base, New, H) after the per-dataset table.

    python sweeps/ablation.py --help
    python sweeps/ablation.py --seeds 0 1 2 --datasets SynthNature SynthHome
"""

from __future__ import annotations

import argparse

from sept_ray.report import studies
from sept_ray.report.tables import to_text
from sept_ray.tune.cli import (
    add_common_args,
    parse_study_args,
    report_study_table,
    run_study,
    script_main,
    study_parser,
    study_setup,
)
from sept_ray.tune.grid import ablation_grid


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__)
    parser.add_argument(
        "--method", default="coop", help="the method SEPT is ablated on (default coop)"
    )
    add_common_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parse_study_args(build_parser(), argv, "ablation")
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
    result = run_study(args, "ablation", setup, trials, {"method": args.method}, argv)
    print()
    print(to_text(result.table, result.score_rules), end="")
    header, body = studies.ablation_table(result.table)
    title = f"SEPT ablation on {args.method} (average over datasets):"
    return report_study_table(result, title, "ablation_table", header, body)


if __name__ == "__main__":
    script_main("ablation", main)
