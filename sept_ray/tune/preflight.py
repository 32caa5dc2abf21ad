"""Check a sweep's MLflow tracking target before Ray starts or any embedding is computed.

A tracking URI must carry no password (it would be stored in ``sweep.json``, logged on the parent
run and printed): MLflow and the database drivers read credentials from the environment. The
target must answer: an HTTP(S) server its ``/health`` endpoint within a few seconds (MLflow's own
client would retry for minutes), a database URI a connection, a local store a writable folder.
Each failure is a :class:`ConfigError` naming the URI (without credentials) and what to do.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sept_ray.config import ConfigError

TIMEOUT_S = 5.0
DATABASE_SCHEMES = ("postgresql", "mysql", "mssql")
CREDENTIAL_HELP = {
    "http": "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)",
    "https": "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)",
    "postgresql": "PGPASSWORD or a ~/.pgpass file",
}


def public_uri(uri: str) -> str:
    """``uri`` with any user and password removed (safe to print and store)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def check_tracking(uri: str) -> None:
    """Refuse a URI holding a password, and one whose store does not answer (see module doc)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.split("+")[0]
    if parts.password is not None:
        where = CREDENTIAL_HELP.get(scheme, "the environment variables of its driver")
        raise ConfigError(
            f"--mlflow-uri {public_uri(uri)}: holds a password, which would be stored with the "
            f"sweep and printed; give it through {where} instead"
        )
    if scheme in ("http", "https"):
        check_server(uri)
    elif scheme in DATABASE_SCHEMES:
        check_database(uri)
    elif scheme in ("sqlite", "file", ""):
        check_local(uri, scheme)


def check_server(uri: str) -> None:
    """One ``GET <uri>/health`` with a timeout and no retries."""
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:  # noqa: S310 - http(s) only
            answer.read(64)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):  # a protected server: MLflow's client sends the credentials
            return
        raise ConfigError(
            f"--mlflow-uri {public_uri(uri)}: {url} answered HTTP {exc.code}; is it an MLflow "
            "tracking server?"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"--mlflow-uri {public_uri(uri)}: no MLflow server answers ({reason}); start it "
            "(docs/CLUSTER.md) or fix the address. Nothing was run."
        ) from None


def check_database(uri: str) -> None:
    """Open (and close) one connection to a database store."""
    import sqlalchemy

    connect_args = {"connect_timeout": int(TIMEOUT_S)} if uri.startswith("postgresql") else {}
    try:
        engine = sqlalchemy.create_engine(uri, connect_args=connect_args)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any driver's error: say which store failed
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"--mlflow-uri {public_uri(uri)}: cannot connect to the database ({first}). "
            "Nothing was run."
        ) from None


def check_local(uri: str, scheme: str) -> None:
    """A local store's folder exists or can be made, and is writable."""
    path = Path(uri.split("://", 1)[1] if "://" in uri else uri)
    folder = path.parent if scheme == "sqlite" else path
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"--mlflow-uri {uri}: {existing} is not a writable folder, so the MLflow store "
            f"{path} cannot be written"
        )
