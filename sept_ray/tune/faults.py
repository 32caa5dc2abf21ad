"""Test-only fault injection: chosen trials of a sweep fail once, at a chosen epoch.

``SEPT_INJECT_FAULTS`` (read by the sweep driver) holds JSON
``{"<trial name>": {"epoch": k, "mode": "raise" | "exit"}}``. The trial named fails the first time
it finishes epoch ``k``, before that epoch is reported: ``raise`` raises :class:`InjectedFault`
in the trial, ``exit`` ends the trial's worker process at once (``os._exit``), as a crash or an
out-of-memory kill would. A marker file under the run folder makes each fault fire once, so the
retried trial (Tune's ``max_failures``) goes through. Reliability tests use it; users never need it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sept_ray.config import ConfigError

FAULTS_ENV = "SEPT_INJECT_FAULTS"
MODES = ("raise", "exit")


class InjectedFault(RuntimeError):
    """The failure a ``raise`` fault makes."""


@dataclass(frozen=True)
class Fault:
    """Fail once at ``epoch`` (a reported evaluation's epoch) in ``mode``."""

    epoch: int
    mode: str


def parse_faults(text: str) -> dict[str, Fault]:
    """``{trial name: Fault}`` from the JSON of :data:`FAULTS_ENV`; bad JSON or values are a
    :class:`ConfigError` naming the variable and the trial."""
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{FAULTS_ENV}: not JSON ({exc})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{FAULTS_ENV}: must map trial names to {{'epoch', 'mode'}}")
    faults = {}
    for name, spec in values.items():
        if not isinstance(spec, dict) or set(spec) != {"epoch", "mode"}:
            raise ConfigError(f"{FAULTS_ENV}: trial {name!r} needs exactly 'epoch' and 'mode'")
        if spec["mode"] not in MODES or not isinstance(spec["epoch"], int) or spec["epoch"] < 0:
            raise ConfigError(
                f"{FAULTS_ENV}: trial {name!r}: epoch must be an int >= 0 and mode one of {MODES}"
            )
        faults[name] = Fault(spec["epoch"], spec["mode"])
    return faults


def faults_from_env() -> dict[str, Fault]:
    """The faults :data:`FAULTS_ENV` asks for (none when unset)."""
    text = os.environ.get(FAULTS_ENV, "")
    return parse_faults(text) if text else {}


def fault_point(fault: Fault, marker: Path) -> dict:
    """What a trial's Tune point carries of its fault (``marker``: the file that says it fired)."""
    return {"epoch": fault.epoch, "mode": fault.mode, "marker": str(marker)}


def maybe_fail(point_fault: dict | None, epoch: int) -> None:
    """Fire a trial's fault (a :func:`fault_point` mapping) if ``epoch`` is its epoch and it has
    not fired yet."""
    if not point_fault or epoch != point_fault["epoch"]:
        return
    marker = Path(point_fault["marker"])
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{point_fault['mode']} at epoch {epoch}\n")
    if point_fault["mode"] == "exit":
        os._exit(17)  # no cleanup, no exception: the worker process is gone
    raise InjectedFault(f"injected fault at epoch {epoch}")
