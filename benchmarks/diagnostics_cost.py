"""What SEPT's hinge diagnostics cost a trial: the same trials with and without them, side by side.

    python benchmarks/diagnostics_cost.py                 # CoOp, CoOp+SEPT (both readings)

Runs each variant's trial (a built-in dataset, fold 1, seed 0, the ``paper`` preset with
``--epochs`` epochs, no inference timing) in this process, after one untimed trial that fills the
embedding cache, alternating with diagnostics
(``train.diagnostics_every = --every``) and without (``0``) over ``--repeats`` rounds. Prints per
variant the median trial time (``run_trial``, set-up included) with and without, their ratio, and
the median share of the trial spent on diagnostics (``diag_seconds``: the probes' own clock,
preparing and measuring).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sept_ray.config import TrialConfig
from sept_ray.data.synth.world import ensure_world
from sept_ray.train import run_trial

VARIANTS = {
    "coop": {"method": {"name": "coop"}},
    "coop+sept": {"method": {"name": "coop"}, "sept": {"enabled": True}},
    "coop+sept-frozen": {
        "method": {"name": "coop"},
        "sept": {"enabled": True, "neighbour_space": "frozen"},
    },
}


def timed_trial(values: dict) -> tuple[float, float]:
    """(wall seconds of one trial, its diag_seconds)."""
    cfg = TrialConfig.from_dict(values, preset="paper")
    tic = time.perf_counter()
    result = run_trial(cfg)
    return time.perf_counter() - tic, result.diag_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="SynthInstruments", help="a built-in dataset")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per trial (default 20)")
    parser.add_argument("--every", type=int, default=10, help="train.diagnostics_every (10)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="diagnostics_cost_"))
    root = ensure_world(work / "data", [args.dataset])
    print(
        f"{args.dataset}, fold 1, seed 0, paper preset, {args.epochs} epochs, {args.repeats} rounds"
    )

    def values(variant: str, epochs: int, every: int) -> dict:
        return {
            **VARIANTS[variant],
            "data": {"name": args.dataset, "root": str(root)},
            "train": {"epochs": epochs, "diagnostics_every": every, "time_inference": False},
            "output_dir": str(work / "trials" / f"{variant}-{every}"),
            "cache_dir": str(work / "cache"),
        }

    # fills the embedding cache and, in this process, the template spaces the diagnostics use,
    # as a sweep worker's first trial does: no timed trial pays for them
    timed_trial(values("coop", 1, args.every))
    for variant in args.variants:
        walls: dict[int, list[float]] = {args.every: [], 0: []}
        shares = []
        for round_ in range(args.repeats):
            for every in (args.every, 0) if round_ % 2 == 0 else (0, args.every):
                wall, diag = timed_trial(values(variant, args.epochs, every))
                walls[every].append(wall)
                if every:
                    shares.append(diag / wall)
        on, off = statistics.median(walls[args.every]), statistics.median(walls[0])
        print(
            f"{variant:<17} with diagnostics every {args.every}: {on:6.2f} s  without: {off:6.2f} s"
            f"  ratio {on / off:.3f}  measuring {100 * statistics.median(shares):.1f} % of the trial"
        )


if __name__ == "__main__":
    main()
