"""A two-node Ray cluster on loopback addresses, started with ``ray start`` for a test: the head
(127.0.0.2) and a worker (127.0.0.3), 1 CPU each, a small object store, token auth with a token of
the test's own, ports and a ``--temp-dir`` of their own, so it cannot clash with any other Ray on
the machine; jobs are submitted with ``ray job submit``. :meth:`Cluster.stop` stops only its own
processes (``ray stop`` would stop every Ray on the machine)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from conftest import write_bank, write_tone_dataset

HEAD, WORKER = "127.0.0.2", "127.0.0.3"
REPO = Path(__file__).resolve().parents[2]
PYTHON = os.path.abspath(sys.executable)  # the venv's python: not resolved past its symlink
RAY = Path(PYTHON).with_name("ray")
OBJECT_STORE_BYTES = 100 * 1024 * 1024
JOB_TIMEOUT_S = 300
CLASSES = ["alpha", "beta", "delta", "gamma"]
MARKER = "SEPT_TEST_RAY_CLUSTER"  # in the environment of every process of the cluster
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


def free_ports(count: int) -> list[int]:
    """Distinct ports free on every address, drawn from 20000-32767: below the kernel's
    ephemeral range and above Ray's default worker ports (10002-19999) that other clusters use."""
    rng = random.SystemRandom()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(20000, 32768)
        if port in ports:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
        ports.append(port)
    return ports


def loopback_usable(ip: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((ip, 0))
        except OSError:
            return False
    return True


def require_loopback_cluster() -> None:
    """Skip the calling test unless this machine can run the two-node loopback cluster (Linux,
    the venv's ``ray`` CLI, and both loopback addresses bindable)."""
    if not sys.platform.startswith("linux") or not RAY.is_file():
        pytest.skip("needs Linux and the venv's ray CLI")
    if not (loopback_usable(HEAD) and loopback_usable(WORKER)):
        pytest.skip(f"cannot bind {HEAD} and {WORKER}")


NOISE = ("Queueing time", "Execution time", "Global stats", "Event stats", "[state-dump]", "\t")


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a log, without Ray's periodic event statistics."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"({exc})"
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith(NOISE)]
    return "\n".join(kept[-lines:])


@dataclass
class Cluster:
    """A two-node loopback cluster started by this module, and the sweep job it ran."""

    temp_dir: Path
    root: Path  # data, bank, results (the "shared storage")
    token: str = field(default_factory=lambda: secrets.token_hex(32))
    ports: list[int] = field(default_factory=lambda: free_ports(5))
    core: dict[int, str] = field(default_factory=dict)  # pid -> gcs_server / raylet (node)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. Ray's health-check settings
    worker_wrapper: list[str] = field(default_factory=list)  # runs the worker's `ray start`
    submission_id: str = ""
    submit_output: str = ""
    job: dict = field(default_factory=dict)
    logs: str = ""
    job_seconds: float = 0.0

    @property
    def gcs_address(self) -> str:
        return f"{HEAD}:{self.ports[0]}"

    @property
    def dashboard(self) -> str:
        return f"http://{HEAD}:{self.ports[1]}"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def env(self) -> dict[str, str]:
        """This environment without any RAY_* setting (an address, another token, a local-only
        switch), plus token auth with this cluster's token, no usage stats, and the marker."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        env.update(
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN=self.token,
            RAY_USAGE_STATS_ENABLED="0",
            **{MARKER: self.temp_dir.name},
        )
        env.update(self.extra_env)
        return env

    def ray(
        self, *args: str, timeout: float = 120, wrapper: list[str] = ()
    ) -> subprocess.CompletedProcess:
        """The venv's ``ray`` CLI with this cluster's environment (output captured, merged),
        run by ``wrapper`` (a command prefix) if given."""
        return subprocess.run(
            [*wrapper, str(RAY), *args],
            env=self.env,
            cwd=self.temp_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )

    def ray_popen(self, *args: str) -> subprocess.Popen:
        """Like :meth:`ray`, without waiting."""
        return subprocess.Popen(
            [str(RAY), *args],
            env=self.env,
            cwd=self.temp_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def api(self, path: str, timeout: float = 10) -> dict:
        """GET ``path`` of the head's dashboard REST API (with the cluster's token), as JSON."""
        request = urllib.request.Request(
            self.dashboard + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read())

    def alive_node_ips(self) -> set[str]:
        nodes = self.api("/api/v0/nodes?detail=false")["data"]["result"]["result"]
        return {n["node_ip"] for n in nodes if n["state"] == "ALIVE"}

    def processes(self) -> list[psutil.Process]:
        """This cluster's processes: those with its marker in their environment or its temp dir
        or GCS address on their command line, and their descendants (never this process)."""
        marks = (str(self.temp_dir), self.gcs_address)
        found: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter(["cmdline"]):
            try:
                ours = proc.environ().get(MARKER) == self.temp_dir.name
            except psutil.Error:
                ours = False
            cmdline = " ".join(proc.info["cmdline"] or [])
            if ours or any(mark in cmdline for mark in marks):
                found[proc.pid] = proc
                with contextlib.suppress(psutil.Error):
                    found.update({c.pid: c for c in proc.children(recursive=True)})
        found.pop(os.getpid(), None)
        return list(found.values())

    def note_core_processes(self) -> None:
        """Remember the GCS and raylet pids, to tell later whether they are still alive."""
        for proc in self.processes():
            try:
                name, cmdline = proc.name(), " ".join(proc.cmdline())
            except psutil.Error:
                continue
            if name in ("gcs_server", "raylet"):
                node = WORKER if f"node_ip_address={WORKER}" in cmdline else HEAD
                self.core[proc.pid] = f"{name} ({node})"

    def dead_core_processes(self) -> list[str]:
        return [f"{label} pid {pid}" for pid, label in self.core.items() if not alive(pid)]

    def stop(self) -> list[str]:
        """SIGTERM this cluster's processes, SIGKILL what is left after 2 s; returns the
        command lines of any still alive after that (none expected)."""
        procs = self.processes()
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _, alive_procs = psutil.wait_procs(procs, timeout=2)
        stragglers = alive_procs + self.processes()  # and any started meanwhile
        for proc in stragglers:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(stragglers, timeout=5)
        left = []
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                left.append(f"{proc.pid} {proc.name()}: {' '.join(proc.cmdline())[:300]}")
        return left

    def ray_log_tails(self, lines: int = 20, limit: int = 30_000) -> str:
        """The last lines of the Ray logs worth reading after a failure, newest first."""
        wanted = []
        for path in self.temp_dir.glob("session_2*/logs/*"):
            if not path.is_file() or path.stat().st_size == 0:
                continue
            name = path.name
            if name.endswith(".err") or name.startswith(("raylet", "gcs_server", "job-driver-")):
                wanted.append(path)
        wanted.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        out = "".join(f"\n----- {p.name} -----\n{tail(p, lines)}\n" for p in wanted)
        return out[:limit] or f"(no Ray logs under {self.temp_dir})"

    def summary(self) -> str:
        """The job's status and exit code, and which core processes died (if any did)."""
        dead = self.dead_core_processes()
        killed = (
            f"\n===== DEAD cluster processes: {dead} (killed from outside this test? A cleanup "
            "that matches node IPs, or `ray stop`, stops every Ray process it finds)"
            if dead
            else ""
        )
        message = str(self.job.get("message") or "")[:300]
        return (
            f"{killed}\n===== job {self.submission_id}: status {self.job.get('status')}, "
            f"driver exit code {self.job.get('driver_exit_code')}, message {message!r}"
        )

    def diagnostics(self) -> str:
        """:meth:`summary`, then the job's logs, the submit output and the Ray logs."""
        return (
            f"{self.summary()}\n"
            f"===== job logs (tail)\n{self.logs[-12000:]}\n"
            f"===== ray job submit output (tail)\n{self.submit_output[-3000:]}\n"
            f"===== Ray logs under {self.temp_dir}{self.ray_log_tails()}"
        )


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def start_cluster(cluster: Cluster) -> None:
    """``ray start`` the head and, as soon as its GCS answers, the worker (the head's dashboard
    starts meanwhile); wait until the head sees both nodes alive."""
    gcs, dashboard, head_client, head_agent, worker_agent = cluster.ports[:5]
    common = [
        "--num-cpus=1",
        "--num-gpus=0",
        f"--object-store-memory={OBJECT_STORE_BYTES}",
        f"--temp-dir={cluster.temp_dir}",
        "--min-worker-port=0",  # random worker ports: none shared with another cluster
        "--max-worker-port=0",
        "--disable-usage-stats",
    ]
    head = cluster.ray_popen(
        "start",
        "--head",
        f"--node-ip-address={HEAD}",
        f"--port={gcs}",
        "--include-dashboard=true",
        f"--dashboard-host={HEAD}",
        f"--dashboard-port={dashboard}",
        f"--dashboard-agent-listen-port={head_agent}",
        f"--ray-client-server-port={head_client}",
        *common,
    )
    try:
        deadline = time.monotonic() + 60
        while head.poll() is None and time.monotonic() < deadline and not answers(HEAD, gcs):
            time.sleep(0.2)
        worker = None
        if answers(HEAD, gcs):
            worker = cluster.ray(
                "start",
                f"--address={cluster.gcs_address}",
                f"--node-ip-address={WORKER}",
                f"--dashboard-agent-listen-port={worker_agent}",
                *common,
                wrapper=cluster.worker_wrapper,
            )
        head_output, _ = head.communicate(timeout=120)
    finally:
        if head.poll() is None:
            head.kill()
    assert head.returncode == 0, f"ray start --head:\n{head_output}{cluster.diagnostics()}"
    assert worker is not None, f"no GCS at {cluster.gcs_address}{cluster.diagnostics()}"
    assert worker.returncode == 0, f"ray start (worker):\n{worker.stdout}{cluster.diagnostics()}"
    cluster.note_core_processes()
    deadline, seen, error = time.monotonic() + 60, set(), None
    while time.monotonic() < deadline:
        try:
            seen = cluster.alive_node_ips()
        except (OSError, KeyError, ValueError) as exc:  # the dashboard may still be starting
            error = exc
        if seen == {HEAD, WORKER}:
            return
        time.sleep(1)
    pytest.fail(f"alive nodes after 60 s: {sorted(seen)} ({error!r}){cluster.diagnostics()}")


def answers(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def run_job(cluster: Cluster, entrypoint: str) -> None:
    """:func:`submit_job`, then :func:`wait_job`."""
    started = time.monotonic()
    submit_job(cluster, entrypoint)
    wait_job(cluster, started)


def submit_job(cluster: Cluster, entrypoint: str) -> None:
    """``ray job submit --no-wait`` (again for up to 60 s while the head's job agent starts)."""
    started = time.monotonic()
    while True:
        cluster.submission_id = f"sept-loopback-{secrets.token_hex(4)}"
        try:
            submitted = cluster.ray(
                "job", "submit", f"--address={cluster.dashboard}",
                f"--submission-id={cluster.submission_id}", "--no-wait",
                "--", "bash", "-c", entrypoint,
                timeout=60,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            cluster.submit_output += f"ray job submit {cluster.submission_id}: no answer in 60 s\n"
        else:
            cluster.submit_output += submitted.stdout
            if submitted.returncode == 0:
                break
        if time.monotonic() - started > 60 or cluster.dead_core_processes():
            pytest.fail(f"ray job submit failed{cluster.diagnostics()}")
        time.sleep(2)


def wait_job(cluster: Cluster, started: float) -> None:
    """Poll the job API until the job ends; keeps its status, logs and seconds since
    ``started`` on ``cluster``."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline and not cluster.dead_core_processes():
        try:
            cluster.job = cluster.api(f"/api/jobs/{cluster.submission_id}")
        except (OSError, ValueError) as exc:
            cluster.job = {"status": f"unknown ({exc!r})"}
        if cluster.job.get("status") in TERMINAL:
            break
        time.sleep(1)
    cluster.job_seconds = time.monotonic() - started
    try:
        cluster.logs = cluster.api(f"/api/jobs/{cluster.submission_id}/logs")["logs"]
    except (OSError, KeyError, ValueError) as exc:
        cluster.logs = f"(no job logs: {exc!r})"


def sweep_entrypoint(
    cluster: Cluster, weights: Path, experiment: str, epochs: int = 2, extra: tuple = ()
) -> str:
    """The job's command: the venv's python runs sweeps/b2n.py from a scratch folder, on the
    cluster of the job (``--ray-address auto`` reads the job's RAY_ADDRESS, this GCS): coop and
    coop+sept on a Tones dataset, seeds 0 and 1 (4 trials), ``extra`` options added."""
    root = cluster.root
    write_tone_dataset(root / "data", "Tones", CLASSES, 6, 3)
    write_bank(root / "bank.json", ["Tones"], CLASSES)
    (root / "job").mkdir()
    sweep = [
        PYTHON, str(REPO / "sweeps" / "b2n.py"), "--ray-address", "auto",
        "--data-root", str(root / "data"), "--datasets", "Tones",
        "--results", str(cluster.results), "--experiment", experiment,
        "--methods", "coop", "--sept", "both", "--seeds", "0", "1",
        "--cpus-per-trial", "1", "--weights", str(weights),
        *extra, "--set", f"train.epochs={epochs}", "train.batch_size=4", "data.shots=4", "method.n_ctx=4",
        f"sept.bank={root / 'bank.json'}", "sept.n_neighbors=3", "backbone.device=cpu",
    ]  # fmt: skip
    return f"cd {shlex.quote(str(root / 'job'))} && exec {shlex.join(sweep)}"
