"""Base-to-new generalization: the b2n blocks in the paper's layout, SEPT's paired effect, and
every trained-trial figure."""

from __future__ import annotations

from sept_ray.report.sections import ReportInputs, ReportParts, result_tables, trial_figures
from sept_ray.studies.base import Study, register


@register
class B2N(Study):
    name = "b2n"

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        parts = ReportParts(result_tables(inputs))
        parts += trial_figures(inputs)
        return parts
