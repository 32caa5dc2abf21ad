"""The pieces a study's report is made of: the result tables of trained trials (paper-layout
b2n blocks, SEPT's paired effect), their figures (Base vs New, t-SNE, per-dataset accuracy,
curves and SEPT's hinge diagnostics, with the diagnostics' table), and a search's table and
Optuna figures. Each study (:mod:`sept_ray.studies`) composes its report from these.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sept_ray.metrics import RunScore, TableRow, aggregate
from sept_ray.report import layouts, paper
from sept_ray.report.pareto import ParetoPoint, pareto_figure, pareto_points, pareto_table
from sept_ray.report.plots import (
    DIAGNOSTIC_PANELS,
    base_new_scatter,
    diagnostics_curves,
    per_class_bars,
    save_png,
    training_curves,
)
from sept_ray.report.record import SweepRecord, TrialRecord
from sept_ray.report.render import FigureFile
from sept_ray.report.search_plots import (
    SPACE_ARTIFACT,
    rebuild_study,
    sampled_params,
    search_figures,
)
from sept_ray.report.sept_effect import sept_effects
from sept_ray.report.table import Table
from sept_ray.report.tsne import TextMap, tsne_figure
from sept_ray.tune.search_choice import REFERENCE_ROW, pareto_front


@dataclass
class ReportInputs:
    """What a study reads to make its report: the sweep's record and finished trials, whether the
    paper's numbers compare, where figures go and downloads land, the t-SNE's dataset (empty:
    the first that fits) and a progress printer."""

    record: SweepRecord
    finished: list[TrialRecord]
    comparable: paper.Comparability
    figure_dir: Path
    downloads: Path
    tsne_dataset: str = ""
    progress: Callable[[str], None] = print


@dataclass
class ReportParts:
    """A study's tables and figures, in the order the report shows them."""

    tables: list[Table] = field(default_factory=list)
    figures: list[FigureFile] = field(default_factory=list)

    def __iadd__(self, other: ReportParts) -> ReportParts:
        self.tables += other.tables
        self.figures += other.figures
        return self


def scores(trials: list[TrialRecord]) -> list[RunScore]:
    """Each finished trial's final Base/New/H (the latest logged values)."""
    return [
        RunScore(
            t.dataset, t.label, t.seed, t.fold, t.metrics["base"], t.metrics["new"], t.metrics["H"]
        )
        for t in trials
    ]


def table_rows(inputs: ReportInputs) -> tuple[list[TableRow], Counter]:
    """The finished trials aggregated (folds -> seeds -> datasets, AVERAGE) and the planned runs
    per (label, dataset), so a cell short of runs says so."""
    planned = Counter((p["label"], p["dataset"]) for p in inputs.record.plan)
    return aggregate(scores(inputs.finished), planned), planned


def result_tables(inputs: ReportInputs) -> list[Table]:
    """The b2n blocks in the paper's layout, then SEPT's effect paired by dataset, fold and seed
    when a method ran with and without it."""
    rows, planned = table_rows(inputs)
    tables = layouts.b2n_tables(rows, list(planned), inputs.comparable)
    effects = sept_effects(scores(inputs.finished))
    if effects:
        tables.append(layouts.sept_effect_table(effects))
    return tables


def trial_figures(inputs: ReportInputs, scatter: bool = True) -> ReportParts:
    """Base vs New per method (with ``scatter``), the t-SNE, per-dataset accuracy, curves and
    SEPT's hinge diagnostics, and the diagnostics' table when trials logged them."""
    parts = ReportParts()
    if scatter:
        rows, _ = table_rows(inputs)
        path = save_png(base_new_scatter(rows), inputs.figure_dir / "base_vs_new.png")
        parts.figures.append(
            FigureFile(path, "Base vs New", "Base against New accuracy per method")
        )
    record, finished = inputs.record, inputs.finished
    parts.figures += tsne_files(
        record, finished, inputs.tsne_dataset, inputs.figure_dir, inputs.downloads, inputs.progress
    )
    figures, diagnostics = per_dataset_files(
        record, finished, inputs.figure_dir, inputs.downloads, inputs.progress
    )
    parts.figures += figures
    if diagnostics:
        parts.tables.append(layouts.diagnostics_table(diagnostics))
    return parts


def trained_report(
    inputs: ReportInputs, lead: list[Table], blocks: bool = True, scatter: bool = True
) -> ReportParts:
    """A study's ``lead`` tables, then (with ``blocks``) the b2n blocks and SEPT's paired effect,
    then the trained-trial figures (:func:`trial_figures`); nothing without a finished trial."""
    if not inputs.finished:
        return ReportParts()
    parts = ReportParts(lead + (result_tables(inputs) if blocks else []))
    parts += trial_figures(inputs, scatter)
    return parts


def search_parts(inputs: ReportInputs) -> ReportParts:
    """A search's table of settings (best first) and its Optuna figures; the table's notes say
    why a figure is absent. With the Pareto objective, the front's table and figure first."""
    table = search_table(inputs.record, inputs.finished)
    figures, absent = search_figure_files(inputs.record, inputs.figure_dir)
    table.notes += absent
    stopped = [t.name for t in inputs.record.trials if t.status == "KILLED"]
    if stopped:
        table.notes.append(
            f"{len(stopped)} settings stopped early or interrupted (no objective, not shown): "
            + ", ".join(stopped)
        )
    if inputs.record.params.get("objective") != "pareto" or not inputs.finished:
        return ReportParts([table], figures)
    points = search_pareto_points(inputs.finished)
    path = save_png(pareto_figure(points), inputs.figure_dir / "search_pareto.png")
    caption = "Validation Base against New of every setting; the line is the Pareto front"
    figures.insert(0, FigureFile(path, "Pareto front", caption))
    return ReportParts([pareto_table(points), table], figures)


def search_row_name(trial: TrialRecord) -> str:
    """A search trial's name in the report: ``without-sept`` for the reference trial."""
    return REFERENCE_ROW if trial.params.get("sept.enabled") == "False" else trial.name


def search_pareto_points(finished: list[TrialRecord]) -> list[ParetoPoint]:
    """The Pareto points of a search's finished trials (the front over SEPT's settings, not
    the reference)."""
    rows = [
        {"trial_id": search_row_name(t), "base": t.metrics["base"], "new": t.metrics["new"],
         "H": t.metrics["H"]}
        for t in finished
    ]  # fmt: skip
    front = pareto_front([r for r in rows if r["trial_id"] != REFERENCE_ROW])
    return pareto_points(rows, front)


def search_table(record: SweepRecord, finished: list[TrialRecord]) -> Table:
    """Every finished setting of a search, best first: the sampled values (the keys of the
    parent run's ``search_space.json``; empty where the switches made one not matter, and for
    the reference without SEPT), the objective and its spread over partitions and seeds."""
    from optuna.distributions import json_to_distribution

    space_json = record.artifact_json(record.parent_run_id, SPACE_ARTIFACT) or {}
    space = {key: json_to_distribution(text) for key, text in space_json.items()}
    searched = list(space)
    per_dataset = sorted({k for t in finished for k in t.metrics if k.startswith("H_")})
    scores = ("H", "spread_H", "base", "new")
    header = ["trial", *searched, "H (val)", "spread", "Base (val)", "New (val)", *per_dataset]
    body = []
    for trial in sorted(finished, key=lambda t: -t.metrics["H"]):
        name = search_row_name(trial)
        drawn = sampled_params(trial.params, space) if name != REFERENCE_ROW else {}
        settings = [short(trial.params[k]) if k in drawn else "" for k in searched]
        scores_ = [f"{trial.metrics[k]:.2f}" if k in trial.metrics else "" for k in scores]
        extra = [f"{trial.metrics[k]:.2f}" if k in trial.metrics else "" for k in per_dataset]
        body.append([name, *settings, *scores_, *extra])
    return Table("search", "Search trials (validation objective, best first)", header, body)


def short(text: str) -> str:
    """A logged param for a table: floats to 4 significant digits."""
    try:
        number = float(text)
    except ValueError:
        return text
    return text if number.is_integer() and "." not in text else f"{number:.4g}"


def search_figure_files(
    record: SweepRecord, figure_dir: Path
) -> tuple[list[FigureFile], list[str]]:
    """A search's Optuna figures, and a note for each figure it has not, saying why (e.g. every
    setting scored the same objective, so there are no importances)."""
    study = rebuild_study(record)
    if study is None:
        return [], ["no Optuna figures: the sweep logged no search space"]
    out, absent = [], []
    for name, figure, caption in search_figures(study):
        if figure is None:
            absent.append(f"{name}: {caption}")
        else:
            path = save_png(figure, figure_dir / f"{name}.png")
            out.append(FigureFile(path, "Optuna search", caption))
    return out, absent


def ordered_datasets(trials: list[TrialRecord]) -> list[str]:
    order = paper.paper_datasets()
    names = {t.dataset for t in trials}
    return sorted(names, key=lambda d: (order.index(d) if d in order else len(order), d))


def tsne_pair(labels: list[str]) -> tuple[str, str] | None:
    """The two trained variants the t-SNE shows: CoOp and CoOp+SEPT when there, else the first
    method with and without SEPT, else the first and last trained labels (ablation: rows 1, 7)."""
    trained = [label for label in labels if label != "zeroshot"]
    pairs = [(label, f"{label}+sept") for label in trained if f"{label}+sept" in trained]
    preferred = [p for p in pairs if p[0] == "coop"]
    if preferred or pairs:
        return (preferred or pairs)[0]
    return (trained[0], trained[-1]) if len(trained) > 1 else None


def tsne_files(
    record: SweepRecord,
    finished: list[TrialRecord],
    dataset: str,
    figure_dir: Path,
    downloads: Path,
    progress: Callable[[str], None],
) -> list[FigureFile]:
    """The t-SNE figure of ``dataset`` (default: the first dataset with both variants of
    :func:`tsne_pair`), from the lowest (seed, fold) run of each variant."""
    labels = list(dict.fromkeys(p["label"] for p in record.plan))
    pair = tsne_pair(labels)
    if pair is None:
        return []
    candidates = [dataset] if dataset else ordered_datasets(finished)
    for name in candidates:
        runs = {}
        for label in pair:
            mine = [t for t in finished if t.dataset == name and t.label == label]
            if mine:
                runs[label] = min(mine, key=lambda t: (t.seed, t.fold))
        if len(runs) < 2:
            continue
        progress(f"report: t-SNE of {name} ({pair[0]} vs {pair[1]})")
        arrays = {}
        for label, trial in runs.items():
            local = record.artifact(trial.run_id, "text_embeddings.npz", downloads / label)
            if local is None:
                progress(f"report: no t-SNE: run {trial.name} has no text_embeddings.npz")
                return []
            arrays[label] = dict(np.load(local, allow_pickle=False))
        maps = [TextMap.from_arrays("zero-shot (hand template)", arrays[pair[0]], "zeroshot")]
        maps += [TextMap.from_arrays(label, arrays[label], "learned") for label in pair]
        path = save_png(tsne_figure(name, maps), figure_dir / f"tsne_{slug(name)}.png")
        seed, fold = runs[pair[0]].seed, runs[pair[0]].fold
        caption = (
            f"t-SNE of {name}'s class texts and their neighbours under zero-shot, {pair[0]} and "
            f"{pair[1]} prompts (seed {seed}, fold {fold})"
        )
        return [FigureFile(path, "t-SNE of classes and neighbours", caption)]
    if dataset:
        raise ValueError(f"--tsne-dataset {dataset}: no finished {pair[0]} and {pair[1]} runs")
    return []


def slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def per_dataset_files(
    record: SweepRecord,
    finished: list[TrialRecord],
    figure_dir: Path,
    downloads: Path,
    progress: Callable[[str], None],
) -> tuple[list[FigureFile], dict]:
    """Per dataset: per-class accuracy bars, the H and loss curves and SEPT's hinge diagnostics
    (means over runs). Curves stop at the last epoch: a ``min_train_loss`` trial logs its score
    one step later. Also returns the diagnostics read, dataset -> stat -> (label, group) ->
    epoch -> one value per run."""
    out = []
    diagnostics_by_dataset: dict = {}
    labels = list(dict.fromkeys(p["label"] for p in record.plan))
    finished = sorted(finished, key=lambda t: labels.index(t.label) if t.label in labels else 0)
    datasets = ordered_datasets(finished)
    for number, name in enumerate(datasets, 1):
        progress(f"report: [{number}/{len(datasets)}] per-class accuracy and curves of {name}")
        mine = [t for t in finished if t.dataset == name]
        accuracy: dict = defaultdict(lambda: defaultdict(list))
        curves: dict = {"H": defaultdict(lambda: defaultdict(list)), "loss": {}}
        losses: dict = defaultdict(lambda: defaultdict(list))
        diagnostics: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
        diagnostics_by_dataset[name] = diagnostics
        for trial in mine:
            last = int(trial.params.get("train.epochs", 0))
            per_class = record.artifact_json(trial.run_id, "per_class_accuracy.json") or {}
            for group, by_class in per_class.items():
                for cls, value in by_class.items():
                    accuracy[trial.label][(group, cls)].append(value)
            for step, value in record.history(trial.run_id, "H"):
                if step <= last:
                    curves["H"][trial.label][step].append(value)
            for stat, _ in DIAGNOSTIC_PANELS:
                for group in ("base", "new"):
                    key = f"diag_{group}_{stat}"
                    if key not in trial.metrics:
                        continue
                    for step, value in record.history(trial.run_id, key):
                        if step <= last:
                            diagnostics[stat][(trial.label, group)][step].append(value)
            loss = record.history(trial.run_id, "loss")
            if any(step > 0 for step, _ in loss):  # a method with nothing to train has no curve
                for step, value in loss:
                    losses[trial.label][step].append(value)
        curves["loss"] = losses
        if accuracy:
            path = save_png(
                per_class_bars(name, accuracy), figure_dir / f"per_class_{slug(name)}.png"
            )
            caption = f"{name}: per-class test accuracy (mean over runs)"
            out.append(FigureFile(path, "Per-class accuracy", caption))
        if curves["H"]:
            path = save_png(training_curves(name, curves), figure_dir / f"curves_{slug(name)}.png")
            caption = f"{name}: H and training loss per epoch (mean over runs)"
            out.append(FigureFile(path, "Training curves", caption))
        if diagnostics:
            path = save_png(
                diagnostics_curves(name, diagnostics), figure_dir / f"diagnostics_{slug(name)}.png"
            )
            caption = (
                f"{name}: SEPT's hinge diagnostics per epoch against the pretrained margins "
                "(base classes: every training step of a SEPT trial, else at evaluation; new "
                "classes: at evaluation, no gradient)"
            )
            out.append(FigureFile(path, "SEPT diagnostics", caption))
    return out, {name: d for name, d in diagnostics_by_dataset.items() if d}
