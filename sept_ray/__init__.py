"""sept_ray: generalizable prompt tuning (CoOp, SEPT, ...) of frozen audio-language models.

The library (everything outside ``sept_ray.tune``) runs and is tested without Ray; ``sept_ray.tune``
wraps one trial (:func:`sept_ray.train.run_trial`) into Ray Tune sweeps tracked in MLflow.
"""

__version__ = "0.1.0"
