"""A study: one kind of sweep (b2n, xd, ablation, efficiency, search), whole, in one file.

Each study is one file of this package that registers a :class:`Study` under its name (the
``study`` param of the sweep's parent run). The study declares its own options, builds its
trials, runs them and prints its table (:meth:`Study.sweep`), and tells the report its tables
and figures (:meth:`Study.report`); its docstring (the class's, else the module's) is its
sweep's ``--help``.
``sweeps/<study>.py`` only names the study (:mod:`sept_ray.studies.script`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, ClassVar

from sept_ray.registry import Registry
from sept_ray.report.record import SweepRecord
from sept_ray.report.sections import ReportInputs, ReportParts


class Study:
    """The contract of a study; subclasses set ``name`` and override :meth:`sweep` and
    :meth:`report`, and where they need to :meth:`add_options`, ``option_defaults`` and
    :meth:`planned`."""

    name: str = ""
    option_defaults: ClassVar[dict[str, Any]] = {}  # common options this study sets otherwise

    @property
    def doc(self) -> str:
        """What the study runs and shows (the sweep's ``--help``): the class's own docstring,
        else its module's."""
        return type(self).__doc__ or sys.modules[type(self).__module__].__doc__ or ""

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """Add the study's own options to its sweep's ``parser`` (the common options follow)."""

    def sweep(self, args: argparse.Namespace, argv: list[str] | None) -> int:
        """Build the study's trials from the parsed ``args``, run them, print the study's table,
        write the report; the exit code (0: every trial finished and the report was built)."""
        raise NotImplementedError

    def planned(self, record: SweepRecord) -> int:
        """How many trials the sweep planned."""
        return len(record.plan)

    def missing(self, record: SweepRecord) -> list[dict[str, Any]]:
        """The planned trials (entries of ``record.plan``) without a finished run."""
        return record.missing()

    def report(self, inputs: ReportInputs) -> ReportParts:
        """The study's tables and figures (none without a finished trial)."""
        raise NotImplementedError


STUDIES: Registry[Study] = Registry("study")


def register(study: type[Study]) -> type[Study]:
    """Class decorator: register one instance of ``study`` under its ``name``."""
    STUDIES.register(study.name)(study())
    return study
