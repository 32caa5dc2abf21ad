"""Optuna search of SEPT's settings without test leakage, then the best settings on b2n.

The objective never sees a test clip: on each dataset the base classes are split again into
pseudo-base and pseudo-new, the prompt trains on pseudo-base shots and H is scored on held-out
training clips (the ``val`` protocol), on --partitions rotations of that split (default 3: every
base class is pseudo-new in one) and with each seed of --val-seeds (default: the first of
--seeds); the objective is the mean H over datasets, partitions and seeds, its spread the std over
(partition, seed) pairs. A dataset with fewer than 4 base classes is left out of the objective,
and the search says so. The space is conditional: λ (log scale), N (1 to the bank's size) and the
neighbour reading, then only the switches, the inter constant margin and the margin scale that can
matter under the switches drawn. Two references are scored on the same objective: the method
without SEPT (a trial outside Optuna's study) and, as the first setting, the trials' own (SEPT's
defaults): the search recommends its best setting only if it beats the defaults by more than the
spread, else the defaults, and best_settings.json says which and why. With --objective pareto,
Optuna's multi-objective sampler works on validation Base and New and the candidates are the
Pareto front (its table and figure beside the search's files and in its report). Poor settings
stop early (ASHA on per-epoch validation H: from the end of a setting's first training, a setting
goes on only if its H is at least the median of those that reached the same step; --no-prune, a
smoke test and the pareto objective score every setting to the end); the search says how many
training steps that saved.
OptunaSearch is seeded and runs --max-concurrent settings at once (default 2). Then the audit
(unless --no-b2n): the method without SEPT, SEPT's defaults, the top --audit K settings by
validation H and K others at random run on the real b2n protocol, as a separate sweep (study
``search-b2n``), and Spearman's ρ between validation H and b2n H says whether the objective
predicts the real protocol (audit table and scatter beside the search's files, in
best_settings.json and in the audit sweep's report). The search's report shows every setting
tried (best first) and Optuna's figures; its plan is the number of samples, not a list of trials.

    python sweeps/search.py --help
    python sweeps/search.py --num-samples 32 --max-concurrent 4
    python sweeps/search.py --method kgcoop --datasets SynthHome SynthNature --preset paper
    python sweeps/search.py --objective pareto --val-seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from mlflow.tracking import MlflowClient

from sept_ray.config import unflatten
from sept_ray.report.audit import audit_figure, audit_points, audit_table, spearman
from sept_ray.report.plots import save_png
from sept_ray.report.record import SweepRecord
from sept_ray.report.render import FigureFile
from sept_ray.report.sections import (
    ReportInputs,
    ReportParts,
    search_parts,
    table_rows,
    trained_report,
)
from sept_ray.report.table import to_text as table_text
from sept_ray.report.table import write_files
from sept_ray.report.tables import to_text
from sept_ray.studies.b2n import B2N
from sept_ray.studies.base import Study, register
from sept_ray.tune.cli import StudySetup, report, run_study, study_setup, study_spec, write_report
from sept_ray.tune.grid import labelled_grid
from sept_ray.tune.search import SearchOptions, SearchResult, eligible_datasets, run_search
from sept_ray.tune.search_choice import (
    DEFAULTS_ROW,
    REFERENCE_ROW,
    fmt,
    sampled_rows,
    settings_of,
)


@register
class Search(Study):
    name = "search"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--method", default="coop", help="the method SEPT is searched on (default coop)"
        )
        parser.add_argument(
            "--num-samples",
            type=int,
            default=16,
            help="settings to try (default 16; smoke test 2)",
        )
        parser.add_argument(
            "--search-seed", type=int, default=0, help="seed of the Optuna sampler (default 0)"
        )
        parser.add_argument(
            "--partitions",
            type=int,
            default=3,
            help="partitions of each dataset's base classes into pseudo-base and pseudo-new that "
            "every setting is scored on (default 3: each base class is pseudo-new in one)",
        )
        parser.add_argument(
            "--val-seeds",
            type=int,
            nargs="+",
            metavar="SEED",
            help="training seeds every setting is scored with (default: the first of --seeds); "
            "the objective averages over them, its spread is over partitions and seeds",
        )
        parser.add_argument(
            "--objective",
            choices=("h", "pareto"),
            default="h",
            help="h (default): the mean validation H; pareto: Optuna's multi-objective sampler "
            "on validation Base and New, the recommendation taken from the Pareto front, the "
            "front in the report (no early stopping)",
        )
        parser.add_argument(
            "--audit",
            type=int,
            default=3,
            metavar="K",
            help="settings audited on the real b2n protocol after the search: the top K by "
            "validation H and K others at random, beside SEPT's defaults (default 3)",
        )
        parser.add_argument(
            "--no-prune",
            action="store_true",
            help="score every setting to the end (default, but for a smoke test or the pareto "
            "objective: stop a setting whose validation H falls below the median of those that "
            "reached the same step, ASHA)",
        )
        parser.add_argument(
            "--no-b2n",
            action="store_true",
            help="stop after the search (skip the b2n run of the best settings)",
        )

    def sweep(self, args: argparse.Namespace, argv: list[str] | None) -> int:
        setup = study_setup(args)
        objective, left_out = eligible_datasets(setup.data_root, setup.datasets)
        for name, why in left_out.items():
            print(f"search: {name} is left out of the objective ({why})")
        if not objective:
            raise ValueError("no dataset has enough base classes for the validation split")
        seed, fold = setup.seeds[0], (setup.folds or [1])[0]
        row = {
            "method": {"name": args.method},
            "sept": {"enabled": True},
            "protocol": {"name": "val"},
        }
        trials = labelled_grid(
            [("search", row)], objective, [seed], setup.data_root, setup.overrides, args.preset,
            [fold],
        )  # fmt: skip
        options = SearchOptions(
            num_samples=2 if args.smoke_test else args.num_samples,
            sampler_seed=args.search_seed,
            partitions=args.partitions,
            val_seeds=tuple(args.val_seeds or [seed]),
            objective=args.objective,
            # a smoke test scores its 2 to the end; the Pareto objective has no single ranking
            prune=not (args.no_prune or args.smoke_test or args.objective != "h"),
        )
        params = {
            "method": args.method,
            "objective": options.objective,
            "objective_datasets": objective,
            "left_out": left_out,
            "num_samples": options.num_samples,
            "search_seed": options.sampler_seed,
            "partitions": options.partitions,
            "val_seeds": list(options.val_seeds),
            "early_stopping": options.prune,
        }
        spec = study_spec(args, self.name, setup, trials, params, argv)
        resume = args.resume and Path(args.resume)
        found = run_search(spec, options, resume)
        pruned = found.pruned
        print(
            f"\nsearch: {len(found.trials)} settings scored, {len(pruned['stopped'])} stopped "
            f"early, {len(found.failed)} failed; early stopping saved "
            f"{100 * pruned['saved_fraction']:.0f} % of the training steps "
            f"({pruned['steps_run']} of {pruned['steps_planned']})"
        )
        for trial_id, error in found.failed:
            print(f"FAILED {trial_id}: {error}")
        print(f"validation H (mean over {', '.join(objective)}):")
        for label, trial_id in (("without SEPT", REFERENCE_ROW), ("SEPT's defaults", DEFAULTS_ROW)):
            row = found.row(trial_id)
            scored = f"{row['H']:.2f} (spread {row['spread_H']:.2f})" if row else "did not finish"
            print(f"  {label}: {scored}")
        print(f"  best sampled setting: {found.best_h:.2f}")
        for key, value in found.best.items():
            print(f"    {key} = {fmt(value)}")
        if found.front:
            print(f"Pareto front of validation Base and New: {', '.join(found.front)}")
        chosen = "best sampled setting" if found.recommended == "searched" else "defaults"
        print(f"recommended: the {chosen} ({found.why})")
        print(f"search tables: {', '.join(str(p) for p in found.files)}")
        search_report = write_report(
            found.mlflow_uri, spec.experiment, found.parent_run_id, found.run_dir
        )
        code = 1 if found.failed or search_report else 0
        if args.no_b2n:
            return code
        args.experiment = f"{spec.experiment}-b2n"
        return best_on_b2n(args, argv, setup, found) or code

    def planned(self, record: SweepRecord) -> int:
        """The settings searched and the reference without SEPT, when the search ran one."""
        references = sum(t.params.get("sept.enabled") == "False" for t in record.trials)
        return int(record.params.get("num_samples", len(record.plan))) + references

    def missing(self, record: SweepRecord) -> list[dict[str, Any]]:
        """None by name: a search's plan is a number of samples (its per-dataset trials are
        what each sample runs, not trials of their own); a stopped or failed setting is in the
        search's table and its failed trials."""
        return []

    def report(self, inputs: ReportInputs) -> ReportParts:
        return search_parts(inputs)


@register
class SearchB2N(B2N):
    """The b2n sweep a search runs to audit its settings: the search audit (validation H against
    b2n H, Spearman's ρ, a scatter), then the b2n report."""

    name = "search-b2n"

    def report(self, inputs: ReportInputs) -> ReportParts:
        if not inputs.finished:
            return ReportParts()
        val_h = json.loads(inputs.record.params.get("audit", "{}"))
        points = audit_points(val_h, table_rows(inputs)[0])
        rho = spearman(points)
        parts = trained_report(inputs, [audit_table(points, rho)])
        path = save_png(audit_figure(points, rho), inputs.figure_dir / "search_audit.png")
        caption = "Validation H (the search's objective) against AVERAGE b2n H per audited setting"
        parts.figures.insert(0, FigureFile(path, "Search audit", caption))
        return parts


def audited(rows: list[dict[str, Any]], k: int, seed: int) -> list[dict[str, Any]]:
    """The settings the audit runs on b2n: SEPT's defaults (when their trial finished), the top
    ``k`` sampled settings by validation H and ``k`` of the other sampled ones drawn with
    ``default_rng(seed)`` (fewer when the search has fewer). Not the reference without SEPT:
    the audit runs the method without SEPT anyway."""
    defaults = [r for r in rows if r["trial_id"] == DEFAULTS_ROW]
    sampled = [r for r in sampled_rows(rows) if r["trial_id"] != DEFAULTS_ROW]  # best first
    rest = sampled[k:]
    drawn = np.random.default_rng(seed).choice(len(rest), size=min(k, len(rest)), replace=False)
    return defaults + sampled[:k] + [rest[i] for i in sorted(drawn)]


def best_on_b2n(
    args: argparse.Namespace, argv: list[str] | None, setup: StudySetup, found: SearchResult
) -> int:
    """The audit: the method without SEPT, SEPT's defaults and the :func:`audited` settings on the
    real b2n protocol (a sweep of its own, experiment ``args.experiment``), then Spearman's ρ of
    validation H and b2n H over them (the method without SEPT too, scored on validation as the
    search's reference): printed, written beside the search's files
    (``audit.{md,csv}``, ``audit.png``) and into ``best_settings.json``. Its exit code."""
    method = args.method
    rows = [(method, {"method": {"name": method}, "sept": {"enabled": False}})]
    reference = found.row(REFERENCE_ROW)
    val_h = {method: reference["H"]} if reference else {}
    settings: dict[str, Any] = {}
    for row in audited(found.trials, args.audit, args.search_seed):
        is_defaults = row["trial_id"] == DEFAULTS_ROW
        label = f"{method}+sept" if is_defaults else f"{method}+sept:{row['trial_id']}"
        chosen = unflatten(settings_of(row)).get("sept", {})
        rows.append((label, {"method": {"name": method}, "sept": {**chosen, "enabled": True}}))
        val_h[label], settings[label] = row["H"], settings_of(row)
    trials = labelled_grid(
        rows, setup.datasets, setup.seeds, setup.data_root, setup.overrides, args.preset,
        setup.folds,
    )  # fmt: skip
    args.resume = None  # the b2n run of the audited settings is a sweep of its own
    print(f"\naudit: {len(val_h)} settings on the b2n protocol ({args.experiment}):")
    params = {"settings": settings, "audit": json.dumps(val_h), "recommended": found.recommended}
    result = run_study(args, SearchB2N.name, setup, trials, params, argv)
    print()
    print(to_text(result.table, result.score_rules), end="")
    points = audit_points(val_h, result.table)
    rho = spearman(points)
    table = audit_table(points, rho)
    print(f"\n{table.title}")
    print(table_text(table), end="")
    files = write_files(table, found.run_dir)
    files.append(save_png(audit_figure(points, rho), found.run_dir / "audit.png"))
    summary_file = found.run_dir / "best_settings.json"
    summary = json.loads(summary_file.read_text())
    summary["audit"] = {
        "spearman_rho": None if math.isnan(rho) else rho,
        "b2n_experiment": result.experiment,
        "settings": [asdict(p) for p in points],
    }
    summary_file.write_text(json.dumps(summary, indent=1))
    files.append(summary_file)
    client = MlflowClient(found.mlflow_uri)
    for path in files:  # beside the search's own files, on its parent run
        client.log_artifact(found.parent_run_id, str(path))
    return report(result, files)
