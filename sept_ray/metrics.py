"""Base/new accuracy, the harmonic mean H, and the aggregation of trials into tables
(docs/METHOD.md, "Setting and protocol").

Accuracies are percentages. A dataset's number is the mean over folds, then over seeds, of each of
Base, New and H; the average over datasets is the mean of the per-dataset values (so the average H
is the mean of per-dataset H, as the paper's averages are).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch

AVERAGE = "AVERAGE"


def harmonic_mean(base: float, new: float) -> float:
    """H = 2·B·N / (B + N); 0 when both are 0."""
    return 0.0 if base + new == 0 else 2.0 * base * new / (base + new)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy in percent of logits [B, C] against labels [B]."""
    if labels.numel() == 0:
        raise ValueError("accuracy of an empty set")
    return 100.0 * (logits.argmax(dim=-1) == labels).float().mean().item()


def per_class_accuracy(
    logits: torch.Tensor, labels: torch.Tensor, classes: Sequence[str]
) -> dict[str, float]:
    """{class: accuracy in percent} over the clips of each class (classes without clips omitted)."""
    predicted = logits.argmax(dim=-1)
    result = {}
    for index, name in enumerate(classes):
        chosen = labels == index
        if chosen.any():
            result[name] = 100.0 * (predicted[chosen] == index).float().mean().item()
    return result


@dataclass(frozen=True)
class RunScore:
    """The final Base/New/H of one trial."""

    dataset: str
    variant: str
    seed: int
    fold: int
    base: float
    new: float
    h: float


@dataclass(frozen=True)
class TableRow:
    """One (variant, dataset) cell of a table: means, std over seeds, and how many runs fed it."""

    variant: str
    dataset: str
    base: float
    new: float
    h: float
    h_std: float
    n_seeds: int
    n_runs: int
    n_expected: int  # runs the sweep planned for this cell; more than n_runs when some failed
    base_std: float = 0.0  # std over seeds of Base (0 with one seed)
    new_std: float = 0.0  # std over seeds of New (0 with one seed)

    @property
    def complete(self) -> bool:
        return self.n_runs == self.n_expected


def aggregate(
    scores: Iterable[RunScore], expected: Mapping[tuple[str, str], int] | None = None
) -> list[TableRow]:
    """Folds -> seeds -> datasets, plus an ``AVERAGE`` row per variant (mean of per-dataset values).

    ``expected`` maps (variant, dataset) to the number of runs planned; a cell or average fed by
    fewer runs says so in ``n_runs < n_expected`` (a missing run is never counted as zero).
    Rows are ordered by variant (first appearance), then dataset name, the average last.
    """
    expected = dict(expected or {})
    by_cell: dict[tuple[str, str], dict[int, list[RunScore]]] = defaultdict(
        lambda: defaultdict(list)
    )
    variants: list[str] = []
    for score in scores:
        if score.variant not in variants:
            variants.append(score.variant)
        by_cell[(score.variant, score.dataset)][score.seed].append(score)

    rows: list[TableRow] = []
    for variant in variants:
        cells = []
        by_seed: dict[str, dict[int, tuple[float, float, float]]] = {}  # dataset -> seed -> B,N,H
        for (v, dataset), seeds in sorted(by_cell.items()):
            if v != variant:
                continue
            by_seed[dataset] = {
                seed: tuple(statistics.fmean(getattr(r, f) for r in runs) for f in FIELDS)
                for seed, runs in sorted(seeds.items())
            }
            per_seed = list(by_seed[dataset].values())
            spread = [_std([s[i] for s in per_seed]) for i in range(3)]
            n_runs = sum(len(runs) for runs in seeds.values())
            cells.append(
                TableRow(
                    variant=variant,
                    dataset=dataset,
                    base=statistics.fmean(s[0] for s in per_seed),
                    new=statistics.fmean(s[1] for s in per_seed),
                    h=statistics.fmean(s[2] for s in per_seed),
                    h_std=spread[2],
                    n_seeds=len(per_seed),
                    n_runs=n_runs,
                    n_expected=expected.get((variant, dataset), n_runs),
                    base_std=spread[0],
                    new_std=spread[1],
                )
            )
        rows.extend(cells)
        spread = _average_std(by_seed)
        rows.append(
            TableRow(
                variant=variant,
                dataset=AVERAGE,
                base=statistics.fmean(c.base for c in cells),
                new=statistics.fmean(c.new for c in cells),
                h=statistics.fmean(c.h for c in cells),
                h_std=spread[2],
                n_seeds=min(c.n_seeds for c in cells),
                n_runs=sum(c.n_runs for c in cells),
                n_expected=max(
                    sum(c.n_expected for c in cells),
                    sum(n for (v, _), n in expected.items() if v == variant),
                ),
                base_std=spread[0],
                new_std=spread[1],
            )
        )
    return rows


FIELDS = ("base", "new", "h")


def _std(values: Sequence[float]) -> float:
    """Sample std; 0 for fewer than two values."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _average_std(
    by_seed: Mapping[str, Mapping[int, tuple[float, float, float]]],
) -> tuple[float, float, float]:
    """Std over seeds of the per-seed averages of Base, New and H over datasets, using the seeds
    every dataset has (0 with fewer than two such seeds)."""
    common = sorted(set.intersection(*(set(seeds) for seeds in by_seed.values())))
    per_seed = [
        [statistics.fmean(seeds[s][i] for seeds in by_seed.values()) for s in common]
        for i in range(3)
    ]
    return tuple(_std(values) for values in per_seed)
