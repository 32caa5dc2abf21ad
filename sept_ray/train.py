"""Fit and evaluate one base-to-new trial: a pure function of its config (no Ray inside).

Data flow: PALM manifest -> the protocol's task (b2n: base/new split + seeded few-shot sample;
see :mod:`sept_ray.protocols`) -> cached audio embeddings -> prompt learner (+ SEPT) -> SGD ->
per-epoch Base/New/H (and SEPT's hinge diagnostics) -> the reported epoch (``train.report_epoch``)
-> artifacts in ``output_dir``. In stages: :func:`prepare` (task, embeddings, learner, SEPT,
probes: a :class:`Prepared`), :func:`train` (the epoch loop), :func:`summarise`.
The trainer knows only the learner contract (``sept_ray.methods.base``); it never asks which
method it trains.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F

from sept_ray.artifacts.trial_files import write_artifacts
from sept_ray.backbones import build_backbone
from sept_ray.backbones.base import FrozenALM
from sept_ray.config import ConfigError, TrialConfig
from sept_ray.efficiency import InferenceTiming, time_inference
from sept_ray.features import DatasetEmbeddings, EmbeddingCache
from sept_ray.memory import PeakMemory
from sept_ray.methods import METHODS, AudioBatch, PromptLearner, PromptSet, build_method
from sept_ray.metrics import accuracy, harmonic_mean, per_class_accuracy
from sept_ray.protocols import ScoredGroup, TrialTask, build_task
from sept_ray.sept import NeighbourBank, SemanticExpansion, load_bank
from sept_ray.sept.bank import load_bank_or_none
from sept_ray.sept.diagnostics import GroupProbe
from sept_ray.train_state import TrainState, config_hash

log = logging.getLogger(__name__)
EVAL_CHUNK = 256  # test clips per predictor call
TIMING_CLIPS = 16  # decoded test clips the audio-tower timing runs on


class TrialError(RuntimeError):
    """A trial cannot go on (e.g. a non-finite loss); the message says where."""


@dataclass
class EpochMetrics:
    """Metrics after one epoch (epoch 0 = before training); accuracies in percent.

    ``loss``, ``ce``, ``se`` (lambda-free L_se), ``se_intra`` and ``se_inter`` (its two terms as
    trained) are means over the epoch's steps; ``diagnostics``: SEPT's hinge diagnostics at this
    evaluation (``diag_<base|new>_<stat>``, :mod:`sept_ray.sept.diagnostics`), empty without a
    neighbour bank or with ``train.diagnostics_every = 0``."""

    epoch: int
    loss: float
    ce: float
    se: float
    base: float
    new: float
    h: float
    seconds: float
    se_intra: float = 0.0
    se_inter: float = 0.0
    diagnostics: dict[str, float] = field(default_factory=dict)


def reported_epoch(history: list[EpochMetrics], rule: str) -> EpochMetrics:
    """The evaluation a trial reports under ``train.report_epoch``: ``last``, the last one;
    ``min_train_loss``, the trained epoch (>= 1) whose mean training loss is lowest, the earliest
    on a tie (the authors' code keeps an epoch's scores only when its loss is a new strict
    minimum). A trial without training epochs (zero-shot) reports its only evaluation."""
    trained = [m for m in history if m.epoch >= 1]
    if rule == "last" or not trained:
        return history[-1]
    best = trained[0]
    for metrics in trained[1:]:
        if metrics.loss < best.loss:
            best = metrics
    return best


@dataclass
class TrialResult:
    """Reported Base/New/H (the epoch ``train.report_epoch`` picks), the last epoch's, history,
    costs, artifact folder."""

    config: TrialConfig
    base: float
    new: float
    h: float
    report_epoch: int
    last: EpochMetrics
    history: list[EpochMetrics]
    per_class: dict[str, dict[str, float]]
    output_dir: Path
    train_seconds: float
    n_params: int
    timing: InferenceTiming | None
    peak_rss_mb: float
    peak_cuda_mb: float
    tags: dict[str, str] = field(default_factory=dict)
    datasets: list[dict] = field(default_factory=list)  # what it read: dataset_inputs(...)
    n_neighbors: int = 0  # N neighbours per class SEPT used (0: no SEPT)
    diag_seconds: float = 0.0  # spent on hinge diagnostics: preparing them, and measuring

    def summary(self) -> dict[str, float]:
        """Flat final metrics, for trackers (inference times in ms per clip): the reported
        ``base``, ``new``, ``H`` and ``report_epoch``, and the last epoch's ``*_last``."""
        values = {
            "base": self.base,
            "new": self.new,
            "H": self.h,
            "report_epoch": float(self.report_epoch),
            "base_last": self.last.base,
            "new_last": self.last.new,
            "H_last": self.last.h,
            "diag_seconds": self.diag_seconds,
            "train_seconds": self.train_seconds,
            "n_params": float(self.n_params),
            "peak_rss_mb": self.peak_rss_mb,
            "peak_cuda_mb": self.peak_cuda_mb,
        }
        if self.n_neighbors:
            values["n_neighbors"] = float(self.n_neighbors)
        if self.timing is not None:
            values["infer_ms"] = self.timing.total_ms
            values["infer_ms_cached_audio"] = self.timing.logits_ms
        return values


@dataclass
class EvalSet:
    """Test clips of one class group: audio [n, D], labels [n] indexing ``classes``, and paths."""

    classes: tuple[str, ...]
    prompts: PromptSet
    audio: AudioBatch
    labels: torch.Tensor
    paths: list[Path]


@dataclass
class Fitted:
    """Everything a fitted trial leaves for its result and artifacts."""

    learner: PromptLearner
    task: TrialTask
    bank: NeighbourBank | None
    expansion: SemanticExpansion | None
    history: list[EpochMetrics]
    per_class: dict[str, dict[str, float]]
    train_seconds: float
    timing: InferenceTiming | None
    tags: dict[str, str]
    diag_seconds: float
    datasets: list[dict]


EpochHook = Callable[[EpochMetrics, TrainState], None]


def run_trial(
    cfg: TrialConfig,
    on_epoch: EpochHook | None = None,
    embed_missing: bool = True,
    resume_from: Path | None = None,
) -> TrialResult:
    """Train ``cfg.method`` (+ SEPT) on the protocol's training classes and score its two groups
    (b2n: base and new); see the module doc and :mod:`sept_ray.protocols`.

    ``on_epoch`` receives each evaluation as it happens (a tracker reports it on) with the
    training state after that epoch (:meth:`TrainState.save` writes a checkpoint of it).
    ``resume_from``: a folder such a state was saved to; training continues after its epoch
    (its evaluations are kept in the history and not passed to ``on_epoch`` again).
    ``embed_missing=False``: a missing embedding-cache entry is an error instead of being built
    (sweep trials: the sweep fills the cache before they start).
    """
    if not cfg.output_dir:
        raise ConfigError("output_dir = '': a trial needs a folder for its artifacts")
    if not cfg.cache_dir:
        raise ConfigError("cache_dir = '': a trial needs an embedding cache folder")
    if not cfg.data.root:
        raise ConfigError("data.root = '': name the folder that holds the datasets")
    learner_cls = METHODS.get(cfg.method.name)
    learner_cls.parse_options(cfg.method.options)
    if cfg.sept.enabled and not learner_cls.trainable:
        raise ConfigError(
            f"sept.enabled = True with method.name = {cfg.method.name!r}: nothing to train"
        )
    out_dir = Path(cfg.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with PeakMemory() as memory:
        fitted = fit(cfg, on_epoch, embed_missing, resume_from)
    chosen = reported_epoch(fitted.history, cfg.train.report_epoch)
    result = TrialResult(
        config=cfg,
        base=chosen.base,
        new=chosen.new,
        h=chosen.h,
        report_epoch=chosen.epoch,
        last=fitted.history[-1],
        history=fitted.history,
        per_class=fitted.per_class,
        output_dir=out_dir,
        train_seconds=fitted.train_seconds,
        n_params=fitted.learner.n_trainable(),
        timing=fitted.timing,
        peak_rss_mb=memory.rss_mb,
        peak_cuda_mb=memory.cuda_mb,
        tags=fitted.tags,
        n_neighbors=len(fitted.expansion.neighbours[0]) if fitted.expansion else 0,
        diag_seconds=fitted.diag_seconds,
        datasets=fitted.datasets,
    )
    write_artifacts(result, fitted)
    return result


@dataclass
class Prepared:
    """A trial ready to train (:func:`prepare`): its task and backbone, the embeddings it reads,
    the learner (+ SEPT's expansion) with its optimizer and seeded generator, the two scored
    groups, the shots as embedding rows and labels, and the diagnostics' probes (``step_probe``:
    the base classes measured in every step of a SEPT trial; ``eval_probes``: at evaluation)."""

    cfg: TrialConfig
    task: TrialTask
    backbone: FrozenALM
    embeddings: DatasetEmbeddings
    unseen_manifest: str
    learner: PromptLearner
    generator: torch.Generator
    base_set: EvalSet
    new_set: EvalSet
    bank: NeighbourBank | None
    expansion: SemanticExpansion | None
    probes: dict[str, GroupProbe]
    step_probe: GroupProbe | None
    train_rows: torch.Tensor
    train_labels: torch.Tensor
    epochs: int
    optimizer: torch.optim.Optimizer | None

    @property
    def eval_probes(self) -> list[GroupProbe]:
        return [probe for probe in self.probes.values() if probe is not self.step_probe]


def fit(
    cfg: TrialConfig,
    on_epoch: EpochHook | None,
    embed_missing: bool,
    resume_from: Path | None = None,
) -> Fitted:
    """:func:`prepare` the trial, :func:`train` it (from the state in ``resume_from`` when
    given), :func:`summarise` what it leaves."""
    prepared = prepare(cfg, embed_missing)
    history, train_seconds = train(prepared, on_epoch, resume_from)
    return summarise(prepared, history, train_seconds)


def prepare(cfg: TrialConfig, embed_missing: bool) -> Prepared:
    """Build the protocol's task, load the embeddings it reads, build the learner (+ SEPT), its
    optimizer (none for a method with nothing to train) and the diagnostics' probes."""
    task = build_task(cfg)
    check_short_classes(cfg, task)
    backbone = build_backbone(cfg.backbone)
    views = cfg.data.crop_views if cfg.data.train_crop == "random" else 0
    cache = EmbeddingCache(cfg.cache_dir)
    embeddings = cache.load(backbone, task.split.root, views, build=embed_missing)
    # the trial holds only the clips it reads (val: so no test clip is even in memory)
    embeddings = embeddings.subset(sorted(task.clips_read()))
    device = backbone.device

    generator = torch.Generator().manual_seed(cfg.train.seed)
    learner = build_method(cfg.method, backbone, task.template, task.train_classes, generator)
    base_set = eval_set(learner, embeddings, task.seen, device)
    if task.unseen.dataset == task.split.name:
        unseen_embeddings = embeddings
    else:
        unseen_embeddings = cache.load(backbone, task.unseen.root, 0, build=embed_missing)
    new_set = eval_set(learner, unseen_embeddings, task.unseen, device)

    bank = load_bank(cfg.sept.bank, cfg.data.name) if cfg.sept.enabled else None
    expansion = (
        SemanticExpansion.build(
            learner, cfg.sept, bank, cfg.data.name, task.train_classes, task.template, generator
        )
        if bank is not None
        else None
    )
    probes = diagnostic_probes(cfg, learner, task, base_set, new_set, expansion)
    epochs = cfg.train.epochs if learner.trainable else 0
    optimizer = (
        torch.optim.SGD(
            learner.param_groups(cfg.train.lr),
            lr=cfg.train.lr,
            momentum=cfg.train.momentum,
            weight_decay=cfg.train.weight_decay,
        )
        if epochs
        else None
    )
    return Prepared(
        cfg=cfg,
        task=task,
        backbone=backbone,
        embeddings=embeddings,
        unseen_manifest=unseen_embeddings.manifest_hash,
        learner=learner,
        generator=generator,
        base_set=base_set,
        new_set=new_set,
        bank=bank,
        expansion=expansion,
        probes=probes,
        # a SEPT trial measures its base classes in every training step, from the step's z and p
        step_probe=probes.get("base") if expansion is not None else None,
        train_rows=embeddings.rows([c.path for c in task.shots]),
        train_labels=torch.tensor(
            [task.train_classes.index(c.classname) for c in task.shots], device=device
        ),
        epochs=epochs,
        optimizer=optimizer,
    )


def train(
    prepared: Prepared, on_epoch: EpochHook | None, resume_from: Path | None
) -> tuple[list[EpochMetrics], float]:
    """The training loop: every epoch (after the one ``resume_from``'s state saved), evaluated
    every ``eval_every`` epochs, at the last, and under ``min_train_loss`` at every epoch whose
    training loss is a new minimum; each evaluation goes to ``on_epoch`` with the state after
    it. Returns the history and the training seconds (a resumed trial's included)."""
    cfg, learner, epochs = prepared.cfg, prepared.learner, prepared.epochs
    state = TrainState(
        learner, prepared.optimizer, prepared.generator, 0, [], config_hash(cfg.to_dict())
    )
    if resume_from is not None:
        state.load(resume_from)
    history = [EpochMetrics(**values) for values in state.history]
    started = time.perf_counter() - state.train_seconds
    best_loss = min((m.loss for m in history if m.epoch >= 1), default=float("inf"))

    def evaluated(metrics: EpochMetrics, step_stats: dict[str, float]) -> None:
        metrics.diagnostics.update(step_stats)
        every = cfg.train.diagnostics_every
        if every and (metrics.epoch % every == 0 or metrics.epoch == epochs):
            for probe in prepared.eval_probes:
                metrics.diagnostics.update(probe.measure(learner))
        history.append(metrics)
        state.epoch, state.history = metrics.epoch, [asdict(m) for m in history]
        state.train_seconds = time.perf_counter() - started
        if on_epoch:
            on_epoch(metrics, state)

    if epochs == 0 and not history:
        scores = evaluate(learner, prepared.base_set, prepared.new_set, 0, (0.0,) * 5, 0.0)
        evaluated(scores, {})
    for epoch in range(state.epoch + 1, epochs + 1):
        tic = time.perf_counter()
        losses, step_stats = train_epoch(prepared, epoch)
        new_minimum = cfg.train.report_epoch == "min_train_loss" and losses[0] < best_loss
        best_loss = min(best_loss, losses[0])
        if epoch % cfg.train.eval_every == 0 or epoch == epochs or new_minimum:
            seconds = time.perf_counter() - tic
            scores = evaluate(learner, prepared.base_set, prepared.new_set, epoch, losses, seconds)
            evaluated(scores, step_stats)
    return history, time.perf_counter() - started


def summarise(prepared: Prepared, history: list[EpochMetrics], train_seconds: float) -> Fitted:
    """Per-class accuracy of the trained learner, its inference time (``train.time_inference``),
    the hashes its run is tagged with and the datasets it read."""
    learner, base_set, new_set = prepared.learner, prepared.base_set, prepared.new_set
    per_class = {
        "base": per_class_accuracy(
            predict(learner, base_set, True), base_set.labels, base_set.classes
        ),
        "new": per_class_accuracy(
            predict(learner, new_set, False), new_set.labels, new_set.classes
        ),
    }
    timing = (
        time_inference(
            learner,
            prepared.backbone,
            base_set.prompts,
            base_set.audio,
            base_set.paths[:TIMING_CLIPS],
        )
        if prepared.cfg.train.time_inference
        else None
    )
    manifest = prepared.embeddings.manifest_hash
    tags = {
        "backbone_weights": prepared.backbone.weights_id,
        "dataset_manifest": manifest,
        "neighbour_bank": prepared.bank.content_hash if prepared.bank else "",
    }
    return Fitted(
        learner,
        prepared.task,
        prepared.bank,
        prepared.expansion,
        history,
        per_class,
        train_seconds,
        timing,
        tags,
        sum(probe.seconds for probe in prepared.probes.values()),
        dataset_inputs(prepared.task, manifest, prepared.unseen_manifest),
    )


def dataset_inputs(task: TrialTask, manifest: str, unseen_manifest: str) -> list[dict]:
    """What a trial trained and was scored on, one entry per dataset folder it read (its MLflow
    dataset inputs): ``name`` (``<dataset> fold <k>``), ``context`` (``train``, or ``eval`` for an
    xd target), ``source`` (the folder), ``profile`` (the dataset manifest's hash, protocol, fold,
    classes and clip counts) and ``digest`` (a hash of the profile and the clips read: MLflow
    keeps one record per name and digest, so two trials share one only when they read the same
    clips)."""
    seen, unseen = task.seen, task.unseen
    profile = {
        "manifest": manifest,
        "protocol": task.protocol,
        "fold": task.split.fold,
        "train_classes": len(task.train_classes),
        "train_clips": len(task.shots),
        f"{seen.name}_classes": len(seen.classes),
        f"{seen.name}_clips": len(seen.clips),
    }
    clips = sorted(task.clips_read())
    unseen_profile = {
        f"{unseen.name}_classes": len(unseen.classes),
        f"{unseen.name}_clips": len(unseen.clips),
    }
    inputs = [("train", task.split.name, task.split.fold, task.split.root, profile, clips)]
    if unseen.dataset == task.split.name:
        profile.update(unseen_profile)
    else:
        unseen_profile = {"manifest": unseen_manifest, **unseen_profile}
        target = sorted(c.path for c in unseen.clips)
        inputs.append(("eval", unseen.dataset, None, unseen.root, unseen_profile, target))
    return [
        {
            "name": name if fold is None else f"{name} fold {fold}",
            "context": context,
            "source": str(root),
            "profile": values,
            "digest": hashlib.sha256(json.dumps([values, read]).encode()).hexdigest()[:32],
        }
        for context, name, fold, root, values, read in inputs
    ]


def diagnostic_probes(
    cfg: TrialConfig,
    learner: PromptLearner,
    task: TrialTask,
    base_set: EvalSet,
    new_set: EvalSet,
    expansion: SemanticExpansion | None,
) -> dict[str, GroupProbe]:
    """The ``base`` and ``new`` probes of SEPT's diagnostics (unless ``train.diagnostics_every``
    is 0), each where ``sept.bank`` holds N phrases for every class of its group (SEPT trials:
    always for base; a group it lacks is logged and skipped)."""
    if not cfg.train.diagnostics_every:
        return {}
    probes = {}
    for name, group, scored in (("base", task.seen, base_set), ("new", task.unseen, new_set)):
        bank = load_bank_or_none(cfg.sept.bank, group.dataset)
        if bank is None or not bank.covers(group.dataset, group.classes, cfg.sept.n_neighbors):
            log.info("no diagnostics for %s: bank %r lacks its classes", name, cfg.sept.bank)
            continue
        lent = expansion if name == "base" and expansion is not None else None
        probes[name] = GroupProbe.build(
            name,
            learner,
            cfg.sept,
            bank,
            group.dataset,
            group.classes,
            scored.prompts,
            group.template,
            lent,
        )
    return probes


def check_short_classes(cfg: TrialConfig, task: TrialTask) -> None:
    """With ``data.short_classes = error``, a training class with fewer clips than
    ``data.shots`` is a :class:`ConfigError` naming the dataset, fold, classes and counts."""
    short = task.short_classes(cfg.data.shots)
    if short and cfg.data.short_classes == "error":
        listed = ", ".join(f"{name!r} has {n}" for name, n in short.items())
        raise ConfigError(
            f"data.shots = {cfg.data.shots}: {task.split.name} fold {task.split.fold} has "
            f"classes with fewer training clips ({listed}); lower data.shots, or set "
            "data.short_classes = warn to train on all of their clips (PALM's protocol)"
        )


def eval_set(
    learner: PromptLearner,
    embeddings: DatasetEmbeddings,
    group: ScoredGroup,
    device: torch.device,
) -> EvalSet:
    """The clips of ``group``, with labels indexing its classes and prompts for them (built
    with the group's dataset template)."""
    return EvalSet(
        classes=group.classes,
        prompts=learner.prompts(group.classes, template=group.template),
        audio=AudioBatch(
            embeddings.center[embeddings.rows([c.path for c in group.clips])].to(device)
        ),
        labels=torch.tensor([group.classes.index(c.classname) for c in group.clips], device=device),
        paths=[group.root / c.path for c in group.clips],
    )


def train_epoch(
    prepared: Prepared, epoch: int
) -> tuple[tuple[float, float, float, float, float], dict[str, float]]:
    """One pass over the shots in a seeded order, against the training classes' prompts (every
    protocol's seen group).

    Loss = ce_weight * CE + the method's own terms (+ lambda * L_se). Returns the means over
    steps of (loss, ce, se, se_intra, se_inter) (L_se and its terms unweighted) and of the step
    probe's diagnostics of each step's z and p (empty without one).
    """
    learner, expansion, optimizer = prepared.learner, prepared.expansion, prepared.optimizer
    prompts, embeddings, generator = (
        prepared.base_set.prompts,
        prepared.embeddings,
        prepared.generator,
    )
    rows, labels, step_probe = prepared.train_rows, prepared.train_labels, prepared.step_probe
    batch_size = prepared.cfg.train.batch_size
    device = labels.device
    order = torch.randperm(len(rows), generator=generator)
    view = None
    if embeddings.views is not None:  # one random-crop view per clip per epoch
        view = torch.randint(embeddings.views.shape[1], (len(rows),), generator=generator)
    totals = torch.zeros(5)
    stat_totals: dict[str, float] = {}
    n_steps = 0
    for start in range(0, len(rows), batch_size):
        pick = order[start : start + batch_size]
        if view is None:
            raw = embeddings.center[rows[pick]]
        else:
            raw = embeddings.views[rows[pick], view[pick]]
        audio = AudioBatch(raw.to(device))
        batch_labels = labels[pick.to(device)]
        drawn = expansion.draw() if expansion is not None else None  # the step's neighbours
        out = learner(audio, prompts, batch_labels, extra=drawn.prompts if drawn else None)
        ce = F.cross_entropy(out.logits, batch_labels)
        loss = out.ce_weight * ce + sum(out.aux_losses.values(), torch.zeros((), device=device))
        parts = {"se": 0.0, "intra": 0.0, "inter": 0.0}
        if expansion is not None:
            se_term, parts = expansion(out, prompts, audio, drawn)
            loss = loss + se_term
            if step_probe is not None:
                scale = expansion.cfg.margin_scale
                stats = step_probe.measure_step(parts["z"], parts["p"], parts["margins"], scale)
                for key, value in stats.items():
                    stat_totals[key] = stat_totals.get(key, 0.0) + value
        if not torch.isfinite(loss):
            raise TrialError(f"non-finite loss {loss.item()} at epoch {epoch}, step {n_steps + 1}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        totals += torch.tensor(
            [loss.item(), ce.item(), *(float(parts[k]) for k in ("se", "intra", "inter"))]
        )
        n_steps += 1
    steps = max(n_steps, 1)
    mean = totals / steps
    return tuple(float(v) for v in mean), {k: v / steps for k, v in stat_totals.items()}


@torch.no_grad()
def predict(learner: PromptLearner, group: EvalSet, seen: bool) -> torch.Tensor:
    """Logits [n, C] of a test group: the learner's predictor, in chunks of clips."""
    logits = learner.predictor(group.prompts, seen=seen)
    parts = [
        logits(group.audio[i : i + EVAL_CHUNK]) for i in range(0, len(group.audio), EVAL_CHUNK)
    ]
    return torch.cat(parts)


def evaluate(
    learner: PromptLearner,
    base_set: EvalSet,
    new_set: EvalSet,
    epoch: int,
    losses: tuple[float, float, float, float, float],
    seconds: float,
) -> EpochMetrics:
    """Base accuracy over base classes, new accuracy over new classes, and H; ``losses``: the
    epoch's mean (loss, ce, se, se_intra, se_inter)."""
    base = accuracy(predict(learner, base_set, seen=True), base_set.labels)
    new = accuracy(predict(learner, new_set, seen=False), new_set.labels)
    loss, ce, se, se_intra, se_inter = losses
    return EpochMetrics(
        epoch,
        loss,
        ce,
        se,
        base=base,
        new=new,
        h=harmonic_mean(base, new),
        seconds=seconds,
        se_intra=se_intra,
        se_inter=se_inter,
    )
