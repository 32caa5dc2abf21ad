"""Command-line options shared by the sweep scripts in ``sweeps/``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from sept_ray.config import PRESETS, ConfigError, deep_merge, unflatten


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options every sweep takes: preset, overrides, results, MLflow, Ray and resources."""
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="demo",
        help="training preset: demo (few epochs, CPU) or paper (SPEC §2); default demo",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides for every trial, e.g. sept.lam=0.5 train.epochs=5",
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
        default=Path("results"),
        help="results folder: trial folders, tables, cache, MLflow db (default ./results)",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder of datasets in the PALM layout; default: the built-in sound "
        "world under <results>/data, synthesized on first use",
    )
    parser.add_argument("--experiment", default=None, help="MLflow experiment name")
    parser.add_argument(
        "--mlflow-uri",
        default="",
        help="MLflow tracking URI; default sqlite:///<results>/mlflow.db",
    )
    parser.add_argument(
        "--ray-address", default="", help="join this Ray cluster; default: local Ray"
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


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["sept.lam=0.5", "train.epochs=3"]`` -> nested dict; values are read as YAML scalars."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. sept.lam=0.5")
        values = deep_merge(values, unflatten({key.strip(): yaml.safe_load(raw)}))
    return values


def backbone_values(args: argparse.Namespace) -> dict[str, Any]:
    """The backbone section of every trial from ``--backbone``/``--weights``."""
    return {"backbone": {"name": args.backbone, "weights": args.weights}}
