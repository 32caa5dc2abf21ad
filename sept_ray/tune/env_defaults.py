"""Where a sweep writes and joins when no option says: the environment, then built-in defaults.

A cluster config (``cluster/*.yaml``) sets these variables for the sweeps it runs, so that a bare
``ray submit cluster/cluster.yaml sweeps/b2n.py`` runs on the whole cluster, writes to shared
storage and logs to the cluster's MLflow server. An option given on the command line always wins:

============  ======================  =========================================================
option        environment variable    built-in default (neither given)
============  ======================  =========================================================
--results     ``SEPT_RESULTS_DIR``    ``./results``
--data-root   ``SEPT_DATA_ROOT``      ``<results>/data``
--mlflow-uri  ``MLFLOW_TRACKING_URI`` ``sqlite:///<results>/mlflow.db``
--ray-address ``RAY_ADDRESS``         ``local``: a new one-node Ray, never an existing one
============  ======================  =========================================================

The built-in sound world is synthesized into the data root unless ``--data-root`` names it (a
folder the user gave is never written to). ``--ray-address local`` starts a one-node Ray even
where ``RAY_ADDRESS`` is set.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

ENV_VARS = {  # option's dest -> its environment variable
    "results": "SEPT_RESULTS_DIR",
    "data_root": "SEPT_DATA_ROOT",
    "mlflow_uri": "MLFLOW_TRACKING_URI",
    "ray_address": "RAY_ADDRESS",
}
FLAGS = {
    "results": "--results",
    "data_root": "--data-root",
    "mlflow_uri": "--mlflow-uri",
    "ray_address": "--ray-address",
}
LOCAL_RAY = "local"  # Ray's own name for "start a new local Ray"
FLAG, ENV, DEFAULT = "flag", "env", "default"


def apply_env_defaults(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> argparse.Namespace:
    """Fill the options of :data:`ENV_VARS` left at ``None`` (not given) from ``environ``
    (default ``os.environ``; an empty variable counts as unset), else the built-in defaults;
    ``args.origins`` records for each whether it came from the flag, the environment or the
    default. Returns ``args``."""
    environ = os.environ if environ is None else environ
    origins = {}
    for dest, var in ENV_VARS.items():
        if getattr(args, dest) is not None:
            origins[dest] = FLAG
        elif environ.get(var, "").strip():
            origins[dest] = ENV
            value = environ[var].strip()
            setattr(
                args, dest, Path(value).expanduser() if dest in ("results", "data_root") else value
            )
        else:
            origins[dest] = DEFAULT
    if args.results is None:
        args.results = Path("results")
    if args.data_root is None:
        args.data_root = args.results / "data"
    if args.mlflow_uri is None:
        args.mlflow_uri = ""
    if args.ray_address is None:
        args.ray_address = ""
    args.origins = origins
    return args


def origin_note(args: argparse.Namespace, dest: str) -> str:
    """Where the value of ``dest`` came from, for the sweep's first lines."""
    origin = args.origins.get(dest, FLAG)
    if origin == FLAG:
        return FLAGS[dest]
    if origin == ENV:
        return f"${ENV_VARS[dest]}"
    return "default"


def where_lines(args: argparse.Namespace, resume: Path | None = None) -> list[str]:
    """The sweep's first lines: where results, data and MLflow runs go and which Ray it uses."""
    results = args.results.expanduser().resolve()
    lines = [f"results: {results} ({origin_note(args, 'results')})"]
    lines.append(
        f"data: {args.data_root.expanduser().resolve()} ({origin_note(args, 'data_root')})"
    )
    if resume is not None:
        lines.append(f"MLflow: the tracking URI in {resume / 'sweep.json'} (--resume)")
    elif args.mlflow_uri:
        from sept_ray.tune.preflight import public_uri

        lines.append(f"MLflow: {public_uri(args.mlflow_uri)} ({origin_note(args, 'mlflow_uri')})")
    else:
        lines.append(f"MLflow: sqlite:///{results / 'mlflow.db'} (default)")
    address = args.ray_address
    if address and address != LOCAL_RAY:
        lines.append(f"Ray: joins the cluster at {address} ({origin_note(args, 'ray_address')})")
    else:
        lines.append(
            f"Ray: starts a one-node Ray on this machine ({origin_note(args, 'ray_address')})"
        )
    return lines
