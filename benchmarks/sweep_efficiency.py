"""Sweep efficiency: how much of the workers' time goes to trials.

    python benchmarks/sweep_efficiency.py                    # 8 CoOp trials, 2 at a time

Runs a b2n sweep of ``--trials`` CoOp trials (seeds 0..n-1 on one built-in dataset, TinyALM,
``--epochs`` epochs so each trial lasts ``--trial-seconds`` or more on 2 cores) on a local Ray with
``--workers`` CPUs, one trial per CPU, and prints

    efficiency = sum of the trials' own times / (wall time x workers)

for the run of the trials (Tune's fit: from the first trial's start to the last one's end) and for
the whole sweep (Ray start, embedding cache, MLflow, report included). Trials reuse their Ray
actors (``reuse_actors``), so a worker keeps torch imported and the backbone loaded.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sept_ray.data.synth.world import ensure_world
from sept_ray.report.record import load_sweep
from sept_ray.tune import SweepSpec, b2n_grid, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8, help="trials (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="trials at once (default 2)")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per trial (default 40)")
    parser.add_argument("--dataset", default="SynthInstruments", help="a built-in dataset")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="sweep_efficiency_"))
    root = ensure_world(work / "data", [args.dataset])
    trials = b2n_grid(
        [args.dataset],
        ["coop"],
        list(range(args.trials)),
        root,
        base={"train": {"epochs": args.epochs, "time_inference": False}},
        preset="demo",
    )
    spec = SweepSpec(
        "efficiency-bench",
        trials,
        work / "results",
        num_cpus=args.workers,
        max_concurrent=args.workers,
    )
    started = time.perf_counter()
    result = run_sweep(spec)
    whole = time.perf_counter() - started
    record = load_sweep(result.mlflow_uri, "efficiency-bench", result.parent_run_id)
    spans = [
        (r.info.start_time / 1000, r.info.end_time / 1000)
        for r in (record.client.get_run(t.run_id) for t in record.finished())
    ]
    trial_seconds = sum(end - start for start, end in spans)
    fit_wall = max(end for _, end in spans) - min(start for start, _ in spans)
    print(f"\n{len(spans)} trials of {args.epochs} epochs on {args.workers} workers")
    print(f"trial time: mean {trial_seconds / len(spans):.1f} s, sum {trial_seconds:.1f} s")
    print(
        f"running the trials: wall {fit_wall:.1f} s, efficiency "
        f"{trial_seconds / (fit_wall * args.workers):.3f}"
    )
    print(
        f"whole sweep (Ray start, cache, MLflow, report): wall {whole:.1f} s, efficiency "
        f"{trial_seconds / (whole * args.workers):.3f}"
    )


if __name__ == "__main__":
    main()
