"""A compact progress display for sweeps: one line per finished trial, a status line while running."""

from __future__ import annotations

import sys
import time

from ray.tune import Callback


class ProgressPrinter(Callback):
    """Prints ``[done/total]`` lines with each trial's Base/New/H, and a heartbeat every ``every`` s."""

    def __init__(self, total: int, every: float = 20.0) -> None:
        self.total = total
        self.every = every
        self.started = time.monotonic()
        self.last_beat = self.started
        self.done = 0
        self.failed = 0
        self.epochs: dict[str, int] = {}
        self.names: dict[str, str] = {}

    def _print(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.0f}s] {text}", file=sys.stdout, flush=True)

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self.names[trial.trial_id] = trial.config["point"]["name"]
        self.epochs[trial.trial_id] = 0

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        if not result.get("final"):
            self.epochs[trial.trial_id] = int(result["epoch"])
        now = time.monotonic()
        if now - self.last_beat >= self.every:
            self.last_beat = now
            running = [
                f"{self.names.get(t.trial_id, t.trial_id)} (epoch {self.epochs.get(t.trial_id, 0)})"
                for t in trials
                if t.status == "RUNNING"
            ]
            self._print(
                f"{self.done}/{self.total} done, {len(running)} running: " + ", ".join(running)
            )

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self.done += 1
        last = trial.last_result or {}
        self._print(
            f"[{self.done}/{self.total}] {self.names.get(trial.trial_id, trial.trial_id):<40} "
            f"base {last.get('base', float('nan')):6.2f}  new {last.get('new', float('nan')):6.2f}  "
            f"H {last.get('H', float('nan')):6.2f}  ({last.get('train_seconds', 0.0):.1f} s)"
        )

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self.done += 1
        self.failed += 1
        self._print(
            f"[{self.done}/{self.total}] {self.names.get(trial.trial_id, trial.trial_id)} FAILED: "
            f"{getattr(trial, 'error_message', None) or 'see the trial log'}"
        )
