"""Build a sweep's report from its MLflow record: the study's tables (paper layouts, the paper's
numbers beside ours) and figures, and the failed and missing trials; written as Markdown, CSV
and one self-contained HTML page, and logged to the sweep's parent run under ``report/``.

What each study shows is the study's own (:mod:`sept_ray.studies`): b2n (and a search's b2n
run): the base-to-new blocks, SEPT's paired effect and the diagnostics' table; xd: the
cross-dataset table; ablation: its seven rows, then the blocks; efficiency: its table, then the
blocks; search: every setting tried with its objective and Optuna's figures. Trained trials'
figures: Base vs New, per-class accuracy, training curves and SEPT's hinge diagnostics per
dataset, and the t-SNE of classes and neighbours.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sept_ray.report import paper
from sept_ray.report.record import SweepRecord
from sept_ray.report.render import ReportContent, to_html, to_markdown, write_csvs
from sept_ray.report.sections import ReportInputs
from sept_ray.report.table import Table
from sept_ray.report.tables import score_note
from sept_ray.studies import STUDIES

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
    missing = STUDIES.get(record.study).missing(record)
    progress(
        f"report: {record.experiment} / {record.run_name}: {len(finished)} finished, "
        f"{len(record.failed())} failed, {len(missing)} planned trials without a result"
    )
    comparable = sweep_comparability(record)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = ReportInputs(
            record, finished, comparable, figure_dir, Path(tmp), tsne_dataset, progress
        )
        parts = STUDIES.get(record.study).report(inputs)
    tables, figures = parts.tables, parts.figures
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
    planned = STUDIES.get(record.study).planned(record)
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
    return score_note(rules).removeprefix("scores: ") or "no trials"


def problem_tables(record: SweepRecord) -> list[Table]:
    """Failed trials with their error, and planned trials without a finished run."""
    out = []
    failed = record.failed()
    if failed:
        out.append(
            Table(
                "failed_trials",
                f"Failed trials ({len(failed)})",
                ["trial", "error"],
                [[t.name, t.error or "(no error recorded)"] for t in failed],
            )
        )
    status = {t.name: t.status for t in record.trials}
    planned = STUDIES.get(record.study).missing(record)
    missing = [p for p in planned if status.get(p["name"]) != "FAILED"]
    if missing:
        out.append(
            Table(
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
