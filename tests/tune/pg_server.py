"""Throwaway servers for tests: a PostgreSQL cluster and an MLflow tracking server on top of it.

:func:`start_postgres` runs ``initdb`` into a fresh temporary folder and ``pg_ctl start`` on
127.0.0.1 with a free port, its unix socket in that folder and durability switched off (the
cluster lives for one test module). PostgreSQL refuses to run as root, so as root every server
command runs as the ``postgres`` OS user (``runuser``, else ``su``), who is given the folder;
the folder is made with :func:`tempfile.mkdtemp`, not under pytest's ``/tmp/pytest-of-root``
(mode 700, not traversable by that user). Authentication is ``trust``: the server listens on
loopback only and is gone after the tests.

:func:`launch_mlflow` starts ``mlflow server`` with a backend store URI; ``wait_ready()`` on
what it returns waits for ``/health`` (so the caller can do other work meanwhile).
Both return handles whose ``stop()`` ends exactly the processes they started.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_OS_USER = "postgres"  # the account Debian's postgresql package creates
PG_ROLE = "sept"  # the cluster's superuser (initdb -U)
PG_START_TIMEOUT_S = 60
MLFLOW_START_TIMEOUT_S = 120  # ~6 s idle; 35-60 s seen on a loaded 2-core machine


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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@dataclass
class MlflowServer:
    process: subprocess.Popen
    port: int
    log: Path
    launched: float  # time.monotonic() at launch

    def wait_ready(self, timeout: float = MLFLOW_START_TIMEOUT_S) -> None:
        """Return once ``/health`` answers 200 (``timeout`` counted from the launch); raise
        with the server's output if it exits or does not answer in time."""
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: direct
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with {self.process.returncode}:\n{self.log_text()}"
                )
            try:
                with no_proxy.open(f"{self.uri}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() - self.launched > timeout:
                raise RuntimeError(
                    f"mlflow server gave no /health within {timeout:.0f} s:\n{self.log_text()}"
                )
            time.sleep(0.5)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"

    def stop(self) -> None:
        """SIGTERM to the server's own process group (it and its workers); SIGKILL to what is
        left of that group after 15 s."""
        group = self.process.pid  # start_new_session: the group's id is the server's pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + 15
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        while time.monotonic() < deadline:  # workers may outlive the main process briefly
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=15)


def launch_mlflow(backend_uri: str, artifacts: Path, log: Path) -> MlflowServer:
    """Start ``mlflow server`` (this venv's) on 127.0.0.1, one worker, artifacts proxied to
    ``artifacts``, output to ``log``; returns at once (see :meth:`MlflowServer.wait_ready`)."""
    mlflow = Path(os.path.abspath(sys.executable)).with_name("mlflow")
    port = free_port()
    cmd = [
        str(mlflow),
        "server",
        "--backend-store-uri",
        backend_uri,
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # MLflow 3's job runner (huey consumers: 8 more processes importing mlflow, for GenAI jobs) is
    # of no use to run tracking and only slows the start; off unless the caller's env says otherwise
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=artifacts.parent,  # anything it writes by default lands in the test's folder
            start_new_session=True,  # its own process group: stop() ends it and its workers
        )
    return MlflowServer(process, port, log, time.monotonic())
