"""The search's Optuna searcher: Ray Tune's ``OptunaSearch``, told about the pruner.

A setting stopped early by the pruner (:func:`sept_ray.tune.search.pruner`) ends with an epoch's
report, not a final one; ``OptunaSearch`` would record it as complete with that epoch's H, an
objective it never reached. Here it is recorded as pruned.
"""

from __future__ import annotations

from ray.tune.search.optuna import OptunaSearch


class PrunedAwareOptunaSearch(OptunaSearch):
    """``OptunaSearch`` where a trial whose last report is not final is PRUNED in the study."""

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        if result is not None and not error and not result.get("final"):
            result = {k: v for k, v in result.items() if k != self.metric}  # no value: PRUNED
        super().on_trial_complete(trial_id, result, error)
