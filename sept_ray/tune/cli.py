"""What the sweep scripts in ``sweeps/`` share: options, setup, running, reporting, errors."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sept_ray.config import PRESETS, ConfigError, deep_merge, parse_yaml, unflatten
from sept_ray.data.synth.world import BUILTIN_DATASETS, ensure_world
from sept_ray.help_text import plain
from sept_ray.plugins import load_plugins
from sept_ray.report.table import Table, to_text, write_files
from sept_ray.tune.env_defaults import ENV, FLAG, apply_env_defaults, where_lines
from sept_ray.tune.grid import SPACE_SUFFIXES, GridTrial
from sept_ray.tune.session import SWEEP_FILE, latest_run_dir
from sept_ray.tune.sweep import SweepResult, SweepSpec, log_to_parent, run_sweep


def study_parser(doc: str) -> argparse.ArgumentParser:
    """A sweep script's parser: its docstring's first paragraph as description, the rest as
    epilog (without reST markup); the study adds its own options, then :func:`add_common_args`."""
    summary, _, details = plain(doc).partition("\n\n")
    return argparse.ArgumentParser(
        description=summary, epilog=details, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_variant_args(parser: argparse.ArgumentParser, methods: list[str]) -> None:
    """``--methods`` (default ``methods``) and ``--sept both|on|off``: the table's variants."""
    parser.add_argument(
        "--methods",
        nargs="+",
        default=methods,
        help=f"methods, or 'all' (default: {' '.join(methods)}); zeroshot never gets SEPT",
    )
    parser.add_argument(
        "--sept",
        choices=["both", "on", "off"],
        default="both",
        help="run each trainable method without and/or with SEPT (default both)",
    )
    parser.add_argument(
        "--neighbour-spaces",
        nargs="+",
        choices=list(SPACE_SUFFIXES),
        default=["learned"],
        help="SEPT's neighbour readings, one SEPT variant each: learned (through the learned "
        "prompt: coop+sept) and/or frozen (frozen phrase embeddings: coop+sept-frozen); "
        "default learned",
    )


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options every sweep takes: data, seeds, preset, overrides, results, MLflow, Ray, resources."""
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=list(BUILTIN_DATASETS),
        help="dataset folder names under --data-root (default: the built-in world)",
    )
    parser.add_argument(
        "--plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module that registers methods, backbones, datasets or studies, imported by the "
        "driver, every trial and every cache task (importable on every node; repeatable)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        help="seeds (default: 0 with the demo preset, 0 1 2 with paper)",
    )
    parser.add_argument(
        "--folds",
        nargs="+",
        type=int,
        default=None,
        help="folds to run (default: every fold of each dataset)",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="one dataset, one fold, one seed, 2 epochs: checks the whole pipeline",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="demo",
        help="training preset: demo (12 epochs, last epoch, centre crops; CPU) or paper (the "
        "authors' training: 50 epochs, the lowest-training-loss epoch, random crops); default "
        "demo",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides for every trial, e.g. sept.lam=0.5 train.epochs=5 "
        "(repeatable; a later value of a key wins)",
    )
    parser.add_argument(
        "--backbone", default="tiny-alm", help="registered backbone (default tiny-alm)"
    )
    parser.add_argument(
        "--weights", default="", help="backbone weights; default: the backbone's own"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results folder: trial folders, tables, cache, MLflow db "
        "(default $SEPT_RESULTS_DIR, else ./results)",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder of datasets in the PALM layout (default $SEPT_DATA_ROOT, else "
        "<results>/data); the built-in sound world is synthesized there on first use, "
        "unless this option names the folder",
    )
    parser.add_argument("--experiment", default=None, help="MLflow experiment name")
    parser.add_argument(
        "--mlflow-uri",
        default=None,
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI, else "
        "sqlite:///<results>/mlflow.db)",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="join the Ray cluster at this address ('auto': the one running on this machine); "
        "'local' starts a new one-node Ray (default $RAY_ADDRESS, else local); "
        "a script never joins a running Ray unless one of them says so",
    )
    parser.add_argument(
        "--num-cpus", type=int, default=None, help="CPUs of a local Ray (default all)"
    )
    parser.add_argument(
        "--cpus-per-trial", type=float, default=1.0, help="CPUs per trial (default 1)"
    )
    parser.add_argument(
        "--gpus-per-trial",
        type=float,
        default=0.0,
        help="GPU fraction per trial, e.g. 0.25 packs four trials per GPU (default 0)",
    )
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=0,
        help="trials at once (default 0: as many as resources allow)",
    )
    parser.add_argument(
        "--cache-gpus",
        type=float,
        default=None,
        help="GPUs of each embedding-cache task (default: 1 when --gpus-per-trial > 0, else 0)",
    )
    parser.add_argument(
        "--max-failures",
        type=int,
        default=1,
        help="retries of a failed trial before it counts as failed (default 1)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=1,
        metavar="EPOCHS",
        help="a trial saves its training state every EPOCHS evaluated epochs, so a retried or "
        "resumed trial continues from there (default 1; 0: never, retries start again)",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        default=None,
        metavar="RUN_DIR",
        help="restore an interrupted sweep (its run folder, default the experiment's latest) "
        "with the options it was started with; only unfinished trials run",
    )


def parse_study_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, study: str
) -> argparse.Namespace:
    """Parse ``argv``, fill unset options from the environment (:mod:`~sept_ray.tune.env_defaults`)
    and print where results and MLflow runs go and which Ray the sweep uses; with ``--resume``,
    parse instead the options the sweep in that run folder was started with (from its
    ``sweep.json``), so a resume runs exactly the same trials."""
    args = apply_env_defaults(parser.parse_args(argv))
    load_plugins(args.plugins)
    if args.resume is None:
        print("\n".join(where_lines(args)), flush=True)
        return args
    if args.resume == "latest":
        experiment = args.experiment or (f"{study}-smoke" if args.smoke_test else study)
        run_dir = latest_run_dir(args.results.resolve(), experiment)
    else:
        run_dir = Path(args.resume).resolve()
    sweep_file = run_dir / SWEEP_FILE
    if not sweep_file.is_file():
        raise ConfigError(f"--resume {args.resume}: no {SWEEP_FILE} in {run_dir}")
    stored = json.loads(sweep_file.read_text())["params"]
    if stored.get("study") != study:
        raise ConfigError(f"--resume {run_dir}: a {stored.get('study')!r} sweep, not {study!r}")
    args = apply_env_defaults(
        parser.parse_args([*shlex.split(stored["argv"]), "--resume", str(run_dir)])
    )
    load_plugins(args.plugins)
    print("\n".join(where_lines(args, run_dir)), flush=True)
    return args


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["sept.lam=0.5", "train.epochs=3"]`` -> nested dict; values are read as YAML scalars
    (:func:`~sept_ray.config.parse_yaml`: invalid YAML is a ``ConfigError`` naming the item)."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. sept.lam=0.5")
        value = parse_yaml(raw, f"--set {item!r}")
        values = deep_merge(values, unflatten({key.strip(): value}))
    return values


@dataclass(frozen=True)
class StudySetup:
    """What every study's grid is built from, resolved from the common options."""

    datasets: list[str]
    folds: list[int] | None
    seeds: list[int]
    data_root: Path
    overrides: dict[str, Any]


def study_setup(
    args: argparse.Namespace, time_inference: bool = False, smoke_datasets: int = 1
) -> StudySetup:
    """Resolve seeds, the smoke test, overrides and the data root (synthesizing the built-in
    world under ``<results>/data`` when no root is given). ``time_inference``: trials time the
    audio tower on a few clips and skip SEPT's diagnostics, whose time would count as training
    (the efficiency study); otherwise no trial runs the audio tower.
    ``smoke_datasets``: how many of the datasets a smoke test keeps (xd: a source and a target)."""
    train: dict[str, Any] = {"time_inference": time_inference}
    if time_inference:  # timed trials: no diagnostics in their training time (unless --set)
        train["diagnostics_every"] = 0
    overrides = deep_merge(
        {"backbone": {"name": args.backbone, "weights": args.weights}, "train": train},
        parse_overrides(args.overrides),
    )
    datasets, folds = list(args.datasets), args.folds
    seeds = args.seeds or ([0] if args.preset == "demo" else [0, 1, 2])
    if args.smoke_test:
        datasets, folds, seeds = datasets[:smoke_datasets], [1], seeds[:1]
        overrides = deep_merge(overrides, {"train": {"epochs": 2}})
    data_root = Path(args.data_root)
    if args.origins["data_root"] != FLAG:  # a folder the user named is never written to
        ensure_world(data_root, [d for d in datasets if d in BUILTIN_DATASETS])
    return StudySetup(datasets, folds, list(seeds), data_root, overrides)


def run_study(
    args: argparse.Namespace,
    study: str,
    setup: StudySetup,
    trials: list[GridTrial],
    params: dict[str, Any],
    argv: list[str] | None,
    table_stem: str = "b2n_table",
) -> SweepResult:
    """Run ``trials`` as a sweep named after ``study`` (or ``--experiment``) and return it;
    ``table_stem`` names the file of its aggregated Base/New/H table."""
    spec = study_spec(args, study, setup, trials, params, argv)
    spec.table_stem = table_stem
    return run_sweep(spec, Path(args.resume) if args.resume else None)


def study_spec(
    args: argparse.Namespace,
    study: str,
    setup: StudySetup,
    trials: list[GridTrial],
    params: dict[str, Any],
    argv: list[str] | None,
) -> SweepSpec:
    """The sweep of ``trials`` named after ``study`` (or ``--experiment``), with the common
    options' resources, tracking target and the parameters logged on its parent run."""
    experiment = args.experiment or (f"{study}-smoke" if args.smoke_test else study)
    return SweepSpec(
        experiment=experiment,
        trials=trials,
        results_dir=args.results,
        mlflow_uri=args.mlflow_uri,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
        ray_address=args.ray_address,
        num_cpus=args.num_cpus,
        max_concurrent=args.max_concurrent,
        max_failures=args.max_failures,
        checkpoint_every=args.checkpoint_every,
        cache_gpus=cache_gpus(args),
        plugins=list(args.plugins),
        params={
            "study": study,
            "plugins": args.plugins,
            "datasets": setup.datasets,
            "seeds": setup.seeds,
            "folds": setup.folds or "all",
            "preset": args.preset,
            "overrides": args.overrides,
            "argv": shlex.join(
                stored_argv(sys.argv[1:] if argv is None else argv) + env_folders(args)
            ),
            **params,
        },
    )


def stored_argv(argv: list[str]) -> list[str]:
    """``argv`` without ``--resume [RUN_DIR]`` (what a later resume re-parses)."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
            if not item.startswith("-"):
                continue
        if item == "--resume":
            skip = True
            continue
        if item.startswith("--resume="):
            continue
        out.append(item)
    return out


def env_folders(args: argparse.Namespace) -> list[str]:
    """``--results`` and ``--data-root`` as options where they came from the environment: a
    resume re-parses the stored options, and must find the same folders wherever it runs."""
    return [
        word
        for dest, flag in (("results", "--results"), ("data_root", "--data-root"))
        if args.origins.get(dest) == ENV
        for word in (flag, str(getattr(args, dest)))
    ]


def cache_gpus(args: argparse.Namespace) -> float:
    """GPUs per embedding-cache task: ``--cache-gpus``, else 1 when trials get GPUs."""
    if args.cache_gpus is not None:
        return args.cache_gpus
    return 1.0 if args.gpus_per_trial > 0 else 0.0


def write_report(uri: str, experiment: str, parent_run_id: str, run_dir: Path) -> int:
    """Build the sweep's report from its MLflow record into ``<run_dir>/report`` and log it to
    the parent run; print where it is. A report that fails is an error (exit code 1), and the
    command to rebuild it is printed: the sweep's results are all in MLflow."""
    from sept_ray.report.build import build_report
    from sept_ray.report.record import load_sweep

    try:
        files = build_report(load_sweep(uri, experiment, parent_run_id), run_dir / "report")
    except Exception as exc:  # noqa: BLE001 - the sweep is done; say what failed and how to retry
        print(f"report: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            f"  rebuild it with: sept report --experiment {shlex.quote(experiment)} "
            f"--mlflow-uri {shlex.quote(uri)} --run-id {parent_run_id}",
            file=sys.stderr,
        )
        return 1
    print(f"report: {files.html} (and report.md, CSVs, {len(files.figures)} figures)")
    return 0


def report(result: SweepResult, extra_files: list[Path] = ()) -> int:
    """Print failures, counts and where everything is, and write the sweep's report; exit code 1
    if any trial failed or the report could not be built."""
    for name, error in result.failed:
        print(f"FAILED {name}: {error}")
    print(
        f"\n{len(result.outcomes)} trials finished, {len(result.failed)} failed "
        f"in {result.wall_seconds:.0f} s"
    )
    files = [*result.table_files, *extra_files]
    print(f"tables: {', '.join(str(p) for p in files)}")
    print(f"trial folders: {result.run_dir / 'trials'}")
    from sept_ray.tune.tracking import experiment_url

    page = experiment_url(result.mlflow_uri, result.experiment_id)
    if result.mlflow_uri.startswith(("http://", "https://")):
        print(f"MLflow: {page}")
    else:
        print(f"MLflow: mlflow ui --backend-store-uri {result.mlflow_uri}, then open {page}")
    built = write_report(result.mlflow_uri, result.experiment, result.parent_run_id, result.run_dir)
    return 1 if result.failed or built else 0


def report_b2n(result: SweepResult) -> int:
    """:func:`report`, after printing SEPT's effect on H paired by dataset, fold and seed and
    saving it as ``sept_effect.{md,csv}``, when the sweep ran a method with and without SEPT."""
    from sept_ray.report import sept_effect

    effects = sept_effect.sept_effects([o.score for o in result.outcomes])
    if not effects:
        return report(result)
    note = textwrap.fill(sept_effect.NOTE, 100)
    title = f"SEPT's effect on H, paired by dataset, fold and seed\n{note}"
    rows = sept_effect.effect_rows(effects)
    return report_study_table(result, title, "sept_effect", sept_effect.HEADER, rows)


def report_study_table(
    result: SweepResult, title: str, stem: str, header: list[str], body: list[list[str]]
) -> int:
    """Print a study's own table under ``title``, write it as ``<stem>.{csv,md}`` in the run folder,
    attach it to the sweep's parent MLflow run, then :func:`report`."""
    table = Table(stem, title, list(header), body)
    print(f"\n{title}")
    print(to_text(table), end="")
    files = write_files(table, result.run_dir)
    log_to_parent(result, files)
    return report(result, files)
