"""MLflow tracking of a sweep: one parent run per sweep, one nested run per trial.

The :class:`MlflowTracker` is a Tune callback: it runs on the driver and logs through an explicit
``MlflowClient`` (no global active run); a trial keeps one run through retries and resumes. Per trial: params = the flattened resolved config;
metrics = every evaluation with ``step = epoch`` (the latest ``base``, ``new`` and ``H`` are the
trial's score: a search trial logs its mean over datasets at a last step), then the trial's summary
(and, with SEPT, ``n_neighbors``: the N used); tags =
dataset, protocol, variant, git commit, the node it ran on and the hashes of backbone weights, dataset manifest and neighbour bank;
artifacts = the trial folder's files (with SEPT: the bank used, ``neighbour_bank.json``); dataset
inputs = the dataset folders it read (name, manifest hash, fold, clip counts). Experiments are
tagged as model development, so MLflow's UI shows them as training runs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT, MLFLOW_PARENT_RUN_ID
from ray.tune import Callback

from sept_ray.config import TrialConfig, flatten
from sept_ray.tune.collect import last_line
from sept_ray.tune.point import TrialPoint, point_of, sampled_settings

EPOCH_METRICS = ("loss", "ce", "se", "se_intra", "se_inter", "base", "new", "H", "seconds")
DIAGNOSTIC_PREFIX = "diag_"  # SEPT's hinge diagnostics, per evaluation
FINAL_METRICS = (
    "report_epoch",
    "base_last",
    "new_last",
    "H_last",
    "diag_seconds",
    "train_seconds",
    "n_params",
    "infer_ms",
    "infer_ms_cached_audio",
    "peak_rss_mb",
    "peak_cuda_mb",
    "n_neighbors",
    "spread_H",  # a search sample's std over partitions
)
SCORE_METRICS = ("base", "new", "H")
MAX_PARAM_CHARS = 6000
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"  # the experiment is model training, not GenAI
LOCAL_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves by default


def git_commit() -> str:
    """HEAD of the repository holding this package (``-dirty`` with local changes), else unknown."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if status else head


def error_summary(trial) -> str:
    """The last line of a failed Tune trial's error trace (the exception and its message)."""
    local = trial.error_file  # written on the driver before callbacks run; storage syncs later
    trace = Path(local).read_text() if local and Path(local).is_file() else trial.get_error() or ""
    return last_line(trace, "trial failed (no error trace)")


def default_tracking_uri(results_dir: Path) -> str:
    """``sqlite:///<results>/mlflow.db`` (absolute)."""
    return f"sqlite:///{(results_dir / 'mlflow.db').resolve()}"


def ensure_experiment(client: MlflowClient, name: str, artifact_root: Path | None) -> str:
    """The id of experiment ``name``, created (artifacts under ``artifact_root``) if absent, and
    tagged as model development (``mlflow.experimentKind``), so MLflow's UI opens its runs as
    training runs."""
    experiment_id = existing_or_new_experiment(client, name, artifact_root)
    client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return experiment_id


def experiment_url(tracking_uri: str, experiment_id: str) -> str:
    """The MLflow UI page of an experiment, in its model-training view (MLflow 3's UI opens in
    its GenAI view unless the URL, or the user's last choice, says ``machine_learning``): on the
    tracking server itself, or on ``mlflow ui``'s default address for a local store."""
    base = tracking_uri if tracking_uri.startswith(("http://", "https://")) else LOCAL_UI
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


def existing_or_new_experiment(client: MlflowClient, name: str, artifact_root: Path | None) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = artifact_root.resolve().as_uri() if artifact_root else None
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException as exc:  # another sweep created it since we looked
        if exc.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
        return client.get_experiment_by_name(name).experiment_id


def dataset_input(entry: dict[str, Any]) -> DatasetInput:
    """An MLflow dataset input of one entry of a trial's ``metrics.json`` ``datasets``
    (:func:`sept_ray.train.dataset_inputs`): its name, digest, folder as source, profile (the
    manifest's hash, fold, class and clip counts) and context (``train`` or ``eval``)."""
    dataset = Dataset(
        name=entry["name"],
        digest=entry["digest"],
        source_type="local",
        source=json.dumps({"uri": entry["source"]}),
        profile=json.dumps(entry["profile"]),
    )
    return DatasetInput(dataset, tags=[InputTag(MLFLOW_DATASET_CONTEXT, entry["context"])])


def trial_params(point: TrialPoint, overrides: dict[str, Any]) -> list[Param]:
    """MLflow params: the flattened config, then any sampled dotted overrides."""
    flat = flatten(point.trial)
    flat.update(overrides)
    return [Param(key, str(value)[:MAX_PARAM_CHARS]) for key, value in sorted(flat.items())]


def trial_label(trial) -> str:
    """A trial's unique name: the grid point's name, or for a searcher's sample
    ``<name>-<tune trial id>`` (every sample shares one point)."""
    point = point_of(trial.config)
    return f"{point.name}-{trial.trial_id}" if point.sampled else point.name


class MlflowTracker(Callback):
    """Tune callback logging each trial as a nested MLflow run under ``parent_run_id``.

    A trial keeps one run through retries and resumes: before the first trial starts, the
    parent's existing child runs are looked up by ``sept.trial_name`` and a rerun trial reuses its
    run (``sept.restarts`` counts the attempts after the first; ``sept.last_error`` holds the
    error of the last failed one). A rerun trial continues from its last checkpoint; an epoch the
    run already holds (when that checkpoint is older than the run's metrics) is not logged again,
    so every epoch is one metric point. The client is made on first use, so a tracker restored
    from a Tune checkpoint works."""

    def __init__(
        self, tracking_uri: str, experiment_id: str, parent_run_id: str, commit: str
    ) -> None:
        self.tracking_uri = tracking_uri
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.commit = commit
        self.run_ids: dict[str, str] = {}
        self.last_step: dict[str, int] = {}  # trial id -> step of its last epoch metrics
        self.logged_step: dict[str, int] = {}  # run id -> last epoch step logged to the run
        self.existing: dict[str, str] | None = None
        self._client: MlflowClient | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_client"] = None
        state["existing"] = None
        return state

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            self._client = MlflowClient(self.tracking_uri)
        return self._client

    def child_runs(self) -> dict[str, str]:
        """``{trial name: run id}`` of the runs already under the parent."""
        if self.existing is None:
            runs = self.client.search_runs(
                [self.experiment_id],
                filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{self.parent_run_id}'",
                max_results=50000,
            )
            self.existing = {
                r.data.tags["sept.trial_name"]: r.info.run_id
                for r in runs
                if "sept.trial_name" in r.data.tags
            }
        return self.existing

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        point = point_of(trial.config)
        name = trial_label(trial)
        known = self.child_runs().get(name)
        if known is not None:  # a retried or resumed trial: same run, continued
            self.run_ids[trial.trial_id] = known
            history = self.client.get_metric_history(known, "H")
            self.logged_step[known] = max((m.step for m in history), default=-1)
            self.client.update_run(known, status="RUNNING")
            self.client.set_tag(known, "sept.restarts", str(self.restarts(known) + 1))
            return
        cfg = TrialConfig.from_dict(point.trial)
        overrides = sampled_settings(trial.config)
        run = self.client.create_run(
            self.experiment_id,
            run_name=name,
            tags={
                MLFLOW_PARENT_RUN_ID: self.parent_run_id,
                "sept.trial_name": name,
                "sept.dataset": cfg.data.name,
                "sept.protocol": cfg.protocol.name,
                "sept.variant": cfg.variant,
                "sept.label": point.label or cfg.variant,
                "sept.backbone": cfg.backbone.name,
                "sept.git_commit": self.commit,
                "sept.tune_trial_id": trial.trial_id,
            },
        )
        self.run_ids[trial.trial_id] = run.info.run_id
        self.child_runs()[name] = run.info.run_id
        params = trial_params(point, overrides)
        for start in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(run.info.run_id, params=params[start : start + 100])

    def restarts(self, run_id: str) -> int:
        return int(self.client.get_run(run_id).data.tags.get("sept.restarts", "0"))

    def on_trial_recover(self, iteration, trials, trial, **info) -> None:
        """A failed trial Tune will retry: its run stays open."""
        run_id = self.run_ids.get(trial.trial_id)
        if run_id is not None:
            self.client.set_tag(run_id, "sept.last_error", error_summary(trial)[:5000])

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        run_id = self.run_ids.get(trial.trial_id)
        if run_id is None:
            return
        stamp = int(result.get("timestamp", 0) * 1000)
        if result.get("final"):
            step = 0
            extra = [n for n in result if n.startswith("H_") and n not in FINAL_METRICS]
            names = (*FINAL_METRICS, *extra)
            # the trial's score as the latest base/new/H: a b2n trial's is its last epoch's,
            # already logged; a search trial's (the mean over its datasets) comes at a later step
            if int(result["epoch"]) != self.last_step.get(trial.trial_id):
                self.client.log_batch(
                    run_id,
                    metrics=[
                        Metric(n, float(result[n]), stamp, int(result["epoch"]))
                        for n in SCORE_METRICS
                        if isinstance(result.get(n), (int, float))
                    ],
                )
            if result.get("node_ip"):
                self.client.set_tag(run_id, "sept.node_ip", str(result["node_ip"]))
            if result.get("resumed_from_epoch"):  # the last attempt continued a checkpoint
                self.client.set_tag(
                    run_id, "sept.resumed_from_epoch", str(int(result["resumed_from_epoch"]))
                )
        else:
            diagnostics = [n for n in result if n.startswith(DIAGNOSTIC_PREFIX)]
            names, step = (*EPOCH_METRICS, *diagnostics), int(result["epoch"])
            self.last_step[trial.trial_id] = step
            if step <= self.logged_step.get(run_id, -1):
                return  # an earlier attempt logged this epoch (trials are seeded: same numbers)
            self.logged_step[run_id] = step
        metrics = [
            Metric(n, float(result[n]), stamp, step)
            for n in names
            if isinstance(result.get(n), (int, float))
        ]
        self.client.log_batch(run_id, metrics=metrics)

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        run_id = self.run_ids.get(trial.trial_id)
        if run_id is None:
            return
        last = trial.last_result or {}
        point = point_of(trial.config)
        # a final report names the trial's folder; a search sample stopped early has its own
        fallback = Path(point.output_dir) / (trial.trial_id if point.sampled else "")
        out_dir = Path(last.get("output_dir") or fallback)
        metrics_file = out_dir / "metrics.json"
        if metrics_file.is_file():
            written = json.loads(metrics_file.read_text())
            tags = written["tags"]
            self.client.log_batch(
                run_id, tags=[RunTag(f"sept.{k}_hash", v) for k, v in tags.items() if v]
            )
            inputs = [dataset_input(entry) for entry in written.get("datasets", [])]
            if inputs:
                self.client.log_inputs(run_id, datasets=inputs)
        if out_dir.is_dir():
            self.client.log_artifacts(run_id, str(out_dir))
        if not last.get("final"):  # a search's pruner stopped it: no objective, not a failure
            self.client.set_tag(run_id, "sept.stopped_early", f"step {last.get('epoch', 0)}")
            self.client.set_terminated(run_id, "KILLED")
            return
        self.client.set_terminated(run_id, "FINISHED")

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        run_id = self.run_ids.get(trial.trial_id)
        if run_id is None:
            return
        self.client.set_tag(run_id, "sept.error", error_summary(trial)[:5000])
        self.client.set_terminated(run_id, "FAILED")
