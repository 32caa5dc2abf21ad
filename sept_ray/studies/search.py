"""The Optuna search of SEPT's settings: every setting tried (best first) and Optuna's figures;
its plan is the number of samples, not a list of trials."""

from __future__ import annotations

from sept_ray.report.record import SweepRecord
from sept_ray.report.sections import ReportInputs, ReportParts, search_parts
from sept_ray.studies.base import Study, register


@register
class Search(Study):
    name = "search"

    def planned(self, record: SweepRecord) -> int:
        return int(record.params.get("num_samples", len(record.plan)))

    def report(self, inputs: ReportInputs) -> ReportParts:
        return search_parts(inputs)
