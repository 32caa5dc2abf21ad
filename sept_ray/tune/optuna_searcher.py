"""The search's Optuna searcher: Ray Tune's ``OptunaSearch``, told about the pruner and about the
reference trial that is not Optuna's to sample.

A setting stopped early by the pruner (:func:`sept_ray.tune.search.pruner`) ends with an epoch's
report, not a final one; ``OptunaSearch`` would record it as complete with that epoch's H, an
objective it never reached. Here it is recorded as pruned.

The first trial is the reference (the method without SEPT, scored on the same objective): its
config is fixed (``reference``), it is not one of Optuna's trials, and the sampler never sees it.
"""

from __future__ import annotations

from typing import Any

from ray.tune.search.optuna import OptunaSearch


class SearchWithReference(OptunaSearch):
    """``OptunaSearch`` whose first suggestion is ``reference`` (dotted overrides, outside the
    searched space) and whose trials stopped before their final report are PRUNED in the study.
    Its state (the reference's trial id) is saved and restored with the searcher's own."""

    def __init__(self, *args: Any, reference: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reference = dict(reference)
        self.reference_trial: str | None = None

    def suggest(self, trial_id: str) -> dict | None:
        if self.reference_trial in (None, trial_id):
            self.reference_trial = trial_id
            return dict(self.reference)
        return super().suggest(trial_id)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if trial_id != self.reference_trial:
            super().on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False):
        if trial_id == self.reference_trial:
            return
        if result is not None and not error and not result.get("final"):
            metrics = self.metric if isinstance(self.metric, list) else [self.metric]
            result = {k: v for k, v in result.items() if k not in metrics}  # no value: PRUNED
        super().on_trial_complete(trial_id, result, error)
