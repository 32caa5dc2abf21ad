"""Base-to-new generalization sweep (SPEC §2) on Ray Tune, tracked in MLflow.

Grid: datasets x methods x {-SEPT, +SEPT} x seeds x folds. With no options it runs the built-in
default: the built-in sound world (synthesized on first use), TinyALM, zero-shot, CoOp and
CoOp+SEPT, the demo preset, one seed, every fold. Prints progress, then the Base/New/H table.

    python sweeps/b2n.py --help
    python sweeps/b2n.py --seeds 0 1 2 --preset paper --datasets SynthHome
"""

from __future__ import annotations

import argparse
import sys

from sept_ray.config import ConfigError, deep_merge
from sept_ray.data.synth.world import BUILTIN_DATASETS, ensure_world
from sept_ray.report.tables import to_text
from sept_ray.tune import SweepSpec, b2n_grid, run_sweep
from sept_ray.tune.cli import add_common_args, backbone_values, parse_overrides

TRAINABLE_DEFAULT = ("zeroshot", "coop")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=list(BUILTIN_DATASETS),
        help="dataset folder names under --data-root (default: the built-in world)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(TRAINABLE_DEFAULT),
        help="methods (default: zeroshot coop); zeroshot never gets SEPT",
    )
    parser.add_argument(
        "--sept",
        choices=["both", "on", "off"],
        default="both",
        help="run each trainable method without and/or with SEPT (default both)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        help="seeds (default: 0 with the demo preset, 0 1 2 with paper)",
    )
    parser.add_argument(
        "--folds",
        nargs="+",
        type=int,
        default=None,
        help="folds to run (default: every fold of each dataset)",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="one dataset, one fold, one seed, 2 epochs: checks the whole pipeline",
    )
    add_common_args(parser)
    return parser


def variants(methods: list[str], sept: str) -> list[str]:
    """Method names -> table variants, e.g. coop -> coop, coop+sept."""
    out = []
    for method in methods:
        if method == "zeroshot":
            out.append(method)
            continue
        if sept in ("both", "off"):
            out.append(method)
        if sept in ("both", "on"):
            out.append(f"{method}+sept")
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = deep_merge(backbone_values(args), parse_overrides(args.overrides))
    datasets, folds = args.datasets, args.folds
    seeds = args.seeds or ([0] if args.preset == "demo" else [0, 1, 2])
    if args.smoke_test:
        datasets, folds, seeds = datasets[:1], [1], seeds[:1]
        overrides = deep_merge(overrides, {"train": {"epochs": 2}})
    data_root = args.data_root
    if data_root is None:
        data_root = ensure_world(
            args.results / "data", [d for d in datasets if d in BUILTIN_DATASETS]
        )
    trials = b2n_grid(
        datasets,
        variants(args.methods, args.sept),
        seeds,
        data_root,
        base=overrides,
        preset=args.preset,
        folds=folds,
    )
    spec = SweepSpec(
        experiment=args.experiment or ("b2n-smoke" if args.smoke_test else "b2n"),
        trials=trials,
        results_dir=args.results,
        mlflow_uri=args.mlflow_uri,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        ray_address=args.ray_address,
        num_cpus=args.num_cpus,
        params={
            "study": "b2n",
            "datasets": datasets,
            "variants": variants(args.methods, args.sept),
            "seeds": seeds,
            "folds": folds or "all",
            "preset": args.preset,
            "overrides": args.overrides,
            "argv": " ".join(sys.argv[1:] if argv is None else argv),
        },
    )
    result = run_sweep(spec)
    print()
    print(to_text(result.table), end="")
    for name, error in result.failed:
        print(f"FAILED {name}: {error}")
    print(
        f"\n{len(result.scores)} trials finished, {len(result.failed)} failed "
        f"in {result.wall_seconds:.0f} s"
    )
    print(f"tables: {', '.join(str(p) for p in result.table_files)}")
    print(f"trial folders: {result.run_dir / 'trials'}")
    print(f"MLflow: mlflow ui --backend-store-uri {result.mlflow_uri}")
    return 0 if not result.failed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ConfigError, FileNotFoundError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"b2n: error: {message}", file=sys.stderr)
        sys.exit(2)
