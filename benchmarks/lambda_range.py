"""Where SEPT's λ changes what the prompt predicts: the search's λ range, measured.

    python benchmarks/lambda_range.py                        # demo preset, the search's datasets
    python benchmarks/lambda_range.py --lams 0 0.01 0.1 1 10 --partition 1

Trains, in this process and on the search's objective (the ``val`` protocol: partition
``--partition`` of ``--partitions`` of each dataset's base classes, seed ``--seed``, the
``--preset`` preset), the method without SEPT and the method + SEPT (SEPT's defaults) at each λ of
``--lams``. Prints per λ and dataset the validation Base, New and H, ΔH against the method without
SEPT, the largest change of a class's validation accuracy (percentage points; 0.00 everywhere
means L_se changed no prediction's correctness) and the last epoch's λ·L_se / CE (how much of the
loss SEPT is). λ = 0 trains with SEPT's machinery on and its loss weighted zero: the noise floor
of the comparison (any change there is not SEPT's loss).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from sept_ray.config import TrialConfig
from sept_ray.data.synth.world import BUILTIN_DATASETS, ensure_world
from sept_ray.train import TrialResult, run_trial
from sept_ray.tune.search import eligible_datasets

LAMS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def trained(values: dict, preset: str) -> TrialResult:
    """One training of ``values`` under ``preset``."""
    return run_trial(TrialConfig.from_dict(values, preset=preset))


def largest_class_change(result: TrialResult, reference: TrialResult) -> float:
    """The largest absolute change of a class's validation accuracy (percentage points), over
    both scored groups."""
    changes = [
        abs(accuracy - reference.per_class[group][name])
        for group, classes in result.per_class.items()
        for name, accuracy in classes.items()
    ]
    return max(changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="coop", help="the method SEPT is added to (coop)")
    parser.add_argument("--preset", default="demo", help="training preset (default demo)")
    parser.add_argument("--lams", type=float, nargs="+", default=list(LAMS), help="λ values")
    parser.add_argument("--partition", type=int, default=0, help="val partition (default 0)")
    parser.add_argument("--partitions", type=int, default=3, help="val partitions (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="lambda_range_"))
    root = ensure_world(work / "data", list(BUILTIN_DATASETS))
    datasets, left_out = eligible_datasets(root, list(BUILTIN_DATASETS))
    print(
        f"{args.method} ± SEPT on the val protocol (partition {args.partition} of "
        f"{args.partitions}), seed {args.seed}, {args.preset} preset; datasets "
        f"{', '.join(datasets)} (left out: {', '.join(left_out) or 'none'})"
    )

    def values(dataset: str, sept: dict) -> dict:
        return {
            "method": {"name": args.method},
            "sept": sept,
            "protocol": {
                "name": "val",
                "val_partition": args.partition,
                "val_partitions": args.partitions,
            },
            "data": {"name": dataset, "root": str(root)},
            "train": {"seed": args.seed, "time_inference": False, "diagnostics_every": 0},
            "output_dir": str(work / "trials" / dataset / str(sept.get("lam", "off"))),
            "cache_dir": str(work / "cache"),
        }

    print(f"{'λ':>8} {'dataset':<18} {'Base':>6} {'New':>6} {'H':>6} {'ΔH':>6} "
          f"{'max Δ class':>11} {'λ·L_se/CE':>10}")  # fmt: skip
    references = {d: trained(values(d, {"enabled": False}), args.preset) for d in datasets}
    for name, ref in references.items():
        print(f"{'no SEPT':>8} {name:<18} {ref.base:6.2f} {ref.new:6.2f} {ref.h:6.2f}")
    for lam in args.lams:
        deltas = []
        for name in datasets:
            result = trained(values(name, {"enabled": True, "lam": lam}), args.preset)
            ref = references[name]
            share = lam * result.last.se / result.last.ce if result.last.ce else float("nan")
            deltas.append(result.h - ref.h)
            print(
                f"{lam:8.3g} {name:<18} {result.base:6.2f} {result.new:6.2f} {result.h:6.2f} "
                f"{result.h - ref.h:+6.2f} {largest_class_change(result, ref):11.2f} "
                f"{share:10.3g}",
                flush=True,
            )
        print(f"{lam:8.3g} {'mean ΔH':<18} {'':>20} {statistics.fmean(deltas):+6.2f}")


if __name__ == "__main__":
    main()
