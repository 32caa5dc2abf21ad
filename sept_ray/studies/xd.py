"""Cross-dataset transfer: source and target accuracy per pair and method (the paper's layout),
the t-SNE and the per-dataset figures (no Base vs New: source and target are not base and new)."""

from __future__ import annotations

from sept_ray.report import layouts
from sept_ray.report.sections import ReportInputs, ReportParts, table_rows, trial_figures
from sept_ray.studies.base import Study, register


@register
class CrossDataset(Study):
    name = "xd"

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        rows, _ = table_rows(inputs)
        parts = ReportParts([layouts.xd_table(rows, inputs.comparable)])
        parts += trial_figures(inputs, scatter=False)
        return parts
