"""A throwaway PostgreSQL cluster for tests (the MLflow server on top: ``tests/mlflow_server.py``).

:func:`start_postgres` runs ``initdb`` into a fresh temporary folder and ``pg_ctl start`` on
127.0.0.1 with a free port, its unix socket in that folder and durability switched off (the
cluster lives for one test module). PostgreSQL refuses to run as root, so as root every server
command runs as the ``postgres`` OS user (``runuser``, else ``su``), who is given the folder;
the folder is made with :func:`tempfile.mkdtemp`, not under pytest's ``/tmp/pytest-of-root``
(mode 700, not traversable by that user). Authentication is ``trust``: the server listens on
loopback only and is gone after the tests.

:func:`start_postgres` returns a handle whose ``stop()`` ends exactly the processes it started.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlflow_server import free_port

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_OS_USER = "postgres"  # the account Debian's postgresql package creates
PG_ROLE = "sept"  # the cluster's superuser (initdb -U)
PG_START_TIMEOUT_S = 60


class Unavailable(RuntimeError):
    """PostgreSQL cannot be run here (no binaries, or root without a ``postgres`` user)."""


def in_ci() -> bool:
    """Whether the environment says this is CI (``CI`` set to anything but empty/0/false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_pg_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding postgres, initdb and pg_ctl."""

    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"/postgresql/([\d.]+)/bin$", path)
        return tuple(int(p) for p in found.group(1).split(".")) if found else (0,)

    for folder in sorted(glob.glob(PG_BIN_GLOB), key=version, reverse=True):
        if all(os.access(Path(folder, b), os.X_OK) for b in ("postgres", "initdb", "pg_ctl")):
            return Path(folder)
    raise Unavailable(
        f"no PostgreSQL server binaries under {PG_BIN_GLOB} "
        "(Debian: apt-get install postgresql; .ci/run installs it)"
    )


def server_user() -> pwd.struct_passwd | None:
    """The OS user to run PostgreSQL as: ``postgres`` when we are root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise Unavailable(
            f"running as root and there is no {PG_OS_USER!r} OS user to run PostgreSQL as"
        ) from None


def as_user(cmd: list[str], user: pwd.struct_passwd | None) -> list[str]:
    """``cmd`` run as ``user`` (None: as ourselves)."""
    if user is None:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", user.pw_name, "--", *cmd]
    return ["su", "-s", "/bin/sh", user.pw_name, "-c", shlex.join(cmd)]


@dataclass
class PgCluster:
    bindir: Path
    base: Path  # the temporary folder: data/, sock/, postgres.log
    port: int
    user: pwd.struct_passwd | None
    dbname: str = "postgres"
    role: str = PG_ROLE

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "postgres.log"

    def url(self, dbname: str | None = None) -> str:
        """The SQLAlchemy URL (psycopg 3 driver) of ``dbname`` (default: :attr:`dbname`)."""
        return f"postgresql+psycopg://{self.role}@127.0.0.1:{self.port}/{dbname or self.dbname}"

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq connection string for psycopg (TCP, like MLflow)."""
        return f"host=127.0.0.1 port={self.port} user={self.role} dbname={dbname or self.dbname}"

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.dbname = name

    def pg_ctl(self, *args: str, timeout: float = PG_START_TIMEOUT_S + 10):
        cmd = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args]
        return subprocess.run(
            as_user(cmd, self.user),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown; SIGKILL to its postmaster if that fails); remove the folder."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                done = self.pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
                if done.returncode != 0 and (self.datadir / "postmaster.pid").exists():
                    pid = int((self.datadir / "postmaster.pid").read_text().split()[0])
                    os.kill(pid, signal.SIGKILL)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start_postgres(tries: int = 3) -> PgCluster:
    """initdb + pg_ctl start a throwaway cluster on 127.0.0.1 (see the module's docstring)."""
    bindir = find_pg_bin()
    user = server_user()
    base = Path(tempfile.mkdtemp(prefix="sept-pg-"))
    try:
        base.chmod(0o755)
        (base / "sock").mkdir()
        if user is not None:
            for path in (base, base / "sock"):
                os.chown(path, user.pw_uid, user.pw_gid)
            reach = subprocess.run(as_user(["test", "-w", str(base)], user), timeout=30)
            if reach.returncode != 0:  # e.g. TMPDIR under a mode-700 folder
                raise RuntimeError(f"OS user {user.pw_name!r} cannot write {base}: set TMPDIR")
        initdb = [
            str(bindir / "initdb"),
            "-D",
            str(base / "data"),
            "-U",
            PG_ROLE,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
        done = subprocess.run(
            as_user(initdb, user),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{base / 'sock'}'",
            "fsync = off",  # a throwaway cluster: no durability needed
            "synchronous_commit = off",
            "full_page_writes = off",
            "max_connections = 50",
        ]
        with open(base / "data" / "postgresql.conf", "a") as conf:  # keeps its owner and mode
            conf.write("\n# sept-ray test cluster\n" + "\n".join(settings) + "\n")
        for attempt in range(tries):
            cluster = PgCluster(bindir, base, free_port(), user)
            done = cluster.pg_ctl(
                "-l",
                str(cluster.log),
                "-o",
                f"-p {cluster.port}",
                "-w",
                "-t",
                str(PG_START_TIMEOUT_S),
                "start",
            )
            if done.returncode == 0:
                return cluster
            if attempt == tries - 1 or "could not bind" not in cluster.log_text():
                raise RuntimeError(
                    f"pg_ctl start failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
                    f"--- server log ---\n{cluster.log_text()}"
                )
            cluster.log.unlink(missing_ok=True)  # the port was taken meanwhile: another one
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    raise AssertionError("unreachable")
