"""SEPT's effect on H, measured in pairs: each trial with SEPT against the trial of the same method
without it on the same dataset, fold and seed (so the two share their data and initial context).

For every SEPT variant (``coop+sept``, ``coop+sept-frozen``, ``dept+sept:row3``, ...) and its
reference (the label before ``+sept``), per dataset: the mean ΔH over pairs (H points, with minus
without), a percentile bootstrap interval that resamples the (seed, fold) pairs, and how many pairs
SEPT wins, ties and loses. The AVERAGE row is the mean of the per-dataset means, as in the b2n
table, and its interval resamples pairs within each dataset (a stratified bootstrap), so a dataset
with many folds does not outweigh one with a single fold.

With complete runs the per-dataset mean ΔH equals the difference of the two rows' H in the b2n
table (mean over seeds of the mean over folds). A dataset with a single pair (one seed, one fold)
has no interval, and neither has an AVERAGE over it: resampling one pair would show no spread at
all. A dataset with only 3 pairs has only 10 distinct resamples, so its interval is coarse; the
AVERAGE interval is the one to read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from sept_ray.metrics import AVERAGE, RunScore

SEPT_MARK = "+sept"
CONFIDENCE = 0.95
RESAMPLES = 10_000
HEADER = ["method", "against", "dataset", "ΔH", "95% interval", "wins", "ties", "losses", "pairs"]


@dataclass(frozen=True)
class SeptEffect:
    """SEPT's paired effect on H for one variant on one dataset (or ``AVERAGE``).

    ``delta_h``, ``low``, ``high``: mean ΔH and its bootstrap interval, in H points (0–100); the
    interval is NaN where a dataset has a single pair (see the module doc)."""

    variant: str
    reference: str
    dataset: str
    delta_h: float
    low: float
    high: float
    wins: int
    ties: int
    losses: int

    @property
    def pairs(self) -> int:
        return self.wins + self.ties + self.losses


def without_sept(label: str) -> str | None:
    """The label SEPT's effect is measured against: ``coop+sept``, ``coop+sept-frozen`` and
    ``coop+sept:searched`` -> ``coop``; None for a label without SEPT."""
    head, mark, _ = label.partition(SEPT_MARK)
    return head if mark else None


def paired_deltas(scores: Iterable[RunScore]) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """(variant, reference) -> dataset -> ΔH of every (seed, fold) pair both labels ran, sorted by
    (seed, fold). Variants whose reference has no run are left out."""
    by_key = {(s.variant, s.dataset, s.seed, s.fold): s.h for s in scores}
    pairs: dict[tuple[str, str], dict[str, list[tuple[int, int, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for (variant, dataset, seed, fold), h in by_key.items():
        reference = without_sept(variant)
        if reference is None or (reference, dataset, seed, fold) not in by_key:
            continue
        delta = h - by_key[(reference, dataset, seed, fold)]
        pairs[(variant, reference)][dataset].append((seed, fold, delta))
    return {
        key: {d: np.array([x[2] for x in sorted(v)]) for d, v in sorted(sets.items())}
        for key, sets in pairs.items()
    }


def bootstrap_means(deltas: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """``resamples`` means of ``deltas`` (n,) resampled with replacement: shape (resamples,)."""
    picks = rng.integers(0, len(deltas), size=(resamples, len(deltas)))
    return deltas[picks].mean(axis=1)


def interval(draws: np.ndarray | None) -> tuple[float, float]:
    """The central ``CONFIDENCE`` percentile interval of bootstrap ``draws``; NaNs for None."""
    if draws is None:
        return float("nan"), float("nan")
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def counts(deltas: np.ndarray) -> tuple[int, int, int]:
    """(wins, ties, losses): pairs where SEPT's H is above, equal to (within 1e-9) and below."""
    ties = int(np.sum(np.abs(deltas) <= 1e-9))
    wins = int(np.sum(deltas > 1e-9))
    return wins, ties, len(deltas) - wins - ties


def sept_effects(
    scores: Iterable[RunScore], resamples: int = RESAMPLES, seed: int = 0
) -> list[SeptEffect]:
    """Every SEPT variant's paired effect per dataset, then ``AVERAGE``, variants in first-seen
    order; the bootstrap draws from ``np.random.default_rng(seed)``, so a report is reproducible."""
    scores = list(scores)
    order = list(dict.fromkeys(s.variant for s in scores))
    effects: list[SeptEffect] = []
    for (variant, reference), sets in sorted(
        paired_deltas(scores).items(), key=lambda item: order.index(item[0][0])
    ):
        rng = np.random.default_rng(seed)
        draws = []
        for dataset, deltas in sets.items():
            draws.append(bootstrap_means(deltas, rng, resamples) if len(deltas) > 1 else None)
            effects.append(
                SeptEffect(
                    variant,
                    reference,
                    dataset,
                    float(deltas.mean()),
                    *interval(draws[-1]),
                    *counts(deltas),
                )
            )
        pooled = None if any(d is None for d in draws) else np.mean(draws, axis=0)
        everything = np.concatenate(list(sets.values()))
        effects.append(
            SeptEffect(
                variant,
                reference,
                AVERAGE,
                float(np.mean([d.mean() for d in sets.values()])),
                *interval(pooled),
                *counts(everything),
            )
        )
    return effects


def effect_rows(effects: Sequence[SeptEffect]) -> list[list[str]]:
    """The cells of :data:`HEADER` for each effect."""
    return [
        [
            e.variant,
            e.reference,
            e.dataset,
            f"{e.delta_h:+.2f}",
            "—" if np.isnan(e.low) else f"[{e.low:+.2f}, {e.high:+.2f}]",
            str(e.wins),
            str(e.ties),
            str(e.losses),
            str(e.pairs),
        ]
        for e in effects
    ]


NOTE = (
    "ΔH: SEPT's H minus the same method's H on the same dataset, fold and seed (H points); "
    f"interval: {CONFIDENCE:.0%} percentile bootstrap over (seed, fold) pairs, {RESAMPLES:,} "
    "resamples (stratified by dataset for AVERAGE; —: a dataset with a single pair has none, nor "
    "has an AVERAGE over it); wins/ties/losses count pairs."
)
