"""Build a sweep's report from its MLflow record: tables in the paper's layouts with the paper's
numbers beside ours, figures, and the failed and missing trials; written as Markdown, CSV and one
self-contained HTML page, and logged to the sweep's parent run under ``report/``.

Tables by study: b2n (and a search's b2n run): the base-to-new blocks; xd: the cross-dataset
table; ablation: its seven rows, then the blocks; efficiency: its table, then the blocks; search:
every setting tried with its objective. After the blocks, when the sweep ran a method with and
without SEPT: SEPT's effect on H paired by dataset, fold and seed, with bootstrap intervals; when
trials logged SEPT's hinge diagnostics: their AVERAGE over datasets per epoch measured. Figures: Base vs New, per-class accuracy and training
curves per dataset, the t-SNE of classes and neighbours, and for a search Optuna's history and
parameter importances.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sept_ray.metrics import RunScore, TableRow, aggregate
from sept_ray.report import layouts, paper
from sept_ray.report.plots import (
    DIAGNOSTIC_PANELS,
    base_new_scatter,
    diagnostics_curves,
    per_class_bars,
    save_png,
    training_curves,
)
from sept_ray.report.record import SweepRecord, TrialRecord
from sept_ray.report.render import FigureFile, ReportContent, to_html, to_markdown, write_csvs
from sept_ray.report.search_plots import SPACE_ARTIFACT, rebuild_study, search_figures
from sept_ray.report.sept_effect import sept_effects
from sept_ray.report.tables import score_note
from sept_ray.report.tsne import TextMap, tsne_figure

REPORT_ARTIFACT_DIR = "report"


@dataclass
class ReportFiles:
    """Where the report went: the folder, its HTML page, Markdown, CSVs and figures."""

    folder: Path
    html: Path
    markdown: Path
    csvs: list[Path]
    figures: list[Path]
    artifact_uri: str = ""


def scores(trials: list[TrialRecord]) -> list[RunScore]:
    """Each finished trial's final Base/New/H (the latest logged values)."""
    return [
        RunScore(
            t.dataset, t.label, t.seed, t.fold, t.metrics["base"], t.metrics["new"], t.metrics["H"]
        )
        for t in trials
    ]


def sweep_comparability(record: SweepRecord) -> paper.Comparability:
    backbones = record.backbones
    if len(backbones) > 1:
        return paper.Comparability(False, f"several backbones ({', '.join(backbones)})")
    return paper.comparability(backbones[0] if backbones else "unknown", record.preset)


def build_report(
    record: SweepRecord,
    out_dir: Path,
    tsne_dataset: str = "",
    log_to_mlflow: bool = True,
    progress: Callable[[str], None] = print,
) -> ReportFiles:
    """Write the report of ``record`` into ``out_dir`` (see the module doc) and, with
    ``log_to_mlflow``, log it to the sweep's parent run under ``report/``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figure_dir = out_dir / "figures"
    finished = record.finished()
    progress(
        f"report: {record.experiment} / {record.run_name}: {len(finished)} finished, "
        f"{len(record.failed())} failed, {len(record.missing())} planned trials without a result"
    )
    comparable = sweep_comparability(record)
    tables: list[layouts.Table] = []
    figures: list[FigureFile] = []
    rows: list[TableRow] = []
    if record.study == "search":
        tables.append(search_table(record, finished))
    elif finished:
        planned = Counter((p["label"], p["dataset"]) for p in record.plan)
        rows = aggregate(scores(finished), planned)
        datasets = sorted({d for _, d in planned})
        if record.study == "xd":
            tables.append(layouts.xd_table(rows, comparable))
        else:
            if record.study == "ablation":
                tables.append(layouts.ablation_table(rows, datasets, comparable))
            if record.study == "efficiency":
                finals = defaultdict(list)
                for trial in finished:
                    finals[trial.label].append(trial.metrics)
                tables.append(layouts.efficiency_table(rows, dict(finals), comparable))
            tables += layouts.b2n_tables(rows, list(planned), comparable)
            effects = sept_effects(scores(finished))
            if effects:
                tables.append(layouts.sept_effect_table(effects))
    with tempfile.TemporaryDirectory() as tmp:
        downloads = Path(tmp)
        if record.study == "search":
            search_files, absent = search_figure_files(record, figure_dir)
            figures += search_files
            tables[0].notes += absent
        elif finished:
            if record.study != "xd":
                path = save_png(base_new_scatter(rows), figure_dir / "base_vs_new.png")
                figures.append(
                    FigureFile(path, "Base vs New", "Base against New accuracy per method")
                )
            figures += tsne_files(record, finished, tsne_dataset, figure_dir, downloads, progress)
            dataset_figures, diagnostics = per_dataset_files(
                record, finished, figure_dir, downloads, progress
            )
            figures += dataset_figures
            if diagnostics:
                tables.append(layouts.diagnostics_table(diagnostics))
    content = ReportContent(
        title=f"sept_ray report: {record.experiment} ({record.study})",
        summary=summary(record, comparable),
        tables=tables,
        figures=figures,
        problems=problem_tables(record),
        citation=paper.CITATION,
    )
    markdown = out_dir / "report.md"
    markdown.write_text(to_markdown(content, out_dir), encoding="utf-8")
    html_path = out_dir / "report.html"
    html_path.write_text(to_html(content), encoding="utf-8")
    csvs = write_csvs([*tables, *content.problems], out_dir)
    files = ReportFiles(out_dir, html_path, markdown, csvs, [f.path for f in figures])
    if log_to_mlflow:
        record.client.log_artifacts(record.parent_run_id, str(out_dir), REPORT_ARTIFACT_DIR)
        run = record.client.get_run(record.parent_run_id)
        files.artifact_uri = f"{run.info.artifact_uri}/{REPORT_ARTIFACT_DIR}"
    return files


def summary(record: SweepRecord, comparable: paper.Comparability) -> list[tuple[str, str]]:
    params = record.params
    n_finished, n_failed = len(record.finished()), len(record.failed())
    planned = len(record.plan)
    if record.study == "search":
        planned = int(params.get("num_samples", planned))
    return [
        ("experiment", record.experiment),
        ("sweep run", f"{record.run_name} ({record.parent_run_id}), {record.status}"),
        ("study", record.study),
        ("backbone", ", ".join(record.backbones) or "none"),
        ("preset", record.preset or "unknown"),
        ("scores", score_rule(record)),
        ("datasets", params.get("datasets", "")),
        ("seeds", params.get("seeds", "")),
        ("folds", params.get("folds", "")),
        ("overrides", params.get("overrides", "[]")),
        ("git commit", record.tags.get("sept.git_commit", "unknown")),
        ("trials", f"{n_finished} finished, {n_failed} failed, {planned} planned"),
        (
            "paper comparison",
            "comparable" if comparable.comparable else f"not comparable: {comparable.reason}",
        ),
        ("MLflow", record.uri),
        ("built", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
    ]


def score_rule(record: SweepRecord) -> str:
    """Which epoch the trials report (their ``train.report_epoch``), in words."""
    rules = {t.params.get("train.report_epoch", "last") for t in record.trials}
    return score_note(rules).strip().removeprefix("scores: ") or "no trials"


def problem_tables(record: SweepRecord) -> list[layouts.Table]:
    """Failed trials with their error, and planned trials without a finished run."""
    out = []
    failed = record.failed()
    if failed:
        out.append(
            layouts.Table(
                "failed_trials",
                f"Failed trials ({len(failed)})",
                ["trial", "error"],
                [[t.name, t.error or "(no error recorded)"] for t in failed],
            )
        )
    status = {t.name: t.status for t in record.trials}
    missing = [p for p in record.missing() if status.get(p["name"]) != "FAILED"]
    if missing:
        out.append(
            layouts.Table(
                "missing_trials",
                f"Missing trials ({len(missing)}): planned, no result (shown as missing, not 0)",
                ["trial", "dataset", "label", "seed", "fold", "status"],
                [
                    [
                        p["name"],
                        p["dataset"],
                        p["label"],
                        str(p["seed"]),
                        str(p["fold"]),
                        status.get(p["name"], "never started"),
                    ]
                    for p in missing
                ],
            )
        )
    return out


def search_table(record: SweepRecord, finished: list[TrialRecord]) -> layouts.Table:
    """Every finished setting of a search, best first: the sampled values (the keys of the
    parent run's ``search_space.json``) and the objective."""
    space = record.artifact_json(record.parent_run_id, SPACE_ARTIFACT) or {}
    searched = list(space)
    per_dataset = sorted({k for t in finished for k in t.metrics if k.startswith("H_")})
    header = ["trial", *searched, "H (val)", "Base (val)", "New (val)", *per_dataset]
    body = []
    for trial in sorted(finished, key=lambda t: -t.metrics["H"]):
        settings = [short(trial.params.get(k, "")) for k in searched]
        scores_ = [f"{trial.metrics[k]:.2f}" for k in ("H", "base", "new")]
        extra = [f"{trial.metrics[k]:.2f}" if k in trial.metrics else "" for k in per_dataset]
        body.append([trial.name, *settings, *scores_, *extra])
    return layouts.Table("search", "Search trials (validation objective, best first)", header, body)


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
