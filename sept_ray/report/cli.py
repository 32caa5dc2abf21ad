"""``sept report``: a sweep's report built from its MLflow record alone."""

from __future__ import annotations

import argparse
from pathlib import Path

from sept_ray.config import ConfigError


def default_uri(results: Path) -> str:
    """``sqlite:///<results>/mlflow.db``, which must exist (MLflow would create an empty one)."""
    db = (results / "mlflow.db").resolve()
    if not db.is_file():
        raise ConfigError(f"no MLflow store at {db}: pass --mlflow-uri or --results")
    return f"sqlite:///{db}"


def cmd_report(args: argparse.Namespace) -> int:
    from sept_ray.report.build import build_report
    from sept_ray.report.record import load_sweep

    uri = args.mlflow_uri or default_uri(args.results)
    record = load_sweep(uri, args.experiment, args.run_id)
    out = args.out or args.results / "reports" / record.run_name
    files = build_report(record, out, tsne_dataset=args.tsne_dataset)
    print(f"report: {files.html}")
    print(f"  markdown {files.markdown}; tables {', '.join(p.name for p in files.csvs)}")
    print(f"  {len(files.figures)} figures in {out / 'figures'}")
    if files.artifact_uri:
        print(f"  logged to the sweep's parent run: {files.artifact_uri}")
    return 0


def add_commands(commands) -> None:
    """Register ``sept report``."""
    parser = commands.add_parser(
        "report",
        help="a sweep's report (tables beside the paper's, figures, HTML) from MLflow",
        description="Build a sweep's report from its MLflow record alone: the paper-layout "
        "tables with the paper's numbers beside ours, figures (t-SNE, Base vs New, per-class "
        "accuracy, training curves, Optuna plots) and failed or missing trials, as Markdown, "
        "CSV and one self-contained HTML page; logged to the sweep's parent run under report/.",
    )
    parser.add_argument("--experiment", required=True, help="MLflow experiment of the sweep")
    parser.add_argument(
        "--mlflow-uri", default="", help="tracking URI (default sqlite:///<results>/mlflow.db)"
    )
    parser.add_argument(
        "--results", type=Path, default=Path("results"), help="results folder (default ./results)"
    )
    parser.add_argument(
        "--run-id", default="", help="the sweep's parent run (default: the experiment's newest)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default <results>/reports/<run>)"
    )
    parser.add_argument(
        "--tsne-dataset", default="", help="dataset of the t-SNE figure (default: the first)"
    )
    parser.set_defaults(func=cmd_report)
