"""A compact progress display for sweeps.

One line per finished trial (``[done/total] name  base  new  H  (seconds)``) and, every ``every``
seconds while trials run, a small table of the running trials with their epoch and latest scores.
"""

from __future__ import annotations

import sys
import time

from ray.tune import Callback

from sept_ray.tune.point import point_of
from sept_ray.tune.tracking import error_summary, trial_label


class ProgressPrinter(Callback):
    """Tune callback printing sweep progress to stdout (see the module docstring)."""

    def __init__(self, total: int, every: float = 20.0) -> None:
        self.total = total
        self.every = every
        self.started = time.monotonic()
        self.last_table = self.started
        self.done = 0
        self.latest: dict[str, dict] = {}

    def _print(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.0f}s] {text}", file=sys.stdout, flush=True)

    @staticmethod
    def _name(trial) -> str:
        return trial_label(trial)

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        if not result.get("final"):
            self.latest[trial.trial_id] = result
        now = time.monotonic()
        if now - self.last_table < self.every:
            return
        self.last_table = now
        running = [t for t in trials if t.status == "RUNNING"]
        lines = [f"{self.done}/{self.total} done, {len(running)} running:"]
        for t in running:
            last = self.latest.get(t.trial_id, {})
            point = point_of(t.config)
            unit = "step " if point.sampled else "epoch"  # a search sample: over its trainings
            scores = (
                f"base {last['base']:6.2f}  new {last['new']:6.2f}  H {last['H']:6.2f}"
                if last
                else "starting"
            )
            lines.append(
                f"           {self._name(t):<42} {unit} {last.get('epoch', 0):>3}/{point.steps:<3} "
                f"{scores}"
            )
        self._print("\n".join(lines))

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self.done += 1
        last = trial.last_result or {}
        if not last.get("final"):  # a search's pruner stopped it after this step's report
            point = point_of(trial.config)
            self._print(
                f"[{self.done}/{self.total}] {self._name(trial):<40} stopped early at step "
                f"{last.get('epoch', 0)}/{point.steps} (H {last.get('H', float('nan')):.2f})"
            )
            return
        self._print(
            f"[{self.done}/{self.total}] {self._name(trial):<40} "
            f"base {last.get('base', float('nan')):6.2f}  new {last.get('new', float('nan')):6.2f}  "
            f"H {last.get('H', float('nan')):6.2f}  ({last.get('train_seconds', 0.0):.1f} s)"
        )

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self.done += 1
        self._print(
            f"[{self.done}/{self.total}] {self._name(trial)} FAILED: {error_summary(trial)}"
        )
