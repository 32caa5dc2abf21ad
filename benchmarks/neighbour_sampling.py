"""SEPT with sampled neighbours against exact SEPT on the built-in world: H and training time.

    python benchmarks/neighbour_sampling.py                 # demo preset, seed 0, every fold
    python benchmarks/neighbour_sampling.py --sample 1 2 --preset paper

Runs, one after another in this process (no Ray), CoOp, CoOp+SEPT over all N neighbours (exact,
the paper's loss) and CoOp+SEPT drawing ``k`` of each class's N neighbours per step
(``sept.sample_neighbors``: an unbiased estimate of L_se) on every dataset and fold of the
built-in world, and prints the average H (mean of per-dataset H) of each with its training time
relative to CoOp's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

from sept_ray.config import TrialConfig
from sept_ray.data.manifest import count_folds, dataset_dir
from sept_ray.data.synth.world import BUILTIN_DATASETS, ensure_world
from sept_ray.train import run_trial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, nargs="+", default=[1], help="k values (default 1)")
    parser.add_argument("--preset", default="demo", help="training preset (default demo)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="neighbour_sampling_"))
    root = ensure_world(work / "data", list(BUILTIN_DATASETS))
    variants = {"coop": {"enabled": False}, "coop+sept": {"enabled": True}}
    variants.update(
        {f"coop+sept k={k}": {"enabled": True, "sample_neighbors": k} for k in args.sample}
    )
    h = defaultdict(lambda: defaultdict(list))  # variant -> dataset -> H per fold
    seconds = defaultdict(float)
    for dataset in BUILTIN_DATASETS:
        for fold in range(1, count_folds(dataset_dir(root, dataset)) + 1):
            for name, sept in variants.items():
                cfg = TrialConfig.from_dict(
                    {
                        "data": {"name": dataset, "root": str(root), "fold": fold},
                        "backbone": {"device": "cpu"},
                        "sept": sept,
                        "train": {"seed": args.seed, "time_inference": False},
                        "output_dir": str(work / "trials" / f"{dataset}-{fold}-{name}"),
                        "cache_dir": str(work / "cache"),
                    },
                    preset=args.preset,
                )
                result = run_trial(cfg)
                h[name][dataset].append(result.h)
                seconds[name] += result.train_seconds
                print(
                    f"{dataset} fold {fold} {name:<16} H {result.h:6.2f}  "
                    f"train {result.train_seconds:6.1f} s",
                    flush=True,
                )
    print(f"\n{'variant':<18}{'avg H':>8}{'train s':>10}{'x CoOp':>8}")
    for name in variants:
        average = statistics.fmean(statistics.fmean(v) for v in h[name].values())
        print(
            f"{name:<18}{average:>8.2f}{seconds[name]:>10.1f}"
            f"{seconds[name] / seconds['coop']:>8.2f}"
        )


if __name__ == "__main__":
    main()
