"""The paper's own numbers, to print beside ours.

Source: Jang, Lee, Ko and Kim, "Generalizable Prompt Tuning for Audio-Language Models via Semantic
Expansion" (SEPT), ACL 2026 Findings, arXiv 2601.20867: its base-to-new, cross-dataset, ablation
and efficiency tables, transcribed in ``data/paper_tables.csv`` (accuracies in percent; training
time in seconds; inference time in ms per clip). Every number there is on Pengi with the paper's
protocol (16 shots, 50 epochs, 3 seeds; docs/METHOD.md), so ours is comparable only on the backbone
``pengi`` with the ``paper`` preset and on a dataset the paper has; :func:`comparability` says why
not otherwise.

The paper's "Avg. over 11 datasets" is the mean of its per-dataset rows, except for one cell: its
CoCoOp average Base (69.13) is not the mean of its CoCoOp rows (68.31); see
``tests/report/test_paper.py``.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from sept_ray.metrics import AVERAGE

CITATION = (
    'Jang, Lee, Ko, Kim. "Generalizable Prompt Tuning for Audio-Language Models via Semantic '
    'Expansion." ACL 2026 Findings (arXiv 2601.20867)'
)
PAPER_BACKBONE = "pengi"
PAPER_PRESET = "paper"
PAPER_METHODS = {  # our variant -> the paper's row name
    "zeroshot": "Pengi",
    "coop": "CoOp",
    "coop+sept": "CoOp+SEPT",
    "cocoop": "CoCoOp",
    "cocoop+sept": "CoCoOp+SEPT",
    "kgcoop": "KgCoOp",
    "kgcoop+sept": "KgCoOp+SEPT",
    "dept": "DePT",
    "dept+sept": "DePT+SEPT",
}


@dataclass(frozen=True)
class PaperRow:
    """One row of ``paper_tables.csv``; absent values are None."""

    table: str  # b2n, xd, ablation or efficiency
    dataset: str  # a dataset, AVERAGE, or SOURCE->TARGET (xd)
    method: str  # the paper's name (Pengi, CoOp, CoOp+SEPT, ...)
    base: float | None
    new: float | None
    h: float | None
    source: float | None  # xd: accuracy on the source dataset
    target: float | None  # xd: accuracy on the target dataset
    row: int | None  # ablation row number (1-7)
    params: int | None
    train_s: float | None
    infer_ms: float | None


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def paper_rows() -> tuple[PaperRow, ...]:
    """Every row of the shipped ``paper_tables.csv``."""
    text = files("sept_ray.report").joinpath("data/paper_tables.csv").read_text(encoding="utf-8")
    rows = []
    for raw in csv.DictReader(text.splitlines()):
        rows.append(
            PaperRow(
                table=raw["table"],
                dataset=raw["dataset"],
                method=raw["method"],
                base=_number(raw["base"]),
                new=_number(raw["new"]),
                h=_number(raw["H"]),
                source=_number(raw["source"]),
                target=_number(raw["target"]),
                row=int(raw["row"]) if raw["row"] else None,
                params=int(raw["params"]) if raw["params"] else None,
                train_s=_number(raw["train_s"]),
                infer_ms=_number(raw["infer_ms"]),
            )
        )
    return tuple(rows)


def paper_datasets() -> list[str]:
    """The paper's 11 b2n datasets, in its table order."""
    seen = [r.dataset for r in paper_rows() if r.table == "b2n" and r.dataset != AVERAGE]
    return list(dict.fromkeys(seen))


def paper_method(variant: str) -> str | None:
    """The paper's row name of our variant (``coop+sept`` -> ``CoOp+SEPT``), None if absent."""
    return PAPER_METHODS.get(variant)


def find(table: str, dataset: str, variant: str, row: int | None = None) -> PaperRow | None:
    """The paper's row of ``table`` for ``dataset`` and our ``variant`` (ablation: by ``row``)."""
    method = paper_method(variant) if row is None else None
    for candidate in paper_rows():
        if candidate.table != table or candidate.dataset != dataset:
            continue
        if (row is not None and candidate.row == row) or (
            row is None and candidate.method == method
        ):
            return candidate
    return None


def mean_over(datasets: list[str], variant: str) -> tuple[float, float, float] | None:
    """The paper's mean Base/New/H of ``variant`` over ``datasets`` (each must be in its b2n
    table), as our average row over the same datasets would be computed; None if any is absent."""
    found = [find("b2n", d, variant) for d in datasets]
    if not found or any(r is None for r in found):
        return None
    return tuple(statistics.fmean(getattr(r, f) for r in found) for f in ("base", "new", "h"))


@dataclass(frozen=True)
class Comparability:
    """Whether a sweep's numbers can stand beside the paper's, and if not, why."""

    comparable: bool
    reason: str  # empty when comparable

    def for_dataset(self, dataset: str) -> Comparability:
        """This sweep's comparability for one table cell's dataset (or xd pair)."""
        if not self.comparable:
            return self
        names = dataset.split("->")
        known = set(paper_datasets())
        missing = [n for n in names if n not in known]
        if missing:
            return Comparability(False, f"{', '.join(missing)} is not a dataset of the paper")
        return self


def comparability(backbone: str, preset: str) -> Comparability:
    """A sweep on ``backbone`` with training ``preset`` against the paper (Pengi, paper preset)."""
    reasons = []
    if backbone != PAPER_BACKBONE:
        reasons.append(f"backbone {backbone} (the paper's is {PAPER_BACKBONE})")
    if preset != PAPER_PRESET:
        reasons.append(f"{preset} preset (the paper's protocol is the {PAPER_PRESET} preset)")
    return Comparability(not reasons, "; ".join(reasons))
