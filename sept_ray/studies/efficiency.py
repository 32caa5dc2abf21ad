"""Efficiency: trainable parameters, training and inference time and H per method (the paper's
layout), then the b2n blocks and the trained-trial figures."""

from __future__ import annotations

from collections import defaultdict

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
class Efficiency(Study):
    name = "efficiency"

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        rows, _ = table_rows(inputs)
        finals = defaultdict(list)
        for trial in inputs.finished:
            finals[trial.label].append(trial.metrics)
        parts = ReportParts([layouts.efficiency_table(rows, dict(finals), inputs.comparable)])
        parts.tables += result_tables(inputs)
        parts += trial_figures(inputs)
        return parts
