"""What per-epoch checkpoints cost a sweep: the same trials with and without them, side by side.

    python benchmarks/checkpoint_cost.py                      # 4 CoOp trials, 2 at a time

Runs one b2n sweep of ``--trials`` CoOp trials (seeds 0..n-1 on a built-in dataset, the
demo preset's backbone, ``--epochs`` epochs) twice on one local Ray, alternating the order over
``--repeats`` rounds: with a checkpoint after every epoch (``checkpoint_every = 1``, the default)
and with none (``0``). Prints, per setting, the median of the trials' mean time (MLflow run start
to end) and the ratio, and the cost per checkpoint in ms (the difference over the epochs).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from sept_ray.data.synth.world import ensure_world
from sept_ray.report.record import load_sweep
from sept_ray.tune import SweepSpec, b2n_grid, run_sweep


def mean_trial_seconds(spec: SweepSpec) -> float:
    """Run ``spec``; the mean of its trials' run times (s)."""
    result = run_sweep(spec)
    record = load_sweep(result.mlflow_uri, spec.experiment, result.parent_run_id)
    runs = [record.client.get_run(t.run_id) for t in record.finished()]
    return statistics.fmean((r.info.end_time - r.info.start_time) / 1000 for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4, help="trials per sweep (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="trials at once (default 2)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per trial (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--dataset", default="SynthInstruments", help="a built-in dataset")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="checkpoint_cost_"))
    root = ensure_world(work / "data", [args.dataset])
    trials = b2n_grid(
        [args.dataset],
        ["coop"],
        list(range(args.trials)),
        root,
        base={"train": {"epochs": args.epochs, "time_inference": False}},
        preset="demo",
    )
    seconds: dict[int, list[float]] = {1: [], 0: []}
    for round_ in range(args.repeats):
        for every in (1, 0) if round_ % 2 == 0 else (0, 1):
            spec = SweepSpec(
                f"checkpoint-every-{every}",
                trials,
                work / "results",
                num_cpus=args.workers,
                max_concurrent=args.workers,
                checkpoint_every=every,
            )
            seconds[every].append(mean_trial_seconds(spec))
    with_ckpt, without = statistics.median(seconds[1]), statistics.median(seconds[0])
    print(
        f"\n{args.trials} trials x {args.epochs} epochs, {args.workers} at a time, {args.repeats} rounds"
    )
    print(f"trial time with a checkpoint every epoch: {with_ckpt:.2f} s (runs {seconds[1]})")
    print(f"trial time without checkpoints:          {without:.2f} s (runs {seconds[0]})")
    print(f"ratio with/without: {with_ckpt / without:.3f}")
    print(f"cost per checkpoint: {1000 * (with_ckpt - without) / args.epochs:.1f} ms")


if __name__ == "__main__":
    main()
