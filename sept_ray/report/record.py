"""A sweep as its MLflow record holds it: the parent run, the plan, and every trial's run.

Reports read only this (never the run folder or logs), so they can be built anywhere that reaches
the tracking server. A trial's run carries its tags (dataset, protocol, label, backbone, error),
its flattened config as params, its final metrics (the latest ``base``, ``new`` and ``H``: the
trial's score) and its artifacts; the parent run carries the sweep's params (study, preset,
datasets, seeds) and ``sweep_plan.json`` (every planned trial).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from sept_ray.config import ConfigError
from sept_ray.protocols import PROTOCOLS

PLAN_ARTIFACT = "sweep_plan.json"


@dataclass(frozen=True)
class TrialRecord:
    """One trial's MLflow run. ``status``: FINISHED, FAILED, RUNNING, KILLED or SCHEDULED;
    ``error``: the last line of its error when it failed."""

    name: str
    run_id: str
    status: str
    label: str
    dataset: str  # the table's dataset cell (xd: SOURCE->TARGET)
    seed: int
    fold: int
    backbone: str
    params: dict[str, str]
    metrics: dict[str, float]
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.status == "FINISHED" and "H" in self.metrics


@dataclass
class SweepRecord:
    """A sweep's parent run and its trials' runs, read from ``uri``."""

    uri: str
    experiment: str
    experiment_id: str
    parent_run_id: str
    run_name: str
    status: str
    params: dict[str, str]
    tags: dict[str, str]
    plan: list[dict[str, Any]]
    trials: list[TrialRecord]
    client: MlflowClient = field(repr=False)

    @property
    def study(self) -> str:
        return self.params.get("study", "b2n")

    @property
    def preset(self) -> str:
        return self.params.get("preset", "")

    @property
    def backbones(self) -> list[str]:
        return sorted({t.backbone for t in self.trials})

    def finished(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.finished]

    def failed(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.status == "FAILED"]

    def missing(self) -> list[dict[str, Any]]:
        """Planned trials with no finished run: never started, still running, killed or failed
        (a failed one is also in :meth:`failed`, with its error)."""
        done = {t.name for t in self.finished()}
        return [p for p in self.plan if p["name"] not in done]

    def history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """(step, value) of metric ``key`` of a run, one value per step (the last logged)."""
        values = {m.step: m.value for m in self.client.get_metric_history(run_id, key)}
        return sorted(values.items())

    def artifact(self, run_id: str, path: str, folder: Path) -> Path | None:
        """Download artifact ``path`` of a run into ``folder``; None when the run has none."""
        try:
            return Path(self.client.download_artifacts(run_id, path, str(folder)))
        except (MlflowException, OSError):
            return None

    def artifact_json(self, run_id: str, path: str) -> Any | None:
        """A JSON artifact of a run, decoded; None when the run has none."""
        with tempfile.TemporaryDirectory() as tmp:
            local = self.artifact(run_id, path, Path(tmp))
            return json.loads(local.read_text()) if local and local.is_file() else None


def parent_runs(client: MlflowClient, experiment_id: str) -> list:
    """The experiment's sweep parent runs (tag ``sept.sweep``), newest first."""
    return client.search_runs(
        [experiment_id],
        filter_string="tags.`sept.sweep` != ''",
        order_by=["attributes.start_time DESC"],
        max_results=1000,
    )


def load_sweep(uri: str, experiment: str, run_id: str = "") -> SweepRecord:
    """The sweep of ``experiment`` at tracking ``uri``: the parent run ``run_id``, or the
    experiment's newest sweep. Errors name the experiment or run that is not there."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a bar per file: noise
    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        names = sorted(e.name for e in client.search_experiments())
        raise ConfigError(f"no MLflow experiment {experiment!r} at {uri} (there: {names})")
    parents = parent_runs(client, found.experiment_id)
    if run_id:
        chosen = [r for r in parents if r.info.run_id == run_id]
        if not chosen:
            raise ConfigError(f"run {run_id} is not a sweep of experiment {experiment!r}")
        parent = chosen[0]
    elif parents:
        parent = parents[0]
    else:
        raise ConfigError(f"experiment {experiment!r} at {uri} holds no sweep run")
    children = client.search_runs(
        [found.experiment_id],
        filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent.info.run_id}'",
        max_results=50000,
    )
    record = SweepRecord(
        uri=uri,
        experiment=experiment,
        experiment_id=found.experiment_id,
        parent_run_id=parent.info.run_id,
        run_name=parent.info.run_name or parent.info.run_id,
        status=parent.info.status,
        params=dict(parent.data.params),
        tags=dict(parent.data.tags),
        plan=[],
        trials=[trial_record(run) for run in sorted(children, key=lambda r: r.info.start_time)],
        client=client,
    )
    record.plan = record.artifact_json(record.parent_run_id, PLAN_ARTIFACT) or [
        {"name": t.name, "label": t.label, "dataset": t.dataset, "seed": t.seed, "fold": t.fold}
        for t in record.trials  # a sweep from before plans were logged: its runs, as started
    ]
    record.trials.sort(key=lambda t: t.name)
    return record


def trial_record(run) -> TrialRecord:
    """A :class:`TrialRecord` of one trial's MLflow run."""
    tags, params = run.data.tags, dict(run.data.params)
    protocol = PROTOCOLS.get(tags.get("sept.protocol", "b2n"))
    dataset = protocol.table_cell(tags.get("sept.dataset", ""), params.get("protocol.target", ""))
    return TrialRecord(
        name=tags.get("sept.trial_name", run.info.run_name or run.info.run_id),
        run_id=run.info.run_id,
        status=run.info.status,
        label=tags.get("sept.label", tags.get("sept.variant", "")),
        dataset=dataset,
        seed=int(params.get("train.seed", 0)),
        fold=int(params.get("data.fold", 1)),
        backbone=tags.get("sept.backbone", params.get("backbone.name", "")),
        params=params,
        metrics=dict(run.data.metrics),
        error=tags.get("sept.error", ""),
    )
