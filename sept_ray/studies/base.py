"""A study: what a sweep of one kind (b2n, xd, ablation, efficiency, search) reports.

Each study is one file of this package that registers a :class:`Study` under its name (the
``study`` param of the sweep's parent run); the report asks it for its tables and figures
instead of branching on the name.
"""

from __future__ import annotations

from sept_ray.registry import Registry
from sept_ray.report.record import SweepRecord
from sept_ray.report.sections import ReportInputs, ReportParts


class Study:
    """The contract of a study; subclasses override :meth:`report` and, where the plan is not
    the trial count, :meth:`planned`."""

    name: str = ""

    def planned(self, record: SweepRecord) -> int:
        """How many trials the sweep planned."""
        return len(record.plan)

    def report(self, inputs: ReportInputs) -> ReportParts:
        """The study's tables and figures (none without a finished trial)."""
        raise NotImplementedError


STUDIES: Registry[Study] = Registry("study")


def register(study: type[Study]) -> type[Study]:
    """Class decorator: register one instance of ``study`` under its ``name``."""
    STUDIES.register(study.name)(study())
    return study
