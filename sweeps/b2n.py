"""Base-to-new generalization sweep on Ray Tune, tracked in MLflow.

Grid: datasets x methods x {-SEPT, +SEPT} x seeds x folds. With no options it runs the built-in
default: the built-in sound world (synthesized on first use), TinyALM, zero-shot, CoOp and
CoOp+SEPT, the demo preset, one seed, every fold. Prints progress, then the Base/New/H table and, when a method ran with and without SEPT,
SEPT's effect on H paired by dataset, fold and seed.

    python sweeps/b2n.py --help
    python sweeps/b2n.py --methods all --seeds 0 1 2
    python sweeps/b2n.py --preset paper --datasets SynthHome --set sept.lam=0.5
"""

from __future__ import annotations

import argparse

from sept_ray.report.tables import to_text
from sept_ray.tune.cli import (
    add_common_args,
    add_variant_args,
    parse_study_args,
    report_b2n,
    run_study,
    script_main,
    study_parser,
    study_setup,
)
from sept_ray.tune.grid import b2n_grid, variants


def build_parser() -> argparse.ArgumentParser:
    parser = study_parser(__doc__)
    add_variant_args(parser, ["zeroshot", "coop"])
    add_common_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parse_study_args(build_parser(), argv, "b2n")
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
    result = run_study(args, "b2n", setup, trials, {"variants": chosen}, argv)
    print()
    print(to_text(result.table, result.score_rules), end="")
    return report_b2n(result)


if __name__ == "__main__":
    script_main("b2n", main)
