"""The SEPT ablation: the paper's seven rows (averages over datasets), then the b2n blocks and
the trained-trial figures."""

from __future__ import annotations

from sept_ray.report import layouts
from sept_ray.report.sections import ReportInputs, ReportParts, table_rows, trained_report
from sept_ray.studies.base import Study, register


@register
class Ablation(Study):
    name = "ablation"

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        rows, planned = table_rows(inputs)
        datasets = sorted({d for _, d in planned})
        return trained_report(inputs, [layouts.ablation_table(rows, datasets, inputs.comparable)])
