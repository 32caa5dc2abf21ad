"""Cross-dataset transfer: source and target accuracy per pair and method (the paper's layout),
the t-SNE and the per-dataset figures (no Base vs New: source and target are not base and new)."""

from __future__ import annotations

from sept_ray.report import layouts
from sept_ray.report.sections import ReportInputs, ReportParts, table_rows, trained_report
from sept_ray.studies.base import Study, register


@register
class CrossDataset(Study):
    name = "xd"

    def report(self, inputs: ReportInputs) -> ReportParts:
        lead = (
            [layouts.xd_table(table_rows(inputs)[0], inputs.comparable)] if inputs.finished else []
        )
        return trained_report(inputs, lead, blocks=False, scatter=False)
