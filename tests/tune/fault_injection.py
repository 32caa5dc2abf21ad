"""Faults for the reliability tests, injected from the test: the package has no fault hook.

:func:`faulty` wraps the sweeps' one trainable (``sept_ray.tune.trainable.train_point``); a test
puts the wrapper in its place (``monkeypatch.setattr``),
and the sweep hands it to Ray Tune, which runs it in the workers. In a trial a fault names, the
wrapper intercepts ``tune.report``: the first time the trial is about to report epoch ``k`` (a
search: step ``k``), it fails instead, before that epoch and its checkpoint reach Tune. ``raise``
raises :class:`InjectedFault` in the trial; ``exit`` ends the worker process at once
(``os._exit``), as a crash or an out-of-memory kill would. A marker file ``<markers>/<name>.fired``
makes each fault fire once, so the retried trial (Tune's ``max_failures``) goes through. The key
``"*"`` fires in whichever trial reaches the epoch first (a search's samples share one point).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ray import cloudpickle

from sept_ray.tune.point import point_of

MODES = ("raise", "exit")


class InjectedFault(RuntimeError):
    """The failure a ``raise`` fault makes."""


@dataclass(frozen=True)
class Fault:
    """Fail once, instead of reporting ``epoch``, in ``mode`` (``raise`` or ``exit``)."""

    epoch: int
    mode: str


def faulty(
    trainable: Callable[[dict[str, Any]], None], faults: dict[str, Fault], markers: Path
) -> Callable[[dict[str, Any]], None]:
    """``trainable`` with ``faults`` (trial name -> :class:`Fault`) injected."""
    assert all(f.mode in MODES for f in faults.values())

    def run(config: dict[str, Any]) -> None:
        from ray import tune

        name = point_of(config).name
        if name not in faults:
            return trainable(config)
        fault, marker = faults[name], Path(markers) / f"{name}.fired"
        report = tune.report

        def report_or_fail(metrics: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            due = metrics.get("final") == 0 and metrics.get("epoch") == fault.epoch
            if due and not marker.exists():
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text(f"{name}: {fault.mode} at epoch {fault.epoch}\n")
                if fault.mode == "exit":
                    os._exit(17)  # no cleanup, no exception: the worker process is gone
                raise InjectedFault(f"injected fault at epoch {fault.epoch}")
            report(metrics, *args, **kwargs)

        tune.report = report_or_fail
        try:
            trainable(config)
        finally:
            tune.report = report

    return run


# the workers cannot import this test module: Ray ships the wrapper by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])
