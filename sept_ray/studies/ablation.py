"""The SEPT ablation: the paper's seven rows (averages over datasets), then the b2n blocks and
the trained-trial figures."""

from __future__ import annotations

from sept_ray.report import layouts
from sept_ray.report.sections import (
    ReportInputs,
    ReportParts,
    result_tables,
    table_rows,
    trial_figures,
)
from sept_ray.studies.base import Study, register


@register
class Ablation(Study):
    name = "ablation"

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        rows, planned = table_rows(inputs)
        datasets = sorted({d for _, d in planned})
        parts = ReportParts([layouts.ablation_table(rows, datasets, inputs.comparable)])
        parts.tables += result_tables(inputs)
        parts += trial_figures(inputs)
        return parts
