"""Efficiency: trainable parameters, training and inference time and H per method (the paper's
layout), then the b2n blocks and the trained-trial figures."""

from __future__ import annotations

from collections import defaultdict

from sept_ray.report import layouts
from sept_ray.report.sections import ReportInputs, ReportParts, table_rows, trained_report
from sept_ray.studies.base import Study, register


@register
class Efficiency(Study):
    name = "efficiency"

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        finals = defaultdict(list)
        for trial in inputs.finished:
            finals[trial.label].append(trial.metrics)
        table = layouts.efficiency_table(table_rows(inputs)[0], dict(finals), inputs.comparable)
        return trained_report(inputs, [table])
