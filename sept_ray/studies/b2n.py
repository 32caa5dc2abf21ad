"""Base-to-new generalization: the b2n blocks in the paper's layout, SEPT's paired effect, and
every trained-trial figure."""

from __future__ import annotations

from sept_ray.report.sections import ReportInputs, ReportParts, trained_report
from sept_ray.studies.base import Study, register


@register
class B2N(Study):
    name = "b2n"

    def report(self, inputs: ReportInputs) -> ReportParts:
        return trained_report(inputs, [])
