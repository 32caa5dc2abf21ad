"""Trials per GPU-hour for CoOp, CoOp+SEPT and CoCoOp with 1, 2 and 4 trials sharing one GPU.

    python benchmarks/gpu_throughput.py                        # pengi-random on the GPU
    python benchmarks/gpu_throughput.py --backbone tiny-alm --cpu --epochs 2 --trials 2   # check

For each method and each sharing level n (``--share``), runs a sweep of ``--trials`` trials (seeds
0..) of that method on one built-in dataset with ``--gpus-per-trial 1/n`` and n trials at once,
and prints trials per GPU-hour = trials / wall hours of running them (Tune's fit: first trial
start to last trial end; the embedding cache is filled before and reported apart). ``--cpu``
runs the same on CPU workers (n CPUs, no GPU) to check the script where no GPU is lent.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sept_ray.data.synth.world import ensure_world
from sept_ray.report.record import load_sweep
from sept_ray.tune import SweepSpec, b2n_grid, run_sweep


def trials_per_hour(args, root: Path, work: Path, variant: str, share: int) -> float:
    trials = b2n_grid(
        [args.dataset],
        [variant],
        list(range(args.trials)),
        root,
        base={
            "backbone": {"name": args.backbone, "device": "cpu" if args.cpu else "cuda"},
            "train": {"epochs": args.epochs, "time_inference": False},
        },
        preset="paper",
    )
    name = f"gpu-{variant.replace('+', '-')}-x{share}"
    spec = SweepSpec(
        name,
        trials,
        work / "results",
        cpus_per_trial=1.0,
        gpus_per_trial=0.0 if args.cpu else 1.0 / share,
        num_cpus=max(args.share) if args.cpu else None,  # one local Ray serves every sweep
        max_concurrent=share,
        cache_gpus=0.0 if args.cpu else 1.0,
    )
    result = run_sweep(spec)
    record = load_sweep(result.mlflow_uri, name, result.parent_run_id)
    runs = [record.client.get_run(t.run_id).info for t in record.finished()]
    wall = (max(r.end_time for r in runs) - min(r.start_time for r in runs)) / 1000
    return len(runs) / (wall / 3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="pengi-random", help="default pengi-random")
    parser.add_argument("--dataset", default="SynthInstruments", help="a built-in dataset")
    parser.add_argument("--variants", nargs="+", default=["coop", "coop+sept", "cocoop"])
    parser.add_argument("--share", type=int, nargs="+", default=[1, 2, 4], help="trials per GPU")
    parser.add_argument("--trials", type=int, default=8, help="trials per sweep (default 8)")
    parser.add_argument("--epochs", type=int, default=50, help="epochs (default 50, the paper)")
    parser.add_argument("--cpu", action="store_true", help="CPU workers instead of a GPU")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu_throughput_"))
    root = ensure_world(work / "data", [args.dataset])
    table = {
        (variant, share): trials_per_hour(args, root, work, variant, share)
        for variant in args.variants
        for share in args.share
    }
    device = "CPU workers" if args.cpu else "one GPU"
    print(f"\ntrials per hour on {device} ({args.backbone}, {args.epochs} epochs, {args.dataset})")
    print(f"{'method':<12}" + "".join(f"{f'{n} at once':>12}" for n in args.share))
    for variant in args.variants:
        cells = "".join(f"{table[(variant, n)]:>12.0f}" for n in args.share)
        print(f"{variant:<12}{cells}")


if __name__ == "__main__":
    main()
