"""What a finished Tune run gives back, for every study: the trials that finished and why the
others failed.

A trial finished when it reported a final result (``final = 1``, see
:mod:`sept_ray.tune.trainable`); a trial with an error failed, and is named with the last line of
its error (the exception and its message); a trial without either was stopped early by a
scheduler (a search's pruner). A grid trial is named by its point's name; the samples of
a search share one point and are named by their Tune trial id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sept_ray.tune.point import POINT, point_of


def last_line(text: str, fallback: str) -> str:
    """The last non-blank line of ``text`` (an error trace's exception and message), stripped,
    or ``fallback`` when there is none."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else fallback


@dataclass(frozen=True)
class Finished:
    """A trial that reported its final result: its name (a search sample: its trial id), its
    Tune config and its final metrics."""

    name: str
    config: dict[str, Any]
    metrics: dict[str, Any]


def trial_name(result) -> str:
    """A Tune result's trial: its point's name, or for a search sample (or a trial Tune lost
    its config of, as after a Ctrl-C) its trial id."""
    config = result.config or {}
    if POINT in config and not point_of(config).sampled:
        return point_of(config).name
    return str((result.metrics or {}).get("trial_id") or result.path.rsplit("_", 1)[-1])


@dataclass(frozen=True)
class Collected:
    """A Tune run's trials: ``finished`` ones, ``failed`` ones as (name, last line of the error),
    and the names of those a scheduler ``stopped`` early (no error, no final result)."""

    finished: list[Finished]
    failed: list[tuple[str, str]]
    stopped: list[str]


def collect(grid) -> Collected:
    """The trials of a Tune ``ResultGrid``, in its order (see :class:`Collected`)."""
    finished, failed, stopped = [], [], []
    for result in grid:
        metrics = result.metrics or {}
        name = trial_name(result)
        if result.error is not None:
            failed.append((name, last_line(result.error, "no final result")))
        elif not metrics.get("final"):
            stopped.append(name)
        else:
            finished.append(Finished(name, dict(result.config), dict(metrics)))
    return Collected(finished, failed, stopped)
