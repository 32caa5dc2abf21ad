"""``mlflow server`` (this venv's) on 127.0.0.1 for tests: launched in its own process group,
ready when ``/health`` answers, stopped with its workers. Backend: any store URI (sqlite or
PostgreSQL); artifacts proxied to a folder."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MLFLOW_START_TIMEOUT_S = 120  # ~6 s idle; 35-60 s seen on a loaded 2-core machine


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def sweep_runs(uri: str, experiment: str):
    """``(client, parents, children)``: the MLflow client of ``uri`` and the runs of
    ``experiment`` without and with a parent run (the sweeps' parent runs and their trials)."""
    from mlflow.tracking import MlflowClient
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    client = MlflowClient(uri)
    found = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    parents = [r for r in found if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = [r for r in found if MLFLOW_PARENT_RUN_ID in r.data.tags]
    return client, parents, children
